package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"
)

// Key names a physical key of a 105-key PC keyboard (the 104-key US
// layout plus the ISO key next to left Shift), plus the three ACPI keys,
// independently of scancode set. The zero Key is no key.
type Key uint8

// Keys, in keyboard order.
const (
	KeyNone Key = iota
	KeyEscape
	KeyF1
	KeyF2
	KeyF3
	KeyF4
	KeyF5
	KeyF6
	KeyF7
	KeyF8
	KeyF9
	KeyF10
	KeyF11
	KeyF12
	KeyPrintScreen
	KeyScrollLock
	KeyPause
	KeyGrave
	Key1
	Key2
	Key3
	Key4
	Key5
	Key6
	Key7
	Key8
	Key9
	Key0
	KeyMinus
	KeyEqual
	KeyBackspace
	KeyTab
	KeyQ
	KeyW
	KeyE
	KeyR
	KeyT
	KeyY
	KeyU
	KeyI
	KeyO
	KeyP
	KeyLeftBracket
	KeyRightBracket
	KeyBackslash // ANSI backslash; the ISO '#' key sends the same codes
	KeyCapsLock
	KeyA
	KeyS
	KeyD
	KeyF
	KeyG
	KeyH
	KeyJ
	KeyK
	KeyL
	KeySemicolon
	KeyApostrophe
	KeyEnter
	KeyLeftShift
	KeyNonUSBackslash // the ISO 105th key between left Shift and Z
	KeyZ
	KeyX
	KeyC
	KeyV
	KeyB
	KeyN
	KeyM
	KeyComma
	KeyPeriod
	KeySlash
	KeyRightShift
	KeyLeftCtrl
	KeyLeftMeta // left Windows key
	KeyLeftAlt
	KeySpace
	KeyRightAlt
	KeyRightMeta // right Windows key
	KeyMenu
	KeyRightCtrl
	KeyInsert
	KeyHome
	KeyPageUp
	KeyDelete
	KeyEnd
	KeyPageDown
	KeyUp
	KeyLeft
	KeyDown
	KeyRight
	KeyNumLock
	KeyKPSlash
	KeyKPAsterisk
	KeyKPMinus
	KeyKP7
	KeyKP8
	KeyKP9
	KeyKPPlus
	KeyKP4
	KeyKP5
	KeyKP6
	KeyKP1
	KeyKP2
	KeyKP3
	KeyKPEnter
	KeyKP0
	KeyKPPeriod
	KeyPower
	KeySleep
	KeyWake
	numKeys
)

// keyCodes holds a key's make codes: s1 and s2 in sets 1 and 2 (0xE0xx
// for E0-prefixed keys), s3 in set 3 (0 where set 3 has no code).
// PrintScreen and Pause are sequences built in code.
type keyCodes struct {
	s1, s2 uint16
	s3     uint8
}

