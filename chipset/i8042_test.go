package chipset

import (
	"bytes"
	"math/rand"
	"testing"

	"fuji/mem"
)

type kbcIRQ struct {
	level bool
	edges int
}

func (l *kbcIRQ) Set(v bool) {
	if v && !l.level {
		l.edges++
	}
	l.level = v
}

type kbcA20 struct{ on bool }

func (g *kbcA20) SetA20(on bool) { g.on = on }
func (g *kbcA20) A20() bool      { return g.on }

type kbcRig struct {
	c           *I8042
	pb          *mem.PortBus
	irq1, irq12 *kbcIRQ
	a20         *kbcA20
	resets      int
}

func newKbcRig() *kbcRig {
	r := &kbcRig{pb: mem.NewPortBus(), irq1: &kbcIRQ{}, irq12: &kbcIRQ{}, a20: &kbcA20{on: true}}
	r.c = NewI8042(r.irq1, r.irq12, r.a20, func() { r.resets++ })
	r.c.Register(r.pb)
	return r
}

func (r *kbcRig) cmd(v uint8)   { r.pb.Out(0x64, 1, uint32(v)) }
func (r *kbcRig) data(v uint8)  { r.pb.Out(0x60, 1, uint32(v)) }
func (r *kbcRig) status() uint8 { return uint8(r.pb.In(0x64, 1)) }
func (r *kbcRig) read() (uint8, bool) { // byte and whether it came from the mouse
	st := r.status()
	return uint8(r.pb.In(0x60, 1)), st&kbcStatAUXB != 0
}

// drain reads every byte the controller has, noting where each came from.
func (r *kbcRig) drain(t *testing.T) (kbd, aux []byte) {
	t.Helper()
	for i := 0; i < 100 && r.status()&kbcStatOBF != 0; i++ {
		b, isAux := r.read()
		if isAux {
			aux = append(aux, b)
		} else {
			kbd = append(kbd, b)
		}
	}
	return
}

func (r *kbcRig) expectKbd(t *testing.T, what string, want ...byte) {
	t.Helper()
	kbd, aux := r.drain(t)
	if !bytes.Equal(kbd, want) || len(aux) != 0 {
		t.Fatalf("%s: kbd % X aux % X, want kbd % X", what, kbd, aux, want)
	}
}

func TestI8042SelfTestAndCommandByte(t *testing.T) {
	r := newKbcRig()
	if r.status()&kbcStatSYS != 0 {
		t.Fatal("SYS set at power-on")
	}
	r.cmd(0xAA)
	if r.status()&(kbcStatOBF|kbcStatA2) != kbcStatOBF|kbcStatA2 {
		t.Fatalf("status %#x after a command", r.status())
	}
	r.expectKbd(t, "self-test", 0x55)
	if r.status()&kbcStatSYS == 0 {
		t.Fatal("self-test did not set SYS")
	}
	r.cmd(0xAB)
	r.expectKbd(t, "keyboard interface test", 0x00)
	r.cmd(0xA9)
	r.expectKbd(t, "aux interface test", 0x00)
	r.cmd(0x20)
	r.expectKbd(t, "command byte", 0x03)
	r.cmd(0x60)
	r.data(0x61) // translate, keyboard IRQ, SYS clear
	if r.status()&kbcStatA2 != 0 {
		t.Fatal("A2 set after a data write")
	}
	if r.status()&kbcStatSYS != 0 {
		t.Fatal("SYS does not follow command byte bit 2")
	}
	r.cmd(0x20)
	r.expectKbd(t, "command byte readback", 0x61)
	r.cmd(0xA7)
	r.cmd(0xAD)
	r.cmd(0x20)
	r.expectKbd(t, "disables in command byte", 0x71)
	r.cmd(0xA8)
	r.cmd(0xAE)
	r.cmd(0x20)
	r.expectKbd(t, "enables in command byte", 0x41)
	r.cmd(0x7F) // internal RAM
	r.data(0x99)
	r.cmd(0x3F)
	r.expectKbd(t, "RAM", 0x99)
}

