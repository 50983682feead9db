package chipset

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"fuji/mem"
)

// Test helpers shared by the PCI/firmware tests (names prefixed to keep
// clear of other devices' tests in this package).

// pfLine records the level an IRQ line was last driven to.
type pfLine struct {
	level bool
	sets  int
}

func (l *pfLine) Set(v bool) { l.level = v; l.sets++ }

// pfClock is a settable virtual clock.
type pfClock struct{ now int64 }

func (c *pfClock) Now() int64 { return c.now }

// pfPorts is a port handler remembering the last access.
type pfPorts struct {
	lastPort uint16
	lastVal  uint32
	outs     int
	inVal    uint32
}

func (p *pfPorts) In(port uint16, size int) uint32 { p.lastPort = port; return p.inVal }
func (p *pfPorts) Out(port uint16, size int, val uint32) {
	p.lastPort, p.lastVal = port, val
	p.outs++
}

// pfMMIO is an MMIO handler returning base-relative offsets.
type pfMMIO struct{ writes int }

func (m *pfMMIO) ReadMMIO(off uint64, size int) uint64     { return 0xA000 + off }
func (m *pfMMIO) WriteMMIO(off uint64, size int, v uint64) { m.writes++ }

func cfgAddr(dev, fn int, reg uint8) uint32 {
	return 0x80000000 | uint32(dev)<<11 | uint32(fn)<<8 | uint32(reg)
}

func newTestHeader(ports *mem.PortBus, bus *mem.Bus) *PCIHeader {
	return NewPCIHeader(PCIIdent{
		Vendor: 0x1234, Device: 0x5678, Revision: 0x07, Class: 0x030000,
		SubVendor: 0x1AF4, Subsystem: 0x1100, IntPin: 1,
	}, ports, bus)
}

func TestConfigMechanism1(t *testing.T) {
	ports := mem.NewPortBus()
	pci := NewPCIBus()
	pci.Register(ports)
	h := newTestHeader(ports, nil)
	if err := pci.Attach(3, 0, h); err != nil {
		t.Fatal(err)
	}
	if err := pci.Attach(3, 0, h); err == nil {
		t.Error("attaching twice to one slot succeeded")
	}
	if err := pci.Attach(32, 0, h); err == nil {
		t.Error("attaching to device 32 succeeded")
	}

	ports.Out(0xCF8, 4, cfgAddr(3, 0, 0))
	if got := ports.In(0xCF8, 4); got != cfgAddr(3, 0, 0) {
		t.Errorf("CONFIG_ADDRESS = %#x", got)
	}
	if got := ports.In(0xCFC, 4); got != 0x56781234 {
		t.Errorf("dword ID = %#x, want 0x56781234", got)
	}
	if got := ports.In(0xCFE, 2); got != 0x5678 {
		t.Errorf("word at 0xCFE = %#x, want device ID 0x5678", got)
	}
	if got := ports.In(0xCFD, 1); got != 0x12 {
		t.Errorf("byte at 0xCFD = %#x, want 0x12", got)
	}
	// Register 0x08: revision 07, class 030000.
	ports.Out(0xCF8, 4, cfgAddr(3, 0, 0x08))
	if got := ports.In(0xCFC, 4); got != 0x03000007 {
		t.Errorf("class/rev = %#x", got)
	}
	// Subsystem IDs at 0x2C.
	ports.Out(0xCF8, 4, cfgAddr(3, 0, 0x2C))
	if got := ports.In(0xCFC, 4); got != 0x11001AF4 {
		t.Errorf("subsystem = %#x", got)
	}

	// Interrupt line (0x3C) is R/W, interrupt pin (0x3D) read-only.
	ports.Out(0xCF8, 4, cfgAddr(3, 0, 0x3C))
	ports.Out(0xCFC, 2, 0x040B)
	if got := ports.In(0xCFC, 2); got != 0x010B {
		t.Errorf("int line/pin = %#x, want 0x010B", got)
	}
	ports.Out(0xCFD, 1, 0x03)
	if got := ports.In(0xCFD, 1); got != 0x01 {
		t.Errorf("int pin after byte write = %#x, want 1", got)
	}

	// Reserved CONFIG_ADDRESS bits read as zero.
	ports.Out(0xCF8, 4, 0xFFFFFFFF)
	if got := ports.In(0xCF8, 4); got != 0x80FFFFFC {
		t.Errorf("CONFIG_ADDRESS after all-ones = %#x, want 0x80FFFFFC", got)
	}
	// Byte and word accesses do not touch CONFIG_ADDRESS.
	ports.Out(0xCF8, 4, cfgAddr(3, 0, 0))
	ports.Out(0xCF8, 1, 0x55)
	ports.Out(0xCFA, 2, 0x1234)
	if got := ports.In(0xCF8, 4); got != cfgAddr(3, 0, 0) {
		t.Errorf("CONFIG_ADDRESS changed by byte/word writes: %#x", got)
	}
	if got := ports.In(0xCF8, 1); got != 0xFF {
		t.Errorf("byte read of 0xCF8 = %#x, want 0xFF", got)
	}

	// Absent functions, other buses and a clear enable bit read all ones.
	for _, a := range []uint32{cfgAddr(4, 0, 0), cfgAddr(3, 1, 0), cfgAddr(3, 0, 0) | 1<<16, cfgAddr(3, 0, 0) &^ 0x80000000} {
		ports.Out(0xCF8, 4, a)
		if got := ports.In(0xCFC, 4); got != 0xFFFFFFFF {
			t.Errorf("read at %#x = %#x, want all ones", a, got)
		}
		if got := ports.In(0xCFE, 2); got != 0xFFFF {
			t.Errorf("word read at %#x = %#x, want all ones", a, got)
		}
		ports.Out(0xCFC, 4, 0) // must be dropped
	}
	if got := pci.ConfigRead(3, 0, 0, 4); got != 0x56781234 {
		t.Errorf("ID after stray writes = %#x", got)
	}
}