var keyTable = [numKeys]keyCodes{
	KeyEscape:         {0x01, 0x76, 0x08},
	KeyF1:             {0x3B, 0x05, 0x07},
	KeyF2:             {0x3C, 0x06, 0x0F},
	KeyF3:             {0x3D, 0x04, 0x17},
	KeyF4:             {0x3E, 0x0C, 0x1F},
	KeyF5:             {0x3F, 0x03, 0x27},
	KeyF6:             {0x40, 0x0B, 0x2F},
	KeyF7:             {0x41, 0x83, 0x37},
	KeyF8:             {0x42, 0x0A, 0x3F},
	KeyF9:             {0x43, 0x01, 0x47},
	KeyF10:            {0x44, 0x09, 0x4F},
	KeyF11:            {0x57, 0x78, 0x56},
	KeyF12:            {0x58, 0x07, 0x5E},
	KeyPrintScreen:    {0xE037, 0xE07C, 0x57},
	KeyScrollLock:     {0x46, 0x7E, 0x5F},
	KeyPause:          {0x45, 0x77, 0x62},
	KeyGrave:          {0x29, 0x0E, 0x0E},
	Key1:              {0x02, 0x16, 0x16},
	Key2:              {0x03, 0x1E, 0x1E},
	Key3:              {0x04, 0x26, 0x26},
	Key4:              {0x05, 0x25, 0x25},
	Key5:              {0x06, 0x2E, 0x2E},
	Key6:              {0x07, 0x36, 0x36},
	Key7:              {0x08, 0x3D, 0x3D},
	Key8:              {0x09, 0x3E, 0x3E},
	Key9:              {0x0A, 0x46, 0x46},
	Key0:              {0x0B, 0x45, 0x45},
	KeyMinus:          {0x0C, 0x4E, 0x4E},
	KeyEqual:          {0x0D, 0x55, 0x55},
	KeyBackspace:      {0x0E, 0x66, 0x66},
	KeyTab:            {0x0F, 0x0D, 0x0D},
	KeyQ:              {0x10, 0x15, 0x15},
	KeyW:              {0x11, 0x1D, 0x1D},
	KeyE:              {0x12, 0x24, 0x24},
	KeyR:              {0x13, 0x2D, 0x2D},
	KeyT:              {0x14, 0x2C, 0x2C},
	KeyY:              {0x15, 0x35, 0x35},
	KeyU:              {0x16, 0x3C, 0x3C},
	KeyI:              {0x17, 0x43, 0x43},
	KeyO:              {0x18, 0x44, 0x44},
	KeyP:              {0x19, 0x4D, 0x4D},
	KeyLeftBracket:    {0x1A, 0x54, 0x54},
	KeyRightBracket:   {0x1B, 0x5B, 0x5B},
	KeyBackslash:      {0x2B, 0x5D, 0x5C},
	KeyCapsLock:       {0x3A, 0x58, 0x14},
	KeyA:              {0x1E, 0x1C, 0x1C},
	KeyS:              {0x1F, 0x1B, 0x1B},
	KeyD:              {0x20, 0x23, 0x23},
	KeyF:              {0x21, 0x2B, 0x2B},
	KeyG:              {0x22, 0x34, 0x34},
	KeyH:              {0x23, 0x33, 0x33},
	KeyJ:              {0x24, 0x3B, 0x3B},
	KeyK:              {0x25, 0x42, 0x42},
	KeyL:              {0x26, 0x4B, 0x4B},
	KeySemicolon:      {0x27, 0x4C, 0x4C},
	KeyApostrophe:     {0x28, 0x52, 0x52},
	KeyEnter:          {0x1C, 0x5A, 0x5A},
	KeyLeftShift:      {0x2A, 0x12, 0x12},
	KeyNonUSBackslash: {0x56, 0x61, 0x13},
	KeyZ:              {0x2C, 0x1A, 0x1A},
	KeyX:              {0x2D, 0x22, 0x22},
	KeyC:              {0x2E, 0x21, 0x21},
	KeyV:              {0x2F, 0x2A, 0x2A},
	KeyB:              {0x30, 0x32, 0x32},
	KeyN:              {0x31, 0x31, 0x31},
	KeyM:              {0x32, 0x3A, 0x3A},
	KeyComma:          {0x33, 0x41, 0x41},
	KeyPeriod:         {0x34, 0x49, 0x49},
	KeySlash:          {0x35, 0x4A, 0x4A},
	KeyRightShift:     {0x36, 0x59, 0x59},
	KeyLeftCtrl:       {0x1D, 0x14, 0x11},
	KeyLeftMeta:       {0xE05B, 0xE01F, 0x8B},
	KeyLeftAlt:        {0x38, 0x11, 0x19},
	KeySpace:          {0x39, 0x29, 0x29},
	KeyRightAlt:       {0xE038, 0xE011, 0x39},
	KeyRightMeta:      {0xE05C, 0xE027, 0x8C},
	KeyMenu:           {0xE05D, 0xE02F, 0x8D},
	KeyRightCtrl:      {0xE01D, 0xE014, 0x58},
	KeyInsert:         {0xE052, 0xE070, 0x67},
	KeyHome:           {0xE047, 0xE06C, 0x6E},
	KeyPageUp:         {0xE049, 0xE07D, 0x6F},
	KeyDelete:         {0xE053, 0xE071, 0x64},
	KeyEnd:            {0xE04F, 0xE069, 0x65},
	KeyPageDown:       {0xE051, 0xE07A, 0x6D},
	KeyUp:             {0xE048, 0xE075, 0x63},
	KeyLeft:           {0xE04B, 0xE06B, 0x61},
	KeyDown:           {0xE050, 0xE072, 0x60},
	KeyRight:          {0xE04D, 0xE074, 0x6A},
	KeyNumLock:        {0x45, 0x77, 0x76},
	KeyKPSlash:        {0xE035, 0xE04A, 0x77},
	KeyKPAsterisk:     {0x37, 0x7C, 0x7E},
	KeyKPMinus:        {0x4A, 0x7B, 0x84},
	KeyKP7:            {0x47, 0x6C, 0x6C},
	KeyKP8:            {0x48, 0x75, 0x75},
	KeyKP9:            {0x49, 0x7D, 0x7D},
	KeyKPPlus:         {0x4E, 0x79, 0x7C},
	KeyKP4:            {0x4B, 0x6B, 0x6B},
	KeyKP5:            {0x4C, 0x73, 0x73},
	KeyKP6:            {0x4D, 0x74, 0x74},
	KeyKP1:            {0x4F, 0x69, 0x69},
	KeyKP2:            {0x50, 0x72, 0x72},
	KeyKP3:            {0x51, 0x7A, 0x7A},
	KeyKPEnter:        {0xE01C, 0xE05A, 0x79},
	KeyKP0:            {0x52, 0x70, 0x70},
	KeyKPPeriod:       {0x53, 0x71, 0x71},
	KeyPower:          {0xE05E, 0xE037, 0},
	KeySleep:          {0xE05F, 0xE03F, 0},
	KeyWake:           {0xE063, 0xE05E, 0},
}

