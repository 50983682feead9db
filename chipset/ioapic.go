package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"

	"fuji/mem"
)

// The Intel 82093AA I/O APIC: 24 interrupt input pins, each with a
// redirection table entry that turns a request into an interrupt message
// for the local APICs. Registers are reached indirectly: IOREGSEL at
// offset 0x00 selects, IOWIN at 0x10 reads and writes. Version 0x20 (as
// QEMU's newer machines) adds the EOI register at 0x40.
//
// Input pins are logical: a device drives the asserted level, and the
// polarity bit is stored but not applied, as QEMU. Edge-triggered pins
// latch a rising edge unless the entry is masked (the datasheet: masked
// edge requests are lost); level-triggered pins send a message when the
// pin is asserted and remote IRR is clear, set remote IRR, and send again
// after the local APIC's EOI if the pin is still asserted.

// IOAPICPins is the number of input pins (redirection entries).
const IOAPICPins = 24

// Redirection entry bits.
const (
	ioredDeliveryStatus = 1 << 12
	ioredRemoteIRR      = 1 << 14
	ioredLevel          = 1 << 15
	ioredMasked         = 1 << 16
	ioredWritable       = 0xFF00000000000000 | 0x1AFFF // vector, mode, destmod, polarity, trigger, mask, dest
)

// IOAPIC is one 82093AA.
type IOAPIC struct {
	bus     APICDeliverer
	version uint8

	id    uint8 // bits 27:24 of the ID register
	sel   uint8 // IOREGSEL
	redir [IOAPICPins]uint64
	pins  uint32 // input pin levels
	irr   uint32 // requests latched, waiting to be sent
	lines [IOAPICPins]ioapicPin
}

type ioapicPin struct {
	a *IOAPIC
	n uint8
}

// Set drives input pin n.
func (p *ioapicPin) Set(level bool) { p.a.setPin(int(p.n), level) }

// NewIOAPIC returns an I/O APIC in its reset state that sends its
// messages to bus. version is 0x11 (the 82093AA, QEMU's default for the
// pc machine's compatibility) or 0x20 (with the EOI register).
func NewIOAPIC(bus APICDeliverer, version uint8) *IOAPIC {
	a := &IOAPIC{bus: bus, version: version}
	for i := range a.lines {
		a.lines[i] = ioapicPin{a: a, n: uint8(i)}
	}
	a.Reset()
	return a
}

// Line returns input pin n (0-23).
func (a *IOAPIC) Line(n int) IRQLine {
	if n < 0 || n >= IOAPICPins {
		panic("chipset: IOAPIC pin out of range")
	}
	return &a.lines[n]
}

// Map maps the registers at IOAPICBase.
func (a *IOAPIC) Map(b *mem.Bus) error { return b.MapMMIO("ioapic", IOAPICBase, 0x1000, a) }

// Reset masks every entry and clears the ID, IOREGSEL and pending
// requests. Pin levels are physical and survive.
func (a *IOAPIC) Reset() {
	a.id, a.sel, a.irr = 0, 0, 0
	for i := range a.redir {
		a.redir[i] = ioredMasked
	}
}

// setPin applies a new level on pin n.
func (a *IOAPIC) setPin(n int, level bool) {
	bit := uint32(1) << n
	was := a.pins&bit != 0
	if level {
		a.pins |= bit
	} else {
		a.pins &^= bit
	}
	e := a.redir[n]
	if e&ioredLevel != 0 {
		if level {
			a.irr |= bit
			a.service()
		} else {
			a.irr &^= bit
		}
		return
	}
	if level && !was && e&ioredMasked == 0 {
		a.irr |= bit
		a.service()
	}
}

// service sends a message for every unmasked pending request: an edge
// request once, a level request when remote IRR is clear (and sets it).
func (a *IOAPIC) service() {
	for n := 0; n < IOAPICPins; n++ {
		bit := uint32(1) << n
		e := a.redir[n]
		if a.irr&bit == 0 || e&ioredMasked != 0 {
			continue
		}
		level := e&ioredLevel != 0
		if level {
			if e&ioredRemoteIRR != 0 {
				continue
			}
			a.redir[n] |= ioredRemoteIRR
		} else {
			a.irr &^= bit
		}
		mode := uint8(e >> 8 & 7)
		if mode == 3 || mode == DeliverySIPI {
			continue // reserved delivery modes
		}
		a.bus.Deliver(APICMessage{
			Dest:    uint32(e >> 56),
			Vector:  uint8(e),
			Mode:    mode,
			Logical: e&(1<<11) != 0,
			Level:   true,
			Trigger: level,
		})
	}
}

