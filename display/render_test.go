package display

import (
	"image/color"
	"testing"
	"time"

	"fuji/chipset"
)

var (
	white      = dac8(egaDAC(0x3f))
	blue       = dac8(egaDAC(0x01))
	brightBlue = dac8(egaDAC(0x39))
	grey       = dac8(egaDAC(0x07))
	black      = color.RGBA{0, 0, 0, 0xff}
)

// textVGA is mode 3 with a small font: 'A' has distinct first lines,
// 0xC4 is a line-graphics glyph whose line 5 has only its last dot set.
func textVGA(t *testing.T) *chipset.VGA {
	v := chipset.NewVGA()
	setMode(t, v, mode03)
	loadFont(v, 0, map[byte][]byte{
		'A':  {0xf0, 0x0f, 0x81},
		0xc4: {0, 0, 0, 0, 0, 0x01},
	})
	return v
}

func TestTextGlyphAndColours(t *testing.T) {
	v := textVGA(t)
	putText(v, 80, 0, 0, "A\xc4", 0x1f)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 720 || got.Y != 400 {
		t.Fatalf("mode 3 image is %v, want 720x400", got)
	}
	for x := 0; x < 9; x++ {
		want := blue
		if x < 4 {
			want = white
		}
		wantPix(t, img, x, 0, want)
	}
	wantPix(t, img, 3, 1, blue)
	wantPix(t, img, 4, 1, white)
	wantPix(t, img, 7, 1, white)
	wantPix(t, img, 8, 1, blue) // 9th column of a normal character: background
	wantPix(t, img, 0, 2, white)
	wantPix(t, img, 7, 2, white)
	wantPix(t, img, 8, 2, blue)
	// Line graphics: the 9th column repeats the 8th for C0h-DFh...
	wantPix(t, img, 9+7, 5, white)
	wantPix(t, img, 9+8, 5, white)
	// ...unless AR10 bit 2 is clear.
	setAR(v, 0x10, 0x08)
	img = render(t, v, 0)
	wantPix(t, img, 9+7, 5, white)
	wantPix(t, img, 9+8, 5, blue)
	// 8-dot characters: SR1 bit 0 makes the screen 640 wide.
	setSR(v, 1, 0x01)
	img = render(t, v, 0)
	if img.Rect.Dx() != 640 {
		t.Errorf("8-dot mode is %d wide, want 640", img.Rect.Dx())
	}
	wantPix(t, img, 8+7, 5, white)
	wantPix(t, img, 8, 0, blue) // cell 1 (0xC4) starts at x=8, its line 0 is empty
}

func TestTextCursor(t *testing.T) {
	v := textVGA(t)
	putText(v, 80, 2, 3, " ", 0x07)
	pos := 2*80 + 3
	setCR(v, 0x0e, byte(pos>>8))
	setCR(v, 0x0f, byte(pos))
	x, y := 3*9+4, 2*16
	img := render(t, v, 0)
	wantPix(t, img, x, y+12, black)
	wantPix(t, img, x, y+13, grey) // CR0A = 13
	wantPix(t, img, x, y+14, grey) // CR0B = 14
	wantPix(t, img, x, y+15, black)
	wantPix(t, img, 3*9+8, y+13, grey) // the cursor covers the 9th column
	// Blink: off during frames 8-15.
	img = render(t, v, 8*textFrame)
	wantPix(t, img, x, y+13, black)
	img = render(t, v, 16*textFrame)
	wantPix(t, img, x, y+13, grey)
	// Block cursor.
	setCR(v, 0x0a, 0x00)
	setCR(v, 0x0b, 0x0f)
	img = render(t, v, 0)
	wantPix(t, img, x, y, grey)
	wantPix(t, img, x, y+15, grey)
	// Disabled by CR0A bit 5, and when start > end.
	setCR(v, 0x0a, 0x20)
	img = render(t, v, 0)
	wantPix(t, img, x, y+13, black)
	setCR(v, 0x0a, 0x0e)
	setCR(v, 0x0b, 0x0d)
	img = render(t, v, 0)
	wantPix(t, img, x, y+13, black)
}

