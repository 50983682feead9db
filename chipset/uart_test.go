package chipset

import (
	"bytes"
	"math/rand"
	"testing"

	"fuji/mem"
)

type uartFakeClock struct{ t int64 }

func (c *uartFakeClock) Now() int64 { return c.t }

type uartIRQ struct {
	level bool
	edges int
}

func (l *uartIRQ) Set(v bool) {
	if v && !l.level {
		l.edges++
	}
	l.level = v
}

func newTestUART(t *testing.T) (*UART, *mem.PortBus, *bytes.Buffer, *uartIRQ, *uartFakeClock) {
	t.Helper()
	var out bytes.Buffer
	irq := &uartIRQ{}
	clk := &uartFakeClock{}
	u := NewUART(COM1Base, irq, &out, clk)
	pb := mem.NewPortBus()
	u.Register(pb)
	return u, pb, &out, irq, clk
}

func uin(pb *mem.PortBus, off uint16) uint8     { return uint8(pb.In(COM1Base+off, 1)) }
func uout(pb *mem.PortBus, off uint16, v uint8) { pb.Out(COM1Base+off, 1, uint32(v)) }

// TestUARTLinuxAutoconfig walks the probes of Linux's 8250 autoconfig()
// and autoconfig_16550a() and checks each lands on "16550A".
func TestUARTLinuxAutoconfig(t *testing.T) {
	_, pb, _, _, _ := newTestUART(t)
	// IER scratch test.
	uout(pb, uartIER, 0)
	if v := uin(pb, uartIER) & 0x0F; v != 0 {
		t.Fatalf("IER after 0: %#x", v)
	}
	uout(pb, uartIER, 0x0F)
	if v := uin(pb, uartIER) & 0x0F; v != 0x0F {
		t.Fatalf("IER after 0x0F: %#x", v)
	}
	uout(pb, uartIER, 0)
	// Loopback test: LOOP|RTS|OUT2 must read back CTS|DCD.
	save := uin(pb, uartMCR)
	uout(pb, uartMCR, uartMCRLoop|0x0A)
	if v := uin(pb, uartMSR) & 0xF0; v != 0x90 {
		t.Fatalf("loopback MSR = %#x, want 0x90", v)
	}
	uout(pb, uartMCR, save)
	// Scratch register.
	for _, v := range []uint8{0xA5, 0x5A} {
		uout(pb, uartSCR, v)
		if got := uin(pb, uartSCR); got != v {
			t.Fatalf("SCR = %#x, want %#x", got, v)
		}
	}
	// FIFO probe: IIR bits 7:6 = 3 means 16550A.
	uout(pb, uartIIR, uartFCREnable)
	if v := uin(pb, uartIIR) >> 6; v != 3 {
		t.Fatalf("IIR>>6 = %d, want 3", v)
	}
	// No EFR: with LCR 0x80 or 0xBF, offset 2 still reads IIR (non-zero).
	for _, lcr := range []uint8{0x80, 0xBF} {
		uout(pb, uartLCR, lcr)
		if uin(pb, uartIIR) == 0 {
			t.Fatalf("EFR appears present with LCR %#x", lcr)
		}
	}
	// Not a National SuperIO: IIR bit 4 does not follow MCR loop.
	uout(pb, uartLCR, 0)
	st1 := uin(pb, uartMCR)
	uout(pb, uartLCR, 0xE0)
	st2 := uin(pb, uartIIR)
	if (st1^st2)&uartMCRLoop == 0 {
		uout(pb, uartLCR, 0)
		uout(pb, uartMCR, st1^uartMCRLoop)
		uout(pb, uartLCR, 0xE0)
		st2 = uin(pb, uartIIR)
		uout(pb, uartLCR, 0)
		uout(pb, uartMCR, st1)
		if (st2^st1)&uartMCRLoop != 0 {
			t.Fatal("looks like a National SuperIO")
		}
	}
	// Not a TI16750: IIR bit 5 never sets.
	uout(pb, uartLCR, 0)
	uout(pb, uartIIR, uartFCREnable|0x20)
	s1 := uin(pb, uartIIR) & 0xE0
	uout(pb, uartIIR, 0)
	uout(pb, uartLCR, 0x80)
	uout(pb, uartIIR, uartFCREnable|0x20)
	s2 := uin(pb, uartIIR) & 0xE0
	uout(pb, uartIIR, uartFCREnable)
	uout(pb, uartLCR, 0)
	if s1 != 0xC0 || s2 != 0xC0 {
		t.Fatalf("16750 probe: %#x %#x", s1, s2)
	}
	// size_fifo(): 256 bytes into a looped-back FIFO, count what arrives.
	// 64 would make it a U6_16550A.
	oldFCR := uin(pb, uartIIR)
	oldMCR := uin(pb, uartMCR)
	uout(pb, uartIIR, uartFCREnable|uartFCRRxReset|uartFCRTxReset)
	uout(pb, uartMCR, uartMCRLoop)
	uout(pb, uartLCR, 0x80)
	uout(pb, 0, 1)
	uout(pb, 1, 0)
	uout(pb, uartLCR, 0x03)
	for i := 0; i < 256; i++ {
		uout(pb, uartRBR, uint8(i))
	}
	count := 0
	for ; uin(pb, uartLSR)&uartLSRDR != 0 && count < 256; count++ {
		uin(pb, uartRBR)
	}
	uout(pb, uartIIR, oldFCR)
	uout(pb, uartMCR, oldMCR)
	uout(pb, uartLCR, 0)
	if count != 16 {
		t.Fatalf("size_fifo counted %d, want 16", count)
	}
	// Not an XScale: IER bit 6 does not stick.
	uout(pb, uartIER, 0x40)
	if uin(pb, uartIER)&0x40 != 0 {
		t.Fatal("IER UUE bit sticks")
	}
}

