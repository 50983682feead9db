package chipset

import (
	"bytes"
	"encoding/gob"
	"errors"
	"io"

	"fuji/mem"
)

// The standard PC serial port layout.
const (
	COM1Base uint16 = 0x3F8
	COM1IRQ         = 4
	COM2Base uint16 = 0x2F8
	COM2IRQ         = 3
	COM3Base uint16 = 0x3E8
	COM3IRQ         = 4
	COM4Base uint16 = 0x2E8
	COM4IRQ         = 3
)

// UARTClockHz is the baud generator input of a PC serial port (1.8432 MHz
// divided by 16): divisor 1 is 115200 baud.
const UARTClockHz = 115200

const uartFIFOSize = 16

// Register offsets.
const (
	uartRBR = 0 // RBR/THR, DLL when DLAB
	uartIER = 1 // DLM when DLAB
	uartIIR = 2 // IIR on read, FCR on write
	uartLCR = 3
	uartMCR = 4
	uartLSR = 5
	uartMSR = 6
	uartSCR = 7
)

// IER bits.
const (
	uartIERRDI  = 0x01 // received data available (and character timeout)
	uartIERTHRI = 0x02 // transmitter holding register empty
	uartIERRLSI = 0x04 // receiver line status
	uartIERMSI  = 0x08 // modem status
)

// IIR values.
const (
	uartIIRNone   = 0x01
	uartIIRMSI    = 0x00
	uartIIRTHRI   = 0x02
	uartIIRRDI    = 0x04
	uartIIRRLSI   = 0x06
	uartIIRCTI    = 0x0C
	uartIIRFIFOOn = 0xC0
)

// FCR bits.
const (
	uartFCREnable  = 0x01
	uartFCRRxReset = 0x02
	uartFCRTxReset = 0x04
	uartFCRDMA     = 0x08
)

// LSR bits.
const (
	uartLSRDR   = 0x01
	uartLSROE   = 0x02
	uartLSRPE   = 0x04
	uartLSRFE   = 0x08
	uartLSRBI   = 0x10
	uartLSRTHRE = 0x20
	uartLSRTEMT = 0x40
	uartLSRFErr = 0x80 // error in the RX FIFO
	uartLSRErrs = uartLSROE | uartLSRPE | uartLSRFE | uartLSRBI
)

// MCR bits.
const (
	uartMCRDTR  = 0x01
	uartMCRRTS  = 0x02
	uartMCROUT1 = 0x04
	uartMCROUT2 = 0x08
	uartMCRLoop = 0x10
)

// MSR bits.
const (
	uartMSRDCTS = 0x01
	uartMSRDDSR = 0x02
	uartMSRTERI = 0x04
	uartMSRDDCD = 0x08
	uartMSRCTS  = 0x10
	uartMSRDSR  = 0x20
	uartMSRRI   = 0x40
	uartMSRDCD  = 0x80
)

// RxError marks a received character with the line errors a real line
// can produce; the UART reports them in LSR when the character reaches
// the top of the receive FIFO.
type RxError uint8

// Receive error kinds (their LSR bit values).
const (
	RxParityError  RxError = uartLSRPE
	RxFramingError RxError = uartLSRFE
	RxBreak        RxError = uartLSRBI
)

// UART is a National Semiconductor 16550A. Transmission is instantaneous:
// a byte written to THR goes to the backend (or, in loopback, to the
// receiver) at once, so THR and the transmitter are always empty by the
// time the guest looks again; this is what QEMU does and keeps guests
// fast. Reception is paced by the host through Receive/RxSpace.
//
// A UART is not safe for concurrent use; the machine serializes host
// input with guest accesses.
type UART struct {
	base uint16
	irq  IRQLine
	out  io.Writer
	clk  Clock

	s       uartState
	irqHigh bool
	txBuf   [1]byte // so that a transmit does not allocate
}

// uartState is everything a snapshot holds.
type uartState struct {
	IER, LCR, MCR, LSR, MSR, SCR, DLL, DLM, FCR uint8

	// Receive FIFO (in 16450 mode only one entry is used). Err holds the
	// RxError bits of each character.
	RxData  [uartFIFOSize]uint8
	RxErr   [uartFIFOSize]uint8
	RxHead  int
	RxCount int

	THRIPending bool // THR-empty interrupt armed
	CTIPending  bool // character timeout indication
	TimeoutAt   int64
	TimeoutArm  bool

	HostLines uint8 // host's CTS/DSR/RI/DCD in MSR bit positions
}

