package chipset

import (
	"testing"

	"fuji/mem"
)

type vgaRig struct {
	t     *testing.T
	v     *VGA
	ports *mem.PortBus
	bus   *mem.Bus
}

func newVGARig(t *testing.T) *vgaRig {
	t.Helper()
	bus, err := mem.New(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	r := &vgaRig{t: t, v: NewVGA(), ports: mem.NewPortBus(), bus: bus}
	if err := r.v.Attach(r.ports, bus); err != nil {
		t.Fatal(err)
	}
	r.outb(0x3C2, 0x67) // colour I/O at 0x3Dx, as the BIOS leaves it
	return r
}

func (r *vgaRig) outb(p uint16, v byte)        { r.ports.Out(p, 1, uint32(v)) }
func (r *vgaRig) outw(p uint16, v uint16)      { r.ports.Out(p, 2, uint32(v)) }
func (r *vgaRig) inb(p uint16) byte            { return byte(r.ports.In(p, 1)) }
func (r *vgaRig) seq(i, v byte)                { r.outb(0x3C4, i); r.outb(0x3C5, v) }
func (r *vgaRig) gfx(i, v byte)                { r.outb(0x3CE, i); r.outb(0x3CF, v) }
func (r *vgaRig) crtc(i, v byte)               { r.outb(0x3D4, i); r.outb(0x3D5, v) }
func (r *vgaRig) crtcRead(i byte) byte         { r.outb(0x3D4, i); return r.inb(0x3D5) }
func (r *vgaRig) wr(addr uint64, v byte)       { r.bus.Write(addr, 1, uint64(v)) }
func (r *vgaRig) rd(addr uint64) byte          { return byte(r.bus.Read(addr, 1)) }
func (r *vgaRig) plane(p int, off uint32) byte { return r.v.vram[off*4+uint32(p)] }

// planar sets up mode 12h-like planar access through A0000-AFFFF.
func (r *vgaRig) planar() {
	r.seq(2, 0x0f)
	r.seq(4, 0x06)
	r.gfx(5, 0x00)
	r.gfx(6, 0x05)
	r.gfx(8, 0xff)
}

func TestAttributeFlipFlop(t *testing.T) {
	r := newVGARig(t)
	r.inb(0x3DA) // reset the flip-flop to "index"
	r.outb(0x3C0, 0x01)
	if got := r.inb(0x3C0); got != 0 {
		t.Errorf("0x3C0 read in data state = %#x, want 0", got)
	}
	r.outb(0x3C0, 0x15)
	if got := r.inb(0x3C0); got != 0x01 {
		t.Errorf("0x3C0 read in index state = %#x, want index 0x01", got)
	}
	if got := r.inb(0x3C1); got != 0x15 {
		t.Errorf("AR1 = %#x, want 0x15", got)
	}
	// Half-way through a pair, reading input status 1 resets the
	// flip-flop, so the next write is an index again.
	r.outb(0x3C0, 0x02)
	r.inb(0x3DA)
	r.outb(0x3C0, 0x03)
	r.outb(0x3C0, 0x2a)
	if r.v.ar[2] != 0 || r.v.ar[3] != 0x2a {
		t.Errorf("AR2=%#x AR3=%#x, want 0 and 0x2a", r.v.ar[2], r.v.ar[3])
	}
	// The mono status port is not decoded in colour mode: no reset.
	r.outb(0x3C0, 0x04)
	if got := r.inb(0x3BA); got != 0xff {
		t.Errorf("0x3BA in colour mode = %#x, want 0xff", got)
	}
	r.outb(0x3C0, 0x09)
	if r.v.ar[4] != 0x09 {
		t.Errorf("AR4 = %#x, want 0x09 (0x3BA must not reset the flip-flop)", r.v.ar[4])
	}
	// PAS bit: the display is blank until the index is written with bit 5.
	if d := r.v.Display(); d.Mode != DisplayBlank {
		t.Errorf("mode with PAS clear = %v, want blank", d.Mode)
	}
	r.outb(0x3C0, 0x20)
	if d := r.v.Display(); d.Mode != DisplayText {
		t.Errorf("mode with PAS set = %v, want text", d.Mode)
	}
	// Palette registers hold 6 bits; the mode control bit 4 is reserved.
	r.inb(0x3DA)
	r.outb(0x3C0, 0x05)
	r.outb(0x3C0, 0xff)
	r.outb(0x3C0, 0x10)
	r.outb(0x3C0, 0xff)
	if r.v.ar[5] != 0x3f || r.v.ar[0x10] != 0xef {
		t.Errorf("AR5=%#x AR10=%#x, want 0x3f, 0xef", r.v.ar[5], r.v.ar[0x10])
	}
}

func TestDACThreeStepCycle(t *testing.T) {
	r := newVGARig(t)
	r.outb(0x3C8, 5)
	for _, c := range []byte{10, 20, 30, 40, 50, 0xff} {
		r.outb(0x3C9, c)
	}
	if got := r.inb(0x3C8); got != 7 {
		t.Errorf("write index after two entries = %d, want 7", got)
	}
	if got := r.inb(0x3C7); got != 0 {
		t.Errorf("DAC state after write index = %d, want 0", got)
	}
	r.outb(0x3C7, 5)
	if got := r.inb(0x3C7); got != 3 {
		t.Errorf("DAC state after read index = %d, want 3", got)
	}
	var got []byte
	for i := 0; i < 6; i++ {
		got = append(got, r.inb(0x3C9))
	}
	want := []byte{10, 20, 30, 40, 50, 0x3f} // 6-bit DAC
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("DAC read back %v, want %v", got, want)
		}
	}
	// A partial triple does not touch the palette; re-selecting the
	// index restarts the cycle.
	r.outb(0x3C8, 9)
	r.outb(0x3C9, 1)
	r.outb(0x3C9, 2)
	r.outb(0x3C8, 9)
	r.outb(0x3C9, 3)
	r.outb(0x3C9, 4)
	r.outb(0x3C9, 5)
	if p := r.v.PaletteDAC()[9]; p != [3]uint8{3, 4, 5} {
		t.Errorf("entry 9 = %v, want [3 4 5]", p)
	}
	if d := r.v.Display(); d.Palette[5] != [3]uint8{40, 81, 121} {
		t.Errorf("8-bit scaled entry 5 = %v", d.Palette[5])
	}
	r.outb(0x3C6, 0x0f)
	if got := r.inb(0x3C6); got != 0x0f {
		t.Errorf("pel mask = %#x, want 0x0f", got)
	}
}

