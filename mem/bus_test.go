package mem

import (
	"testing"
)

type fakeMMIO struct {
	reads, writes int
	last          uint64
	lastOff       uint64
	lastSize      int
}

func (f *fakeMMIO) ReadMMIO(off uint64, size int) uint64 {
	f.reads++
	f.lastOff, f.lastSize = off, size
	return 0x1122334455667788
}

func (f *fakeMMIO) WriteMMIO(off uint64, size int, v uint64) {
	f.writes++
	f.lastOff, f.lastSize, f.last = off, size, v
}

func newBus(t *testing.T) *Bus {
	t.Helper()
	b, err := New(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRAMReadWriteSizes(t *testing.T) {
	b := newBus(t)
	b.Write(0x1000, 8, 0x0102030405060708)
	if got := b.Read(0x1000, 1); got != 0x08 {
		t.Errorf("byte = %#x", got)
	}
	if got := b.Read(0x1001, 2); got != 0x0607 {
		t.Errorf("word = %#x", got)
	}
	if got := b.Read(0x1004, 4); got != 0x01020304 {
		t.Errorf("dword = %#x", got)
	}
	// Across a page boundary.
	b.Write(0x1ffe, 4, 0xaabbccdd)
	if got := b.Read(0x1ffe, 4); got != 0xaabbccdd {
		t.Errorf("cross-page = %#x", got)
	}
}

func TestUnmappedReadsAllOnes(t *testing.T) {
	b := newBus(t)
	if got := b.Read(0x4000_0000, 4); got != 0xffffffff {
		t.Errorf("unmapped dword = %#x", got)
	}
	b.Write(0x4000_0000, 4, 0) // dropped, must not panic
	if got := b.Read(0x4000_0000, 1); got != 0xff {
		t.Errorf("unmapped byte after write = %#x", got)
	}
}

func TestROMDropsWrites(t *testing.T) {
	b := newBus(t)
	if err := b.MapROM("bios", 0xf0000, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	b.Write(0xf0000, 2, 0xffff)
	if got := b.Read(0xf0000, 4); got != 0x04030201 {
		t.Errorf("ROM = %#x", got)
	}
	if b.HostPage(0xf0000) != nil {
		t.Error("a ROM page must not be handed out as plain RAM")
	}
	if err := b.MapROM("overlap", 0xf0002, []byte{9}); err == nil {
		t.Error("overlapping region accepted")
	}
}

func TestShadowing(t *testing.T) {
	b := newBus(t)
	rom := make([]byte, 0x10000)
	rom[0] = 0xea
	if err := b.MapROM("bios", 0xf0000, rom); err != nil {
		t.Fatal(err)
	}
	// Write-enable only: reads from ROM, writes to RAM (copy to shadow).
	b.SetShadow(0xf0000, 0x10000, false, true)
	b.Write(0xf0000, 1, 0x90)
	if got := b.Read(0xf0000, 1); got != 0xea {
		t.Errorf("read with write-only shadow = %#x, want ROM", got)
	}
	b.SetShadow(0xf0000, 0x10000, true, false)
	if got := b.Read(0xf0000, 1); got != 0x90 {
		t.Errorf("read with read shadow = %#x, want RAM copy", got)
	}
	b.Write(0xf0000, 1, 0x55)
	if got := b.Read(0xf0000, 1); got != 0x90 {
		t.Errorf("write-protected shadow changed: %#x", got)
	}
	// A split: shadow only the upper 32 KiB.
	b.SetShadow(0xf0000, 0x10000, false, false)
	b.SetShadow(0xf8000, 0x8000, true, true)
	if got := b.Read(0xf0000, 1); got != 0xea {
		t.Errorf("lower half = %#x, want ROM", got)
	}
	b.Write(0xf8000, 1, 0x77)
	if got := b.Read(0xf8000, 1); got != 0x77 {
		t.Errorf("upper half = %#x, want RAM", got)
	}
}

func TestMMIO(t *testing.T) {
	b := newBus(t)
	f := &fakeMMIO{}
	if err := b.MapMMIO("dev", 0xfee00000, 0x1000, f); err != nil {
		t.Fatal(err)
	}
	if got := b.Read(0xfee00010, 4); got != 0x55667788 {
		t.Errorf("MMIO read = %#x", got)
	}
	if f.lastOff != 0x10 || f.lastSize != 4 {
		t.Errorf("MMIO saw off %#x size %d", f.lastOff, f.lastSize)
	}
	b.Write(0xfee00020, 2, 0x1234)
	if f.writes != 1 || f.last != 0x1234 || f.lastOff != 0x20 {
		t.Errorf("MMIO write: %+v", f)
	}
	b.Unmap(0xfee00000)
	if got := b.Read(0xfee00010, 4); got != 0xffffffff {
		t.Errorf("after unmap = %#x", got)
	}
}

func TestA20(t *testing.T) {
	b := newBus(t)
	b.Write(0x100000, 1, 0xaa)
	b.Write(0x000000, 1, 0x55)
	gen := b.Generation
	b.SetA20(false)
	if b.Generation == gen {
		t.Error("A20 change must bump Generation")
	}
	if got := b.Read(0x100000, 1); got != 0x55 {
		t.Errorf("A20 off: 1 MiB reads %#x, want the wrapped 0x55", got)
	}
	b.SetA20(true)
	if got := b.Read(0x100000, 1); got != 0xaa {
		t.Errorf("A20 on: %#x", got)
	}
}

func TestCodePageHookAndDirtyLog(t *testing.T) {
	b := newBus(t)
	var hit []uint64
	b.SetCodeWriteHook(func(a uint64, n int) { hit = append(hit, a, uint64(n)) })
	b.MarkCodePage(3)
	b.Write(3<<12+5, 1, 1)
	if len(hit) != 2 || hit[0] != 3<<12+5 || hit[1] != 1 {
		t.Fatalf("code hook calls = %v", hit)
	}
	// A write straddling into the code page reports only its part there.
	hit = nil
	b.Write(3<<12-2, 4, 0)
	covered := map[uint64]bool{}
	for i := 0; i < len(hit); i += 2 {
		for a := hit[i]; a < hit[i]+hit[i+1]; a++ {
			covered[a] = true
		}
	}
	if len(covered) != 2 || !covered[3<<12] || !covered[3<<12+1] {
		t.Fatalf("straddling write: hook calls = %v, want exactly bytes 0x3000-0x3001", hit)
	}
	hit = hit[:0]
	b.Write(4<<12, 1, 1)
	if len(hit) != 0 {
		t.Fatalf("hook called for a non-code page: %v", hit)
	}
	b.StartDirtyLog()
	b.Write(7<<12, 4, 1)
	b.Write(9<<12-2, 4, 1) // straddles pages 8 and 9
	got := b.TakeDirty()
	want := []uint64{7, 8, 9}
	if len(got) != len(want) {
		t.Fatalf("dirty = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("dirty = %v, want %v", got, want)
		}
	}
	if d := b.TakeDirty(); len(d) != 0 {
		t.Fatalf("dirty log not cleared: %v", d)
	}
}

type fakePort struct {
	in  func(port uint16, size int) uint32
	out []string
}

func (f *fakePort) In(port uint16, size int) uint32 { return f.in(port, size) }
func (f *fakePort) Out(port uint16, size int, v uint32) {
	f.out = append(f.out, string(rune('0'+size)))
}

func TestPortBus(t *testing.T) {
	p := NewPortBus()
	if got := p.In(0x1234, 2); got != 0xffff {
		t.Errorf("unclaimed word = %#x", got)
	}
	a := &fakePort{in: func(port uint16, size int) uint32 { return uint32(port & 0xff) }}
	p.Register(0x60, 0x60, a)
	// A word access to a one-port device is split into bytes; the second
	// byte comes from the unclaimed port 0x61 (all ones).
	if got := p.In(0x60, 2); got != 0xff60 {
		t.Errorf("split word = %#x", got)
	}
	p.Register(0x70, 0x73, a)
	if got := p.In(0x70, 4); got != 0x70 {
		t.Errorf("whole dword to a 4-port device = %#x", got)
	}
	p.Out(0x70, 4, 1)
	if len(a.out) != 1 || a.out[0] != "4" {
		t.Errorf("dword out = %v", a.out)
	}
}
