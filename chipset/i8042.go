package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"

	"fuji/mem"
)

// A20Gate is the A20 address line gate the keyboard controller and system
// control port A drive. mem.Bus satisfies it. The gate has one state: the
// last writer wins, as QEMU models the two sources.
type A20Gate interface {
	SetA20(on bool)
	A20() bool
}

// The 8042's ports and PC IRQs.
const (
	I8042DataPort   uint16 = 0x60
	I8042StatusPort uint16 = 0x64
	I8042KbdIRQ            = 1
	I8042MouseIRQ          = 12
)

// Status register bits.
const (
	kbcStatOBF     = 0x01 // output buffer full
	kbcStatIBF     = 0x02 // input buffer full (never: we take bytes at once)
	kbcStatSYS     = 0x04 // system flag (self-test passed / warm boot)
	kbcStatA2      = 0x08 // last write was to the command port
	kbcStatINH     = 0x10 // keyboard not inhibited (keylock open)
	kbcStatAUXB    = 0x20 // output buffer holds a mouse byte
	kbcStatTimeout = 0x40
	kbcStatParity  = 0x80
)

// Command byte bits.
const (
	kbcCmdKbdInt    = 0x01
	kbcCmdAuxInt    = 0x02
	kbcCmdSYS       = 0x04
	kbcCmdKbdOff    = 0x10
	kbcCmdAuxOff    = 0x20
	kbcCmdTranslate = 0x40
)

// Output port bits.
const (
	kbcOutReset  = 0x01 // 0 holds the CPU in reset
	kbcOutA20    = 0x02
	kbcOutAuxOBF = 0x20
	kbcOutKbdOBF = 0x10
)

// kbcXlat is the 8042's scancode set 2 to set 1 translation table. Codes
// 0x80 and up pass unchanged except 0x83 (F7) and 0x84 (SysRq); an F0
// prefix is swallowed and sets bit 7 of the next translated code.
var kbcXlat = func() (t [256]uint8) {
	lo := [128]uint8{
		0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
		0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
		0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
		0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
		0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
		0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
		0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
		0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
	}
	copy(t[:], lo[:])
	for i := 0x80; i < 0x100; i++ {
		t[i] = uint8(i)
	}
	t[0x83], t[0x84] = 0x41, 0x54
	return
}()

// I8042 is the PC/AT keyboard controller with its PS/2 keyboard and
// mouse. Bytes from the devices wait in their own queues until the single
// output buffer is free; controller replies go first. Writes are taken at
// once, so IBF never shows.
type I8042 struct {
	kbdIRQ, mouseIRQ IRQLine
	a20              A20Gate
	reset            func()
	kbd              *PS2Keyboard
	mouse            *PS2Mouse

	s                  kbcState
	kbdLevel, auxLevel bool
}

type kbcState struct {
	Status  uint8
	RAM     [32]uint8 // RAM[0] is the command byte
	Out     uint8     // output buffer
	OutPort uint8
	Cmd     uint8 // command waiting for a data byte on port 0x60
	XlatF0  bool  // translation saw F0; the next code gets bit 7

	// Controller replies waiting for the output buffer, and whether each
	// is to look like a mouse byte.
	Reply    [4]uint8
	ReplyAux [4]bool
	ReplyN   int
}

// NewI8042 returns a controller raising kbdIRQ (IRQ 1) for keyboard bytes
// and mouseIRQ (IRQ 12) for mouse bytes, driving a20 (may be nil) and
// calling reset (may be nil) when the guest pulses the reset line. Its
// keyboard's typematic repeat has no clock until SetClock.
func NewI8042(kbdIRQ, mouseIRQ IRQLine, a20 A20Gate, reset func()) *I8042 {
	if kbdIRQ == nil {
		kbdIRQ = NoIRQ{}
	}
	if mouseIRQ == nil {
		mouseIRQ = NoIRQ{}
	}
	c := &I8042{kbdIRQ: kbdIRQ, mouseIRQ: mouseIRQ, a20: a20, reset: reset,
		kbd: NewPS2Keyboard(nil), mouse: NewPS2Mouse()}
	c.kbd.setNotify(c.service)
	c.mouse.setNotify(c.service)
	c.Reset()
	return c
}

// SetClock gives the keyboard the machine clock for typematic repeat; the
// machine then schedules Keyboard() as a Timed device.
func (c *I8042) SetClock(clk Clock) { c.kbd.clk = clk }

// Deadline is the keyboard's next typematic repeat (the controller itself
// has no timers), so the machine can schedule the I8042 as one Timed.
func (c *I8042) Deadline() int64 { return c.kbd.Deadline() }

// Advance runs the keyboard's typematic repeat.
func (c *I8042) Advance(now int64) { c.kbd.Advance(now) }