func TestWriteMode0SetResetBitMask(t *testing.T) {
	r := newVGARig(t)
	r.planar()
	r.wr(0xA0000, 0xaa) // all planes 0xaa
	r.rd(0xA0000)       // load latches
	r.gfx(1, 0x05)      // set/reset enable: planes 0 and 2
	r.gfx(0, 0x04)      // set/reset value: plane 2 ones, plane 0 zeros
	r.gfx(8, 0xf0)      // bit mask: high nibble from the data, low from latches
	r.wr(0xA0000, 0x33)
	want := [4]byte{0x0a, 0x3a, 0xfa, 0x3a}
	for p := 0; p < 4; p++ {
		if got := r.plane(p, 0); got != want[p] {
			t.Errorf("plane %d = %#x, want %#x", p, got, want[p])
		}
	}
	// Rotate by 4 and XOR with the latches, full bit mask, no set/reset.
	r.gfx(1, 0)
	r.gfx(8, 0xff)
	r.gfx(3, 0x18|4)
	r.rd(0xA0001) // latches = 0 at offset 1
	r.wr(0xA0001, 0x12)
	if got := r.plane(3, 1); got != 0x21 {
		t.Errorf("rotated write = %#x, want 0x21", got)
	}
	r.rd(0xA0001)
	r.wr(0xA0001, 0x12) // XOR with latches 0x21 -> 0
	if got := r.plane(0, 1); got != 0 {
		t.Errorf("xor write = %#x, want 0", got)
	}
}

func TestWriteMode1LatchCopy(t *testing.T) {
	r := newVGARig(t)
	r.planar()
	for p := 0; p < 4; p++ {
		r.seq(2, 1<<p)
		r.wr(0xA0010, byte(0x11*(p+1)))
	}
	r.seq(2, 0x0b) // plane 2 write-protected
	r.gfx(5, 0x01)
	r.gfx(8, 0x00) // ignored by write mode 1
	r.rd(0xA0010)
	r.wr(0xA0020, 0x99) // the CPU data is ignored too
	want := [4]byte{0x11, 0x22, 0x00, 0x44}
	for p := 0; p < 4; p++ {
		if got := r.plane(p, 0x20); got != want[p] {
			t.Errorf("plane %d = %#x, want %#x", p, got, want[p])
		}
	}
}