func TestTextBlinkAndIntensity(t *testing.T) {
	v := textVGA(t)
	putText(v, 80, 3, 0, "A", 0x9f)
	y := 3 * 16
	img := render(t, v, 0)
	wantPix(t, img, 0, y, white)
	wantPix(t, img, 5, y, blue) // bit 7 blinks: background stays dark
	img = render(t, v, 16*textFrame)
	wantPix(t, img, 0, y, blue) // blinked off
	// AR10 bit 3 clear: bit 7 is background intensity, no blink.
	setAR(v, 0x10, 0x04)
	img = render(t, v, 16*textFrame)
	wantPix(t, img, 0, y, white)
	wantPix(t, img, 5, y, brightBlue)
}

func TestText512CharFont(t *testing.T) {
	v := textVGA(t)
	loadFont(v, 0, map[byte][]byte{'B': {0x55}})
	loadFont(v, 0x4000, map[byte][]byte{'B': {0xaa}})
	setSR(v, 3, 0x04) // map A (attr bit 3 set) = 16K, map B = 0
	putText(v, 80, 4, 0, "B", 0x0f)
	putText(v, 80, 4, 1, "B", 0x07)
	y := 4 * 16
	img := render(t, v, 0)
	wantPix(t, img, 0, y, white) // 0xAA from the second map
	wantPix(t, img, 1, y, black)
	wantPix(t, img, 9, y, black) // 0x55 from the first map
	wantPix(t, img, 10, y, grey)
	// Colour plane enable 7 drops bit 3 as intensity (512-char setups).
	setAR(v, 0x12, 0x07)
	img = render(t, v, 0)
	wantPix(t, img, 0, y, grey)
	// Textscreen and renderer agree on which map is which.
	ts, _ := v.TextScreen()
	if ts.FontA != 0 || ts.FontB != 0x4000 {
		t.Errorf("TextScreen fonts = %#x/%#x", ts.FontA, ts.FontB)
	}
}

func TestText40Columns(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode01)
	loadFont(v, 0, map[byte][]byte{'A': {0xf0}})
	putText(v, 40, 0, 1, "A", 0x1f)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 360 || got.Y != 400 {
		t.Fatalf("mode 1 image is %v, want 360x400", got)
	}
	wantPix(t, img, 9, 0, white)
	wantPix(t, img, 13, 0, blue)
}

func TestText50Rows(t *testing.T) {
	v := textVGA(t)
	setCR(v, 0x09, 0x47) // 8-line characters: 400/8 = 50 rows
	putText(v, 80, 49, 0, "A", 0x1f)
	img := render(t, v, 0)
	if img.Rect.Dy() != 400 {
		t.Fatalf("height %d", img.Rect.Dy())
	}
	wantPix(t, img, 0, 49*8, white)
	wantPix(t, img, 0, 49*8+1, blue)
	if ts, _ := v.TextScreen(); ts.Rows != 50 {
		t.Errorf("rows = %d", ts.Rows)
	}
}

func TestTextStartPanSplitUnderline(t *testing.T) {
	v := textVGA(t)
	putText(v, 80, 0, 0, "A", 0x1f)
	putText(v, 80, 11, 0, "A", 0x1f)
	// Start address at row 10: row 11 is shown second.
	setCR(v, 0x0c, 800>>8)
	setCR(v, 0x0d, 800&0xff)
	img := render(t, v, 0)
	wantPix(t, img, 0, 16, white)
	wantPix(t, img, 0, 0, black)
	// Split screen: after scanline 199 the display restarts at 0.
	setCR(v, 0x18, 199)
	setCR(v, 0x07, 0x1f&^0x10)
	setCR(v, 0x09, 0x4f&^0x40)
	img = render(t, v, 0)
	wantPix(t, img, 0, 200, white)
	wantPix(t, img, 4, 200, blue)
	// Pel panning: AR13 = 0 shifts 9-dot text left by one dot.
	setAR(v, 0x13, 0)
	img = render(t, v, 0)
	wantPix(t, img, 2, 16, white)
	wantPix(t, img, 3, 16, blue)
	// Preset row scan: the first row starts at its glyph line 1.
	setAR(v, 0x13, 8)
	setCR(v, 0x08, 1)
	img = render(t, v, 0)
	wantPix(t, img, 0, 15, white) // row 11 starts a line early
	wantPix(t, img, 4, 15, blue)
	wantPix(t, img, 4, 16, white)
	// Underline: attribute 01h at the CR14 scanline.
	setCR(v, 0x08, 0)
	setCR(v, 0x0c, 0)
	setCR(v, 0x0d, 0)
	putText(v, 80, 5, 0, " ", 0x01)
	setCR(v, 0x14, 0x0f)
	img = render(t, v, 0)
	wantPix(t, img, 0, 5*16+15, blue)
	wantPix(t, img, 8, 5*16+15, blue)
	wantPix(t, img, 0, 5*16+14, black)
}

