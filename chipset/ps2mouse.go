package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"
)

// Mouse button bits for Move, in PS/2 packet order.
const (
	MouseLeft    = 0x01
	MouseRight   = 0x02
	MouseMiddle  = 0x04
	MouseButton4 = 0x08 // reported with device ID 4 only
	MouseButton5 = 0x10 // reported with device ID 4 only
)

const (
	mouseAck     = 0xFA
	mouseResend  = 0xFE
	mouseQueueSz = 16
)

// PS2Mouse is a PS/2 mouse with the Microsoft IntelliMouse extensions: the
// sample-rate knock 200,100,80 turns it into device ID 3 (wheel), and
// 200,200,80 into ID 4 (wheel plus buttons 4 and 5).
//
// Movement the host reports accumulates until the output queue has room
// for a packet, so nothing is lost while the guest is slow; a move larger
// than a packet holds is sent as several packets.
type PS2Mouse struct {
	notify func()
	s      mouseState
}

type mouseState struct {
	Q      [mouseQueueSz]uint8
	QHead  int
	QCount int
	Last   uint8

	Enabled bool // data reporting
	Remote  bool
	Wrap    bool
	Scale21 bool
	Rate    uint8
	Res     uint8
	ID      uint8
	Rates   [3]uint8 // last three sample rates set, newest last
	Cmd     uint8    // command waiting for its parameter

	DX, DY, DZ int   // movement not yet reported; DY positive up
	Buttons    uint8 // current buttons
	Sent       uint8 // buttons last reported
}

// NewPS2Mouse returns a mouse after its self-test.
func NewPS2Mouse() *PS2Mouse {
	m := &PS2Mouse{}
	m.Reset()
	return m
}

// Reset powers the mouse on: stream mode, reporting off, ID 0, defaults.
func (m *PS2Mouse) Reset() {
	m.s = mouseState{}
	m.defaults()
}

func (m *PS2Mouse) defaults() {
	m.s.Rate, m.s.Res, m.s.Scale21, m.s.Enabled = 100, 2, false, false
	m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
}

// ID returns the device ID the mouse reports (0, 3 or 4).
func (m *PS2Mouse) ID() uint8 { return m.s.ID }

func (m *PS2Mouse) setNotify(f func()) { m.notify = f }

func (m *PS2Mouse) push(b uint8) {
	if m.s.QCount == mouseQueueSz {
		return
	}
	m.s.Q[(m.s.QHead+m.s.QCount)%mouseQueueSz] = b
	m.s.QCount++
}

func (m *PS2Mouse) reply(b ...uint8) {
	for _, v := range b {
		m.push(v)
	}
	m.kick()
}

func (m *PS2Mouse) kick() {
	if m.notify != nil && m.s.QCount > 0 {
		m.notify()
	}
}

func (m *PS2Mouse) pending() bool { return m.s.QCount > 0 }

func (m *PS2Mouse) pop() (uint8, bool) {
	if m.s.QCount == 0 {
		return 0, false
	}
	b := m.s.Q[m.s.QHead]
	m.s.QHead = (m.s.QHead + 1) % mouseQueueSz
	m.s.QCount--
	m.s.Last = b
	return b, true
}

func (m *PS2Mouse) clearQueue() { m.s.QHead, m.s.QCount = 0, 0 }

func (m *PS2Mouse) packetLen() int {
	if m.s.ID >= 3 {
		return 4
	}
	return 3
}

// Move reports relative motion and the button state from the host: dx
// positive right, dy positive down (screen coordinates; the mouse sends
// it as positive up), dz positive for the wheel turned towards the user.
// buttons is a mask of MouseLeft, MouseRight, MouseMiddle, MouseButton4
// and MouseButton5.
func (m *PS2Mouse) Move(dx, dy, dz int, buttons uint8) {
	m.s.Buttons = buttons & 0x1F
	if !m.s.Remote && !m.s.Enabled {
		return // a disabled mouse in stream mode does not count
	}
	m.s.DX = mouseSat(m.s.DX + dx)
	m.s.DY = mouseSat(m.s.DY - dy)
	if m.s.ID >= 3 {
		m.s.DZ = mouseSat(m.s.DZ + dz)
	}
	m.flush()
}

// mouseSat keeps accumulated motion in a sane range whatever the host
// sends.
func mouseSat(v int) int {
	const lim = 1 << 20
	if v > lim {
		return lim
	}
	if v < -lim {
		return -lim
	}
	return v
}

func mouseClamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// mouseScale21 is the 2:1 scaling curve of stream mode.
func mouseScale21(v int) int {
	n := v
	if n < 0 {
		n = -n
	}
	switch n {
	case 0, 1, 3:
	case 2:
		n = 1
	case 4:
		n = 6
	case 5:
		n = 9
	default:
		n *= 2
	}
	if v < 0 {
		return -n
	}
	return n
}

// flush sends stream-mode packets while there is something to report and
// room for it.
func (m *PS2Mouse) flush() {
	if m.s.Remote || !m.s.Enabled || m.s.Wrap {
		return
	}
	sent := false
	for (m.s.DX != 0 || m.s.DY != 0 || m.s.DZ != 0 || m.s.Buttons != m.s.Sent) &&
		mouseQueueSz-m.s.QCount >= m.packetLen() {
		lo, hi := -256, 255
		if m.s.Scale21 {
			lo, hi = -128, 127 // scaled, still within 9 bits
		}
		x := mouseClamp(m.s.DX, lo, hi)
		y := mouseClamp(m.s.DY, lo, hi)
		z := mouseClamp(m.s.DZ, -8, 7)
		m.s.DX -= x
		m.s.DY -= y
		m.s.DZ -= z
		if m.s.Scale21 {
			x, y = mouseScale21(x), mouseScale21(y)
		}
		m.packet(x, y, z, false, false)
		sent = true
	}
	if sent {
		m.kick()
	}
}

