package machine

import "fuji/chipset"

// irqShare ORs several sources onto one interrupt-controller input, as
// wired-OR ISA/PCI interrupt sharing does: the input is high while any
// source drives it high.
type irqShare struct {
	pic  *chipset.PIC
	pins [16]sharedPin
}

type sharedPin struct {
	share  *irqShare
	n      int
	high   uint32 // bit per source
	nsrc   int
	driven bool
}

type irqSource struct {
	pin *sharedPin
	bit uint32
}

func newIRQShare(pic *chipset.PIC) *irqShare {
	s := &irqShare{pic: pic}
	for i := range s.pins {
		s.pins[i] = sharedPin{share: s, n: i}
	}
	return s
}

// line returns a new source on input irq.
func (s *irqShare) line(irq int) chipset.IRQLine {
	p := &s.pins[irq&15]
	src := &irqSource{pin: p, bit: 1 << uint(p.nsrc&31)}
	p.nsrc++
	return src
}

func (src *irqSource) Set(level bool) {
	p := src.pin
	if level {
		p.high |= src.bit
	} else {
		p.high &^= src.bit
	}
	if d := p.high != 0; d != p.driven {
		p.driven = d
		p.share.pic.Line(p.n).Set(d)
	}
}