func TestMode13Palette(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode13)
	v.Out(0x3c8, 1, 200)
	for _, c := range []uint32{63, 0, 0} {
		v.Out(0x3c9, 1, c)
	}
	v.WriteMMIO(20*320+10, 1, 200)
	v.WriteMMIO(199*320+319, 1, 200)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 320 || got.Y != 200 {
		t.Fatalf("mode 13h image is %v", got)
	}
	red := color.RGBA{255, 0, 0, 255}
	wantPix(t, img, 10, 20, red)
	wantPix(t, img, 319, 199, red)
	wantPix(t, img, 11, 20, black)
	// The pel mask applies before the DAC: 200&0x7f = 72, a grey.
	v.Out(0x3c6, 1, 0x7f)
	img = render(t, v, 0)
	wantPix(t, img, 10, 20, dac8([3]byte{18, 18, 18}))
}

func TestModeX(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, modeX)
	v.Out(0x3c8, 1, 200)
	for _, c := range []uint32{0, 63, 0} {
		v.Out(0x3c9, 1, c)
	}
	x, y := 5, 237
	setSR(v, 2, 1<<(x&3))
	v.WriteMMIO(uint64(y*80+x/4), 1, 200)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 320 || got.Y != 240 {
		t.Fatalf("mode X image is %v", got)
	}
	wantPix(t, img, x, y, color.RGBA{0, 255, 0, 255})
	wantPix(t, img, x-1, y, black)
	// 360x480: 90 bytes a line, no double line.
	setCR(v, 0x11, 0x2c) // unprotect
	setCR(v, 0x01, 0x59)
	setCR(v, 0x13, 0x2d)
	setCR(v, 0x09, 0x40)
	img = render(t, v, 0)
	if got := img.Rect.Size(); got.X != 360 || got.Y != 480 {
		t.Fatalf("360x480 image is %v", got)
	}
	// The same byte, at plane offset 237*80+1, is now on line off/90.
	off := y*80 + x/4
	wantPix(t, img, off%90*4+x&3, off/90, color.RGBA{0, 255, 0, 255})
}

// putPlanar draws pixel (x,y) of colour c in a 16-colour planar mode
// with write mode 2 and the bit mask, as a guest would.
func putPlanar(v *chipset.VGA, bytesPerLine, x, y int, c byte) {
	setGR(v, 5, 0x02)
	setGR(v, 8, 0x80>>(x&7))
	off := uint64(y*bytesPerLine + x/8)
	v.ReadMMIO(off, 1) // load the latches
	v.WriteMMIO(off, 1, uint64(c))
	setGR(v, 5, 0x00)
	setGR(v, 8, 0xff)
}

func TestMode12Planar(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode12)
	putPlanar(v, 80, 3, 7, 12)
	putPlanar(v, 80, 639, 479, 9)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 640 || got.Y != 480 {
		t.Fatalf("mode 12h image is %v", got)
	}
	wantPix(t, img, 3, 7, dac8(egaDAC(0x3c)))
	wantPix(t, img, 2, 7, black)
	wantPix(t, img, 4, 7, black)
	wantPix(t, img, 639, 479, dac8(egaDAC(0x39)))
	// Colour plane enable: only planes 0-1 reach the palette (12 -> 0,
	// 9 -> 1).
	setAR(v, 0x12, 0x03)
	img = render(t, v, 0)
	wantPix(t, img, 3, 7, black)
	wantPix(t, img, 639, 479, dac8(egaDAC(0x01)))
	// Pel panning shifts the line left.
	setAR(v, 0x12, 0x0f)
	setAR(v, 0x13, 2)
	img = render(t, v, 0)
	wantPix(t, img, 1, 7, dac8(egaDAC(0x3c)))
}

func TestMode0D(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode0D)
	putPlanar(v, 40, 0, 199, 5)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 320 || got.Y != 200 {
		t.Fatalf("mode 0Dh image is %v", got)
	}
	wantPix(t, img, 0, 199, dac8(egaDAC(0x05)))
	wantPix(t, img, 0, 198, black)
}