func TestI8042A20(t *testing.T) {
	r := newKbcRig()
	r.cmd(0xD1)
	r.data(0xDD) // A20 off, reset line high
	if r.a20.on {
		t.Fatal("0xD1 0xDD left A20 on")
	}
	r.cmd(0xD0)
	if b, _ := r.read(); b&kbcOutA20 != 0 || b&kbcOutReset == 0 {
		t.Fatalf("output port %#x", b)
	}
	r.cmd(0xD1)
	r.data(0xDF)
	if !r.a20.on {
		t.Fatal("0xD1 0xDF left A20 off")
	}
	r.cmd(0xDD)
	if r.a20.on {
		t.Fatal("0xDD left A20 on")
	}
	r.cmd(0xDF)
	if !r.a20.on {
		t.Fatal("0xDF left A20 off")
	}
	// Port 0x92 drives the same gate; the 8042 reads it back.
	p := NewPort92(r.a20, func() { r.resets++ })
	p.Register(r.pb)
	r.pb.Out(0x92, 1, 0x00)
	if r.a20.on || r.pb.In(0x92, 1)&2 != 0 {
		t.Fatal("port 0x92 did not clear A20")
	}
	r.cmd(0xD0)
	if b, _ := r.read(); b&kbcOutA20 != 0 {
		t.Fatal("8042 output port disagrees with the gate")
	}
	r.pb.Out(0x92, 1, 0x02)
	if !r.a20.on || r.pb.In(0x92, 1)&2 == 0 {
		t.Fatal("port 0x92 did not set A20")
	}
	if r.resets != 0 {
		t.Fatal("spurious reset")
	}
	r.pb.Out(0x92, 1, 0x03)
	if r.resets != 1 {
		t.Fatal("port 0x92 bit 0 did not reset")
	}
}

func TestI8042ResetPulse(t *testing.T) {
	r := newKbcRig()
	r.cmd(0xFF) // pulse nothing
	r.cmd(0xFD) // pulse bit 1 only
	if r.resets != 0 {
		t.Fatal("reset without bit 0")
	}
	r.cmd(0xFE)
	if r.resets != 1 {
		t.Fatal("0xFE did not reset")
	}
	r.cmd(0xD1)
	r.data(0x02) // bit 0 low
	if r.resets != 2 {
		t.Fatal("output port bit 0 low did not reset")
	}
}

func TestI8042TranslationAndIRQ(t *testing.T) {
	r := newKbcRig()
	kbd := r.c.Keyboard()
	// Untranslated: set 2 codes pass through.
	kbd.KeyDown(KeyA)
	if !r.irq1.level || r.irq12.level {
		t.Fatal("IRQ1 not raised for a keyboard byte")
	}
	kbd.KeyUp(KeyA)
	r.expectKbd(t, "raw set 2", 0x1C, 0xF0, 0x1C)
	if r.irq1.level {
		t.Fatal("IRQ1 high with an empty buffer")
	}
	r.cmd(0x60)
	r.data(0x41) // translate, keyboard IRQ only
	kbd.KeyDown(KeyA)
	kbd.KeyUp(KeyA)
	kbd.KeyDown(KeyRightCtrl)
	kbd.KeyUp(KeyRightCtrl)
	edges := r.irq1.edges
	r.expectKbd(t, "translated", 0x1E, 0x9E, 0xE0, 0x1D, 0xE0, 0x9D)
	if got := r.irq1.edges - edges; got != 5 {
		t.Fatalf("IRQ1 edges for 6 bytes: %d more, want 5 (one per byte after the first)", got)
	}
	kbd.KeyDown(KeyPause)
	r.expectKbd(t, "translated Pause", 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5)
	r.data(0xF2)
	r.expectKbd(t, "translated ID", 0xFA, 0xAB, 0x41)
	r.data(0xF0)
	r.data(0x00)
	r.expectKbd(t, "translated get set", 0xFA, 0xFA, 0x41)
	// Interrupt disabled in the command byte: data but no IRQ.
	r.cmd(0x60)
	r.data(0x40)
	kbd.KeyDown(KeyB)
	if r.irq1.level || r.status()&kbcStatOBF == 0 {
		t.Fatal("IRQ1 with interrupts disabled, or no data")
	}
	r.expectKbd(t, "polled", 0x30)
	// Keyboard interface disabled: bytes wait in the keyboard.
	r.cmd(0xAD)
	kbd.KeyUp(KeyB)
	if r.status()&kbcStatOBF != 0 {
		t.Fatal("byte delivered with the keyboard disabled")
	}
	r.cmd(0xAE)
	r.expectKbd(t, "after enable", 0xB0)
	// Reading an empty buffer returns the last byte again.
	if b, _ := r.read(); b != 0xB0 {
		t.Fatalf("stale read %#x", b)
	}
}

