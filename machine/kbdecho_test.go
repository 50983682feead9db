package machine

import (
	"strings"
	"testing"

	"fuji/chipset"
	"fuji/display"
)

// TestKbdEcho boots the kbdecho kernel (the guest of cmd/fuji's window
// test) without a window: once it is ready, key presses go straight to
// the PS/2 keyboard, as the window's input queue delivers them. The kernel
// sets text mode 3 and loads its font without a VGA BIOS, so the test
// checks the mode, the echoed text on the debug console and the screen,
// the cursor, and each typed glyph as rendered against plane 2.
func TestKbdEcho(t *testing.T) {
	kernel := buildKernel(t, "kbdecho", fmtAout)
	// Shift+F, u, j, i, Shift+1, x, Backspace, Enter.
	type stroke struct {
		key   chipset.Key
		shift bool
	}
	keys := []stroke{{chipset.KeyF, true}, {chipset.KeyU, false}, {chipset.KeyJ, false}, {chipset.KeyI, false},
		{chipset.Key1, true}, {chipset.KeyX, false}, {chipset.KeyBackspace, false}, {chipset.KeyEnter, false}}
	// One stroke at a time, each after the kernel's answer to the last
	// ("ready", then "echo C" or "erase"): the keyboard buffers only 16
	// bytes, as a real one.
	next := 0
	out := bootKernel(t, Config{NoBIOS: true, Kernel: kernel}, func(m *Machine, debug, _ *hookBuffer) {
		debug.hook = func(b *hookBuffer) {
			s := b.String()
			if next >= len(keys) || !strings.HasSuffix(s, "\n") ||
				strings.Count(s, "ready\n")+strings.Count(s, "echo ")+strings.Count(s, "erase\n") <= next {
				return
			}
			k := keys[next]
			next++
			m.Inject(func() {
				kbd := m.KBC.Keyboard()
				if k.shift {
					kbd.KeyDown(chipset.KeyLeftShift)
				}
				kbd.KeyDown(k.key)
				kbd.KeyUp(k.key)
				if k.shift {
					kbd.KeyUp(chipset.KeyLeftShift)
				}
			})
		}
	})
	info := checkReport(t, out)
	if !strings.Contains(out.debug, "echo F\necho u\necho j\necho i\necho !\necho x\nerase\nline Fuji!\n") {
		t.Errorf("debug console:\n%s\nwant the echoes of F u j i ! x, an erase, and line Fuji!", out.debug)
	}
	if len(info) != 1 || info[0] != "repeats 0" {
		t.Errorf("info lines %q, want [repeats 0]", info)
	}

	v := out.m.VGA.VGA
	ts, ok := v.TextScreen()
	if !ok {
		t.Fatal("VGA is not in a text mode")
	}
	if ts.Cols != 80 || ts.Rows != 25 || ts.CharWidth != 9 || ts.CharHeight != 16 {
		t.Fatalf("text mode %dx%d with %dx%d cells, want 80x25 with 9x16 (mode 3)", ts.Cols, ts.Rows, ts.CharWidth, ts.CharHeight)
	}
	lines := display.TextLines(&ts)
	if lines[0] != " Fuji kbdecho - type on the keyboard, Enter ends" || lines[2] != "fuji> Fuji!" {
		t.Errorf("screen:\n%s\nwant the title on row 0 and %q on row 2", strings.Join(lines, "\n"), "fuji> Fuji!")
	}
	if !ts.CursorVisible || ts.CursorRow != 2 || ts.CursorCol != 11 {
		t.Errorf("cursor at row %d column %d (visible %v), want row 2 column 11", ts.CursorRow, ts.CursorCol, ts.CursorVisible)
	}

	d := v.Display()
	img, _ := display.NewRenderer().Render(&d, nil, 0)
	if b := img.Bounds(); b.Dx() != 720 || b.Dy() != 400 {
		t.Fatalf("rendered %v, want 720x400", b)
	}
	vram := v.VRAM()
	for col := 6; col < 11; col++ {
		cell := ts.Cells[2*80+col]
		if cell.Attr != 0x1f {
			t.Errorf("column %d attribute %#x, want 0x1f", col, cell.Attr)
		}
		fg, bg := d.Palette[d.AttrPalette[cell.Attr&0xf]], d.Palette[d.AttrPalette[cell.Attr>>4&0x7]]
		if fg != [3]uint8{0xff, 0xff, 0xff} || bg != [3]uint8{0, 0, 0xaa} {
			t.Errorf("colours %v on %v, want bright white on blue (the EGA palette in the DAC)", fg, bg)
		}
		dots := 0
		for line := 0; line < 16; line++ {
			bits := vram[(ts.FontA+uint32(cell.Char)*32+uint32(line))*4+2]
			for x := 0; x < 9; x++ {
				want := bg
				if x < 8 && bits&(0x80>>x) != 0 {
					want = fg
					dots++
				}
				got := img.RGBAAt(col*9+x, 2*16+line)
				if got.R != want[0] || got.G != want[1] || got.B != want[2] {
					t.Fatalf("glyph %q (column %d) line %d pixel %d = %v, want %v", cell.Char, col, line, x, got, want)
				}
			}
		}
		if dots < 8 {
			t.Errorf("glyph %q has %d dots in plane 2: the kernel's font is not loaded", cell.Char, dots)
		}
	}
}