func TestWriteModes2And3(t *testing.T) {
	r := newVGARig(t)
	r.planar()
	r.gfx(5, 0x02)
	r.gfx(8, 0x81)
	r.rd(0xA0000)
	r.wr(0xA0000, 0x0a) // colour 1010 on pixels 0 and 7
	want := [4]byte{0x00, 0x81, 0x00, 0x81}
	for p := 0; p < 4; p++ {
		if got := r.plane(p, 0); got != want[p] {
			t.Errorf("mode 2 plane %d = %#x, want %#x", p, got, want[p])
		}
	}
	r.gfx(5, 0x03)
	r.gfx(8, 0xff)
	r.gfx(0, 0x05) // colour 0101
	r.rd(0xA0001)
	r.wr(0xA0001, 0x0f) // data ANDed into the bit mask
	want = [4]byte{0x0f, 0x00, 0x0f, 0x00}
	for p := 0; p < 4; p++ {
		if got := r.plane(p, 1); got != want[p] {
			t.Errorf("mode 3 plane %d = %#x, want %#x", p, got, want[p])
		}
	}
}

func TestReadModes(t *testing.T) {
	r := newVGARig(t)
	r.planar()
	for p, b := range []byte{0xf0, 0xcc, 0xaa, 0x00} {
		r.seq(2, 1<<p)
		r.wr(0xA0000, b)
	}
	r.gfx(4, 2)
	if got := r.rd(0xA0000); got != 0xaa {
		t.Errorf("read mode 0 map 2 = %#x, want 0xaa", got)
	}
	r.gfx(5, 0x08)
	r.gfx(2, 0x03) // compare colour 0011
	r.gfx(7, 0x0f)
	if got := r.rd(0xA0000); got != 0x40 {
		t.Errorf("read mode 1 = %#x, want 0x40", got)
	}
	r.gfx(7, 0x01) // only plane 0 matters
	if got := r.rd(0xA0000); got != 0xf0 {
		t.Errorf("read mode 1 don't care = %#x, want 0xf0", got)
	}
	r.gfx(7, 0x00) // nothing matters: all match
	if got := r.rd(0xA0000); got != 0xff {
		t.Errorf("read mode 1 all don't care = %#x, want 0xff", got)
	}
}

func TestChain4(t *testing.T) {
	r := newVGARig(t)
	r.seq(2, 0x0f)
	r.seq(4, 0x0e)
	r.gfx(5, 0x40)
	r.gfx(6, 0x05)
	r.gfx(8, 0xff)
	r.wr(0xA1235, 0x77)
	if r.v.vram[0x1235] != 0x77 || r.plane(1, 0x48d) != 0x77 {
		t.Errorf("chain-4 byte not at vram[0x1235] = plane 1 offset 0x48d")
	}
	if got := r.rd(0xA1235); got != 0x77 {
		t.Errorf("chain-4 read = %#x", got)
	}
	r.bus.Write(0xA2000, 4, 0x44332211)
	if got := r.bus.Read(0xA2000, 4); got != 0x44332211 {
		t.Errorf("chain-4 dword = %#x", got)
	}
	r.seq(2, 0x01) // only plane 0 writable: address 0x1235 is plane 1
	r.wr(0xA1235, 0x55)
	r.wr(0xA1234, 0x66)
	if r.v.vram[0x1235] != 0x77 || r.v.vram[0x1234] != 0x66 {
		t.Errorf("map mask not honoured in chain-4")
	}
	r.seq(2, 0x0f)
	// Memory map 1 decodes only A0000-AFFFF.
	r.wr(0xB0000, 0x12)
	if got := r.rd(0xB0000); got != 0xff {
		t.Errorf("B0000 with map 1 = %#x, want 0xff", got)
	}
	r.crtc(0x01, 0x4f)
	r.crtc(0x09, 0x41)
	r.crtc(0x07, 0x1f)
	r.crtc(0x12, 0x8f)
	r.crtc(0x13, 0x28)
	r.inb(0x3DA)
	r.outb(0x3C0, 0x20)
	d := r.v.Display()
	if d.Mode != DisplayChain256 || d.Width != 320 || d.Height != 200 || d.Stride != 320 {
		t.Errorf("mode 13h view = %v %dx%d stride %d", d.Mode, d.Width, d.Height, d.Stride)
	}
}