// EOI ends level-triggered requests of vector (the local APIC's EOI
// broadcast, or the EOI register): remote IRR clears, and a pin still
// asserted sends again.
func (a *IOAPIC) EOI(vector uint8) {
	again := false
	for n := range a.redir {
		e := a.redir[n]
		if uint8(e) == vector && e&ioredRemoteIRR != 0 {
			a.redir[n] &^= ioredRemoteIRR
			again = true
		}
	}
	if again {
		a.service()
	}
}

// ReadMMIO reads IOREGSEL or IOWIN (32-bit accesses).
func (a *IOAPIC) ReadMMIO(off uint64, size int) uint64 {
	switch off {
	case 0x00:
		return uint64(a.sel)
	case 0x10:
		if size != 4 {
			return 0
		}
		return uint64(a.readReg(a.sel))
	}
	return 0
}

// WriteMMIO writes IOREGSEL, IOWIN or (version 0x20) the EOI register.
func (a *IOAPIC) WriteMMIO(off uint64, size int, val uint64) {
	switch off {
	case 0x00:
		a.sel = uint8(val)
	case 0x10:
		if size == 4 {
			a.writeReg(a.sel, uint32(val))
		}
	case 0x40:
		if a.version >= 0x20 {
			a.EOI(uint8(val))
		}
	}
}

func (a *IOAPIC) readReg(r uint8) uint32 {
	switch {
	case r == 0x00:
		return uint32(a.id) << 24
	case r == 0x01:
		return (IOAPICPins-1)<<16 | uint32(a.version)
	case r == 0x02:
		return uint32(a.id) << 24 // arbitration ID: loaded from the ID
	case r >= 0x10 && r < 0x10+2*IOAPICPins:
		e := a.redir[(r-0x10)/2]
		if r&1 != 0 {
			return uint32(e >> 32)
		}
		return uint32(e)
	}
	return 0
}

func (a *IOAPIC) writeReg(r uint8, v uint32) {
	switch {
	case r == 0x00:
		a.id = uint8(v>>24) & 0xF
	case r >= 0x10 && r < 0x10+2*IOAPICPins:
		n := int(r-0x10) / 2
		old := a.redir[n]
		var nv uint64
		if r&1 != 0 {
			nv = uint64(v)<<32 | old&0xFFFFFFFF
		} else {
			nv = old&^0xFFFFFFFF | uint64(v)
		}
		nv = nv&ioredWritable | old&^ioredWritable
		if nv&ioredLevel == 0 {
			nv &^= ioredRemoteIRR // edge entries have no remote IRR
		}
		a.redir[n] = nv
		if nv&ioredLevel != 0 && a.pins&(1<<n) != 0 {
			a.irr |= 1 << n // a level already asserted is a request
		}
		a.service()
	}
}

// Snapshots.

type ioapicSnapshot struct {
	Version   uint8
	ChipVer   uint8
	ID, Sel   uint8
	Redir     [IOAPICPins]uint64
	Pins, IRR uint32
}

const ioapicSnapVersion = 1

// Save returns the I/O APIC's state.
func (a *IOAPIC) Save() ([]byte, error) {
	s := ioapicSnapshot{ioapicSnapVersion, a.version, a.id, a.sel, a.redir, a.pins, a.irr}
	var b bytes.Buffer
	err := binary.Write(&b, binary.LittleEndian, &s)
	return b.Bytes(), err
}

// Load restores state from Save.
func (a *IOAPIC) Load(data []byte) error {
	var s ioapicSnapshot
	if len(data) != binary.Size(&s) {
		return errors.New("chipset: IOAPIC snapshot has the wrong size")
	}
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &s); err != nil {
		return err
	}
	if s.Version != ioapicSnapVersion || s.ChipVer != a.version {
		return errors.New("chipset: IOAPIC snapshot version mismatch")
	}
	if s.ID > 0xF || s.Pins>>IOAPICPins != 0 || s.IRR>>IOAPICPins != 0 {
		return errors.New("chipset: IOAPIC snapshot out of range")
	}
	for _, e := range s.Redir {
		if e&^(ioredWritable|ioredRemoteIRR|ioredDeliveryStatus) != 0 {
			return errors.New("chipset: IOAPIC snapshot entry out of range")
		}
	}
	a.id, a.sel, a.redir, a.pins, a.irr = s.ID, s.Sel, s.Redir, s.Pins, s.IRR
	return nil
}
