package display

import (
	"bufio"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fuji/chipset"
)

// windowChildEnv names the PNG a window test child writes.
const windowChildEnv = "FUJI_WINDOW_TEST_PNG"

// TestWindowUnderX opens the ebiten window on an X server (Xvfb in
// make test), plays input through it and checks what it drew. ebiten
// connects to X when its package initialises, so a binary with the
// window cannot even start without a display: this test lives in the
// untagged build, skips without DISPLAY, and otherwise runs a test
// binary built with -tags window as a child process.
func TestWindowUnderX(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("DISPLAY is unset: the window test needs an X server (run it under xvfb-run)")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "window.png")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	child := os.Args[0]
	if !windowTagged {
		child = filepath.Join(dir, "window.test")
		build := exec.CommandContext(ctx, "go", "test", "-c", "-tags", "window", "-o", child, ".")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the window test binary (needs cgo and the X11/GL headers: "+
				"libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev): %v\n%s", err, b)
		}
	}
	cmd := exec.CommandContext(ctx, child, "-test.run=^$")
	cmd.Env = append(os.Environ(), windowChildEnv+"="+out)
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("window child: %v\n%s", err, output)
	}
	var guest []string
	var title, grab string
	sc := bufio.NewScanner(strings.NewReader(string(output)))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "guest "):
			guest = append(guest, strings.TrimPrefix(l, "guest "))
		case strings.HasPrefix(l, "title "):
			title = l
		case strings.HasPrefix(l, "grabbed "):
			grab = l
		}
	}
	want := []string{
		fmt.Sprintf("down %d", chipset.KeyA),
		fmt.Sprintf("up %d", chipset.KeyA),
		fmt.Sprintf("down %d", chipset.KeyLeftCtrl),
		fmt.Sprintf("down %d", chipset.KeyLeftAlt),
		fmt.Sprintf("mouse 5 -3 1 %d", chipset.MouseLeft),
		"mouse 0 0 0 0",
		fmt.Sprintf("up %d", chipset.KeyLeftAlt),
		fmt.Sprintf("up %d", chipset.KeyLeftCtrl),
	}
	if strings.Join(guest, "\n") != strings.Join(want, "\n") {
		t.Errorf("guest input:\n%s\nwant:\n%s", strings.Join(guest, "\n"), strings.Join(want, "\n"))
	}
	if grab != "grabbed true after false" {
		t.Errorf("grab: %q", grab)
	}
	if !strings.Contains(title, "Fuji test — paused") {
		t.Errorf("title: %q", title)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The window shows the text screen letterboxed at 4:3: mostly the
	// blue background, a bright red block in the middle band, and black
	// only at the letterbox edges.
	b := img.Bounds()
	var blueN, redN, total int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			total++
			switch {
			case r < 8 && g < 8 && bl > 0xa0 && bl < 0xb4:
				blueN++
			case r > 0xf0 && g > 0x40 && g < 0x6a && bl > 0x40 && bl < 0x6a:
				redN++
			}
		}
	}
	t.Logf("window %v: %d blue, %d red of %d pixels", b.Size(), blueN, redN, total)
	if blueN < total/2 {
		t.Errorf("only %d of %d pixels show the blue background", blueN, total)
	}
	// The block is 20 of 80 columns, one of 25 rows: ~1% of the picture.
	if redN < total/200 || redN > total/50 {
		t.Errorf("%d red pixels of %d, want about 1%%", redN, total)
	}
	cx, cy := b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()*21/50 // row 10 of 25, centre column
	if r, g, _, _ := img.At(cx, cy).RGBA(); r>>8 < 0xf0 || g>>8 > 0x6a {
		t.Errorf("centre of the block at (%d,%d) is %v", cx, cy, img.At(cx, cy))
	}
}
