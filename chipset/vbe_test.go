package chipset

import "testing"

func (r *vgaRig) vbeWrite(i, v uint16) { r.outw(0x1CE, i); r.outw(0x1CF, v) }
func (r *vgaRig) vbeRead(i uint16) uint16 {
	r.outw(0x1CE, i)
	return uint16(r.ports.In(0x1CF, 2))
}

func TestVBEIdentity(t *testing.T) {
	r := newVGARig(t)
	if got := r.vbeRead(0); got != 0xB0C5 {
		t.Errorf("ID = %#x, want 0xB0C5", got)
	}
	r.vbeWrite(0, 0xB0C2)
	if got := r.vbeRead(0); got != 0xB0C2 {
		t.Errorf("ID after selecting B0C2 = %#x", got)
	}
	r.vbeWrite(0, 0x1234)
	if got := r.vbeRead(0); got != 0xB0C2 {
		t.Errorf("invalid ID accepted: %#x", got)
	}
	if got := r.vbeRead(0xa); got != 256 {
		t.Errorf("video memory = %d x 64K, want 256", got)
	}
	r.vbeWrite(4, VBEGetCaps)
	if x, y, b := r.vbeRead(1), r.vbeRead(2), r.vbeRead(3); x != 16000 || y != 12000 || b != 32 {
		t.Errorf("caps %d x %d x %d", x, y, b)
	}
	r.vbeWrite(4, 0)
	// 0x1D0 is a data port too.
	r.outw(0x1CE, 1)
	r.outw(0x1D0, 640)
	if got := r.vbeRead(1); got != 640 {
		t.Errorf("XRES via 0x1D0 = %d", got)
	}
}

func TestVBEMode800x600x32(t *testing.T) {
	r := newVGARig(t)
	r.v.vram[0] = 0xee
	r.vbeWrite(4, 0)
	r.vbeWrite(1, 800)
	r.vbeWrite(2, 600)
	r.vbeWrite(3, 32)
	r.vbeWrite(4, VBEEnabled|VBELFBEnabled)
	if r.v.vram[0] != 0 {
		t.Errorf("enable without NOCLEARMEM did not clear the screen")
	}
	if got := r.vbeRead(6); got != 800 {
		t.Errorf("VIRT_WIDTH = %d, want 800", got)
	}
	if got := r.vbeRead(7); got != 16<<20/3200 {
		t.Errorf("VIRT_HEIGHT = %d, want %d", got, 16<<20/3200)
	}
	r.inb(0x3DA)
	r.outb(0x3C0, 0x20)
	d := r.v.Display()
	if d.Mode != DisplayLinear || d.Width != 800 || d.Height != 600 || d.BPP != 32 || d.Stride != 3200 || d.StartByte != 0 {
		t.Errorf("view %v %dx%dx%d stride %d start %d", d.Mode, d.Width, d.Height, d.BPP, d.Stride, d.StartByte)
	}
	// Pixel (10, 20) through the LFB lands at (20*800+10)*4.
	off := uint64((20*800 + 10) * 4)
	r.v.LFB().WriteMMIO(off, 4, 0x00ff8040)
	if got := [4]byte(r.v.vram[off : off+4]); got != [4]byte{0x40, 0x80, 0xff, 0x00} {
		t.Errorf("LFB pixel bytes %v", got)
	}
	if got := r.v.LFB().ReadMMIO(off, 4); got != 0x00ff8040 {
		t.Errorf("LFB read %#x", got)
	}
	// The banked window at A0000 sees the same memory: bank 1 = 64 KiB.
	r.vbeWrite(5, 1)
	r.wr(0xA0010, 0x5a)
	if r.v.vram[0x10010] != 0x5a {
		t.Errorf("banked write not at 0x10010")
	}
	r.vbeWrite(5, 0)
	if got := r.rd(0xA0000 + off); got != 0x40 {
		t.Errorf("banked read = %#x, want 0x40", got)
	}
	// Panning moves the start.
	r.vbeWrite(9, 2)
	r.vbeWrite(8, 4)
	if d := r.v.Display(); d.StartByte != 2*3200+16 {
		t.Errorf("start byte after panning = %d", d.StartByte)
	}
	// Re-enabling with NOCLEARMEM keeps memory; disabling returns to VGA.
	r.vbeWrite(4, 0)
	r.vbeWrite(4, VBEEnabled|VBENoClearMem)
	if r.v.vram[off] != 0x40 {
		t.Errorf("NOCLEARMEM enable cleared memory")
	}
	r.vbeWrite(4, 0)
	if r.v.Display().Mode == DisplayLinear {
		t.Errorf("still linear after disable")
	}
}

func TestVBEClamps(t *testing.T) {
	r := newVGARig(t)
	r.vbeWrite(4, VBEEnabled|VBENoClearMem)
	r.vbeWrite(3, 7)
	if got := r.vbeRead(3); got != 8 {
		t.Errorf("BPP 7 became %d, want 8", got)
	}
	r.vbeWrite(1, 0)
	if got := r.vbeRead(1); got != 8 {
		t.Errorf("XRES 0 became %d, want 8", got)
	}
	r.vbeWrite(1, 0xffff)
	if got := r.vbeRead(1); got != 16000 {
		t.Errorf("XRES max = %d", got)
	}
	r.vbeWrite(3, 32)
	r.vbeWrite(2, 12000) // 16000*4*12000 does not fit in 16 MiB
	if got := r.vbeRead(2); got != 16<<20/64000 {
		t.Errorf("YRES = %d, want %d", got, 16<<20/64000)
	}
	r.vbeWrite(5, 0xffff)
	if got := r.vbeRead(5); got != 255 {
		t.Errorf("bank = %d, want 255", got)
	}
	r.outw(0x1CE, 0x7777)
	r.outw(0x1CF, 1)
	if got := r.vbeRead(0x7777); got != 0 {
		t.Errorf("unknown index reads %d", got)
	}
	// 8-bit DAC holds whole bytes.
	r.vbeWrite(4, VBEEnabled|VBENoClearMem|VBE8BitDAC)
	r.outb(0x3C8, 1)
	r.outb(0x3C9, 0xff)
	r.outb(0x3C9, 0x80)
	r.outb(0x3C9, 0x01)
	if p := r.v.Display().Palette[1]; p != [3]uint8{0xff, 0x80, 0x01} {
		t.Errorf("8-bit DAC entry %v", p)
	}
}