// packet queues one movement packet.
func (m *PS2Mouse) packet(x, y, z int, ovx, ovy bool) {
	b0 := uint8(0x08) | m.s.Buttons&0x07
	if x < 0 {
		b0 |= 0x10
	}
	if y < 0 {
		b0 |= 0x20
	}
	if ovx {
		b0 |= 0x40
	}
	if ovy {
		b0 |= 0x80
	}
	m.push(b0)
	m.push(uint8(x))
	m.push(uint8(y))
	switch m.s.ID {
	case 3:
		m.push(uint8(int8(z)))
	case 4:
		m.push(uint8(z)&0x0F | (m.s.Buttons&0x18)<<1)
	}
	m.s.Sent = m.s.Buttons
}

// readData answers Read Data (remote mode polling): one packet with all
// movement since the last one; overflow bits flag counts that did not fit.
func (m *PS2Mouse) readData() {
	x, y := m.s.DX, m.s.DY
	ovx := x < -256 || x > 255
	ovy := y < -256 || y > 255
	x, y = mouseClamp(x, -256, 255), mouseClamp(y, -256, 255)
	z := mouseClamp(m.s.DZ, -8, 7)
	m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
	m.packet(x, y, z, ovx, ovy)
}

// knock records a sample rate and checks the IntelliMouse sequences.
func (m *PS2Mouse) knock(rate uint8) {
	m.s.Rates = [3]uint8{m.s.Rates[1], m.s.Rates[2], rate}
	switch m.s.Rates {
	case [3]uint8{200, 100, 80}:
		if m.s.ID < 3 {
			m.s.ID = 3
		}
	case [3]uint8{200, 200, 80}:
		m.s.ID = 4
	}
}

// command takes a byte the controller sends to the mouse (0xD4).
func (m *PS2Mouse) command(v uint8) {
	if m.s.Wrap && v != 0xEC && v != 0xFF {
		m.reply(v) // wrap mode echoes
		return
	}
	if m.s.Cmd != 0 {
		cmd := m.s.Cmd
		m.s.Cmd = 0
		switch cmd {
		case 0xF3:
			m.s.Rate = v
			m.knock(v)
			m.reply(mouseAck)
			return
		case 0xE8:
			if v <= 3 {
				m.s.Res = v
				m.reply(mouseAck)
			} else {
				m.reply(mouseResend)
			}
			return
		}
	}
	switch v {
	case 0xE6:
		m.s.Scale21 = false
		m.reply(mouseAck)
	case 0xE7:
		m.s.Scale21 = true
		m.reply(mouseAck)
	case 0xE8, 0xF3:
		m.s.Cmd = v
		m.reply(mouseAck)
	case 0xE9:
		st := m.s.Buttons&MouseLeft<<2 | m.s.Buttons&MouseMiddle>>1 | m.s.Buttons&MouseRight>>1
		if m.s.Remote {
			st |= 0x40
		}
		if m.s.Enabled {
			st |= 0x20
		}
		if m.s.Scale21 {
			st |= 0x10
		}
		m.reply(mouseAck, st, m.s.Res, m.s.Rate)
	case 0xEA:
		m.s.Remote = false
		m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
		m.reply(mouseAck)
	case 0xEB:
		m.push(mouseAck)
		m.readData()
		m.kick()
	case 0xEC:
		m.s.Wrap = false
		m.reply(mouseAck)
	case 0xEE:
		m.s.Wrap = true
		m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
		m.reply(mouseAck)
	case 0xF0:
		m.s.Remote = true
		m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
		m.reply(mouseAck)
	case 0xF2:
		m.reply(mouseAck, m.s.ID)
	case 0xF4:
		m.s.Enabled = true
		m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
		m.s.Sent = m.s.Buttons
		m.reply(mouseAck)
	case 0xF5:
		m.clearQueue()
		m.s.Enabled = false
		m.s.DX, m.s.DY, m.s.DZ = 0, 0, 0
		m.reply(mouseAck)
	case 0xF6:
		m.clearQueue()
		m.defaults()
		m.reply(mouseAck)
	case 0xFE:
		m.reply(m.s.Last)
	case 0xFF:
		m.clearQueue()
		buttons := m.s.Buttons
		m.Reset()
		m.s.Buttons, m.s.Sent = buttons, buttons
		m.reply(mouseAck, 0xAA, 0x00)
	default:
		m.reply(mouseResend)
	}
}

// Save returns the mouse's state.
func (m *PS2Mouse) Save() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&m.s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (m *PS2Mouse) Load(data []byte) error {
	st, err := decodeMouseState(data)
	if err != nil {
		return err
	}
	m.s = st
	return nil
}

func decodeMouseState(data []byte) (mouseState, error) {
	var st mouseState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return st, errors.New("ps2mouse: bad snapshot: " + err.Error())
	}
	const lim = 1 << 20
	if st.QHead < 0 || st.QHead >= mouseQueueSz || st.QCount < 0 || st.QCount > mouseQueueSz ||
		(st.ID != 0 && st.ID != 3 && st.ID != 4) || st.Res > 3 ||
		st.DX < -lim || st.DX > lim || st.DY < -lim || st.DY > lim || st.DZ < -lim || st.DZ > lim {
		return st, errors.New("ps2mouse: bad snapshot: state out of range")
	}
	return st, nil
}