// Keyboard replies and commands.
const (
	kbdAck     = 0xFA
	kbdResend  = 0xFE
	kbdBATOK   = 0xAA
	kbdEcho    = 0xEE
	kbdQueueSz = 16

	kbdDefaultTypematic = 0x2B // 10.9 characters/s after 500 ms

	// Set-3 key mode bits.
	kbdModeTypematic = 0x01
	kbdModeBreak     = 0x02
)

// PS2Keyboard is an MF2 keyboard on the 8042's keyboard port. Host key
// events become scancodes in the set the guest selected; the keyboard's
// own typematic repeat, timed by the machine clock, repeats the last key
// held (a KeyDown for a key already down, such as a host's auto-repeat,
// is ignored).
//
// Not modelled: the "fake shift" E0 12 / E0 F0 12 sequences that real
// keyboards wrap around the navigation keys depending on NumLock and
// Shift (QEMU omits them too; guests ignore them).
type PS2Keyboard struct {
	clk    Clock
	notify func() // tells the controller a byte is waiting
	s      kbdState
}

type kbdState struct {
	Q      [kbdQueueSz]uint8
	QHead  int
	QCount int
	Last   uint8 // last byte taken by the controller, for Resend

	Set       uint8 // scancode set 1, 2 or 3
	Enabled   bool  // scanning
	LEDs      uint8
	Typematic uint8
	Cmd       uint8 // command waiting for its parameter(s), 0 if none

	Down  [(numKeys + 7) / 8]uint8
	Modes [256]uint8 // set-3 key modes by set-3 code

	Repeat   Key // key being repeated, KeyNone if none
	RepeatAt int64
}

// NewPS2Keyboard returns a keyboard after its power-on self-test. clk
// drives typematic repeat (nil: no repeat).
func NewPS2Keyboard(clk Clock) *PS2Keyboard {
	k := &PS2Keyboard{clk: clk}
	k.Reset()
	return k
}

// Reset powers the keyboard on: set 2, scanning enabled, defaults, queue
// empty, LEDs off. The power-on BAT code is not queued: firmware resets
// the keyboard itself and reads that one.
func (k *PS2Keyboard) Reset() {
	k.s = kbdState{Set: 2, Enabled: true}
	k.defaults()
}