// Keyboard returns the keyboard on the first port.
func (c *I8042) Keyboard() *PS2Keyboard { return c.kbd }

// Mouse returns the mouse on the auxiliary port.
func (c *I8042) Mouse() *PS2Mouse { return c.mouse }

// Register claims ports 0x60 and 0x64.
func (c *I8042) Register(b *mem.PortBus) {
	b.Register(I8042DataPort, I8042DataPort, c)
	b.Register(I8042StatusPort, I8042StatusPort, c)
}

// Reset returns the controller and both devices to power-on state (the
// values QEMU uses: both interrupts enabled, no translation, SYS clear
// until the self-test). It leaves the A20 gate to the machine.
func (c *I8042) Reset() {
	c.s = kbcState{
		Status:  kbcStatA2 | kbcStatINH,
		OutPort: 0xCC | kbcOutReset | kbcOutA20,
	}
	c.s.RAM[0] = kbcCmdKbdInt | kbcCmdAuxInt
	c.kbd.Reset()
	c.mouse.Reset()
	c.kbdLevel, c.auxLevel = false, false
	c.kbdIRQ.Set(false)
	c.mouseIRQ.Set(false)
}

func (c *I8042) cmdByte() uint8 { return c.s.RAM[0] }

// reply queues a controller-generated byte.
func (c *I8042) reply(b uint8, aux bool) {
	if c.s.ReplyN < len(c.s.Reply) {
		c.s.Reply[c.s.ReplyN] = b
		c.s.ReplyAux[c.s.ReplyN] = aux
		c.s.ReplyN++
	}
	c.service()
}

// service fills an empty output buffer and updates the IRQ lines.
func (c *I8042) service() {
	if c.s.Status&kbcStatOBF == 0 {
		c.fill()
	}
	c.updateIRQ()
}

func (c *I8042) fill() {
	if c.s.ReplyN > 0 {
		c.load(c.s.Reply[0], c.s.ReplyAux[0])
		copy(c.s.Reply[:], c.s.Reply[1:])
		copy(c.s.ReplyAux[:], c.s.ReplyAux[1:])
		c.s.ReplyN--
		return
	}
	if c.cmdByte()&kbcCmdKbdOff == 0 {
		for {
			b, ok := c.kbd.pop()
			if !ok {
				break
			}
			if c.cmdByte()&kbcCmdTranslate != 0 {
				if b == 0xF0 {
					c.s.XlatF0 = true
					continue
				}
				b = kbcXlat[b]
				if c.s.XlatF0 {
					b |= 0x80
					c.s.XlatF0 = false
				}
			}
			c.load(b, false)
			return
		}
	}
	if c.cmdByte()&kbcCmdAuxOff == 0 {
		if b, ok := c.mouse.pop(); ok {
			c.load(b, true)
		}
	}
}

func (c *I8042) load(b uint8, aux bool) {
	c.s.Out = b
	c.s.Status |= kbcStatOBF
	if aux {
		c.s.Status |= kbcStatAUXB
	} else {
		c.s.Status &^= kbcStatAUXB
	}
}

func (c *I8042) updateIRQ() {
	full := c.s.Status&kbcStatOBF != 0
	aux := c.s.Status&kbcStatAUXB != 0
	k := full && !aux && c.cmdByte()&kbcCmdKbdInt != 0
	m := full && aux && c.cmdByte()&kbcCmdAuxInt != 0
	if k != c.kbdLevel {
		c.kbdLevel = k
		c.kbdIRQ.Set(k)
	}
	if m != c.auxLevel {
		c.auxLevel = m
		c.mouseIRQ.Set(m)
	}
}

// In reads the data or status port.
func (c *I8042) In(port uint16, size int) uint32 {
	if port == I8042StatusPort {
		return uint32(c.s.Status)
	}
	// Reading an empty buffer returns the last byte again (EMM386 and
	// others read twice).
	v := c.s.Out
	if c.s.Status&kbcStatOBF != 0 {
		c.s.Status &^= kbcStatOBF | kbcStatAUXB
		c.updateIRQ() // drop the line so the next byte is a new edge
		c.service()
	}
	return uint32(v)
}

// Out writes a command (0x64) or data (0x60).
func (c *I8042) Out(port uint16, size int, val uint32) {
	v := uint8(val)
	if port == I8042StatusPort {
		c.s.Status |= kbcStatA2
		c.command(v)
		return
	}
	c.s.Status &^= kbcStatA2
	cmd := c.s.Cmd
	c.s.Cmd = 0
	switch {
	case cmd >= 0x60 && cmd <= 0x7F:
		c.writeRAM(cmd&0x1F, v)
	case cmd == 0xA5: // password bytes until a zero; no password kept
		if v != 0 {
			c.s.Cmd = 0xA5
		}
	case cmd == 0xD1:
		c.writeOutPort(v)
	case cmd == 0xD2:
		c.reply(v, false)
	case cmd == 0xD3:
		c.reply(v, true)
	case cmd == 0xD4:
		// Talking to a device re-enables its interface, as on QEMU.
		c.s.RAM[0] &^= kbcCmdAuxOff
		c.mouse.command(v)
	default:
		c.s.RAM[0] &^= kbcCmdKbdOff
		c.kbd.command(v)
	}
	c.service()
}

