package display

import (
	"bytes"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fuji/chipset"
)

func TestDumpText(t *testing.T) {
	v := textVGA(t)
	putText(v, 80, 0, 0, "Hello, world   ", 0x07)
	putText(v, 80, 2, 3, "\xc9\xcd\xbb \x01", 0x07)
	var b bytes.Buffer
	if err := DumpText(&b, v); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) != 26 || lines[25] != "" {
		t.Fatalf("got %d lines", len(lines))
	}
	if lines[0] != "Hello, world" || lines[1] != "" || lines[2] != "   ╔═╗ ☺" {
		t.Errorf("dump = %q", lines[:3])
	}
	setMode(t, v, mode13)
	if err := DumpText(&b, v); !errors.Is(err, ErrNotText) {
		t.Errorf("graphics mode: err = %v", err)
	}
}

func TestScreenshotPNG(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode13)
	v.WriteMMIO(5*320+6, 1, 0x3f)
	path := filepath.Join(t.TempDir(), "shot.png")
	if err := Screenshot(path, v, 0); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 320 || img.Bounds().Dy() != 200 {
		t.Fatalf("size %v", img.Bounds())
	}
	r, g, b, _ := img.At(6, 5).RGBA()
	if r>>8 != 255 || g>>8 != 255 || b>>8 != 255 {
		t.Errorf("pixel = %d,%d,%d", r>>8, g>>8, b>>8)
	}
}
