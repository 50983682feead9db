package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"

	"fuji/mem"
)

// The Intel 8259A programmable interrupt controller pair of the PC/AT:
// the master at 0x20-0x21 delivers to the CPU, the slave at 0xA0-0xA1
// cascades into the master's IR2. The PIIX ELCR at 0x4D0/0x4D1 selects
// edge or level sensing per IRQ.

// pic8259 is one 8259A.
type pic8259 struct {
	irr, isr, imr uint8
	pins          uint8 // current level of the IR input pins
	elcr          uint8 // PIIX per-input level select
	elcrMask      uint8 // ELCR bits that may be set

	vectorBase  uint8 // ICW2 T7-T3
	icw3        uint8 // master: IRs with a slave; slave: its ID
	initState   uint8 // 0 ready, 1 expect ICW2, 2 ICW3, 3 ICW4
	icw4Needed  bool
	single      bool // ICW1 SNGL
	ltim        bool // ICW1 level-triggered mode
	autoEOI     bool
	sfnm        bool // special fully nested mode
	rotateAEOI  bool
	specialMask bool
	readISR     bool  // OCW3 RIS: next read of port 0 gives ISR
	poll        bool  // OCW3 P: next read is a poll
	lowest      uint8 // IR with the lowest priority (rotation)
	out         bool  // INT output level
	isMaster    bool
}

// PIC is the cascaded 8259A pair plus the ELCR.
type PIC struct {
	m, s   pic8259
	ext2   bool // level of ISA IRQ2 as driven through Line(2)
	output IRQLine
	intr   bool
	lines  [16]picLine
}

type picLine struct {
	p *PIC
	n uint8
}

// Set drives PIC input pin n.
func (l *picLine) Set(level bool) { l.p.setIRQ(int(l.n), level) }

// NewPIC returns a PIC pair in its power-on state, its output unconnected.
func NewPIC() *PIC {
	p := &PIC{output: NoIRQ{}}
	for i := range p.lines {
		p.lines[i] = picLine{p: p, n: uint8(i)}
	}
	p.m.isMaster = true
	// PIIX: IRQ 0, 1, 2 on the master and 8, 13 on the slave are
	// always edge triggered.
	p.m.elcrMask = 0xF8
	p.s.elcrMask = 0xDE
	p.Reset()
	return p
}

// Line returns input pin n (0-15). Line(2) is the ISA IRQ2 pin, which is
// wired together with the slave's INT output on the master's IR2.
func (p *PIC) Line(n int) IRQLine {
	if n < 0 || n >= 16 {
		panic("chipset: PIC line out of range")
	}
	return &p.lines[n]
}

// SetOutput connects the master's INT output (the CPU's INTR pin). The
// PIC drives it with the current level at once and on every change.
func (p *PIC) SetOutput(l IRQLine) {
	if l == nil {
		l = NoIRQ{}
	}
	p.output = l
	l.Set(p.intr)
}

// INTR reports the level of the master's INT output.
func (p *PIC) INTR() bool { return p.intr }

// Reset returns both chips to the power-on state (uninitialised, all
// unmasked, as QEMU does) and clears the ELCR. Input pin levels are
// physical and survive.
func (p *PIC) Reset() {
	for _, c := range []*pic8259{&p.m, &p.s} {
		pins, mask, master := c.pins, c.elcrMask, c.isMaster
		*c = pic8259{pins: pins, elcrMask: mask, isMaster: master, lowest: 7}
	}
	p.m.icw3 = 0x04
	p.s.icw3 = 0x02
	p.update()
}

// Register claims the PIC's ports on the bus.
func (p *PIC) Register(b *mem.PortBus) {
	b.Register(0x20, 0x21, p)
	b.Register(0xA0, 0xA1, p)
	b.Register(0x4D0, 0x4D1, p)
}

// chip returns the 8259A behind a port.
func (p *PIC) chip(port uint16) *pic8259 {
	if port&0x80 != 0 {
		return &p.s
	}
	return &p.m
}