func TestUARTTransmitAndDivisor(t *testing.T) {
	_, pb, out, _, _ := newTestUART(t)
	uout(pb, uartLCR, 0x83)
	uout(pb, uartRBR, 0x01)
	uout(pb, uartIER, 0x00)
	uout(pb, uartLCR, 0x03)
	uout(pb, uartRBR, 'h')
	uout(pb, uartRBR, 'i')
	if out.String() != "hi" {
		t.Fatalf("backend got %q", out.String())
	}
	uout(pb, uartLCR, 0x83)
	if uin(pb, 0) != 1 || uin(pb, 1) != 0 {
		t.Fatal("divisor latch does not read back")
	}
	uout(pb, uartLCR, 0x03)
	if v := uin(pb, uartLSR); v&(uartLSRTHRE|uartLSRTEMT) != uartLSRTHRE|uartLSRTEMT {
		t.Fatalf("LSR = %#x, THRE|TEMT expected", v)
	}
}

func TestUARTLoopback(t *testing.T) {
	u, pb, out, irq, _ := newTestUART(t)
	uout(pb, uartIIR, uartFCREnable)
	uout(pb, uartMCR, uartMCRLoop|uartMCROUT2)
	for _, b := range []byte("abc") {
		uout(pb, uartRBR, b)
	}
	if out.Len() != 0 {
		t.Fatal("loopback transmitted to the backend")
	}
	if u.RxSpace() != 0 || u.Receive('x') {
		t.Fatal("host input accepted in loopback")
	}
	var got []byte
	for uin(pb, uartLSR)&uartLSRDR != 0 {
		got = append(got, uin(pb, uartRBR))
	}
	if string(got) != "abc" {
		t.Fatalf("looped back %q", got)
	}
	// Modem outputs loop to inputs; delta bits latch and clear on read.
	uin(pb, uartMSR)
	uout(pb, uartMCR, uartMCRLoop|uartMCRDTR|uartMCROUT1)
	if v := uin(pb, uartMSR); v != uartMSRDSR|uartMSRRI|uartMSRDDSR|uartMSRDDCD {
		t.Fatalf("MSR = %#x", v)
	}
	if v := uin(pb, uartMSR); v&0x0F != 0 {
		t.Fatalf("MSR deltas not cleared: %#x", v)
	}
	uout(pb, uartMCR, uartMCRLoop|uartMCRDTR) // RI falls: trailing edge
	if v := uin(pb, uartMSR); v&uartMSRTERI == 0 {
		t.Fatalf("TERI not set on RI trailing edge: %#x", v)
	}
	// Interrupts work inside the chip but OUT2 is forced off in loopback.
	uout(pb, uartIER, uartIERTHRI)
	if uin(pb, uartIIR)&0x0F != uartIIRTHRI {
		t.Fatal("THRE interrupt not identified in loopback")
	}
	uout(pb, uartIER, 0)
	uout(pb, uartIER, uartIERTHRI)
	if irq.level {
		t.Fatal("IRQ line driven in loopback")
	}
	uout(pb, uartMCR, uartMCROUT2)
	if !irq.level {
		t.Fatal("IRQ line not driven with OUT2 outside loopback")
	}
}

func TestUARTLoopbackOverrun(t *testing.T) {
	_, pb, _, _, _ := newTestUART(t)
	uout(pb, uartIIR, uartFCREnable)
	uout(pb, uartMCR, uartMCRLoop)
	for i := 0; i < 20; i++ {
		uout(pb, uartRBR, byte(i))
	}
	lsr := uin(pb, uartLSR)
	if lsr&uartLSROE == 0 {
		t.Fatalf("no overrun: LSR %#x", lsr)
	}
	if uin(pb, uartLSR)&uartLSROE != 0 {
		t.Fatal("OE not cleared by LSR read")
	}
	n := 0
	for uin(pb, uartLSR)&uartLSRDR != 0 {
		if b := uin(pb, uartRBR); b != byte(n) {
			t.Fatalf("byte %d = %d", n, b)
		}
		n++
	}
	if n != 16 {
		t.Fatalf("FIFO held %d bytes, want 16", n)
	}
}

