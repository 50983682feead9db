package machine

import "fuji/chipset"

// irqShare ORs several sources onto each interrupt-controller input, as
// wired-OR ISA/PCI interrupt sharing does: an input is high while any
// source drives it high. A source of ISA IRQ n drives 8259 input n and,
// when the machine has an I/O APIC, its pin for IRQ n: IRQ0 goes to pin 2
// (the MADT's interrupt source override, as on QEMU's pc machine), the
// others to the pin of the same number.
type irqShare struct {
	pic    [16]orInput
	ioapic [chipset.IOAPICPins]orInput
	hasIO  bool
}

// orInput is one controller input with its sources.
type orInput struct {
	out    chipset.IRQLine
	high   uint64 // bit per source
	nsrc   int
	driven bool
}

func (in *orInput) newBit() uint64 {
	b := uint64(1) << uint(in.nsrc&63)
	in.nsrc++
	return b
}

func (in *orInput) set(bit uint64, level bool) {
	if level {
		in.high |= bit
	} else {
		in.high &^= bit
	}
	if d := in.high != 0; d != in.driven {
		in.driven = d
		in.out.Set(d)
	}
}

// irqSource drives one or two controller inputs.
type irqSource struct {
	a, b       *orInput
	abit, bbit uint64
}

func (s *irqSource) Set(level bool) {
	if s.a != nil {
		s.a.set(s.abit, level)
	}
	if s.b != nil {
		s.b.set(s.bbit, level)
	}
}

// newIRQShare connects the inputs to the PIC and, if io is not nil, the
// I/O APIC.
func newIRQShare(pic *chipset.PIC, io *chipset.IOAPIC) *irqShare {
	s := &irqShare{hasIO: io != nil}
	for i := range s.pic {
		s.pic[i].out = pic.Line(i)
	}
	for i := range s.ioapic {
		s.ioapic[i].out = chipset.NoIRQ{}
		if io != nil {
			s.ioapic[i].out = io.Line(i)
		}
	}
	return s
}

// source returns a new source on 8259 input pic (-1: none) and I/O APIC
// pin pin (-1: none).
func (s *irqShare) source(pic, pin int) chipset.IRQLine {
	src := &irqSource{}
	if pic >= 0 {
		src.a = &s.pic[pic]
		src.abit = src.a.newBit()
	}
	if pin >= 0 && s.hasIO {
		src.b = &s.ioapic[pin]
		src.bbit = src.b.newBit()
	}
	return src
}

// line returns a new source on ISA IRQ irq (0-15).
func (s *irqShare) line(irq int) chipset.IRQLine {
	irq &= 15
	pin := irq
	if irq == 0 {
		pin = 2
	}
	return s.source(irq, pin)
}

// gsi returns a new source on board interrupt line n as QEMU numbers its
// GSIs for devices such as the HPET: 0 is ISA IRQ0 (8259 IR0, I/O APIC
// pin 2), 1-15 the 8259 input and I/O APIC pin n, 16-23 the I/O APIC pin
// only; others are not connected.
func (s *irqShare) gsi(n int) chipset.IRQLine {
	switch {
	case n == 0:
		return s.line(0)
	case n > 0 && n < 16:
		return s.source(n, n)
	case n >= 16 && n < chipset.IOAPICPins:
		return s.source(-1, n)
	}
	return chipset.NoIRQ{}
}