// In reads PIC ports; wider accesses read consecutive ports.
func (p *PIC) In(port uint16, size int) uint32 {
	var v uint32
	for i := 0; i < size; i++ { // low port first, as the ISA bus splits it
		v |= uint32(p.in8(port+uint16(i))) << (8 * i)
	}
	return v
}

// Out writes PIC ports; wider accesses write consecutive ports.
func (p *PIC) Out(port uint16, size int, val uint32) {
	for i := 0; i < size; i++ {
		p.out8(port+uint16(i), uint8(val>>(8*i)))
	}
}

func (p *PIC) in8(port uint16) uint8 {
	switch port {
	case 0x4D0:
		return p.m.elcr
	case 0x4D1:
		return p.s.elcr
	case 0x20, 0x21, 0xA0, 0xA1:
	default:
		return 0xFF
	}
	c := p.chip(port)
	if c.poll {
		// The poll read acts as an INTA: the answer is 1000_0WWW with
		// the highest pending level, or 0 if there is none.
		c.poll = false
		irq := c.pending()
		if irq < 0 {
			return 0
		}
		c.ack(irq)
		p.update()
		return 0x80 | uint8(irq)
	}
	if port&1 != 0 {
		return c.imr
	}
	if c.readISR {
		return c.isr
	}
	return c.irr
}

func (p *PIC) out8(port uint16, v uint8) {
	switch port {
	case 0x4D0, 0x4D1:
		c := &p.m
		if port == 0x4D1 {
			c = &p.s
		}
		c.elcr = v & c.elcrMask
		c.resample()
		p.update()
		return
	case 0x20, 0x21, 0xA0, 0xA1:
	default:
		return
	}
	c := p.chip(port)
	if port&1 == 0 {
		c.writeCommand(v)
	} else {
		c.writeData(v)
	}
	p.update()
}

// writeCommand handles ICW1, OCW2 and OCW3 (A0=0).
func (c *pic8259) writeCommand(v uint8) {
	switch {
	case v&0x10 != 0: // ICW1
		// Datasheet: the edge sense circuit is reset (a pin must go
		// low then high again), IMR cleared, IR7 lowest priority,
		// special mask mode off, status read set to IRR; without IC4
		// all ICW4 functions are zero.
		c.ltim = v&0x08 != 0
		c.irr = c.pins & c.levelMask()
		c.imr = 0
		c.isr = 0
		c.lowest = 7
		c.specialMask = false
		c.readISR = false
		c.poll = false
		c.autoEOI = false
		c.sfnm = false
		c.rotateAEOI = false
		c.single = v&0x02 != 0
		c.icw4Needed = v&0x01 != 0
		c.initState = 1
	case v&0x08 != 0: // OCW3
		if v&0x40 != 0 {
			c.specialMask = v&0x20 != 0
		}
		c.poll = v&0x04 != 0
		if v&0x02 != 0 {
			c.readISR = v&0x01 != 0
		}
	default: // OCW2
		level := v & 7
		switch v >> 5 {
		case 0: // rotate in automatic EOI mode (clear)
			c.rotateAEOI = false
		case 4: // rotate in automatic EOI mode (set)
			c.rotateAEOI = true
		case 1, 5: // non-specific EOI, optionally rotating
			mask := c.isr
			if c.specialMask {
				// Masked in-service levels keep their ISR bit.
				mask &^= c.imr
			}
			if irq := c.highest(mask); irq >= 0 {
				c.isr &^= 1 << irq
				if v>>5 == 5 {
					c.lowest = uint8(irq)
				}
			}
		case 3: // specific EOI
			c.isr &^= 1 << level
		case 7: // rotate on specific EOI
			c.isr &^= 1 << level
			c.lowest = level
		case 6: // set priority
			c.lowest = level
		case 2: // no operation
		}
	}
}