// NewUART returns a 16550A at base raising irq (nil means NoIRQ). out
// receives transmitted bytes (nil discards them). clk times the character
// timeout indication; without a clock the timeout is signalled as soon as
// it could be (data below the trigger level and nothing else to do).
func NewUART(base uint16, irq IRQLine, out io.Writer, clk Clock) *UART {
	if irq == nil {
		irq = NoIRQ{}
	}
	u := &UART{base: base, irq: irq, out: out, clk: clk}
	u.s.HostLines = uartMSRCTS | uartMSRDSR | uartMSRDCD
	u.Reset()
	return u
}

// Register claims base..base+7.
func (u *UART) Register(b *mem.PortBus) { b.Register(u.base, u.base+7, u) }

// Reset puts the UART in its master-reset state. The host's modem lines
// (CTS, DSR, DCD: a connected, ready peer) survive, as they are outside
// the chip.
func (u *UART) Reset() {
	host := u.s.HostLines
	u.s = uartState{
		LSR:       uartLSRTHRE | uartLSRTEMT,
		HostLines: host,
		DLL:       0x0C, // 9600 baud: what a cold PC port tends to hold
	}
	u.s.MSR = u.lines()
	u.irqHigh = false
	u.irq.Set(false)
}

// SetModemLines sets the modem status inputs the host side drives.
// Changes show up as MSR delta bits (and a modem status interrupt).
func (u *UART) SetModemLines(cts, dsr, ri, dcd bool) {
	var v uint8
	if cts {
		v |= uartMSRCTS
	}
	if dsr {
		v |= uartMSRDSR
	}
	if ri {
		v |= uartMSRRI
	}
	if dcd {
		v |= uartMSRDCD
	}
	u.s.HostLines = v
	u.updateMSR()
	u.update()
}

// lines returns the current CTS/DSR/RI/DCD inputs: the host's, or in
// loopback the chip's own modem outputs.
func (u *UART) lines() uint8 {
	if u.s.MCR&uartMCRLoop == 0 {
		return u.s.HostLines
	}
	m := u.s.MCR
	var v uint8
	if m&uartMCRRTS != 0 {
		v |= uartMSRCTS
	}
	if m&uartMCRDTR != 0 {
		v |= uartMSRDSR
	}
	if m&uartMCROUT1 != 0 {
		v |= uartMSRRI
	}
	if m&uartMCROUT2 != 0 {
		v |= uartMSRDCD
	}
	return v
}

// updateMSR latches new input levels and their delta bits.
func (u *UART) updateMSR() {
	old := u.s.MSR & 0xF0
	now := u.lines()
	ch := old ^ now
	d := u.s.MSR & 0x0F
	if ch&uartMSRCTS != 0 {
		d |= uartMSRDCTS
	}
	if ch&uartMSRDSR != 0 {
		d |= uartMSRDDSR
	}
	if ch&uartMSRDCD != 0 {
		d |= uartMSRDDCD
	}
	if old&uartMSRRI != 0 && now&uartMSRRI == 0 { // trailing edge only
		d |= uartMSRTERI
	}
	u.s.MSR = now | d
}

func (u *UART) fifoOn() bool { return u.s.FCR&uartFCREnable != 0 }

func (u *UART) rxCap() int {
	if u.fifoOn() {
		return uartFIFOSize
	}
	return 1
}

func (u *UART) trigger() int {
	switch u.s.FCR >> 6 {
	case 0:
		return 1
	case 1:
		return 4
	case 2:
		return 8
	}
	return 14
}

// timeoutNS returns four character times at the programmed format and
// divisor, in ns.
func (u *UART) timeoutNS() int64 {
	div := int64(u.s.DLM)<<8 | int64(u.s.DLL)
	if div == 0 {
		div = 0x10000 // the 16550 divides by 2^16 for a zero divisor
	}
	bits2 := int64(2 * (1 + 5 + int(u.s.LCR&3))) // start + data, in half bits
	if u.s.LCR&0x08 != 0 {
		bits2 += 2 // parity
	}
	switch {
	case u.s.LCR&0x04 == 0:
		bits2 += 2
	case u.s.LCR&3 == 0:
		bits2 += 3 // 1.5 stop bits with 5-bit characters
	default:
		bits2 += 4
	}
	return 4 * bits2 * div * 1_000_000_000 / (2 * UARTClockHz)
}

// armTimeout restarts the character timeout timer: the 16550 restarts it
// whenever a character enters or leaves the receive FIFO.
func (u *UART) armTimeout() {
	u.s.CTIPending = false
	u.s.TimeoutArm = false
	if !u.fifoOn() || u.s.RxCount == 0 {
		return
	}
	if u.clk == nil {
		u.s.CTIPending = true
		return
	}
	u.s.TimeoutArm = true
	u.s.TimeoutAt = u.clk.Now() + u.timeoutNS()
}

// Deadline returns when the character timeout will fire.
func (u *UART) Deadline() int64 {
	if u.s.TimeoutArm {
		return u.s.TimeoutAt
	}
	return NoDeadline
}

