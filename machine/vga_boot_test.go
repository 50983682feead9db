package machine

import (
	"os"
	"strings"
	"testing"
	"time"

	"fuji/display"
)

// TestSeaBIOSVGABanner boots Debian's SeaBIOS with its VGA BIOS (no
// serial console) and checks the text screen: the banner's text cells,
// and that each of the banner's rendered glyphs is exactly the font
// bitmap the VGA BIOS loaded into plane 2, in the attribute's colours.
func TestSeaBIOSVGABanner(t *testing.T) {
	if _, err := os.Stat("/usr/share/seabios/bios-256k.bin"); err != nil {
		t.Skip("Debian's seabios package is not installed (make test installs it)")
	}
	m, err := New(Config{RAM: 64 << 20, NoReboot: true})
	if err != nil {
		t.Fatal(err)
	}
	// Until SeaBIOS reboots after its "No bootable device" wait (a
	// generous limit guards against a hang).
	res := m.Run(2 * time.Minute)
	if res.Kind != ExitReset {
		t.Fatalf("run ended %+v, want the BIOS's reboot after 'No bootable device'", res)
	}
	v := m.VGA.VGA
	ts, ok := v.TextScreen()
	if !ok {
		t.Fatal("VGA is not in a text mode")
	}
	if ts.Cols != 80 || ts.Rows != 25 || ts.CharWidth != 9 || ts.CharHeight != 16 {
		t.Fatalf("text mode %dx%d with %dx%d cells, want 80x25 with 9x16 (mode 3)", ts.Cols, ts.Rows, ts.CharWidth, ts.CharHeight)
	}
	lines := display.TextLines(&ts)
	if !strings.HasPrefix(lines[0], "SeaBIOS (version ") {
		t.Fatalf("row 0 = %q, want the SeaBIOS banner", lines[0])
	}
	if !strings.Contains(strings.Join(lines, "\n"), "No bootable device.") {
		t.Fatalf("screen lacks 'No bootable device.':\n%s", strings.Join(lines, "\n"))
	}

	r := display.NewRenderer()
	d := v.Display()
	img, _ := r.Render(&d, nil, 0)
	if b := img.Bounds(); b.Dx() != 720 || b.Dy() != 400 {
		t.Fatalf("rendered %v, want 720x400", b)
	}
	vram := v.VRAM()
	pal := d.Palette
	for col := 0; col < len("SeaBIOS"); col++ {
		cell := ts.Cells[col]
		fg, bg := pal[d.AttrPalette[cell.Attr&0xf]], pal[d.AttrPalette[cell.Attr>>4&0x7]]
		for line := 0; line < ts.CharHeight; line++ {
			bits := vram[(ts.FontA+uint32(cell.Char)*32+uint32(line))*4+2]
			for x := 0; x < 8; x++ {
				want := bg
				if bits&(0x80>>x) != 0 {
					want = fg
				}
				got := img.RGBAAt(col*ts.CharWidth+x, line)
				if got.R != want[0] || got.G != want[1] || got.B != want[2] {
					t.Fatalf("glyph %q (cell %d) line %d pixel %d = %v, want %v", cell.Char, col, line, x, got, want)
				}
			}
		}
	}
}
