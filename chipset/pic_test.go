package chipset

import (
	"testing"

	"fuji/mem"
)

// ppLine records the levels an IRQ line is driven with.
type ppLine struct {
	level bool
	rises int
	sets  int
}

func (l *ppLine) Set(v bool) {
	if v && !l.level {
		l.rises++
	}
	l.level = v
	l.sets++
}

// newTestPIC returns a PIC initialised as a PC BIOS does: master vectors
// 0x08, slave 0x70, cascade on IR2, 8086 mode; icw4 is the ICW4 value.
func newTestPIC(t *testing.T, icw4 uint32) (*PIC, *mem.PortBus, *ppLine) {
	t.Helper()
	p := NewPIC()
	b := mem.NewPortBus()
	p.Register(b)
	out := &ppLine{}
	p.SetOutput(out)
	b.Out(0x20, 1, 0x11)
	b.Out(0x21, 1, 0x08)
	b.Out(0x21, 1, 0x04)
	b.Out(0x21, 1, icw4)
	b.Out(0xA0, 1, 0x11)
	b.Out(0xA1, 1, 0x70)
	b.Out(0xA1, 1, 0x02)
	b.Out(0xA1, 1, icw4)
	return p, b, out
}

func ppPulse(l IRQLine) { l.Set(true); l.Set(false) }

func picReadISR(b *mem.PortBus, port uint16) uint32 {
	b.Out(port, 1, 0x0B)
	v := b.In(port, 1)
	b.Out(port, 1, 0x0A)
	return v
}

func TestPICPriorityAndEOI(t *testing.T) {
	p, b, out := newTestPIC(t, 0x01)
	if out.level {
		t.Fatal("INTR high with no request")
	}
	ppPulse(p.Line(1))
	ppPulse(p.Line(0))
	if !out.level || !p.INTR() {
		t.Fatal("INTR not raised")
	}
	if v := b.In(0x20, 1); v != 0x03 {
		t.Fatalf("IRR = %#x, want 0x03", v)
	}
	if v := p.Acknowledge(); v != 0x08 {
		t.Fatalf("first vector %#x, want 0x08 (IRQ0 beats IRQ1)", v)
	}
	if v := picReadISR(b, 0x20); v != 0x01 {
		t.Fatalf("ISR = %#x, want 0x01", v)
	}
	if out.level {
		t.Fatal("IRQ1 must wait while IRQ0 is in service")
	}
	b.Out(0x20, 1, 0x20) // non-specific EOI
	if !out.level {
		t.Fatal("IRQ1 not presented after EOI")
	}
	if v := p.Acknowledge(); v != 0x09 {
		t.Fatalf("second vector %#x, want 0x09", v)
	}
	// A higher-priority request nests over an in-service lower one.
	ppPulse(p.Line(0))
	if !out.level {
		t.Fatal("IRQ0 must interrupt IRQ1's handler")
	}
	if v := p.Acknowledge(); v != 0x08 {
		t.Fatalf("nested vector %#x", v)
	}
	if v := picReadISR(b, 0x20); v != 0x03 {
		t.Fatalf("ISR = %#x, want 0x03", v)
	}
	b.Out(0x20, 1, 0x20) // clears IRQ0 (highest)
	if v := picReadISR(b, 0x20); v != 0x02 {
		t.Fatalf("ISR after EOI = %#x, want 0x02", v)
	}
	b.Out(0x20, 1, 0x61) // specific EOI for IRQ1
	if v := picReadISR(b, 0x20); v != 0 {
		t.Fatalf("ISR after specific EOI = %#x", v)
	}
}

func TestPICMaskAndSpuriousIRQ7(t *testing.T) {
	p, b, out := newTestPIC(t, 0x01)
	b.Out(0x21, 1, 0x08) // mask IRQ3
	if v := b.In(0x21, 1); v != 0x08 {
		t.Fatalf("IMR = %#x", v)
	}
	ppPulse(p.Line(3))
	if out.level {
		t.Fatal("masked IRQ raised INTR")
	}
	b.Out(0x21, 1, 0x00)
	if !out.level {
		t.Fatal("unmasking a latched edge must raise INTR")
	}
	// The request vanishes (masked again) between INTR and INTA.
	b.Out(0x21, 1, 0x08)
	if v := p.Acknowledge(); v != 0x0F {
		t.Fatalf("vector %#x, want spurious 0x0F", v)
	}
	if v := picReadISR(b, 0x20); v != 0 {
		t.Fatalf("spurious IRQ7 set ISR %#x", v)
	}
	// A level request that drops before INTA is spurious too.
	b.Out(0x21, 1, 0x00)
	p.Acknowledge() // take the IRQ3 edge
	b.Out(0x20, 1, 0x20)
	b.Out(0x4D0, 1, 0x20) // IRQ5 level
	p.Line(5).Set(true)
	if !out.level {
		t.Fatal("level IRQ5 did not raise INTR")
	}
	p.Line(5).Set(false)
	if out.level {
		t.Fatal("INTR stayed high after the level dropped")
	}
	if v := b.In(0x20, 1); v&0x20 != 0 {
		t.Fatalf("IRR %#x still holds the dropped level request", v)
	}
	if v := p.Acknowledge(); v != 0x0F {
		t.Fatalf("vector %#x, want spurious 0x0F", v)
	}
}