func TestStatusRW1CAndCommandMask(t *testing.T) {
	h := newTestHeader(nil, nil)
	h.Init(PCIStatus, []byte{0x00, 0xF9}) // all error bits set
	h.ConfigWrite(PCICommand, 4, 0x10000000|0xFFFF)
	if got := h.ConfigRead(PCICommand, 2); got != pciCmdDefaultW {
		t.Errorf("command = %#x, want %#x (only writable bits)", got, pciCmdDefaultW)
	}
	if got := h.ConfigRead(PCIStatus, 2); got != 0xE900 {
		t.Errorf("status = %#x, want 0xE900 (bit 12 cleared)", got)
	}
	h.ConfigWrite(PCIStatus, 2, 0xFFFF)
	if got := h.ConfigRead(PCIStatus, 2); got != 0 {
		t.Errorf("status after clearing = %#x", got)
	}
	// Vendor and class are read-only.
	h.ConfigWrite(0, 4, 0)
	h.ConfigWrite(8, 4, 0)
	if h.ConfigRead(0, 4) != 0x56781234 || h.ConfigRead(8, 4) != 0x03000007 {
		t.Error("read-only identity changed")
	}
}

func TestCF9PassThrough(t *testing.T) {
	ports := mem.NewPortBus()
	pci := NewPCIBus()
	pci.Register(ports)
	rc := &pfPorts{inVal: 0x02}
	pci.SetCF9(rc)
	ports.Out(0xCF9, 1, 0x06)
	if rc.outs != 1 || rc.lastVal != 0x06 {
		t.Errorf("byte write to 0xCF9 not forwarded: %+v", rc)
	}
	if got := ports.In(0xCF9, 1); got != 0x02 {
		t.Errorf("byte read of 0xCF9 = %#x", got)
	}
	ports.Out(0xCF8, 4, 0x80000000)
	if rc.outs != 1 {
		t.Error("dword CONFIG_ADDRESS write reached 0xCF9")
	}
	if got := ports.In(0xCF8, 4); got != 0x80000000 {
		t.Errorf("CONFIG_ADDRESS = %#x", got)
	}
}