func TestUARTTriggerLevels(t *testing.T) {
	for _, tc := range []struct {
		fcr  uint8
		trig int
	}{{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xC1, 14}} {
		u, pb, _, irq, _ := newTestUART(t)
		uout(pb, uartMCR, uartMCROUT2)
		uout(pb, uartIIR, tc.fcr)
		uout(pb, uartIER, uartIERRDI)
		for i := 1; i <= tc.trig; i++ {
			if !u.Receive(byte(i)) {
				t.Fatal("Receive refused")
			}
			want := uint8(0xC1)
			if i == tc.trig {
				want = 0xC4
			}
			if got := uin(pb, uartIIR); got != want {
				t.Fatalf("trigger %d after %d bytes: IIR %#x want %#x", tc.trig, i, got, want)
			}
			if irq.level != (i == tc.trig) {
				t.Fatalf("trigger %d after %d bytes: irq %v", tc.trig, i, irq.level)
			}
		}
		if u.RxSpace() != 16-tc.trig {
			t.Fatalf("RxSpace = %d", u.RxSpace())
		}
	}
}

func TestUARTReceiveFull(t *testing.T) {
	u, pb, _, _, _ := newTestUART(t)
	// 16450 mode: one byte of room.
	if !u.Receive(1) || u.Receive(2) || u.RxSpace() != 0 {
		t.Fatal("16450 mode should hold exactly one byte")
	}
	if uin(pb, uartRBR) != 1 || uin(pb, uartLSR)&uartLSROE != 0 {
		t.Fatal("refused byte caused an overrun")
	}
	uout(pb, uartIIR, uartFCREnable)
	for i := 0; i < 16; i++ {
		if !u.Receive(byte(i)) {
			t.Fatalf("refused byte %d", i)
		}
	}
	if u.Receive(99) {
		t.Fatal("17th byte accepted")
	}
	// FCR RX reset empties the FIFO.
	uout(pb, uartIIR, uartFCREnable|uartFCRRxReset)
	if uin(pb, uartLSR)&uartLSRDR != 0 || u.RxSpace() != 16 {
		t.Fatal("RX FIFO reset did not clear")
	}
}

func TestUARTCharacterTimeout(t *testing.T) {
	u, pb, _, irq, clk := newTestUART(t)
	uout(pb, uartMCR, uartMCROUT2)
	uout(pb, uartLCR, 0x83) // 8N1
	uout(pb, uartRBR, 12)   // 9600 baud
	uout(pb, uartIER, 0)
	uout(pb, uartLCR, 0x03)
	uout(pb, uartIIR, 0xC1)
	uout(pb, uartIER, uartIERRDI)
	clk.t = 1000
	u.Receive('a')
	u.Receive('b')
	// 10 bits at 9600 baud: 1041666 ns a character; four of them.
	want := clk.t + 4*10*12*1_000_000_000/115200
	if d := u.Deadline(); d != want {
		t.Fatalf("deadline %d want %d", d, want)
	}
	u.Advance(want - 1)
	if uin(pb, uartIIR) != 0xC1 || irq.level {
		t.Fatal("timeout too early")
	}
	u.Advance(want)
	if got := uin(pb, uartIIR); got != 0xCC || !irq.level {
		t.Fatalf("IIR %#x irq %v: want character timeout", got, irq.level)
	}
	// Reading a character clears the indication and restarts the timer.
	clk.t = want + 5
	if uin(pb, uartRBR) != 'a' {
		t.Fatal("wrong byte")
	}
	if uin(pb, uartIIR) != 0xC1 || irq.level {
		t.Fatal("timeout not cleared by RBR read")
	}
	if u.Deadline() != clk.t+4*10*12*1_000_000_000/115200 {
		t.Fatal("timer not restarted")
	}
	uin(pb, uartRBR)
	if u.Deadline() != NoDeadline {
		t.Fatal("timer armed with an empty FIFO")
	}
}