func TestPICCascadeAndSpuriousIRQ15(t *testing.T) {
	p, b, out := newTestPIC(t, 0x01)
	ppPulse(p.Line(12))
	if !out.level {
		t.Fatal("slave request did not reach the CPU")
	}
	if v := p.Acknowledge(); v != 0x74 {
		t.Fatalf("vector %#x, want 0x74", v)
	}
	if m, s := picReadISR(b, 0x20), picReadISR(b, 0xA0); m != 0x04 || s != 0x10 {
		t.Fatalf("ISR master %#x slave %#x", m, s)
	}
	b.Out(0xA0, 1, 0x20)
	b.Out(0x20, 1, 0x20)
	// Two slave requests: the second reaches the master after the
	// first's EOI.
	ppPulse(p.Line(9))
	ppPulse(p.Line(8))
	if v := p.Acknowledge(); v != 0x70 {
		t.Fatalf("vector %#x, want 0x70", v)
	}
	b.Out(0xA0, 1, 0x20)
	b.Out(0x20, 1, 0x20)
	if !out.level {
		t.Fatal("IRQ9 lost after IRQ8's EOI")
	}
	if v := p.Acknowledge(); v != 0x71 {
		t.Fatalf("vector %#x, want 0x71", v)
	}
	b.Out(0xA0, 1, 0x20)
	b.Out(0x20, 1, 0x20)

	// Spurious IRQ15: a level request on the slave vanishes; the
	// master's IR2 edge is latched, so the master still interrupts.
	b.Out(0x4D1, 1, 0x04) // IRQ10 level
	p.Line(10).Set(true)
	p.Line(10).Set(false)
	if !out.level {
		t.Fatal("master IR2 edge not latched")
	}
	if v := p.Acknowledge(); v != 0x77 {
		t.Fatalf("vector %#x, want spurious 0x77", v)
	}
	if m, s := picReadISR(b, 0x20), picReadISR(b, 0xA0); m != 0x04 || s != 0 {
		t.Fatalf("ISR master %#x slave %#x, want 0x04/0", m, s)
	}
}

func TestPICEdgeAndLevelSensing(t *testing.T) {
	p, b, out := newTestPIC(t, 0x01)
	l := p.Line(4)
	l.Set(true)
	p.Acknowledge()
	b.Out(0x20, 1, 0x20)
	l.Set(true) // still high: no new edge
	if out.level {
		t.Fatal("edge input re-triggered without going low")
	}
	l.Set(false)
	l.Set(true)
	if !out.level {
		t.Fatal("new edge not seen")
	}
	p.Acknowledge()
	b.Out(0x20, 1, 0x20)
	l.Set(false)

	// ELCR level: the request persists until the line drops.
	b.Out(0x4D0, 1, 0xFF)
	if v := b.In(0x4D0, 1); v != 0xF8 {
		t.Fatalf("ELCR1 = %#x, want 0xF8 (IRQ0-2 edge only)", v)
	}
	b.Out(0x4D1, 1, 0xFF)
	if v := b.In(0x4D1, 1); v != 0xDE {
		t.Fatalf("ELCR2 = %#x, want 0xDE (IRQ8, 13 edge only)", v)
	}
	b.Out(0x4D0, 1, 0x10)
	l.Set(true)
	if v := p.Acknowledge(); v != 0x0C {
		t.Fatalf("vector %#x", v)
	}
	b.Out(0x20, 1, 0x20)
	if !out.level {
		t.Fatal("level request not re-presented after EOI")
	}
	l.Set(false)
	if out.level {
		t.Fatal("level request did not drop")
	}

	// ICW1 LTIM makes every input level sensitive.
	b.Out(0x4D0, 1, 0)
	b.Out(0x20, 1, 0x19)
	b.Out(0x21, 1, 0x08)
	b.Out(0x21, 1, 0x04)
	b.Out(0x21, 1, 0x01)
	p.Line(6).Set(true)
	p.Acknowledge()
	b.Out(0x20, 1, 0x20)
	if v := b.In(0x20, 1); v&0x40 == 0 || !out.level {
		t.Fatalf("LTIM: IRR %#x, INTR %v", v, out.level)
	}
}

