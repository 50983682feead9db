package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"

	"fuji/mem"
)

// POSTPortAddr is the port firmware writes its power-on self-test
// progress codes to.
const POSTPortAddr uint16 = 0x80

// POSTPort latches the last byte written to port 0x80. Many chipsets read
// the latch back, and guests use the port as a harmless I/O delay, so it
// must exist (an unclaimed port would read 0xFF and that is fine too, but
// a latch lets a debugger see how far firmware got).
type POSTPort struct {
	last uint8
}

// NewPOSTPort returns the latch.
func NewPOSTPort() *POSTPort { return &POSTPort{} }

// Register claims port 0x80.
func (p *POSTPort) Register(b *mem.PortBus) { b.Register(POSTPortAddr, POSTPortAddr, p) }

// In returns the latched code.
func (p *POSTPort) In(port uint16, size int) uint32 { return uint32(p.last) }

// Out latches a code.
func (p *POSTPort) Out(port uint16, size int, val uint32) { p.last = uint8(val) }

// Last returns the last code written.
func (p *POSTPort) Last() byte { return p.last }

// Reset clears the latch.
func (p *POSTPort) Reset() { p.last = 0 }

type postPortState struct{ Last uint8 }

// Save returns the latch's state.
func (p *POSTPort) Save() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(postPortState{Last: p.last}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (p *POSTPort) Load(data []byte) error {
	var st postPortState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return errors.New("postport: bad snapshot: " + err.Error())
	}
	p.last = st.Last
	return nil
}