// setText80x25 programs what the BIOS sets for mode 3.
func (r *vgaRig) setText80x25() {
	r.seq(1, 0x00)
	r.seq(2, 0x03)
	r.seq(3, 0x00)
	r.seq(4, 0x02)
	r.gfx(4, 0x00)
	r.gfx(5, 0x10)
	r.gfx(6, 0x0e)
	r.gfx(8, 0xff)
	r.crtc(0x01, 0x4f)
	r.crtc(0x07, 0x1f)
	r.crtc(0x09, 0x4f)
	r.crtc(0x12, 0x8f)
	r.crtc(0x13, 0x28)
	r.inb(0x3DA)
	r.outb(0x3C0, 0x20)
}

func TestOddEvenText(t *testing.T) {
	r := newVGARig(t)
	r.setText80x25()
	r.wr(0xB8000, 'A')
	r.wr(0xB8001, 0x1f)
	r.bus.Write(0xB8002, 2, 0x2e42) // 'B' with attribute 0x2e
	if r.plane(0, 0) != 'A' || r.plane(1, 0) != 0x1f || r.plane(0, 1) != 'B' || r.plane(1, 1) != 0x2e {
		t.Errorf("odd/even: planes 0/1 hold %q %#x %q %#x", r.plane(0, 0), r.plane(1, 0), r.plane(0, 1), r.plane(1, 1))
	}
	if r.plane(2, 0) != 0 || r.plane(2, 1) != 0 {
		t.Errorf("odd/even write reached the font plane")
	}
	if got := r.bus.Read(0xB8000, 4); got != 0x2e421f41 {
		t.Errorf("read back %#x", got)
	}
	if got := r.rd(0xA0000); got != 0xff {
		t.Errorf("A0000 with map 3 = %#x, want 0xff", got)
	}
	r.crtc(0x0a, 0x0e)
	r.crtc(0x0b, 0x0f)
	r.crtc(0x0e, 0x00)
	r.crtc(0x0f, 81)
	ts, ok := r.v.TextScreen()
	if !ok {
		t.Fatal("no text screen in mode 3")
	}
	if ts.Cols != 80 || ts.Rows != 25 || ts.CharWidth != 9 || ts.CharHeight != 16 {
		t.Errorf("geometry %dx%d cell %dx%d", ts.Cols, ts.Rows, ts.CharWidth, ts.CharHeight)
	}
	if ts.Cells[0] != (TextCell{'A', 0x1f}) || ts.Cells[1] != (TextCell{'B', 0x2e}) {
		t.Errorf("cells %v %v", ts.Cells[0], ts.Cells[1])
	}
	if !ts.CursorVisible || ts.CursorRow != 1 || ts.CursorCol != 1 || ts.CursorStart != 14 || ts.CursorEnd != 15 {
		t.Errorf("cursor %+v", ts)
	}
	// Font access as the BIOS does it: planar, plane 2 only.
	r.seq(2, 0x04)
	r.seq(4, 0x07)
	r.gfx(5, 0x00)
	r.gfx(6, 0x04)
	r.wr(0xA0000+'A'*32+3, 0x7e)
	if r.plane(2, 'A'*32+3) != 0x7e {
		t.Errorf("font byte not in plane 2")
	}
}

