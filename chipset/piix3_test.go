package chipset

import (
	"testing"

	"fuji/mem"
)

type pfPIC struct{ lines [16]*pfLine }

func (p *pfPIC) line(irq int) IRQLine {
	if p.lines[irq] == nil {
		p.lines[irq] = &pfLine{}
	}
	return p.lines[irq]
}

func (p *pfPIC) level(irq int) bool { return p.lines[irq] != nil && p.lines[irq].level }

func TestPIIX3Defaults(t *testing.T) {
	p := NewPIIX3(nil, nil)
	h := p.Header()
	if h.ConfigRead(0, 4) != 0x70008086 || h.ConfigRead(8, 4)>>8 != 0x060100 {
		t.Errorf("identity %#x class %#x", h.ConfigRead(0, 4), h.ConfigRead(8, 4))
	}
	if h.Byte(PCIHeaderTypeReg) != 0x80 {
		t.Error("PIIX3 must be multi-function")
	}
	if h.ConfigRead(PIIX3PIRQRC, 4) != 0x80808080 {
		t.Errorf("PIRQRC = %#x", h.ConfigRead(PIIX3PIRQRC, 4))
	}
	p.ConfigWrite(PIIX3PIRQRC, 1, 0xFF)
	if h.Byte(PIIX3PIRQRC) != 0x8F {
		t.Errorf("PIRQRC reserved bits writable: %#x", h.Byte(PIIX3PIRQRC))
	}
}

func TestPIRQRoutingAndSharing(t *testing.T) {
	pic := &pfPIC{}
	p := NewPIIX3(pic.line, nil)
	a1 := p.PCIIRQ(0) // two devices on PIRQA
	a2 := p.SlotIRQ(1, 1)
	b := p.SlotIRQ(2, 1) // slot 2 INTA# -> PIRQB
	d := p.SlotIRQ(2, 3) // slot 2 INTC# -> PIRQD
	// SeaBIOS's routing: A,B -> 10, C,D -> 11.
	p.ConfigWrite(PIIX3PIRQRC, 4, 0x0B0B0A0A)

	a1.Set(true)
	if !pic.level(10) {
		t.Fatal("PIRQA source did not raise IRQ 10")
	}
	b.Set(true)
	a1.Set(false)
	if !pic.level(10) {
		t.Error("IRQ 10 dropped while PIRQB still asserted")
	}
	a2.Set(true)
	b.Set(false)
	if !pic.level(10) {
		t.Error("IRQ 10 dropped while a second PIRQA source is asserted")
	}
	a2.Set(false)
	if pic.level(10) {
		t.Error("IRQ 10 still high with every source low")
	}
	d.Set(true)
	if !pic.level(11) || pic.level(10) {
		t.Error("slot 2 INTC# should reach IRQ 11 through PIRQD")
	}
	d.Set(false)

	// Re-routing moves an asserted source.
	a1.Set(true)
	p.ConfigWrite(PIIX3PIRQRC, 1, 0x05)
	if pic.level(10) || !pic.level(5) {
		t.Error("re-routing PIRQA to IRQ 5 did not move the level")
	}
	// Disable bit and reserved IRQ numbers route nowhere.
	p.ConfigWrite(PIIX3PIRQRC, 1, 0x85)
	if pic.level(5) || p.Route(0) != -1 {
		t.Error("disabled route still drives IRQ 5")
	}
	p.ConfigWrite(PIIX3PIRQRC, 1, 0x02)
	if p.Route(0) != -1 || pic.level(2) {
		t.Error("reserved IRQ 2 accepted as a route")
	}
	p.ConfigWrite(PIIX3PIRQRC, 1, 0x0E)
	if !pic.level(14) {
		t.Error("route to IRQ 14 not taken")
	}

	// Snapshot carries the source levels.
	data, err := p.Save()
	if err != nil {
		t.Fatal(err)
	}
	pic2 := &pfPIC{}
	p2 := NewPIIX3(pic2.line, nil)
	for range 4 {
		p2.PCIIRQ(0)
	}
	if err := p2.Load(data); err != nil {
		t.Fatal(err)
	}
	if !pic2.level(14) {
		t.Error("Load did not restore the asserted source")
	}
	p3 := NewPIIX3(nil, nil)
	if p3.Load(data) == nil {
		t.Error("Load into a machine with a different number of sources succeeded")
	}
	if p2.Load([]byte("junk")) == nil {
		t.Error("Load of junk succeeded")
	}
	// Reset unroutes everything.
	p.Reset()
	if pic.level(14) {
		t.Error("IRQ 14 still high after reset")
	}
}

func TestResetControl(t *testing.T) {
	var resets []bool
	p := NewPIIX3(nil, func(hard bool) { resets = append(resets, hard) })
	ports := mem.NewPortBus()
	pci := NewPCIBus()
	pci.Register(ports)
	if err := p.Attach(pci); err != nil {
		t.Fatal(err)
	}
	if pci.Function(1, 0) != p {
		t.Fatal("PIIX3 not at 1.0")
	}
	ports.Out(0xCF9, 1, 0x02) // choose hard reset
	if len(resets) != 0 || ports.In(0xCF9, 1) != 0x02 {
		t.Fatalf("SRST alone: resets=%v rcr=%#x", resets, ports.In(0xCF9, 1))
	}
	ports.Out(0xCF9, 1, 0x06)
	if len(resets) != 1 || !resets[0] {
		t.Fatalf("hard reset not requested: %v", resets)
	}
	ports.Out(0xCF9, 1, 0x06) // no 0->1 transition
	if len(resets) != 1 {
		t.Errorf("reset without a transition of RCPU: %v", resets)
	}
	ports.Out(0xCF9, 1, 0x00)
	ports.Out(0xCF9, 1, 0x04)
	if len(resets) != 2 || resets[1] {
		t.Errorf("soft reset not requested: %v", resets)
	}
	p.Reset()
	if ports.In(0xCF9, 1) != 0 {
		t.Error("RCR not cleared by reset")
	}
}