// writeData handles ICW2-ICW4 during initialisation and OCW1 after.
func (c *pic8259) writeData(v uint8) {
	switch c.initState {
	case 1: // ICW2
		c.vectorBase = v & 0xF8
		switch {
		case !c.single:
			c.initState = 2
		case c.icw4Needed:
			c.initState = 3
		default:
			c.initState = 0
		}
	case 2: // ICW3
		if c.isMaster {
			c.icw3 = v
		} else {
			c.icw3 = v & 7
		}
		if c.icw4Needed {
			c.initState = 3
		} else {
			c.initState = 0
		}
	case 3: // ICW4 (µPM is assumed 1: x86 vectors; buffered mode is a board matter)
		c.autoEOI = v&0x02 != 0
		c.sfnm = v&0x10 != 0
		c.initState = 0
	default: // OCW1
		c.imr = v
	}
}

// levelMask returns the inputs that are level sensitive.
func (c *pic8259) levelMask() uint8 {
	if c.ltim {
		return 0xFF
	}
	return c.elcr
}

// resample makes level-sensitive IRR bits follow their pins.
func (c *pic8259) resample() {
	lv := c.levelMask()
	c.irr = c.irr&^lv | c.pins&lv
}

// setPin applies a new level on input n (0-7).
func (c *pic8259) setPin(n int, level bool) {
	bit := uint8(1) << n
	was := c.pins&bit != 0
	if level {
		c.pins |= bit
	} else {
		c.pins &^= bit
	}
	if c.levelMask()&bit != 0 {
		// Level sensitive: the request is the level itself.
		if level {
			c.irr |= bit
		} else {
			c.irr &^= bit
		}
		return
	}
	// Edge sensitive: a rising edge sets the IRR latch, which holds
	// until the request is acknowledged.
	if level && !was {
		c.irr |= bit
	}
}

// highest returns the highest-priority IR among mask, or -1.
func (c *pic8259) highest(mask uint8) int {
	if mask == 0 {
		return -1
	}
	for i := uint8(1); i <= 8; i++ {
		irq := (c.lowest + i) & 7
		if mask&(1<<irq) != 0 {
			return int(irq)
		}
	}
	return -1
}

// rank returns the priority rank of irq: 0 is the highest.
func (c *pic8259) rank(irq int) int {
	return (irq - int(c.lowest) - 1) & 7
}

// pending returns the IR that the chip would present to the CPU, or -1.
func (c *pic8259) pending() int {
	req := c.irr &^ c.imr
	if c.specialMask {
		// Special mask mode: every unmasked level that is not itself
		// in service is enabled, lower as well as higher.
		return c.highest(req &^ c.isr)
	}
	irq := c.highest(req)
	if irq < 0 {
		return -1
	}
	inService := c.isr
	if c.sfnm && c.isMaster && !c.single {
		// A slave in service does not lock out further (higher)
		// requests from that slave.
		inService &^= c.icw3
	}
	cur := c.highest(inService)
	if cur >= 0 && c.rank(cur) <= c.rank(irq) {
		return -1
	}
	return irq
}

// ack performs the INTA bookkeeping for irq.
func (c *pic8259) ack(irq int) {
	bit := uint8(1) << irq
	if c.autoEOI {
		if c.rotateAEOI {
			c.lowest = uint8(irq)
		}
	} else {
		c.isr |= bit
	}
	if c.levelMask()&bit == 0 {
		c.irr &^= bit
	}
}

// update propagates the slave's INT to master IR2 and the master's INT
// to the CPU.
func (p *PIC) update() {
	p.s.out = p.s.pending() >= 0
	p.m.setPin(2, p.s.out || p.ext2)
	p.m.out = p.m.pending() >= 0
	if p.m.out != p.intr {
		p.intr = p.m.out
		p.output.Set(p.intr)
	}
}

func (p *PIC) setIRQ(n int, level bool) {
	switch {
	case n == 2:
		p.ext2 = level
	case n < 8:
		p.m.setPin(n, level)
	default:
		p.s.setPin(n-8, level)
	}
	p.update()
}

// cascaded reports whether the master's IR irq is served by the slave.
func (p *PIC) cascaded(irq int) bool {
	return !p.m.single && p.m.icw3&(1<<irq) != 0 && irq == 2
}