func TestPICRotation(t *testing.T) {
	p, b, _ := newTestPIC(t, 0x01)
	ppPulse(p.Line(0))
	if v := p.Acknowledge(); v != 0x08 {
		t.Fatal(v)
	}
	b.Out(0x20, 1, 0xA0) // rotate on non-specific EOI: IRQ0 now lowest
	ppPulse(p.Line(0))
	ppPulse(p.Line(7))
	if v := p.Acknowledge(); v != 0x0F {
		t.Fatalf("after rotation vector %#x, want IRQ7 (0x0F)", v)
	}
	b.Out(0x20, 1, 0x20)
	if v := p.Acknowledge(); v != 0x08 {
		t.Fatalf("vector %#x", v)
	}
	b.Out(0x20, 1, 0x20)

	b.Out(0x20, 1, 0xC4) // set priority: IRQ4 lowest, IRQ5 highest
	ppPulse(p.Line(3))
	ppPulse(p.Line(5))
	if v := p.Acknowledge(); v != 0x0D {
		t.Fatalf("set priority: vector %#x, want 0x0D", v)
	}
	// IRQ3 ranks below IRQ5 now, so it waits.
	if p.INTR() {
		t.Fatal("IRQ3 preempted IRQ5")
	}
	b.Out(0x20, 1, 0xE5) // rotate on specific EOI 5: IRQ5 lowest
	if v := p.Acknowledge(); v != 0x0B {
		t.Fatalf("vector %#x", v)
	}
	// Non-specific EOI clears the highest priority ISR bit in the
	// rotated order.
	ppPulse(p.Line(6))
	b.Out(0x20, 1, 0x20)
	if v := picReadISR(b, 0x20); v != 0 {
		t.Fatalf("ISR %#x", v)
	}
}

func TestPICAutoEOI(t *testing.T) {
	p, b, out := newTestPIC(t, 0x03)
	ppPulse(p.Line(1))
	ppPulse(p.Line(2 + 1)) // IRQ3
	if v := p.Acknowledge(); v != 0x09 {
		t.Fatal(v)
	}
	if v := picReadISR(b, 0x20); v != 0 {
		t.Fatalf("AEOI left ISR %#x", v)
	}
	if !out.level {
		t.Fatal("IRQ3 should follow at once in AEOI mode")
	}
	p.Acknowledge()
	b.Out(0x20, 1, 0x80) // rotate in AEOI mode
	ppPulse(p.Line(1))
	p.Acknowledge() // IRQ1 becomes lowest
	ppPulse(p.Line(1))
	ppPulse(p.Line(5))
	if v := p.Acknowledge(); v != 0x0D {
		t.Fatalf("AEOI rotation: vector %#x, want 0x0D", v)
	}
	b.Out(0x20, 1, 0x00) // clear rotate in AEOI
	if v := p.Acknowledge(); v != 0x09 {
		t.Fatal(v)
	}
}

func TestPICPollAndReadRegisters(t *testing.T) {
	p, b, _ := newTestPIC(t, 0x01)
	b.Out(0x20, 1, 0x0C)
	if v := b.In(0x20, 1); v != 0 {
		t.Fatalf("poll with nothing pending = %#x", v)
	}
	ppPulse(p.Line(6))
	b.Out(0x20, 1, 0x0C)
	if v := b.In(0x20, 1); v != 0x86 {
		t.Fatalf("poll = %#x, want 0x86", v)
	}
	if v := picReadISR(b, 0x20); v != 0x40 {
		t.Fatalf("poll did not set ISR: %#x", v)
	}
	// The register selection is sticky: IRR after 0x0A.
	b.Out(0x20, 1, 0x0B)
	b.In(0x20, 1)
	if v := b.In(0x20, 1); v != 0x40 {
		t.Fatalf("second ISR read %#x", v)
	}
	b.Out(0x20, 1, 0x08) // OCW3 without RR leaves the selection alone
	if v := b.In(0x20, 1); v != 0x40 {
		t.Fatalf("OCW3 RR=0 changed the selection: %#x", v)
	}
	// 16-bit read covers both ports.
	b.Out(0x21, 1, 0x5A)
	if v := b.In(0x20, 2); v != 0x5A40 {
		t.Fatalf("word read %#x", v)
	}
}

func TestPICSpecialMaskMode(t *testing.T) {
	p, b, out := newTestPIC(t, 0x01)
	ppPulse(p.Line(3))
	p.Acknowledge()
	ppPulse(p.Line(5))
	if out.level {
		t.Fatal("IRQ5 must wait under IRQ3")
	}
	b.Out(0x21, 1, 0x08) // mask own level
	b.Out(0x20, 1, 0x68) // set special mask mode
	if !out.level {
		t.Fatal("special mask mode did not enable the lower level")
	}
	if v := p.Acknowledge(); v != 0x0D {
		t.Fatal(v)
	}
	// Non-specific EOI in SMM skips the masked IRQ3.
	b.Out(0x20, 1, 0x20)
	if v := picReadISR(b, 0x20); v != 0x08 {
		t.Fatalf("ISR %#x, want IRQ3 left in service", v)
	}
	b.Out(0x20, 1, 0x48) // reset SMM
	b.Out(0x21, 1, 0x00)
	ppPulse(p.Line(5))
	if out.level {
		t.Fatal("normal mask mode must block IRQ5 again")
	}
}

