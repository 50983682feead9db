package chipset

import "fmt"

// PIIX3 is the 82371SB PCI-to-ISA bridge, function 0 of the multi-function
// device 1 (8086:7000), as on QEMU's `pc` machine.
//
// Its PIRQ route control registers (0x60-0x63) steer the four PCI
// interrupt lines PIRQA#-PIRQD# to ISA IRQs of the 8259 pair. Several PCI
// sources can share a PIRQ and several PIRQs can share an ISA IRQ: the
// level driven on an ISA line is the OR of every source routed to it, and
// re-routing moves asserted sources to their new line. (ELCR at
// 0x4D0/0x4D1, which makes those inputs level-triggered, belongs to the
// PIC model.)
//
// Its reset control register sits at I/O port 0xCF9, inside the PCI
// configuration window, so it is reached through PCIBus.SetCF9.
type PIIX3 struct {
	hdr   *PCIHeader
	pic   func(irq int) IRQLine
	lines [16]IRQLine // PIC inputs, fetched on first use
	out   [16]bool    // level currently driven on each ISA IRQ
	srcs  []*pirqSource
	rcr   uint8
	reset func(hard bool)
}

// PIIX3 register offsets.
const (
	PIIX3PIRQRC = 0x60 // PIRQA-D route control, one byte each
	PIIX3RCR    = 0xCF9

	pirqDisable = 0x80
	rcrSRST     = 1 << 1 // 1 = hard reset, 0 = soft reset
	rcrRCPU     = 1 << 2 // 0->1 starts the reset
)

// pirqIRQValid: the ISA IRQs a PIRQ may be routed to (datasheet; 0-2, 8
// and 13 are reserved encodings and route nowhere).
const pirqIRQValid = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<14 | 1<<15

type pirqSource struct {
	p     *PIIX3
	pirq  int
	level bool
}

func (s *pirqSource) Set(level bool) {
	if s.level != level {
		s.level = level
		s.p.update()
	}
}

// NewPIIX3 builds the bridge. pic(irq) returns the interrupt controller's
// input line for ISA IRQ irq (0-15); it is called at most once per IRQ.
// reset is called when the guest writes the reset control register
// (hard: system reset; otherwise a soft reset, INIT of the CPU); the
// machine should act on it after the current instruction.
func NewPIIX3(pic func(irq int) IRQLine, reset func(hard bool)) *PIIX3 {
	h := NewPCIHeader(PCIIdent{
		Vendor: 0x8086, Device: 0x7000,
		Class: 0x060100, HeaderType: PCIMultiFunc,
		SubVendor: QEMUSubVendor, Subsystem: QEMUSubDevice,
	}, nil, nil)
	// PCICMD: I/O, memory and bus master are hardwired on; special
	// cycles and SERR# are R/W.
	h.Init(PCICommand, []byte{0x07, 0x00})
	h.SetMasks(PCICommand, []byte{1 << 3, PCICmdSERR >> 8}, nil)
	h.Init(PCIStatus, []byte{0x00, 0x02}) // DEVSEL medium
	h.SetMasks(PCICacheLine, []byte{0}, nil)
	h.SetMasks(PCILatency, []byte{0}, nil)
	h.SetMasks(PCIIntLine, []byte{0}, nil)
	all := make([]byte, 0xC0)
	for i := range all {
		all[i] = 0xFF
	}
	h.SetMasks(0x40, all, nil) // device-specific registers R/W, as QEMU
	h.SetMasks(PIIX3PIRQRC, []byte{0x8F, 0x8F, 0x8F, 0x8F}, nil)
	// Power-on values (datasheet, and QEMU's piix3_reset).
	for off, v := range map[uint8]byte{
		0x4C: 0x4D, 0x4E: 0x03, 0x60: 0x80, 0x61: 0x80, 0x62: 0x80, 0x63: 0x80,
		0x69: 0x02, 0x70: 0x80, 0x71: 0x80, 0x76: 0x0C, 0x77: 0x0C, 0x78: 0x02,
		0xA0: 0x08, 0xA8: 0x0F,
	} {
		h.Init(off, []byte{v})
	}
	if reset == nil {
		reset = func(bool) {}
	}
	return &PIIX3{hdr: h, pic: pic, reset: reset}
}

// Attach places the bridge at device 1 function 0 of bus and claims the
// reset control register.
func (p *PIIX3) Attach(bus *PCIBus) error {
	if err := bus.Attach(1, 0, p); err != nil {
		return err
	}
	bus.SetCF9(p)
	return nil
}

// Header gives access to the configuration header.
func (p *PIIX3) Header() *PCIHeader { return p.hdr }

