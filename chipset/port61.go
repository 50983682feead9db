package chipset

import (
	"errors"

	"fuji/mem"
)

// Port61 is system control port B (0x61) of the PC/AT and PIIX:
//
//	bit 0 r/w  PIT counter 2 gate (speaker timer enable)
//	bit 1 r/w  speaker data enable
//	bit 2 r/w  PCI SERR#/parity check enable (stored only)
//	bit 3 r/w  IOCHK# enable (stored only)
//	bit 4 r    refresh request: toggles every 15.085 µs; BIOS delay loops count it
//	bit 5 r    PIT counter 2 OUT
//	bit 6 r    IOCHK# status (0: we never signal channel check)
//	bit 7 r    SERR#/parity status (0)
type Port61 struct {
	clk  Clock
	pit  *PIT
	ctrl uint8 // bits 0-3
}

// port61RefreshHalf is the time between toggles of bit 4, in ns.
const port61RefreshHalf = 15085

// NewPort61 returns port 0x61 wired to the PIT's counter 2.
func NewPort61(clk Clock, pit *PIT) *Port61 {
	p := &Port61{clk: clk, pit: pit}
	p.Reset()
	return p
}

// Reset clears the enables (speaker off, counter 2 gate low).
func (p *Port61) Reset() {
	p.ctrl = 0
	p.pit.SetGate2(false)
}

// Register claims port 0x61.
func (p *Port61) Register(b *mem.PortBus) { b.Register(0x61, 0x61, p) }

// Speaker reports the two speaker enables: counter 2's gate and the
// data enable that passes counter 2's OUT to the speaker.
func (p *Port61) Speaker() (gate, data bool) { return p.ctrl&1 != 0, p.ctrl&2 != 0 }

// In reads port 0x61.
func (p *Port61) In(port uint16, size int) uint32 {
	v := uint32(p.ctrl)
	if now := p.clk.Now(); now >= 0 && (now/port61RefreshHalf)&1 != 0 {
		v |= 0x10
	}
	if p.pit.Out2() {
		v |= 0x20
	}
	return v
}

// Out writes port 0x61; the status bits are read-only.
func (p *Port61) Out(port uint16, size int, val uint32) {
	p.ctrl = uint8(val) & 0x0F
	p.pit.SetGate2(val&1 != 0)
}

// Save returns the port's state (counter 2's gate is saved with the PIT).
func (p *Port61) Save() ([]byte, error) { return []byte{1, p.ctrl}, nil }

// Load restores state from Save.
func (p *Port61) Load(data []byte) error {
	if len(data) != 2 || data[0] != 1 || data[1]&^0x0F != 0 {
		return errors.New("chipset: port 0x61 snapshot invalid")
	}
	p.ctrl = data[1]
	return nil
}