func TestModeCGA(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode04)
	v.WriteMMIO(0x18000+0x2000, 1, 0xc0) // odd line 1, pixel 0: colour 3
	v.WriteMMIO(0x18001, 1, 0x20)        // line 0, pixel 5: colour 2
	v.WriteMMIO(0x18000+80, 1, 0x01)     // line 2, pixel 3: colour 1
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 320 || got.Y != 200 {
		t.Fatalf("mode 4 image is %v", got)
	}
	wantPix(t, img, 0, 1, dac8(egaDAC(0x17)))
	wantPix(t, img, 0, 0, black)
	wantPix(t, img, 5, 0, dac8(egaDAC(0x15)))
	wantPix(t, img, 3, 2, dac8(egaDAC(0x13)))

	setMode(t, v, mode06)
	setSR(v, 2, 0x01)
	v.WriteMMIO(0x18000+0x2000, 1, 0x80) // odd line 1, pixel 0
	v.WriteMMIO(0x18001, 1, 0x40)        // line 0, pixel 9
	img = render(t, v, 0)
	if got := img.Rect.Size(); got.X != 640 || got.Y != 200 {
		t.Fatalf("mode 6 image is %v", got)
	}
	fg := dac8(egaDAC(0x17))
	wantPix(t, img, 0, 1, fg)
	wantPix(t, img, 9, 0, fg)
	wantPix(t, img, 8, 0, black)
}

func vbeSet(v *chipset.VGA, idx, val uint16) {
	v.Out(0x1ce, 2, uint32(idx))
	v.Out(0x1cf, 2, uint32(val))
}

func vbeMode(v *chipset.VGA, w, h, bpp uint16) {
	vbeSet(v, 4, 0)
	vbeSet(v, 1, w)
	vbeSet(v, 2, h)
	vbeSet(v, 3, bpp)
	vbeSet(v, 4, chipset.VBEEnabled|chipset.VBELFBEnabled)
	v.In(0x3da, 1)
	v.Out(0x3c0, 1, 0x20) // the VGA BIOS leaves the palette to the display
}

func TestVBE32(t *testing.T) {
	v := chipset.NewVGA()
	vbeMode(v, 800, 600, 32)
	lfb := v.LFB()
	lfb.WriteMMIO((599*800+799)*4, 4, 0x00112233)
	lfb.WriteMMIO(0, 4, 0x00ff0000)
	r := NewRenderer()
	d := v.Display()
	img, _ := r.Render(&d, nil, 0)
	if got := img.Rect.Size(); got.X != 800 || got.Y != 600 {
		t.Fatalf("VBE image is %v", got)
	}
	if r.Aspect() != 800.0/600.0 {
		t.Errorf("aspect %v", r.Aspect())
	}
	wantPix(t, img, 799, 599, color.RGBA{0x11, 0x22, 0x33, 0xff})
	wantPix(t, img, 0, 0, color.RGBA{0xff, 0, 0, 0xff})
	wantPix(t, img, 1, 0, black)

	// Virtual width and display offset (scrolling / page flipping).
	vbeSet(v, 6, 1024)
	vbeSet(v, 8, 8)
	vbeSet(v, 9, 4)
	lfb.WriteMMIO((4*1024+8)*4, 4, 0x00abcdef)
	lfb.WriteMMIO((5*1024+9)*4, 4, 0x00010203)
	d = v.Display()
	img, _ = r.Render(&d, nil, 0)
	wantPix(t, img, 0, 0, color.RGBA{0xab, 0xcd, 0xef, 0xff})
	wantPix(t, img, 1, 1, color.RGBA{1, 2, 3, 0xff})
}

