package chipset

import (
	"testing"

	"fuji/mem"
)

// newPAMMachine builds RAM with ROM regions over 0xC0000-0xFFFFF (as the
// machine maps the BIOS and option ROM area) and an i440FX on a PCI bus.
func newPAMMachine(t *testing.T) (*mem.Bus, *mem.PortBus, *I440FX) {
	t.Helper()
	bus, err := mem.New(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	rom := make([]byte, 0x40000)
	for i := range rom {
		rom[i] = byte(i>>12) | 0x80 // 0x80 | 4 KiB page index
	}
	if err := bus.MapROM("bios", 0xC0000, rom); err != nil {
		t.Fatal(err)
	}
	ports := mem.NewPortBus()
	pci := NewPCIBus()
	pci.Register(ports)
	nb := NewI440FX(bus)
	if err := pci.Attach(0, 0, nb); err != nil {
		t.Fatal(err)
	}
	return bus, ports, nb
}

func romByte(addr uint64) uint64 { return uint64(byte((addr-0xC0000)>>12) | 0x80) }

func TestI440FXIdentity(t *testing.T) {
	_, ports, _ := newPAMMachine(t)
	read := func(reg uint8, size int) uint32 {
		ports.Out(0xCF8, 4, cfgAddr(0, 0, reg&^3))
		return ports.In(0xCFC+uint16(reg&3), size)
	}
	if got := read(0, 4); got != 0x12378086 {
		t.Errorf("ID = %#x", got)
	}
	if got := read(8, 4); got != 0x06000002 {
		t.Errorf("class/rev = %#x, want 0x06000002", got)
	}
	if read(0x2C, 2) != 0x1AF4 || read(0x2E, 2) != 0x1100 {
		t.Error("subsystem IDs are not QEMU's (SeaBIOS's QEMU detection needs them)")
	}
	if got := read(0x0E, 1); got != 0 {
		t.Errorf("header type = %#x", got)
	}
	if got := read(I440FXSMRAM, 1); got != 0x02 {
		t.Errorf("SMRAM default = %#x", got)
	}
	if got := read(0x57, 1); got != 0 { // 2 MiB of RAM in 8 MiB units
		t.Errorf("RAM size byte = %#x", got)
	}
}

func TestPAMShadowing(t *testing.T) {
	bus, ports, nb := newPAMMachine(t)
	writePAM := func(reg uint8, v uint8) {
		ports.Out(0xCF8, 4, cfgAddr(0, 0, reg&^3))
		ports.Out(0xCFC+uint16(reg&3), 1, uint32(v))
	}
	// Power-on: reads from ROM, writes dropped.
	bus.Write(0xF0000, 1, 0x11)
	if got := bus.Read(0xF0000, 1); got != romByte(0xF0000) {
		t.Fatalf("read at reset = %#x, want ROM %#x", got, romByte(0xF0000))
	}
	if bus.RAM()[0xF0000] != 0 {
		t.Fatal("write at reset reached RAM")
	}

	// SeaBIOS's make_bios_writable: dword writes at 0x58 and 0x5C.
	ports.Out(0xCF8, 4, cfgAddr(0, 0, 0x58))
	ports.Out(0xCFC, 4, 0x33333000)
	ports.Out(0xCF8, 4, cfgAddr(0, 0, 0x5C))
	ports.Out(0xCFC, 4, 0x33333333)
	if got := nb.Header().Byte(I440FXPAM0); got != 0x30 {
		t.Errorf("PAM0 = %#x", got)
	}
	for _, a := range []uint64{0xC0000, 0xC4000, 0xE8000, 0xEFFFF, 0xF0000, 0xFFFFF} {
		bus.Write(a, 1, 0x22)
		if got := bus.Read(a, 1); got != 0x22 {
			t.Errorf("RAM-mode read at %#x = %#x, want 0x22", a, got)
		}
	}

	// Write-only (WE): reads from ROM, writes to RAM (the BIOS copies
	// itself this way on some chipsets).
	writePAM(I440FXPAM0, 0x20)
	bus.Write(0xF1000, 1, 0x33)
	if got := bus.Read(0xF1000, 1); got != romByte(0xF1000) {
		t.Errorf("WE-only read = %#x, want ROM", got)
	}
	if bus.RAM()[0xF1000] != 0x33 {
		t.Error("WE-only write did not reach RAM")
	}
	// Read-only (RE): reads from RAM, writes dropped.
	writePAM(I440FXPAM0, 0x10)
	bus.Write(0xF1000, 1, 0x44)
	if got := bus.Read(0xF1000, 1); got != 0x33 {
		t.Errorf("RE-only read = %#x, want RAM 0x33", got)
	}

	// Nibble granularity: PAM1 low = 0xC0000-0xC3FFF, high = 0xC4000-0xC7FFF.
	writePAM(0x5A, 0x03)
	if got := bus.Read(0xC3FFF, 1); got != 0x00 {
		t.Errorf("0xC3FFF = %#x, want RAM (0)", got)
	}
	if got := bus.Read(0xC4000, 1); got != romByte(0xC4000) {
		t.Errorf("0xC4000 = %#x, want ROM", got)
	}
	writePAM(0x5F, 0x30) // PAM6 high: 0xEC000-0xEFFFF
	if got := bus.Read(0xEC000, 1); got != 0 || bus.Read(0xE8000, 1) != romByte(0xE8000) {
		t.Errorf("PAM6 split wrong: EC000=%#x E8000=%#x", got, bus.Read(0xE8000, 1))
	}
	if r, w, ok := nb.PAM(0xEC000); !ok || !r || !w {
		t.Errorf("PAM(0xEC000) = %v %v %v", r, w, ok)
	}

	// Reserved bits read as zero.
	writePAM(I440FXPAM0, 0xFF)
	writePAM(0x5A, 0xFF)
	if nb.Header().Byte(I440FXPAM0) != 0x30 || nb.Header().Byte(0x5A) != 0x33 {
		t.Errorf("reserved PAM bits writable: %#x %#x", nb.Header().Byte(I440FXPAM0), nb.Header().Byte(0x5A))
	}

	// Reset: all ROM again; RAM contents are kept underneath.
	nb.Reset()
	if got := bus.Read(0xF1000, 1); got != romByte(0xF1000) {
		t.Errorf("after reset read = %#x, want ROM", got)
	}
	bus.Write(0xF1000, 1, 0x55)
	if bus.RAM()[0xF1000] != 0x33 {
		t.Error("write after reset reached RAM")
	}
	if nb.Header().Byte(I440FXPAM0) != 0 {
		t.Error("PAM0 not cleared by reset")
	}

	// Snapshot: PAM state comes back onto the bus.
	writePAM(I440FXPAM0, 0x30)
	data, err := nb.Save()
	if err != nil {
		t.Fatal(err)
	}
	nb.Reset()
	if err := nb.Load(data); err != nil {
		t.Fatal(err)
	}
	if got := bus.Read(0xF1000, 1); got != 0x33 {
		t.Errorf("after Load read = %#x, want RAM 0x33", got)
	}
	if nb.Load(data[:3]) == nil {
		t.Error("truncated snapshot accepted")
	}
}

func TestSMRAM(t *testing.T) {
	_, _, nb := newPAMMachine(t)
	var opens []bool
	nb.OnSMRAMOpen = func(o bool) { opens = append(opens, o) }
	w := func(v uint8) uint8 {
		nb.ConfigWrite(I440FXSMRAM, 1, uint32(v))
		return nb.Header().Byte(I440FXSMRAM)
	}
	if got := w(0x48 | 0x07); got != 0x4A {
		t.Errorf("D_OPEN|G_SMRAME = %#x, want 0x4A (C_BASE_SEG fixed)", got)
	}
	if len(opens) != 1 || !opens[0] {
		t.Errorf("OnSMRAMOpen calls = %v", opens)
	}
	// Setting D_LCK clears D_OPEN.
	if got := w(0x5A); got != 0x1A {
		t.Errorf("lock = %#x, want 0x1A", got)
	}
	if len(opens) != 2 || opens[1] {
		t.Errorf("OnSMRAMOpen calls = %v", opens)
	}
	// Locked: D_OPEN, G_SMRAME, D_LCK frozen, D_CLS still writable.
	if got := w(0x40); got != 0x1A {
		t.Errorf("locked write = %#x, want 0x1A", got)
	}
	if got := w(0x20); got != 0x3A {
		t.Errorf("D_CLS while locked = %#x, want 0x3A", got)
	}
	// Dword write covering 0x70-0x73 is also subject to the lock.
	nb.ConfigWrite(0x70, 4, 0x00400000)
	if got := nb.Header().Byte(I440FXSMRAM); got != 0x1A {
		t.Errorf("dword write while locked = %#x", got)
	}
	nb.Reset()
	if got := nb.Header().Byte(I440FXSMRAM); got != 0x02 {
		t.Errorf("after reset = %#x", got)
	}
	if got := w(0x40); got != 0x42 {
		t.Errorf("unlocked after reset: %#x", got)
	}
}