func TestBARSizing(t *testing.T) {
	h := newTestHeader(nil, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.SetBAR(0, BARSpec{Kind: BARIO, Size: 32}))
	must(h.SetBAR(1, BARSpec{Kind: BARMem32, Size: 4096, Prefetch: true}))
	must(h.SetBAR(2, BARSpec{Kind: BARMem64, Size: 1 << 20}))
	must(h.SetBAR(5, BARSpec{Kind: BARIO, Size: 16, IO16: true}))
	must(h.SetROM(make([]byte, 40000)))
	if h.SetBAR(3, BARSpec{Kind: BARIO, Size: 4}) == nil {
		t.Error("BAR 3 free although it is BAR 2's upper half")
	}
	if h.SetBAR(4, BARSpec{Kind: BARMem32, Size: 3000}) == nil {
		t.Error("non-power-of-two size accepted")
	}

	// Before sizing: type bits only.
	want0 := []uint32{0x1, 0x8, 0x4, 0x0, 0x0, 0x1}
	for i, w := range want0 {
		if got := h.ConfigRead(PCIBAR0+4*uint8(i), 4); got != w {
			t.Errorf("BAR%d initial = %#x, want %#x", i, got, w)
		}
	}
	for i := 0; i < 6; i++ {
		h.ConfigWrite(PCIBAR0+4*uint8(i), 4, 0xFFFFFFFF)
	}
	h.ConfigWrite(PCIROMAddress, 4, 0xFFFFF800)
	want := []uint32{0xFFFFFFE1, 0xFFFFF008, 0xFFF00004, 0xFFFFFFFF, 0x0, 0x0000FFF1}
	for i, w := range want {
		if got := h.ConfigRead(PCIBAR0+4*uint8(i), 4); got != w {
			t.Errorf("BAR%d sized = %#x, want %#x", i, got, w)
		}
	}
	if got := h.ConfigRead(PCIROMAddress, 4); got != 0xFFFF0000 {
		t.Errorf("ROM BAR sized = %#x, want 0xFFFF0000 (64 KiB)", got)
	}
	h.ConfigWrite(PCIROMAddress, 4, 0xFFFFFFFF)
	if got := h.ConfigRead(PCIROMAddress, 4); got != 0xFFFF0001 {
		t.Errorf("ROM BAR with enable = %#x", got)
	}
	// A 64-bit BAR larger than 4 GiB has a partly read-only upper half.
	h2 := newTestHeader(nil, nil)
	must(h2.SetBAR(0, BARSpec{Kind: BARMem64, Size: 1 << 33, Prefetch: true}))
	h2.ConfigWrite(PCIBAR0, 4, 0xFFFFFFFF)
	h2.ConfigWrite(PCIBAR0+4, 4, 0xFFFFFFFF)
	if lo, hi := h2.ConfigRead(PCIBAR0, 4), h2.ConfigRead(PCIBAR0+4, 4); lo != 0x0000000C || hi != 0xFFFFFFFE {
		t.Errorf("8 GiB BAR sized = %#x:%#x", hi, lo)
	}
}

