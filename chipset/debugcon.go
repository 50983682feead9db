package chipset

import (
	"io"

	"fuji/mem"
)

// Debug console ports: QEMU's isa-debugcon default and the Bochs "port E9
// hack". Both behave the same here.
const (
	DebugConPort uint16 = 0x402
	BochsE9Port  uint16 = 0xE9
)

// debugConReadback is what a read returns: guests probe for the device
// by checking for it (QEMU's readback default).
const debugConReadback = 0xE9

// DebugCon is a write-only byte console on one I/O port. Reads return
// 0xE9 so that guests can detect it.
type DebugCon struct {
	port uint16
	out  io.Writer
	buf  [1]byte // per-device so that a write does not allocate
}

// NewDebugCon returns a debug console at port writing to out (nil discards).
func NewDebugCon(port uint16, out io.Writer) *DebugCon {
	return &DebugCon{port: port, out: out}
}

// Register claims the console's port.
func (d *DebugCon) Register(b *mem.PortBus) { b.Register(d.port, d.port, d) }

// In returns the detection value.
func (d *DebugCon) In(port uint16, size int) uint32 { return debugConReadback }

// Out writes the low byte to the backend. Errors of the backend are the
// host's business; the guest's port write always completes.
func (d *DebugCon) Out(port uint16, size int, val uint32) {
	if d.out == nil {
		return
	}
	d.buf[0] = uint8(val)
	d.out.Write(d.buf[:])
}

// Reset does nothing: the console has no state.
func (d *DebugCon) Reset() {}

// Save returns the console's (empty) state.
func (d *DebugCon) Save() ([]byte, error) { return []byte{}, nil }

// Load accepts the state from Save.
func (d *DebugCon) Load(data []byte) error { return nil }