// Advance signals the character timeout once its time has come.
func (u *UART) Advance(now int64) {
	if u.s.TimeoutArm && now >= u.s.TimeoutAt {
		u.s.TimeoutArm = false
		u.s.CTIPending = true
		u.update()
	}
}

// iir computes the interrupt identification, highest priority first.
func (u *UART) iir() uint8 {
	s := &u.s
	id := uint8(uartIIRNone)
	switch {
	case s.IER&uartIERRLSI != 0 && s.LSR&uartLSRErrs != 0:
		id = uartIIRRLSI
	case s.IER&uartIERRDI != 0 && s.CTIPending:
		id = uartIIRCTI
	case s.IER&uartIERRDI != 0 && s.LSR&uartLSRDR != 0 && (!u.fifoOn() || s.RxCount >= u.trigger()):
		id = uartIIRRDI
	case s.IER&uartIERTHRI != 0 && s.THRIPending:
		id = uartIIRTHRI
	case s.IER&uartIERMSI != 0 && s.MSR&0x0F != 0:
		id = uartIIRMSI
	}
	if u.fifoOn() {
		id |= uartIIRFIFOOn
	}
	return id
}

// update drives the IRQ line. On a PC, OUT2 gates the UART's interrupt
// output onto the bus; in loopback the chip forces its modem outputs,
// OUT2 among them, inactive, so the interrupt stays inside the chip.
func (u *UART) update() {
	level := u.iir()&uartIIRNone == 0 && u.s.MCR&(uartMCROUT2|uartMCRLoop) == uartMCROUT2
	if level != u.irqHigh {
		u.irqHigh = level
		u.irq.Set(level)
	}
}

// IRQ reports the level of the interrupt line.
func (u *UART) IRQ() bool { return u.irqHigh }

// latchTop shows the errors of the character now at the top of the FIFO.
func (u *UART) latchTop() {
	if u.s.RxCount > 0 {
		u.s.LSR |= u.s.RxErr[u.s.RxHead] & (uartLSRPE | uartLSRFE | uartLSRBI)
	}
}

// fifoErr recomputes LSR bit 7: any character with an error in the FIFO.
func (u *UART) fifoErr() {
	u.s.LSR &^= uartLSRFErr
	if !u.fifoOn() {
		return
	}
	for i := 0; i < u.s.RxCount; i++ {
		if u.s.RxErr[(u.s.RxHead+i)%uartFIFOSize] != 0 {
			u.s.LSR |= uartLSRFErr
			return
		}
	}
}

// rx puts a character into the receiver. When the FIFO (or RBR) is full
// the character is an overrun: in FIFO mode it is lost, in 16450 mode it
// overwrites RBR.
func (u *UART) rx(b byte, e RxError) {
	s := &u.s
	e &= RxParityError | RxFramingError | RxBreak
	if s.RxCount >= u.rxCap() {
		s.LSR |= uartLSROE
		if !u.fifoOn() {
			s.RxData[s.RxHead] = b
			s.RxErr[s.RxHead] = uint8(e)
			s.LSR |= uint8(e)
		}
		u.update()
		return
	}
	i := (s.RxHead + s.RxCount) % uartFIFOSize
	s.RxData[i] = b
	s.RxErr[i] = uint8(e)
	s.RxCount++
	s.LSR |= uartLSRDR
	if s.RxCount == 1 {
		u.latchTop()
	}
	u.fifoErr()
	u.armTimeout()
	u.update()
}

// RxSpace returns how many characters the receiver can take now without
// an overrun. It is 0 in loopback, where the serial input is disconnected.
func (u *UART) RxSpace() int {
	if u.s.MCR&uartMCRLoop != 0 {
		return 0
	}
	return u.rxCap() - u.s.RxCount
}

// Receive delivers a character from the host side of the line. It returns
// false, taking nothing, when the receiver has no room (or is in
// loopback); the caller holds the byte and tries again later, as RTS/CTS
// flow control would.
func (u *UART) Receive(b byte) bool { return u.ReceiveWithError(b, 0) }

// ReceiveWithError delivers a character flagged with line errors (a
// break is a zero character with RxBreak). It returns false like Receive.
func (u *UART) ReceiveWithError(b byte, e RxError) bool {
	if u.RxSpace() <= 0 {
		return false
	}
	u.rx(b, e)
	return true
}

// transmit sends a character written to THR.
func (u *UART) transmit(b byte) {
	if u.s.MCR&uartMCRLoop != 0 {
		var e RxError
		if u.s.LCR&0x40 != 0 { // break control loops back as a break
			b, e = 0, RxBreak
		}
		u.rx(b, e)
	} else if u.out != nil {
		u.txBuf[0] = b
		u.out.Write(u.txBuf[:])
	}
	// The FIFO and shift register are empty again: THRE and TEMT stay set
	// and the THR-empty interrupt is raised anew.
	u.s.LSR |= uartLSRTHRE | uartLSRTEMT
	u.s.THRIPending = true
}

