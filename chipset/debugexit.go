package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"

	"fuji/mem"
)

// DebugExitPort and DebugExitSize are the isa-debug-exit layout test
// programs use (QEMU's -device isa-debug-exit,iobase=0xf4,iosize=0x04).
const (
	DebugExitPort uint16 = 0xF4
	DebugExitSize        = 4
)

// DebugExit lets a guest end the emulator with a status code: writing v
// to any of its ports requests exit with status (v<<1)|1, so a guest can
// never produce status 0 (that stays reserved for "the machine stopped
// normally"), exactly as QEMU does.
type DebugExit struct {
	base    uint16
	onExit  func(status int)
	status  int
	pending bool
}

// NewDebugExit returns the device at base (iosize 4). onExit, if not nil,
// is called on every exit request; the run loop can also poll Requested.
func NewDebugExit(base uint16, onExit func(status int)) *DebugExit {
	return &DebugExit{base: base, onExit: onExit}
}

// Register claims base..base+3.
func (d *DebugExit) Register(b *mem.PortBus) {
	b.Register(d.base, d.base+DebugExitSize-1, d)
}

// In reads 0, as QEMU does.
func (d *DebugExit) In(port uint16, size int) uint32 { return 0 }

// Out requests an exit with the value written (of the access's size).
func (d *DebugExit) Out(port uint16, size int, val uint32) {
	d.status = int(uint64(val)<<1 | 1)
	d.pending = true
	if d.onExit != nil {
		d.onExit(d.status)
	}
}

// Requested reports whether the guest asked to exit and with which status.
func (d *DebugExit) Requested() (status int, ok bool) { return d.status, d.pending }

// Reset forgets a request.
func (d *DebugExit) Reset() { d.status, d.pending = 0, false }

type debugExitState struct {
	Status  int64
	Pending bool
}

// Save returns the device's state.
func (d *DebugExit) Save() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(debugExitState{Status: int64(d.status), Pending: d.pending}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (d *DebugExit) Load(data []byte) error {
	var st debugExitState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return errors.New("debugexit: bad snapshot: " + err.Error())
	}
	if st.Status < 0 || st.Status > 1<<33 || (st.Pending && st.Status&1 == 0) {
		return errors.New("debugexit: bad snapshot: status out of range")
	}
	d.status, d.pending = int(st.Status), st.Pending
	return nil
}