func TestCRTCProtect(t *testing.T) {
	r := newVGARig(t)
	r.crtc(0x00, 0x5f)
	r.crtc(0x07, 0x00)
	r.crtc(0x11, 0x8e)
	r.crtc(0x00, 0x22)
	r.crtc(0x07, 0xff)
	r.crtc(0x0c, 0x12) // not protected
	if got := r.crtcRead(0); got != 0x5f {
		t.Errorf("protected CR0 = %#x, want 0x5f", got)
	}
	if got := r.crtcRead(7); got != 0x10 {
		t.Errorf("protected CR7 = %#x, want only bit 4 (0x10)", got)
	}
	if got := r.crtcRead(0x0c); got != 0x12 {
		t.Errorf("CR0C = %#x", got)
	}
	r.crtc(0x11, 0x0e)
	r.crtc(0x00, 0x22)
	if got := r.crtcRead(0); got != 0x22 {
		t.Errorf("unprotected CR0 = %#x", got)
	}
	// Mono addressing: 0x3D4 goes dead, 0x3B4 lives.
	r.outb(0x3C2, 0x66)
	r.outb(0x3B4, 0x0c)
	r.outb(0x3B5, 0x34)
	r.outb(0x3D4, 0x0c)
	r.outb(0x3D5, 0x56)
	if r.v.cr[0x0c] != 0x34 {
		t.Errorf("mono CRTC CR0C = %#x, want 0x34", r.v.cr[0x0c])
	}
	// Word writes reach index then data.
	r.outb(0x3C2, 0x67)
	r.outw(0x3D4, 0x770d)
	if r.v.cr[0x0d] != 0x77 {
		t.Errorf("word write CR0D = %#x", r.v.cr[0x0d])
	}
}

func TestRetraceToggles(t *testing.T) {
	r := newVGARig(t)
	a, b := r.inb(0x3DA), r.inb(0x3DA)
	if a&8 == b&8 || a&1 == b&1 {
		t.Errorf("input status 1 does not toggle: %#x %#x", a, b)
	}
}

func TestVGASaveLoad(t *testing.T) {
	r := newVGARig(t)
	r.setText80x25()
	r.wr(0xB8000, 'Z')
	r.outb(0x3C8, 3)
	r.outb(0x3C9, 1) // mid-cycle
	data, err := r.v.Save()
	if err != nil {
		t.Fatal(err)
	}
	w := NewVGA()
	if err := w.Load(data); err != nil {
		t.Fatal(err)
	}
	if w.vram[0] != 'Z' || w.gr != r.v.gr || w.cr != r.v.cr || w.dacSub != 1 || w.msr != 0x67 {
		t.Errorf("state not restored")
	}
	for _, bad := range [][]byte{nil, data[:10], data[:len(data)-1], append([]byte("XXXX"), data[4:]...)} {
		if err := w.Load(bad); err == nil {
			t.Errorf("Load accepted %d bad bytes", len(bad))
		}
	}
	bad := append([]byte(nil), data...)
	bad[4+4+1+8+1+16+1+21] = 7 // ARFlip
	if err := w.Load(bad); err == nil {
		t.Errorf("Load accepted an out-of-range flip-flop")
	}
}

// Guest-controlled register values must never panic.
func TestVGAFuzzPorts(t *testing.T) {
	r := newVGARig(t)
	x := uint32(1)
	for i := 0; i < 200000; i++ {
		x = x*1664525 + 1013904223
		port := uint16(0x3B0 + (x>>8)%0x30)
		if x&1 != 0 {
			r.outb(port, byte(x>>16))
		} else {
			r.inb(port)
		}
		if x&6 == 0 {
			off := uint64(x>>12) % 0x20000
			r.wr(0xA0000+off, byte(x))
			r.rd(0xA0000 + off)
		}
		if x&0x70 == 0 {
			r.ports.Out(0x1CE, 2, (x>>4)%12)
			r.ports.Out(0x1CF, 2, x>>16)
		}
	}
	r.v.Display()
	r.v.TextScreen()
}

func BenchmarkMode13hWrite(b *testing.B) {
	bus, _ := mem.New(2 << 20)
	v := NewVGA()
	ports := mem.NewPortBus()
	if err := v.Attach(ports, bus); err != nil {
		b.Fatal(err)
	}
	for _, sv := range [][2]byte{{2, 0x0f}, {4, 0x0e}} {
		ports.Out(0x3C4, 1, uint32(sv[0]))
		ports.Out(0x3C5, 1, uint32(sv[1]))
	}
	for _, gv := range [][2]byte{{5, 0x40}, {6, 0x05}, {8, 0xff}} {
		ports.Out(0x3CE, 1, uint32(gv[0]))
		ports.Out(0x3CF, 1, uint32(gv[1]))
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bus.Write(0xA0000+uint64(i%64000), 1, uint64(i))
	}
}