func (k *PS2Keyboard) defaults() {
	k.s.Typematic = kbdDefaultTypematic
	for i := range k.s.Modes {
		k.s.Modes[i] = kbdModeTypematic | kbdModeBreak
	}
	k.s.Set = 2
	k.s.Repeat = KeyNone
}

// LEDs returns the LED state the guest set: bit 0 Scroll Lock, bit 1 Num
// Lock, bit 2 Caps Lock.
func (k *PS2Keyboard) LEDs() uint8 { return k.s.LEDs }

// ScancodeSet returns the current scancode set (1, 2 or 3).
func (k *PS2Keyboard) ScancodeSet() int { return int(k.s.Set) }

func (k *PS2Keyboard) setNotify(f func()) { k.notify = f }

func (k *PS2Keyboard) space() int { return kbdQueueSz - k.s.QCount }

func (k *PS2Keyboard) push(b uint8) {
	if k.s.QCount == kbdQueueSz {
		return
	}
	k.s.Q[(k.s.QHead+k.s.QCount)%kbdQueueSz] = b
	k.s.QCount++
}

// reply queues command responses and tells the controller.
func (k *PS2Keyboard) reply(b ...uint8) {
	for _, v := range b {
		k.push(v)
	}
	k.kick()
}

func (k *PS2Keyboard) kick() {
	if k.notify != nil && k.s.QCount > 0 {
		k.notify()
	}
}

func (k *PS2Keyboard) clearQueue() { k.s.QHead, k.s.QCount = 0, 0 }

// overflowCode is the key detection error / overrun code of the set.
func (k *PS2Keyboard) overflowCode() uint8 {
	if k.s.Set == 1 {
		return 0xFF
	}
	return 0x00
}

// emit queues a whole key sequence or, when it does not fit (one slot is
// kept for it), the overrun code once.
func (k *PS2Keyboard) emit(seq []uint8) {
	if len(seq) == 0 {
		return
	}
	if k.s.QCount+len(seq) >= kbdQueueSz {
		ov := k.overflowCode()
		last := (k.s.QHead + k.s.QCount - 1) % kbdQueueSz
		if k.s.QCount < kbdQueueSz && (k.s.QCount == 0 || k.s.Q[last] != ov) {
			k.push(ov)
		}
	} else {
		for _, b := range seq {
			k.push(b)
		}
	}
	k.kick()
}

// pending reports whether a byte waits for the controller.
func (k *PS2Keyboard) pending() bool { return k.s.QCount > 0 }

// pop hands the next byte to the controller.
func (k *PS2Keyboard) pop() (uint8, bool) {
	if k.s.QCount == 0 {
		return 0, false
	}
	b := k.s.Q[k.s.QHead]
	k.s.QHead = (k.s.QHead + 1) % kbdQueueSz
	k.s.QCount--
	k.s.Last = b
	return b, true
}

func (k *PS2Keyboard) isDown(key Key) bool { return k.s.Down[key/8]&(1<<(key%8)) != 0 }

func (k *PS2Keyboard) setDown(key Key, on bool) {
	if on {
		k.s.Down[key/8] |= 1 << (key % 8)
	} else {
		k.s.Down[key/8] &^= 1 << (key % 8)
	}
}

// KeyDown presses a key.
func (k *PS2Keyboard) KeyDown(key Key) {
	if key == KeyNone || key >= numKeys || k.isDown(key) {
		return
	}
	k.setDown(key, true)
	if !k.s.Enabled {
		return
	}
	var buf [8]uint8
	k.emit(k.sequence(buf[:0], key, true, false))
	k.s.Repeat = KeyNone
	if k.clk != nil && k.typematic(key) {
		k.s.Repeat = key
		k.s.RepeatAt = k.clk.Now() + k.delay()
	}
}

// KeyUp releases a key.
func (k *PS2Keyboard) KeyUp(key Key) {
	if key == KeyNone || key >= numKeys || !k.isDown(key) {
		return
	}
	k.setDown(key, false)
	if k.s.Repeat == key {
		k.s.Repeat = KeyNone
	}
	if !k.s.Enabled {
		return
	}
	var buf [8]uint8
	k.emit(k.sequence(buf[:0], key, false, false))
}