func TestPICSpecialFullyNested(t *testing.T) {
	for _, sfnm := range []bool{false, true} {
		icw4 := uint32(0x01)
		if sfnm {
			icw4 = 0x11
		}
		p, _, out := newTestPIC(t, icw4)
		ppPulse(p.Line(10))
		if v := p.Acknowledge(); v != 0x72 {
			t.Fatal(v)
		}
		ppPulse(p.Line(8))
		if out.level != sfnm {
			t.Fatalf("sfnm=%v: higher slave request INTR=%v", sfnm, out.level)
		}
		if sfnm {
			if v := p.Acknowledge(); v != 0x70 {
				t.Fatalf("vector %#x", v)
			}
		}
	}
}

func TestPICInitResetsState(t *testing.T) {
	p, b, out := newTestPIC(t, 0x01)
	b.Out(0x21, 1, 0xFF)
	ppPulse(p.Line(1))
	b.Out(0x20, 1, 0x11)
	if out.level || b.In(0x20, 1) != 0 {
		t.Fatal("ICW1 kept an edge request")
	}
	b.Out(0x21, 1, 0x20)
	b.Out(0x21, 1, 0x04)
	b.Out(0x21, 1, 0x01)
	if v := b.In(0x21, 1); v != 0 {
		t.Fatalf("ICW1 must clear IMR, got %#x", v)
	}
	ppPulse(p.Line(1))
	if v := p.Acknowledge(); v != 0x21 {
		t.Fatalf("new vector base: %#x", v)
	}
}

func TestPICSaveLoad(t *testing.T) {
	p, b, _ := newTestPIC(t, 0x01)
	b.Out(0x4D1, 1, 0x04)
	ppPulse(p.Line(3))
	p.Line(10).Set(true)
	b.Out(0x21, 1, 0x10)
	data, err := p.Save()
	if err != nil {
		t.Fatal(err)
	}
	q := NewPIC()
	out := &ppLine{}
	q.SetOutput(out)
	if err := q.Load(data); err != nil {
		t.Fatal(err)
	}
	if !out.level {
		t.Fatal("Load did not re-drive INTR")
	}
	if a, c := p.Acknowledge(), q.Acknowledge(); a != c {
		t.Fatalf("vectors differ after load: %#x %#x", a, c)
	}
	if err := q.Load(data[:len(data)-1]); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
	bad := append([]byte(nil), data...)
	bad[0] = 99
	if err := q.Load(bad); err == nil {
		t.Fatal("bad version accepted")
	}
	bad = append([]byte(nil), data...)
	bad[9] = 9 // master Lowest
	if err := q.Load(bad); err == nil {
		t.Fatal("out of range snapshot accepted")
	}
}

func TestPICGarbageWritesNeverPanic(t *testing.T) {
	p, b, _ := newTestPIC(t, 0x01)
	for i := 0; i < 4096; i++ {
		v := uint32(i*2654435761) >> 7
		port := []uint16{0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1}[i%6]
		b.Out(port, 1, v)
		b.In(port, 1)
		p.Line(i % 16).Set(i&3 == 0)
		if i%5 == 0 {
			p.Acknowledge()
		}
	}
}

// ppNoise fills b with deterministic pseudo-random bytes.
func ppNoise(b []byte, seed uint64) {
	for i := range b {
		seed = seed*6364136223846793005 + 1442695040888963407
		b[i] = byte(seed >> 56)
	}
}

func TestPICLoadNoiseNeverPanics(t *testing.T) {
	p, b, _ := newTestPIC(t, 0x01)
	data, _ := p.Save()
	for seed := uint64(0); seed < 2000; seed++ {
		ppNoise(data, seed)
		data[0] = picSnapVersion
		for _, o := range []int{0, 19} { // master, slave
			data[o+5] &= 0xF8 >> (o / 19) & 0xDE
			data[o+6] &= 0xF8
			data[o+8] &= 3
			data[o+9] &= 7
		}
		if p.Load(data) != nil {
			t.Fatal("valid noise snapshot rejected")
		}
		{
			p.Acknowledge()
			b.In(0x20, 1)
			b.Out(0x20, 1, 0x20)
			p.Line(int(seed % 16)).Set(true)
		}
	}
}