// Acknowledge performs the CPU's INTA cycle and returns the vector. When
// the request has vanished since INTR was raised the 8259A answers with
// IR7 of the chip concerned (the spurious interrupt) and sets no ISR bit.
func (p *PIC) Acknowledge() uint8 {
	irq := p.m.pending()
	if irq < 0 {
		p.update()
		return p.m.vectorBase | 7
	}
	if !p.cascaded(irq) {
		p.m.ack(irq)
		p.update()
		return p.m.vectorBase | uint8(irq)
	}
	p.m.ack(irq)
	// The slave's INT drops during INTA, so a request it still has
	// afterwards reaches the master as a fresh edge.
	p.m.setPin(2, p.ext2)
	var vec uint8
	if p.s.icw3 != uint8(irq) {
		vec = 0xFF // no slave answers the CAS code: the bus floats
	} else if sirq := p.s.pending(); sirq >= 0 {
		p.s.ack(sirq)
		vec = p.s.vectorBase | uint8(sirq)
	} else {
		vec = p.s.vectorBase | 7
	}
	p.update()
	return vec
}

// picState is the snapshot form of one 8259A.
type picState struct {
	IRR, ISR, IMR, Pins, ELCR           uint8
	VectorBase, ICW3, InitState, Lowest uint8
	ICW4Needed, Single, LTIM, AutoEOI   bool
	SFNM, RotateAEOI, SpecialMask       bool
	ReadISR, Poll, Out                  bool
}

type picSnapshot struct {
	Version uint8
	M, S    picState
	Ext2    bool
	INTR    bool
}

const picSnapVersion = 1

func (c *pic8259) save() picState {
	return picState{c.irr, c.isr, c.imr, c.pins, c.elcr, c.vectorBase, c.icw3, c.initState, c.lowest,
		c.icw4Needed, c.single, c.ltim, c.autoEOI, c.sfnm, c.rotateAEOI, c.specialMask, c.readISR, c.poll, c.out}
}

func (c *pic8259) load(s picState) error {
	if s.InitState > 3 || s.Lowest > 7 || s.VectorBase&7 != 0 || s.ELCR&^c.elcrMask != 0 {
		return errors.New("chipset: PIC snapshot out of range")
	}
	c.irr, c.isr, c.imr, c.pins, c.elcr = s.IRR, s.ISR, s.IMR, s.Pins, s.ELCR
	c.vectorBase, c.icw3, c.initState, c.lowest = s.VectorBase, s.ICW3, s.InitState, s.Lowest
	c.icw4Needed, c.single, c.ltim, c.autoEOI = s.ICW4Needed, s.Single, s.LTIM, s.AutoEOI
	c.sfnm, c.rotateAEOI, c.specialMask = s.SFNM, s.RotateAEOI, s.SpecialMask
	c.readISR, c.poll, c.out = s.ReadISR, s.Poll, s.Out
	return nil
}

// Save returns the PIC pair's state.
func (p *PIC) Save() ([]byte, error) {
	var b bytes.Buffer
	err := binary.Write(&b, binary.LittleEndian, picSnapshot{picSnapVersion, p.m.save(), p.s.save(), p.ext2, p.intr})
	return b.Bytes(), err
}

// Load restores state from Save and re-drives the INTR output.
func (p *PIC) Load(data []byte) error {
	var s picSnapshot
	if len(data) != binary.Size(s) {
		return errors.New("chipset: PIC snapshot has the wrong size")
	}
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &s); err != nil {
		return err
	}
	if s.Version != picSnapVersion {
		return errors.New("chipset: PIC snapshot version mismatch")
	}
	m, sl := p.m, p.s
	if err := m.load(s.M); err != nil {
		return err
	}
	if err := sl.load(s.S); err != nil {
		return err
	}
	p.m, p.s, p.ext2 = m, sl, s.Ext2
	p.intr = s.INTR
	p.update()
	p.output.Set(p.intr)
	return nil
}