func TestI8042MouseAndWriteBuffers(t *testing.T) {
	r := newKbcRig()
	r.cmd(0xD4)
	r.data(0xF4)
	if !r.irq12.level || r.irq1.level {
		t.Fatal("IRQ12 not raised for a mouse byte")
	}
	kbd, aux := r.drain(t)
	if len(kbd) != 0 || !bytes.Equal(aux, []byte{0xFA}) {
		t.Fatalf("mouse ack: kbd % X aux % X", kbd, aux)
	}
	r.c.Mouse().Move(1, -1, 0, MouseRight)
	_, aux = r.drain(t)
	if !bytes.Equal(aux, []byte{0x0A, 0x01, 0x01}) {
		t.Fatalf("mouse packet % X", aux)
	}
	r.cmd(0xD2)
	r.data(0x5A)
	r.cmd(0xD3)
	r.data(0xA5)
	kbd, aux = r.drain(t)
	if !bytes.Equal(kbd, []byte{0x5A}) || !bytes.Equal(aux, []byte{0xA5}) {
		t.Fatalf("D2/D3: kbd % X aux % X", kbd, aux)
	}
	// Controller replies go before queued device bytes.
	r.c.Keyboard().KeyDown(KeyQ)
	r.c.Keyboard().KeyDown(KeyW)
	r.cmd(0x20)
	r.expectKbd(t, "reply after the byte in the buffer", 0x15, 0x03, 0x1D)
	r.cmd(0xC0)
	r.expectKbd(t, "input port", 0x80)
}

func TestI8042SaveLoad(t *testing.T) {
	r := newKbcRig()
	r.cmd(0x60)
	r.data(0x47)
	r.c.Keyboard().KeyDown(KeyZ)
	r.c.Keyboard().KeyDown(KeyX)
	data, err := r.c.Save()
	if err != nil {
		t.Fatal(err)
	}
	r2 := newKbcRig()
	if err := r2.c.Load(data); err != nil {
		t.Fatal(err)
	}
	if !r2.irq1.level {
		t.Fatal("IRQ level not restored")
	}
	r2.expectKbd(t, "restored", 0x2C, 0x2D)
	r2.cmd(0x20)
	r2.expectKbd(t, "restored command byte", 0x47)
	for i := range data {
		_ = r2.c.Load(data[:i])
	}
	if r2.c.Load(data[:len(data)-5]) == nil || r2.c.Load([]byte{1, 2, 3}) == nil {
		t.Fatal("bad snapshot accepted")
	}
}

func TestI8042GuestFuzz(t *testing.T) {
	r := newKbcRig()
	clk := &kbdFakeClock{}
	r.c.SetClock(clk)
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 200000; i++ {
		switch rng.Intn(6) {
		case 0:
			r.cmd(uint8(rng.Intn(256)))
		case 1:
			r.data(uint8(rng.Intn(256)))
		case 2:
			r.pb.In(0x60, 1)
		case 3:
			if rng.Intn(2) == 0 {
				r.c.Keyboard().KeyDown(Key(rng.Intn(256)))
			} else {
				r.c.Keyboard().KeyUp(Key(rng.Intn(256)))
			}
		case 4:
			r.c.Mouse().Move(rng.Intn(2000)-1000, rng.Intn(2000)-1000, rng.Intn(20)-10, uint8(rng.Intn(256)))
		default:
			clk.t += int64(rng.Intn(100_000_000))
			r.c.Keyboard().Advance(clk.t)
		}
	}
}

// discard reads everything without keeping it (no allocation).
func (r *kbcRig) discard() {
	for i := 0; i < 100 && r.status()&kbcStatOBF != 0; i++ {
		r.read()
	}
}

// TestPortHandlersDoNotAllocate keeps the guest's port paths lean.
func TestPortHandlersDoNotAllocate(t *testing.T) {
	r := newKbcRig()
	var sink bytes.Buffer
	sink.Grow(1 << 20)
	u := NewUART(COM1Base, nil, &sink, &uartFakeClock{})
	u.Register(r.pb)
	r.pb.Out(COM1Base+2, 1, 0xC7)
	for name, f := range map[string]func(){
		"8042 self-test": func() { r.cmd(0xAA); r.read() },
		"8042 to keyboard": func() {
			r.data(0xED)
			r.data(0x02)
			r.discard()
		},
		"8042 to mouse": func() { r.cmd(0xD4); r.data(0xE9); r.discard() },
		"key press":     func() { r.c.Keyboard().KeyDown(KeyA); r.c.Keyboard().KeyUp(KeyA); r.discard() },
		"mouse move":    func() { r.c.Mouse().Move(3, 4, 0, 1); r.discard() },
		"uart tx":       func() { r.pb.Out(COM1Base, 1, 'x'); r.pb.In(COM1Base+5, 1) },
		"uart rx":       func() { u.Receive('y'); r.pb.In(COM1Base, 1); r.pb.In(COM1Base+2, 1) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func TestI8042Typematic(t *testing.T) {
	r := newKbcRig()
	clk := &kbdFakeClock{t: 5}
	r.c.SetClock(clk)
	var _ Timed = r.c
	var _ Timed = r.c.Keyboard()
	var _ Timed = &UART{}
	r.c.Keyboard().KeyDown(KeyX)
	r.discard()
	if r.c.Deadline() != 5+500_000_000 {
		t.Fatalf("deadline %d", r.c.Deadline())
	}
	r.c.Advance(r.c.Deadline())
	r.expectKbd(t, "repeat", 0x22)
}