// typematic reports whether a key repeats when held.
func (k *PS2Keyboard) typematic(key Key) bool {
	switch k.s.Set {
	case 3:
		c := keyTable[key].s3
		return c != 0 && k.s.Modes[c]&kbdModeTypematic != 0
	default:
		return key != KeyPause
	}
}

// delay and period decode the typematic byte: delay (bits 5-6) is
// 250 ms * (n+1); the period is (8+A) * 2^B * 4.17 ms with A bits 0-2
// and B bits 3-4 (30 to 2 characters a second).
func (k *PS2Keyboard) delay() int64 {
	return int64((k.s.Typematic>>5)&3+1) * 250_000_000
}

func (k *PS2Keyboard) period() int64 {
	a := int64(k.s.Typematic & 7)
	b := uint(k.s.Typematic>>3) & 3
	return (8 + a) << b * 4_170_000
}

// Deadline returns the time of the next typematic repeat.
func (k *PS2Keyboard) Deadline() int64 {
	if k.s.Repeat == KeyNone || !k.s.Enabled {
		return NoDeadline
	}
	return k.s.RepeatAt
}

// Advance sends the typematic repeat that is due. A machine that fell
// behind gets one repeat, not a burst: a real keyboard never sends faster
// than its rate.
func (k *PS2Keyboard) Advance(now int64) {
	if k.s.Repeat == KeyNone || !k.s.Enabled || now < k.s.RepeatAt {
		return
	}
	var buf [8]uint8
	k.emit(k.sequence(buf[:0], k.s.Repeat, true, true))
	k.s.RepeatAt += k.period()
	if k.s.RepeatAt <= now {
		k.s.RepeatAt = now + k.period()
	}
}

func (k *PS2Keyboard) mods() (ctrl, shift, alt bool) {
	ctrl = k.isDown(KeyLeftCtrl) || k.isDown(KeyRightCtrl)
	shift = k.isDown(KeyLeftShift) || k.isDown(KeyRightShift)
	alt = k.isDown(KeyLeftAlt) || k.isDown(KeyRightAlt)
	return
}

// sequence appends the scancodes of a key event in the current set.
func (k *PS2Keyboard) sequence(b []uint8, key Key, down, repeat bool) []uint8 {
	kc := keyTable[key]
	ctrl, shift, alt := k.mods()
	switch k.s.Set {
	case 1:
		switch key {
		case KeyPause:
			if !down {
				return b
			}
			if ctrl { // Ctrl+Pause is Break
				return append(b, 0xE0, 0x46, 0xE0, 0xC6)
			}
			return append(b, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5)
		case KeyPrintScreen:
			switch {
			case alt: // Alt+PrintScreen is SysRq
				if down {
					return append(b, 0x54)
				}
				return append(b, 0xD4)
			case ctrl || shift || repeat:
				if down {
					return append(b, 0xE0, 0x37)
				}
				return append(b, 0xE0, 0xB7)
			case down:
				return append(b, 0xE0, 0x2A, 0xE0, 0x37)
			default:
				return append(b, 0xE0, 0xB7, 0xE0, 0xAA)
			}
		}
		if kc.s1 == 0 {
			return b
		}
		if kc.s1 > 0xFF {
			b = append(b, uint8(kc.s1>>8))
		}
		c := uint8(kc.s1)
		if !down {
			c |= 0x80
		}
		return append(b, c)
	case 2:
		switch key {
		case KeyPause:
			if !down {
				return b
			}
			if ctrl {
				return append(b, 0xE0, 0x7E, 0xE0, 0xF0, 0x7E)
			}
			return append(b, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77)
		case KeyPrintScreen:
			switch {
			case alt:
				if down {
					return append(b, 0x84)
				}
				return append(b, 0xF0, 0x84)
			case ctrl || shift || repeat:
				if down {
					return append(b, 0xE0, 0x7C)
				}
				return append(b, 0xE0, 0xF0, 0x7C)
			case down:
				return append(b, 0xE0, 0x12, 0xE0, 0x7C)
			default:
				return append(b, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12)
			}
		}
		if kc.s2 == 0 {
			return b
		}
		if kc.s2 > 0xFF {
			b = append(b, uint8(kc.s2>>8))
		}
		if !down {
			b = append(b, 0xF0)
		}
		return append(b, uint8(kc.s2))
	default: // set 3: one code per key, break only where the key's mode says
		c := kc.s3
		if c == 0 {
			return b
		}
		if !down {
			if k.s.Modes[c]&kbdModeBreak == 0 {
				return b
			}
			b = append(b, 0xF0)
		}
		return append(b, c)
	}
}