// In reads a register.
func (u *UART) In(port uint16, size int) uint32 {
	s := &u.s
	var v uint8
	switch (port - u.base) & 7 {
	case uartRBR:
		if s.LCR&0x80 != 0 {
			return uint32(s.DLL)
		}
		v = s.RxData[s.RxHead]
		if s.RxCount > 0 {
			s.RxCount--
			s.RxHead = (s.RxHead + 1) % uartFIFOSize
			if !u.fifoOn() {
				s.RxHead = 0
			}
			if s.RxCount == 0 {
				s.LSR &^= uartLSRDR
			} else {
				u.latchTop()
			}
			u.fifoErr()
			u.armTimeout()
			u.update()
		}
	case uartIER:
		if s.LCR&0x80 != 0 {
			return uint32(s.DLM)
		}
		v = s.IER
	case uartIIR:
		// The run loop may not have called Advance yet when a guest
		// polls IIR past the timeout (its deadline was computed
		// before the timer was armed): evaluate it now. (Found by
		// conformance/multiboot uart_loopback.)
		if u.clk != nil {
			u.Advance(u.clk.Now())
		}
		v = u.iir()
		if v&0x0F == uartIIRTHRI {
			s.THRIPending = false // reading IIR acknowledges THRE
			u.update()
		}
	case uartLCR:
		v = s.LCR
	case uartMCR:
		v = s.MCR
	case uartLSR:
		v = s.LSR
		s.LSR &^= uartLSRErrs
		u.fifoErr()
		u.update()
	case uartMSR:
		v = s.MSR
		s.MSR &= 0xF0
		u.update()
	case uartSCR:
		v = s.SCR
	}
	return uint32(v)
}

// Out writes a register.
func (u *UART) Out(port uint16, size int, val uint32) {
	s := &u.s
	v := uint8(val)
	switch (port - u.base) & 7 {
	case uartRBR:
		if s.LCR&0x80 != 0 {
			s.DLL = v
			return
		}
		s.THRIPending = false // writing THR acknowledges THRE
		u.transmit(v)
	case uartIER:
		if s.LCR&0x80 != 0 {
			s.DLM = v
			return
		}
		old := s.IER
		s.IER = v & 0x0F
		// Enabling ETBEI while THR is empty raises the interrupt at once
		// (Linux's THRE test depends on it); disabling it drops it.
		if s.IER&uartIERTHRI == 0 {
			s.THRIPending = false
		} else if old&uartIERTHRI == 0 && s.LSR&uartLSRTHRE != 0 {
			s.THRIPending = true
		}
	case uartIIR:
		u.writeFCR(v)
	case uartLCR:
		s.LCR = v
	case uartMCR:
		s.MCR = v & 0x1F
		u.updateMSR()
	case uartSCR:
		s.SCR = v
	}
	u.update()
}

// writeFCR programs the FIFOs. Changing the enable bit clears both FIFOs;
// the other bits are only written while the enable bit is (being) set.
func (u *UART) writeFCR(v uint8) {
	s := &u.s
	if (v^s.FCR)&uartFCREnable != 0 {
		s.RxCount, s.RxHead = 0, 0
		s.LSR &^= uartLSRDR
		v |= uartFCRRxReset
	}
	if v&uartFCREnable == 0 {
		s.FCR = 0
		s.LSR &^= uartLSRFErr
		u.armTimeout()
		return
	}
	if v&uartFCRRxReset != 0 {
		s.RxCount, s.RxHead = 0, 0
		s.LSR &^= uartLSRDR
	}
	// TX reset: the transmitter is always empty (see UART), nothing to do.
	s.FCR = v & (uartFCREnable | uartFCRDMA | 0xC0)
	u.fifoErr()
	u.armTimeout()
}

// Save returns the UART's state.
func (u *UART) Save() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&u.s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load restores a state from Save.
func (u *UART) Load(data []byte) error {
	var st uartState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return errors.New("uart: bad snapshot: " + err.Error())
	}
	if st.RxHead < 0 || st.RxHead >= uartFIFOSize || st.RxCount < 0 || st.RxCount > uartFIFOSize ||
		st.IER&0xF0 != 0 || st.MCR&0xE0 != 0 || st.FCR&0x36 != 0 ||
		(st.FCR&uartFCREnable == 0 && (st.RxCount > 1 || st.RxHead != 0)) {
		return errors.New("uart: bad snapshot: state out of range")
	}
	u.s = st
	u.irqHigh = false
	u.irq.Set(false)
	u.update()
	return nil
}