func TestUARTPriorities(t *testing.T) {
	u, pb, _, irq, _ := newTestUART(t)
	uout(pb, uartMCR, uartMCROUT2)
	uout(pb, uartIIR, uartFCREnable) // trigger 1
	u.ReceiveWithError('p', RxParityError)
	u.SetModemLines(false, true, false, true) // CTS drops: DCTS
	uout(pb, uartIER, 0x0F)
	if !irq.level {
		t.Fatal("no IRQ")
	}
	steps := []struct {
		iir  uint8
		ack  func()
		name string
	}{
		{0xC6, func() {
			if v := uin(pb, uartLSR); v&(uartLSRPE|uartLSRFErr) != uartLSRPE|uartLSRFErr {
				t.Fatalf("LSR %#x lacks PE and FIFO error", v)
			}
		}, "line status"},
		{0xC4, func() {
			uin(pb, uartRBR)
			if uin(pb, uartLSR)&uartLSRFErr != 0 {
				t.Fatal("LSR bit 7 stays with no error left in the FIFO")
			}
		}, "data"},
		{0xC2, func() {}, "THRE (acked by the IIR read)"},
		{0xC0, func() { uin(pb, uartMSR) }, "modem status"},
		{0xC1, func() {}, "none"},
	}
	for _, s := range steps {
		if got := uin(pb, uartIIR); got != s.iir {
			t.Fatalf("%s: IIR %#x want %#x", s.name, got, s.iir)
		}
		s.ack()
	}
	if irq.level {
		t.Fatal("IRQ still high")
	}
	// Writing THR re-raises THRE (the byte leaves at once).
	uout(pb, uartRBR, 'x')
	level := irq.level
	if got := uin(pb, uartIIR); got != 0xC2 || !level {
		t.Fatalf("THRE not raised after a transmit: IIR %#x irq %v", got, level)
	}
}

func TestUARTOut2GatesIRQ(t *testing.T) {
	_, pb, _, irq, _ := newTestUART(t)
	uout(pb, uartIER, uartIERTHRI)
	if irq.level {
		t.Fatal("IRQ without OUT2")
	}
	if uin(pb, uartIIR)&0x0F != uartIIRTHRI {
		t.Fatal("interrupt not pending inside the chip")
	}
	uout(pb, uartIER, 0)
	uout(pb, uartIER, uartIERTHRI)
	uout(pb, uartMCR, uartMCROUT2)
	if !irq.level {
		t.Fatal("IRQ not raised once OUT2 is set")
	}
}

func TestUARTBreak(t *testing.T) {
	u, pb, _, _, _ := newTestUART(t)
	uout(pb, uartIIR, uartFCREnable)
	u.Receive('a')
	u.ReceiveWithError(0, RxBreak)
	if v := uin(pb, uartLSR); v&uartLSRBI != 0 || v&uartLSRFErr == 0 {
		t.Fatalf("LSR %#x: BI must wait until the break reaches the top", v)
	}
	uin(pb, uartRBR)
	if v := uin(pb, uartLSR); v&uartLSRBI == 0 {
		t.Fatalf("LSR %#x: BI missing at top of FIFO", v)
	}
}

func TestUARTSaveLoad(t *testing.T) {
	u, pb, _, _, _ := newTestUART(t)
	uout(pb, uartIIR, 0x81)
	uout(pb, uartMCR, uartMCROUT2|uartMCRDTR)
	uout(pb, uartSCR, 0x42)
	u.Receive('q')
	data, err := u.Save()
	if err != nil {
		t.Fatal(err)
	}
	u2, pb2, _, _, _ := newTestUART(t)
	if err := u2.Load(data); err != nil {
		t.Fatal(err)
	}
	if uin(pb2, uartSCR) != 0x42 || uin(pb2, uartMCR) != uartMCROUT2|uartMCRDTR || uin(pb2, uartRBR) != 'q' {
		t.Fatal("state not restored")
	}
	for i := 0; i < len(data); i++ {
		_ = u2.Load(data[:i]) // must not panic
	}
	if u2.Load(data[:len(data)/2]) == nil {
		t.Fatal("truncated snapshot accepted")
	}
	if u2.Load([]byte("garbage")) == nil {
		t.Fatal("garbage accepted")
	}
	bad := *u
	bad.s.RxHead = 99
	b, _ := bad.Save()
	if u2.Load(b) == nil {
		t.Fatal("out-of-range head accepted")
	}
}

func TestUARTGuestFuzz(t *testing.T) {
	u, pb, _, _, clk := newTestUART(t)
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		port := COM1Base + uint16(r.Intn(8))
		switch r.Intn(5) {
		case 0, 1:
			pb.Out(port, 1, uint32(r.Intn(256)))
		case 2:
			u.ReceiveWithError(byte(r.Intn(256)), RxError(r.Intn(256)))
		case 3:
			clk.t += int64(r.Intn(1_000_000))
			u.Advance(clk.t)
		default:
			pb.In(port, 1)
		}
		if u.s.RxCount < 0 || u.s.RxCount > 16 {
			t.Fatalf("RxCount %d", u.s.RxCount)
		}
	}
}