// command takes a byte the controller sends to the keyboard.
func (k *PS2Keyboard) command(v uint8) {
	if k.s.Cmd != 0 {
		cmd := k.s.Cmd
		// A command byte where a parameter belongs is a new command, as
		// on real keyboards (parameters never reach 0xED).
		if v < 0xED {
			switch cmd {
			case 0xED:
				k.s.Cmd = 0
				k.s.LEDs = v & 7
				k.reply(kbdAck)
			case 0xF3:
				k.s.Cmd = 0
				k.s.Typematic = v & 0x7F
				k.reply(kbdAck)
			case 0xF0:
				k.s.Cmd = 0
				switch {
				case v == 0:
					k.reply(kbdAck, k.s.Set)
				case v <= 3:
					k.s.Set = v
					k.s.Repeat = KeyNone
					k.reply(kbdAck)
				default:
					k.reply(kbdResend)
				}
			case 0xFB, 0xFC, 0xFD: // a list of set-3 keys, ended by a command
				switch cmd {
				case 0xFB:
					k.s.Modes[v] = kbdModeTypematic
				case 0xFC:
					k.s.Modes[v] = kbdModeBreak
				default:
					k.s.Modes[v] = 0
				}
				k.reply(kbdAck)
			default:
				k.s.Cmd = 0
			}
			return
		}
		k.s.Cmd = 0
	}
	switch v {
	case 0xED, 0xF0, 0xF3, 0xFB, 0xFC, 0xFD:
		k.s.Cmd = v
		k.reply(kbdAck)
	case 0xEE:
		k.reply(kbdEcho)
	case 0xF2: // MF2 keyboard
		k.reply(kbdAck, 0xAB, 0x83)
	case 0xF4:
		k.clearQueue()
		k.s.Enabled = true
		k.reply(kbdAck)
	case 0xF5:
		k.clearQueue()
		k.defaults()
		k.s.Enabled = false
		k.reply(kbdAck)
	case 0xF6:
		k.clearQueue()
		k.defaults()
		k.reply(kbdAck)
	case 0xF7, 0xF8, 0xF9, 0xFA:
		m := [4]uint8{kbdModeTypematic, kbdModeBreak, 0, kbdModeTypematic | kbdModeBreak}[v-0xF7]
		for i := range k.s.Modes {
			k.s.Modes[i] = m
		}
		k.reply(kbdAck)
	case 0xFE:
		k.reply(k.s.Last)
	case 0xFF:
		k.clearQueue()
		k.defaults()
		k.s.Enabled = true
		k.s.LEDs = 0
		k.reply(kbdAck, kbdBATOK)
	default:
		k.reply(kbdResend)
	}
}

// Save returns the keyboard's state.
func (k *PS2Keyboard) Save() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&k.s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (k *PS2Keyboard) Load(data []byte) error {
	st, err := decodeKbdState(data)
	if err != nil {
		return err
	}
	k.s = st
	return nil
}

func decodeKbdState(data []byte) (kbdState, error) {
	var st kbdState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return st, errors.New("ps2kbd: bad snapshot: " + err.Error())
	}
	if st.QHead < 0 || st.QHead >= kbdQueueSz || st.QCount < 0 || st.QCount > kbdQueueSz ||
		st.Set < 1 || st.Set > 3 || st.Repeat >= numKeys || st.LEDs > 7 || st.Typematic > 0x7F {
		return st, errors.New("ps2kbd: bad snapshot: state out of range")
	}
	return st, nil
}