func (c *I8042) writeRAM(i, v uint8) {
	c.s.RAM[i] = v
	if i == 0 {
		c.s.Status = c.s.Status&^kbcStatSYS | v&kbcCmdSYS
		if v&kbcCmdTranslate == 0 {
			c.s.XlatF0 = false
		}
	}
}

func (c *I8042) a20on() bool {
	if c.a20 != nil {
		return c.a20.A20()
	}
	return c.s.OutPort&kbcOutA20 != 0
}

func (c *I8042) setA20(on bool) {
	if on {
		c.s.OutPort |= kbcOutA20
	} else {
		c.s.OutPort &^= kbcOutA20
	}
	if c.a20 != nil {
		c.a20.SetA20(on)
	}
}

func (c *I8042) writeOutPort(v uint8) {
	c.s.OutPort = v
	c.setA20(v&kbcOutA20 != 0)
	if v&kbcOutReset == 0 {
		c.s.OutPort |= kbcOutReset // the reset is a pulse: the line comes back
		if c.reset != nil {
			c.reset()
		}
	}
}

// readOutPort returns the output port with the live A20 and buffer bits.
func (c *I8042) readOutPort() uint8 {
	v := c.s.OutPort &^ (kbcOutA20 | kbcOutKbdOBF | kbcOutAuxOBF)
	if c.a20on() {
		v |= kbcOutA20
	}
	if c.kbdLevel {
		v |= kbcOutKbdOBF
	}
	if c.auxLevel {
		v |= kbcOutAuxOBF
	}
	return v
}

func (c *I8042) command(v uint8) {
	switch {
	case v >= 0x20 && v <= 0x3F:
		c.reply(c.s.RAM[v&0x1F], false)
	case v >= 0x60 && v <= 0x7F:
		c.s.Cmd = v
	case v >= 0xF0: // pulse output port bits 0-3 low; bit 0 is reset
		if v&1 == 0 && c.reset != nil {
			c.reset()
		}
	}
	switch v {
	case 0xA4: // password installed? no
		c.reply(0xF1, false)
	case 0xA5, 0xD1, 0xD2, 0xD3, 0xD4:
		c.s.Cmd = v
	case 0xA7:
		c.s.RAM[0] |= kbcCmdAuxOff
	case 0xA8:
		c.s.RAM[0] &^= kbcCmdAuxOff
		c.service()
	case 0xA9, 0xAB: // interface tests: no error
		c.reply(0x00, false)
	case 0xAA:
		c.s.Status |= kbcStatSYS
		c.reply(0x55, false)
	case 0xAD:
		c.s.RAM[0] |= kbcCmdKbdOff
	case 0xAE:
		c.s.RAM[0] &^= kbcCmdKbdOff
		c.service()
	case 0xC0: // input port: keyboard not inhibited
		c.reply(0x80, false)
	case 0xD0:
		c.reply(c.readOutPort(), false)
	case 0xDD:
		c.setA20(false)
	case 0xDF:
		c.setA20(true)
	case 0xE0: // test inputs: clock and data low
		c.reply(0x00, false)
	}
	c.updateIRQ()
}

type kbcSnapshot struct {
	C    kbcState
	K, M []byte
}

// Save returns the state of the controller and both devices.
func (c *I8042) Save() ([]byte, error) {
	k, err := c.kbd.Save()
	if err != nil {
		return nil, err
	}
	m, err := c.mouse.Save()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&kbcSnapshot{C: c.s, K: k, M: m}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (c *I8042) Load(data []byte) error {
	var st kbcSnapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return errors.New("i8042: bad snapshot: " + err.Error())
	}
	if st.C.ReplyN < 0 || st.C.ReplyN > len(st.C.Reply) {
		return errors.New("i8042: bad snapshot: state out of range")
	}
	ks, err := decodeKbdState(st.K)
	if err != nil {
		return err
	}
	ms, err := decodeMouseState(st.M)
	if err != nil {
		return err
	}
	c.kbd.s, c.mouse.s, c.s = ks, ms, st.C
	c.kbdLevel, c.auxLevel = false, false
	c.kbdIRQ.Set(false)
	c.mouseIRQ.Set(false)
	c.updateIRQ()
	return nil
}