func TestVBEDepths(t *testing.T) {
	v := chipset.NewVGA()
	lfb := v.LFB()

	vbeMode(v, 640, 480, 16)
	lfb.WriteMMIO(0, 2, 0xf800)
	lfb.WriteMMIO(2, 2, 0x07e0)
	lfb.WriteMMIO(4, 2, 0x001f)
	lfb.WriteMMIO(479*1280+639*2, 2, 0xffff)
	img := render(t, v, 0)
	wantPix(t, img, 0, 0, color.RGBA{255, 0, 0, 255})
	wantPix(t, img, 1, 0, color.RGBA{0, 255, 0, 255})
	wantPix(t, img, 2, 0, color.RGBA{0, 0, 255, 255})
	wantPix(t, img, 639, 479, color.RGBA{255, 255, 255, 255})

	vbeMode(v, 640, 480, 15)
	lfb.WriteMMIO(0, 2, 0x7c00)
	lfb.WriteMMIO(2, 2, 0x03e0)
	lfb.WriteMMIO(4, 2, 0x0010)
	img = render(t, v, 0)
	wantPix(t, img, 0, 0, color.RGBA{255, 0, 0, 255})
	wantPix(t, img, 1, 0, color.RGBA{0, 255, 0, 255})
	wantPix(t, img, 2, 0, color.RGBA{0, 0, 0x84, 255})

	vbeMode(v, 640, 480, 24)
	lfb.WriteMMIO(3, 1, 0x30) // pixel 1: B, G, R
	lfb.WriteMMIO(4, 1, 0x20)
	lfb.WriteMMIO(5, 1, 0x10)
	img = render(t, v, 0)
	wantPix(t, img, 1, 0, color.RGBA{0x10, 0x20, 0x30, 255})

	vbeMode(v, 1024, 768, 8)
	v.Out(0x3c8, 1, 7)
	for _, c := range []uint32{0, 0, 63} {
		v.Out(0x3c9, 1, c)
	}
	lfb.WriteMMIO(767*1024+1023, 1, 7)
	img = render(t, v, 0)
	if got := img.Rect.Size(); got.X != 1024 || got.Y != 768 {
		t.Fatalf("VBE 8 bpp image is %v", got)
	}
	wantPix(t, img, 1023, 767, color.RGBA{0, 0, 255, 255})
}

func TestBlank(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode13)
	v.WriteMMIO(0, 1, 0x3f)
	v.In(0x3da, 1)
	v.Out(0x3c0, 1, 0) // PAS clear: the CPU owns the palette, screen blank
	r := NewRenderer()
	d := v.Display()
	img, _ := r.Render(&d, nil, 0)
	wantPix(t, img, 0, 0, black)
}

// TestDirtyTracking checks that the renderer skips unchanged frames and
// redraws changed lines when fed the VGA's dirty pages.
func TestDirtyTracking(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode13)
	r := NewRenderer()
	var dirty []uint64
	step := func() bool {
		d := v.Display()
		dirty = v.TakeDirty(dirty)
		_, changed := r.Render(&d, dirty, 0)
		return changed
	}
	if !step() {
		t.Fatal("first frame not drawn")
	}
	if step() {
		t.Error("unchanged frame reported as changed")
	}
	v.WriteMMIO(100*320+7, 1, 0x3f)
	if !step() {
		t.Fatal("write not redrawn")
	}
	wantPix(t, r.Image(), 7, 100, white)
	// A palette change redraws everything.
	v.Out(0x3c8, 1, 0x3f)
	for _, c := range []uint32{63, 0, 0} {
		v.Out(0x3c9, 1, c)
	}
	if !step() {
		t.Fatal("palette change not redrawn")
	}
	wantPix(t, r.Image(), 7, 100, color.RGBA{255, 0, 0, 255})
}

func TestRenderDoesNotAllocate(t *testing.T) {
	for _, m := range []modeRegs{mode03, mode12, mode13} {
		v := chipset.NewVGA()
		setMode(t, v, m)
		r := NewRenderer()
		d := v.Display()
		r.Render(&d, nil, 0)
		allocs := testing.AllocsPerRun(10, func() {
			r.Render(&d, nil, time.Second)
		})
		if allocs != 0 {
			t.Errorf("misc %#x: %v allocations per frame", m.misc, allocs)
		}
	}
}

func BenchmarkRenderText(b *testing.B) {
	v := chipset.NewVGA()
	setMode(b, v, mode03)
	r := NewRenderer()
	d := v.Display()
	for b.Loop() {
		r.Render(&d, nil, 0)
	}
}

func BenchmarkRenderVBE32(b *testing.B) {
	v := chipset.NewVGA()
	vbeMode(v, 1024, 768, 32)
	r := NewRenderer()
	d := v.Display()
	for b.Loop() {
		r.Render(&d, nil, 0)
	}
}

func TestVBE4Planar(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode12) // the VGA BIOS sets a planar mode's palette first
	vbeMode(v, 800, 600, 4)
	putPlanar(v, 100, 799, 599, 12)
	putPlanar(v, 100, 0, 0, 9)
	img := render(t, v, 0)
	if got := img.Rect.Size(); got.X != 800 || got.Y != 600 {
		t.Fatalf("VBE 4 bpp image is %v", got)
	}
	wantPix(t, img, 799, 599, dac8(egaDAC(0x3c)))
	wantPix(t, img, 0, 0, dac8(egaDAC(0x39)))
	wantPix(t, img, 1, 0, black)
}