// PCIIRQ returns a new interrupt source on PIRQ pin (0-3 for PIRQA#-
// PIRQD#). Each device function gets its own source so that shared lines
// stay asserted while any of them is.
func (p *PIIX3) PCIIRQ(pin int) IRQLine {
	s := &pirqSource{p: p, pirq: pin & 3}
	p.srcs = append(p.srcs, s)
	return s
}

// SlotIRQ returns a source for the INTx# pin (1-4 as in the Interrupt Pin
// register) of a device in slot dev, using the i440FX board's swizzle
// (the same as QEMU and SeaBIOS): PIRQ = (dev + pin - 2) mod 4.
func (p *PIIX3) SlotIRQ(dev, pin int) IRQLine {
	return p.PCIIRQ((dev + pin - 2) & 3)
}

// Route returns the ISA IRQ PIRQ pin is routed to, or -1.
func (p *PIIX3) Route(pin int) int {
	r := p.hdr.Byte(PIIX3PIRQRC + uint8(pin&3))
	irq := int(r & 0x0F)
	if r&pirqDisable != 0 || pirqIRQValid&(1<<irq) == 0 {
		return -1
	}
	return irq
}

// update recomputes the ISA levels and drives the lines that changed.
func (p *PIIX3) update() {
	var pirq [4]bool
	for _, s := range p.srcs {
		pirq[s.pirq] = pirq[s.pirq] || s.level
	}
	var want [16]bool
	for i, l := range pirq {
		if irq := p.Route(i); irq >= 0 && l {
			want[irq] = true
		}
	}
	for irq := range want {
		if want[irq] != p.out[irq] {
			p.out[irq] = want[irq]
			p.line(irq).Set(want[irq])
		}
	}
}

func (p *PIIX3) line(irq int) IRQLine {
	if p.lines[irq] == nil {
		if p.pic != nil {
			p.lines[irq] = p.pic(irq)
		}
		if p.lines[irq] == nil {
			p.lines[irq] = NoIRQ{}
		}
	}
	return p.lines[irq]
}

// ConfigRead implements PCIFunction.
func (p *PIIX3) ConfigRead(off uint8, size int) uint32 { return p.hdr.ConfigRead(off, size) }

// ConfigWrite implements PCIFunction.
func (p *PIIX3) ConfigWrite(off uint8, size int, val uint32) {
	p.hdr.ConfigWrite(off, size, val)
	if pciOverlaps(off, size, PIIX3PIRQRC, 4) {
		p.update()
	}
}

// In implements mem.PortHandler for the reset control register.
func (p *PIIX3) In(port uint16, size int) uint32 {
	if port == PIIX3RCR {
		return uint32(p.rcr)
	}
	return pciOnes(size)
}

// Out implements mem.PortHandler: a 0->1 transition of RCPU resets the
// system, hard or soft by SRST.
func (p *PIIX3) Out(port uint16, size int, val uint32) {
	if port != PIIX3RCR {
		return
	}
	v := uint8(val) & (rcrSRST | rcrRCPU)
	start := v&rcrRCPU != 0 && p.rcr&rcrRCPU == 0
	p.rcr = v
	if start {
		p.reset(v&rcrSRST != 0)
	}
}

// Reset is PCIRST#: registers to their defaults, all PIRQs unrouted.
func (p *PIIX3) Reset() {
	p.hdr.Reset()
	p.rcr = 0
	p.update()
}

type piix3State struct {
	Hdr     pciHeaderState
	RCR     uint8
	Sources []bool
}

// Save returns the bridge's state, including the level of every PCI
// interrupt source.
func (p *PIIX3) Save() ([]byte, error) {
	s := piix3State{Hdr: p.hdr.state(), RCR: p.rcr}
	for _, src := range p.srcs {
		s.Sources = append(s.Sources, src.level)
	}
	return pciGobEncode(s)
}

// Load restores a state returned by Save on a machine built the same way
// (same number of interrupt sources).
func (p *PIIX3) Load(data []byte) error {
	var s piix3State
	if err := pciGobDecode(data, &s); err != nil {
		return err
	}
	if len(s.Sources) != len(p.srcs) {
		return fmt.Errorf("piix3: snapshot has %d interrupt sources, machine has %d", len(s.Sources), len(p.srcs))
	}
	if err := p.hdr.restore(s.Hdr); err != nil {
		return err
	}
	p.rcr = s.RCR & (rcrSRST | rcrRCPU)
	for i, l := range s.Sources {
		p.srcs[i].level = l
	}
	p.update()
	return nil
}