func TestBARMapping(t *testing.T) {
	ports := mem.NewPortBus()
	bus, err := mem.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHeader(ports, bus)
	io := &pfPorts{inVal: 0x5A}
	mm := &pfMMIO{}
	if err := h.SetBAR(0, BARSpec{Kind: BARIO, Size: 16, IO: io}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetBAR(1, BARSpec{Kind: BARMem32, Size: 4096, MMIO: mm}); err != nil {
		t.Fatal(err)
	}
	rom := []byte{0x55, 0xAA, 0x10, 0x42}
	if err := h.SetROM(rom); err != nil {
		t.Fatal(err)
	}
	changes := 0
	h.OnChange = func() { changes++ }

	h.ConfigWrite(PCIBAR0, 4, 0xC000)
	h.ConfigWrite(PCIBAR0+4, 4, 0xFEB00000)
	h.ConfigWrite(PCIROMAddress, 4, 0xFEC00001)
	if ports.Handler(0xC000) != nil {
		t.Error("I/O BAR decodes with I/O space disabled")
	}
	if got := bus.Read(0xFEB00010, 4); got != 0xFFFFFFFF {
		t.Errorf("MMIO BAR decodes with memory space disabled: %#x", got)
	}
	h.ConfigWrite(PCICommand, 2, PCICmdIO|PCICmdMemory)
	if ports.Handler(0xC000) != io || ports.Handler(0xC00F) != io || ports.Handler(0xC010) != nil {
		t.Error("I/O BAR not mapped at 0xC000-0xC00F")
	}
	if got := ports.In(0xC004, 1); got != 0x5A {
		t.Errorf("I/O BAR read = %#x", got)
	}
	if got := bus.Read(0xFEB00010, 4); got != 0xA010 {
		t.Errorf("MMIO BAR read = %#x, want 0xA010", got)
	}
	if got := bus.Read(0xFEC00000, 4); got != 0x4210AA55 {
		t.Errorf("ROM BAR read = %#x", got)
	}
	if base, ok := h.BARAddr(0); !ok || base != 0xC000 {
		t.Errorf("BARAddr(0) = %#x, %v", base, ok)
	}

	// Move the BARs.
	h.ConfigWrite(PCIBAR0, 4, 0xD001)
	h.ConfigWrite(PCIBAR0+4, 4, 0xFEA00000)
	if ports.Handler(0xC000) != nil || ports.Handler(0xD000) != io {
		t.Error("I/O BAR did not move to 0xD000")
	}
	if got := bus.Read(0xFEB00010, 4); got != 0xFFFFFFFF {
		t.Errorf("old MMIO address still decodes: %#x", got)
	}
	if got := bus.Read(0xFEA00020, 4); got != 0xA020 {
		t.Errorf("moved MMIO BAR read = %#x", got)
	}
	// ROM enable off.
	h.ConfigWrite(PCIROMAddress, 4, 0xFEC00000)
	if got := bus.Read(0xFEC00000, 4); got != 0xFFFFFFFF {
		t.Errorf("disabled ROM still decodes: %#x", got)
	}
	// Decoding off unmaps everything.
	h.ConfigWrite(PCICommand, 2, 0)
	if ports.Handler(0xD000) != nil || bus.Read(0xFEA00020, 4) != 0xFFFFFFFF {
		t.Error("BARs still decode after the command register cleared")
	}
	if changes == 0 {
		t.Error("OnChange never called")
	}

	// A BAR over ports someone else owns does not steal them.
	other := &pfPorts{}
	ports.Register(0xE000, 0xE00F, other)
	h.ConfigWrite(PCIBAR0, 4, 0xE000)
	h.ConfigWrite(PCICommand, 2, PCICmdIO)
	if ports.Handler(0xE000) != other {
		t.Error("I/O BAR stole another device's ports")
	}
	h.ConfigWrite(PCICommand, 2, 0)
	if ports.Handler(0xE000) != other {
		t.Error("disabling a conflicting BAR unregistered another device's ports")
	}
	// Sizing with decode on puts the BAR out of range: no mapping.
	h.ConfigWrite(PCICommand, 2, PCICmdIO|PCICmdMemory)
	h.ConfigWrite(PCIBAR0, 4, 0xFFFFFFFF)
	h.ConfigWrite(PCIBAR0+4, 4, 0xFFFFFFFF)
	if _, ok := h.BARAddr(0); ok {
		t.Error("I/O BAR above 64 KiB decodes")
	}
	// Reset unmaps.
	h.ConfigWrite(PCIBAR0+4, 4, 0xFEA00000)
	h.Reset()
	if bus.Read(0xFEA00020, 4) != 0xFFFFFFFF || h.ConfigRead(PCIBAR0+4, 4) != 0 {
		t.Error("Reset left the MMIO BAR mapped")
	}
}

func TestINTx(t *testing.T) {
	h := newTestHeader(nil, nil)
	l := &pfLine{}
	h.SetIRQLine(l)
	h.SetINTx(true)
	if !l.level || h.ConfigRead(PCIStatus, 2)&PCIStatusIntx == 0 {
		t.Error("INTx assert not seen on the line and in status")
	}
	h.ConfigWrite(PCICommand, 2, PCICmdIntxDis)
	if l.level {
		t.Error("Interrupt Disable did not mask the line")
	}
	if h.ConfigRead(PCIStatus, 2)&PCIStatusIntx == 0 {
		t.Error("status interrupt bit must follow the request even when disabled")
	}
	h.ConfigWrite(PCICommand, 2, 0)
	if !l.level {
		t.Error("line not re-asserted when Interrupt Disable cleared")
	}
	h.SetINTx(false)
	if l.level || h.ConfigRead(PCIStatus, 2)&PCIStatusIntx != 0 {
		t.Error("deassert not seen")
	}
}

func TestCapabilities(t *testing.T) {
	h := newTestHeader(nil, nil)
	if err := h.AddCapability(0x40, 0x05, []byte{1, 2}, []byte{0xFF, 0}); err != nil {
		t.Fatal(err)
	}
	if err := h.AddCapability(0x50, 0x09, []byte{3}, nil); err != nil {
		t.Fatal(err)
	}
	if h.ConfigRead(PCIStatus, 2)&PCIStatusCaps == 0 || h.ConfigRead(PCICapPtr, 1) != 0x50 {
		t.Fatal("capability list head wrong")
	}
	if h.ConfigRead(0x50, 2) != 0x4009 || h.ConfigRead(0x40, 2) != 0x0005 {
		t.Errorf("capability chain: %#x %#x", h.ConfigRead(0x50, 2), h.ConfigRead(0x40, 2))
	}
	h.ConfigWrite(0x42, 2, 0xFFFF)
	if h.ConfigRead(0x42, 2) != 0x02FF {
		t.Errorf("capability body mask: %#x", h.ConfigRead(0x42, 2))
	}
}

func TestEnumerate(t *testing.T) {
	bus, _ := mem.New(1 << 20)
	ports := mem.NewPortBus()
	pci := NewPCIBus()
	_ = pci.Attach(0, 0, NewI440FX(bus))
	p := NewPIIX3(nil, nil)
	_ = p.Attach(pci)
	_ = pci.Attach(1, 1, NewPIIXIDE(ports))
	_ = pci.Attach(1, 3, NewACPIPM(ports, &pfClock{}, nil, nil))
	_ = pci.Attach(5, 1, newTestHeader(nil, nil)) // fn 1 of a single-function slot: not probed
	got := pci.Enumerate()
	want := []struct {
		dev, fn int
		id      uint16
	}{{0, 0, 0x1237}, {1, 0, 0x7000}, {1, 1, 0x7010}, {1, 3, 0x7113}}
	if len(got) != len(want) {
		t.Fatalf("Enumerate = %+v", got)
	}
	for i, w := range want {
		if got[i].Dev != w.dev || got[i].Fn != w.fn || got[i].Device != w.id || got[i].Vendor != 0x8086 {
			t.Errorf("slot %d = %+v, want %+v", i, got[i], w)
		}
	}
}

func TestHeaderSaveLoad(t *testing.T) {
	ports := mem.NewPortBus()
	h := newTestHeader(ports, nil)
	io := &pfPorts{}
	_ = h.SetBAR(0, BARSpec{Kind: BARIO, Size: 16, IO: io})
	h.ConfigWrite(PCIBAR0, 4, 0xC100)
	h.ConfigWrite(PCICommand, 2, PCICmdIO)
	h.ConfigWrite(PCIIntLine, 1, 11)
	data, err := h.Save()
	if err != nil {
		t.Fatal(err)
	}
	ports2 := mem.NewPortBus()
	h2 := newTestHeader(ports2, nil)
	_ = h2.SetBAR(0, BARSpec{Kind: BARIO, Size: 16, IO: io})
	if err := h2.Load(data); err != nil {
		t.Fatal(err)
	}
	if h2.ConfigRead(PCIIntLine, 1) != 11 || ports2.Handler(0xC100) != io {
		t.Error("Load did not restore registers and mappings")
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, data[:len(data)/2]} {
		if err := h2.Load(bad); err == nil {
			t.Errorf("Load(%d bytes of garbage) succeeded", len(bad))
		}
	}
	pci := NewPCIBus()
	if err := pci.Load([]byte{1}); err == nil {
		t.Error("PCIBus.Load of 1 byte succeeded")
	}
}

// TestGuestHammer drives random guest I/O at every port these devices
// own, with random DMA descriptors in memory: nothing may panic.
func TestGuestHammer(t *testing.T) {
	bus, err := mem.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	_ = bus.MapROM("bios", 0xE0000, make([]byte, 0x20000))
	ports := mem.NewPortBus()
	pci := NewPCIBus()
	pci.Register(ports)
	clk := &pfClock{}
	_ = pci.Attach(0, 0, NewI440FX(bus))
	p3 := NewPIIX3(func(int) IRQLine { return &pfLine{} }, func(bool) {})
	_ = p3.Attach(pci)
	_ = pci.Attach(1, 1, NewPIIXIDE(ports))
	pm := NewACPIPM(ports, clk, &pfLine{}, func() {})
	_ = pci.Attach(1, 3, pm)
	fw := NewFWCfg(bus)
	fw.Register(ports)
	_ = fw.AddFile("etc/x", make([]byte, 100))
	_ = fw.AddWritableFile("etc/w", make([]byte, 16), nil)
	irq := p3.SlotIRQ(3, 1)

	rng := rand.New(rand.NewPCG(1, 2))
	portsOf := []uint16{0xCF8, 0xCF9, 0xCFA, 0xCFC, 0xCFD, 0xCFE, 0xCFF, 0x510, 0x511, 0x514, 0x518, 0xB2, 0xB3, 0xAFE0, 0xAFE2}
	sizes := []int{1, 2, 4}
	for i := 0; i < 200000; i++ {
		clk.now += int64(rng.IntN(1000000))
		port := portsOf[rng.IntN(len(portsOf))]
		if rng.IntN(8) == 0 {
			if b, on := pm.PMBase(); on {
				port = b + uint16(rng.IntN(64))
			}
		}
		size := sizes[rng.IntN(3)]
		if rng.IntN(2) == 0 {
			ports.In(port, size)
			continue
		}
		v := rng.Uint32()
		switch port {
		case 0xCF8:
			// Mostly valid addresses on bus 0 so config writes land.
			v = v&0x80FFFFFF | 0x80000000
			if rng.IntN(4) != 0 {
				v &^= 0xFF0000
			}
		case 0x518:
			// Descriptors in and beyond RAM, with random contents.
			at := uint64(rng.IntN(1<<21)) &^ 7
			var d [16]byte
			for j := range d {
				d[j] = byte(rng.Uint32())
			}
			if rng.IntN(2) == 0 {
				binary.BigEndian.PutUint32(d[4:], uint32(rng.IntN(4096)))
			}
			bus.WriteBytes(at, d[:])
			v = fwSwap32(uint32(at))
			size = 4
		}
		ports.Out(port, size, v)
		if rng.IntN(100) == 0 {
			irq.Set(rng.IntN(2) == 0)
			pm.Advance(clk.now)
		}
	}
}
