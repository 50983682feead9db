package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"

	"fuji/mem"
)

// Port92Addr is system control port A ("fast A20 and init").
const Port92Addr uint16 = 0x92

// Port92 is system control port A at 0x92: bit 1 gates A20 without the
// slow keyboard controller round trip, bit 0 resets the processor.
type Port92 struct {
	a20   A20Gate
	reset func()
	val   uint8 // last value written, bit 0 excluded
}

// NewPort92 returns the port wired to the A20 gate and the machine's reset
// request (either may be nil).
func NewPort92(a20 A20Gate, reset func()) *Port92 {
	return &Port92{a20: a20, reset: reset}
}

// Register claims port 0x92.
func (p *Port92) Register(b *mem.PortBus) { b.Register(Port92Addr, Port92Addr, p) }

// In reads the port. Bit 1 reports the A20 gate itself, so that the value
// agrees with whoever (8042 or this port) changed it last. Bit 0 reads 0:
// the reset it requests has already happened.
func (p *Port92) In(port uint16, size int) uint32 {
	v := p.val &^ 0x03
	if p.a20on() {
		v |= 0x02
	}
	return uint32(v)
}

// Out writes the port.
func (p *Port92) Out(port uint16, size int, val uint32) {
	v := uint8(val)
	p.val = v &^ 0x01
	if p.a20 != nil {
		p.a20.SetA20(v&0x02 != 0)
	}
	if v&0x01 != 0 && p.reset != nil {
		p.reset()
	}
}

func (p *Port92) a20on() bool {
	if p.a20 != nil {
		return p.a20.A20()
	}
	return p.val&0x02 != 0
}

// Reset returns the port to its power-on value. It does not drive the A20
// gate: the machine resets that once, not every device that touches it.
func (p *Port92) Reset() { p.val = 0 }

type port92State struct{ Val uint8 }

// Save returns the port's state.
func (p *Port92) Save() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(port92State{Val: p.val}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (p *Port92) Load(data []byte) error {
	var st port92State
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return errors.New("port92: bad snapshot: " + err.Error())
	}
	p.val = st.Val &^ 0x01
	return nil
}
