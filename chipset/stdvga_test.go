package chipset

import (
	"bytes"
	"os"
	"testing"

	"fuji/mem"
)

func newStdVGA(t *testing.T, rom []byte) (*StdVGA, *mem.Bus, *mem.PortBus) {
	t.Helper()
	bus, err := mem.New(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	ports := mem.NewPortBus()
	s, err := NewStdVGA(bus, ports, rom)
	if err != nil {
		t.Fatal(err)
	}
	return s, bus, ports
}

func fakeROM(n int) []byte {
	rom := make([]byte, n)
	for i := range rom {
		rom[i] = byte(i * 7)
	}
	rom[0], rom[1] = 0x55, 0xaa
	return rom
}

func TestStdVGAIdentity(t *testing.T) {
	s, _, _ := newStdVGA(t, nil)
	var f PCIFunction = s
	if got := f.ConfigRead(0, 4); got != 0x11111234 {
		t.Errorf("IDs = %#x", got)
	}
	if got := f.ConfigRead(0x08, 4); got != 0x03000002 {
		t.Errorf("class/revision = %#x", got)
	}
	if got := f.ConfigRead(0x2c, 4); got != 0x11001af4 {
		t.Errorf("subsystem = %#x", got)
	}
	if got := f.ConfigRead(0x02, 2); got != 0x1111 {
		t.Errorf("device ID word = %#x", got)
	}
	f.ConfigWrite(0, 4, 0)
	if got := f.ConfigRead(0, 4); got != 0x11111234 {
		t.Errorf("IDs writable: %#x", got)
	}
	if got := f.ConfigRead(0x30, 4); got != 0 {
		t.Errorf("ROM BAR without a ROM = %#x", got)
	}
}

func TestStdVGABARSizing(t *testing.T) {
	s, _, _ := newStdVGA(t, fakeROM(39936))
	s.ConfigWrite(0x10, 4, 0xffffffff)
	if got := s.ConfigRead(0x10, 4); got != 0xff000008 {
		t.Errorf("BAR0 sizing = %#x, want 0xff000008", got)
	}
	s.ConfigWrite(0x14, 4, 0xffffffff)
	if got := s.ConfigRead(0x14, 4); got != 0 {
		t.Errorf("BAR1 = %#x, want 0 (unimplemented)", got)
	}
	s.ConfigWrite(0x18, 4, 0xffffffff)
	if got := s.ConfigRead(0x18, 4); got != 0xfffff000 {
		t.Errorf("BAR2 sizing = %#x, want 0xfffff000", got)
	}
	// 39936 bytes round up to a 64 KiB ROM BAR.
	s.ConfigWrite(0x30, 4, 0xfffffffe)
	if got := s.ConfigRead(0x30, 4); got != 0xffff0000 {
		t.Errorf("ROM BAR sizing = %#x, want 0xffff0000", got)
	}
}

func TestStdVGABARMapping(t *testing.T) {
	s, bus, _ := newStdVGA(t, nil)
	s.ConfigWrite(0x10, 4, 0xe0000000)
	s.ConfigWrite(0x18, 4, 0xe1000000)
	if got := bus.Read(0xe0000000, 4); got != 0xffffffff {
		t.Errorf("LFB decoded with memory space disabled: %#x", got)
	}
	s.ConfigWrite(0x04, 2, 0x0003)
	off := uint64((20*800 + 10) * 4)
	bus.Write(0xe0000000+off, 4, 0x11223344)
	if got := binaryLE32(s.VGA.vram[off:]); got != 0x11223344 {
		t.Errorf("LFB write landed as %#x", got)
	}
	// The MMIO BAR: dispi ID at 0x500, a word write at 0x404 sets
	// sequencer index 2 and its data.
	if got := bus.Read(0xe1000500, 2); got != 0xB0C5 {
		t.Errorf("dispi ID via MMIO = %#x", got)
	}
	bus.Write(0xe1000502, 2, 1024) // XRES
	if s.VGA.vbeRegs[vbeIndexXRes] != 1024 {
		t.Errorf("XRES via MMIO = %d", s.VGA.vbeRegs[vbeIndexXRes])
	}
	bus.Write(0xe1000404, 2, 0x0702)
	if s.VGA.sr[2] != 0x07 {
		t.Errorf("SR2 via MMIO = %#x", s.VGA.sr[2])
	}
	if got := bus.Read(0xe1000405, 1); got != 0x07 {
		t.Errorf("SR data via MMIO read = %#x", got)
	}
	if got := bus.Read(0xe1000600, 4); got != 8 {
		t.Errorf("qext size = %d", got)
	}
	// Moving BAR0 unmaps the old window.
	s.ConfigWrite(0x10, 4, 0xd0000000)
	if got := bus.Read(0xe0000000+off, 4); got != 0xffffffff {
		t.Errorf("old LFB window still decodes: %#x", got)
	}
	if got := bus.Read(0xd0000000+off, 4); got != 0x11223344 {
		t.Errorf("moved LFB reads %#x", got)
	}
	// Sizing leaves the BAR all ones: it must not decode (nor collide).
	s.ConfigWrite(0x10, 4, 0xffffffff)
	if got := bus.Read(0xd0000000+off, 4); got != 0xffffffff {
		t.Errorf("LFB still decodes during sizing")
	}
	s.ConfigWrite(0x04, 2, 0)
	if got := bus.Read(0xe1000500, 2); got != 0xffff {
		t.Errorf("MMIO BAR decodes with memory space off: %#x", got)
	}
}

func binaryLE32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func TestStdVGAROMBAR(t *testing.T) {
	rom := fakeROM(39936)
	if b, err := os.ReadFile("/usr/share/seabios/vgabios-stdvga.bin"); err == nil {
		rom = b
	}
	s, bus, _ := newStdVGA(t, rom)
	s.ConfigWrite(0x04, 2, 0x0002)
	s.ConfigWrite(0x30, 4, 0xfebf0000) // address, not enabled
	if got := bus.Read(0xfebf0000, 2); got != 0xffff {
		t.Errorf("ROM decodes without its enable bit: %#x", got)
	}
	s.ConfigWrite(0x30, 4, 0xfebf0001)
	if got := s.ConfigRead(0x30, 4); got != 0xfebf0001 {
		t.Errorf("ROM BAR = %#x", got)
	}
	got := make([]byte, len(rom))
	bus.ReadBytes(0xfebf0000, got)
	if !bytes.Equal(got, rom) {
		t.Errorf("ROM contents differ")
	}
	if v := bus.Read(0xfebf0000, 2); v != 0xaa55 {
		t.Errorf("ROM signature %#x", v)
	}
	if v := bus.Read(0xfebf0000+uint64(len(rom)), 1); v != 0 {
		t.Errorf("ROM padding reads %#x, want 0", v)
	}
	bus.Write(0xfebf0000, 1, 0)
	if v := bus.Read(0xfebf0000, 1); v != 0x55 {
		t.Errorf("ROM writable")
	}
}

func TestStdVGASaveLoadReset(t *testing.T) {
	s, bus, _ := newStdVGA(t, fakeROM(4096))
	s.ConfigWrite(0x10, 4, 0xe0000000)
	s.ConfigWrite(0x04, 2, 0x0003)
	bus.Write(0xe0000100, 1, 0x42)
	data, err := s.Save()
	if err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if got := bus.Read(0xe0000100, 1); got != 0xff {
		t.Errorf("LFB decodes after reset")
	}
	if err := s.Load(data); err != nil {
		t.Fatal(err)
	}
	if got := bus.Read(0xe0000100, 1); got != 0x42 {
		t.Errorf("LFB after load reads %#x", got)
	}
	for _, bad := range [][]byte{nil, data[:100], data[:len(data)-3]} {
		if err := s.Load(bad); err == nil {
			t.Errorf("Load accepted %d bytes", len(bad))
		}
	}
	// Read-only config bits come from the device, not the data.
	bad := append([]byte(nil), data...)
	bad[4] = 0x99
	if err := s.Load(bad); err != nil {
		t.Fatal(err)
	}
	if got := s.ConfigRead(0, 2); got != 0x1234 {
		t.Errorf("vendor after load = %#x", got)
	}
}
