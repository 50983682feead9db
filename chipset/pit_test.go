package chipset

import (
	"encoding/binary"
	"testing"

	"fuji/mem"
)

// ppClock is a fake virtual clock.
type ppClock struct{ ns int64 }

func (c *ppClock) Now() int64 { return c.ns }

// at sets the clock to the instant of PIT input tick k.
func (c *ppClock) at(k int64) { c.ns = pitTickTime(k) }

func newTestPIT(t *testing.T) (*PIT, *mem.PortBus, *ppClock, *ppLine) {
	t.Helper()
	clk := &ppClock{}
	irq := &ppLine{}
	p := NewPIT(clk, irq)
	b := mem.NewPortBus()
	p.Register(b)
	return p, b, clk, irq
}

// program writes a control word and a 16-bit count (LSB then MSB).
func pitProgram(b *mem.PortBus, counter int, cw uint8, count uint16) {
	b.Out(0x43, 1, uint32(cw))
	b.Out(0x40+uint16(counter), 1, uint32(count&0xFF))
	b.Out(0x40+uint16(counter), 1, uint32(count>>8))
}

// latched returns counter n's count via the counter latch command.
func pitLatched(b *mem.PortBus, n int) uint16 {
	b.Out(0x43, 1, uint32(n)<<6)
	lo := b.In(0x40+uint16(n), 1)
	hi := b.In(0x40+uint16(n), 1)
	return uint16(hi<<8 | lo)
}

// readBack latches status and count of counter n with the read-back
// command and returns both.
func pitReadBack(b *mem.PortBus, n int) (status uint8, count uint16) {
	b.Out(0x43, 1, 0xC0|2<<uint(n))
	status = uint8(b.In(0x40+uint16(n), 1))
	lo := b.In(0x40+uint16(n), 1)
	hi := b.In(0x40+uint16(n), 1)
	return status, uint16(hi<<8 | lo)
}

func TestPITTickArithmetic(t *testing.T) {
	if got := pitTick(1e9); got != PITHz {
		t.Fatalf("ticks in 1 s = %d", got)
	}
	for _, k := range []int64{1, 2, 1193, 1193182, 1 << 40} {
		ns := pitTickTime(k)
		if pitTick(ns) != k || pitTick(ns-1) != k-1 {
			t.Fatalf("tick %d: time %d maps to %d, %d", k, ns, pitTick(ns), pitTick(ns-1))
		}
	}
}

func TestPITMode2RateGenerator(t *testing.T) {
	_, b, clk, _ := newTestPIT(t)
	pitProgram(b, 0, 0x34, 1000) // written at tick 0, CE loaded at tick 1
	for _, c := range []struct {
		tick  int64
		count uint16
		out   bool
	}{
		{1, 1000, true}, {2, 999, true}, {500, 501, true}, {999, 2, true},
		{1000, 1, false}, {1001, 1000, true}, {1500, 501, true}, {2000, 1, false},
		{2001, 1000, true}, {1000001, 1000, true},
	} {
		clk.at(c.tick)
		st, cnt := pitReadBack(b, 0)
		if cnt != c.count || (st&0x80 != 0) != c.out {
			t.Errorf("tick %d: count %d out %v, want %d %v", c.tick, cnt, st&0x80 != 0, c.count, c.out)
		}
		if st&0x3F != 0x34 {
			t.Errorf("status %#x: RW/mode/BCD bits wrong", st)
		}
	}
}

func TestPITMode3SquareWave(t *testing.T) {
	for _, c := range []struct {
		n      uint16
		counts []uint16
		outs   string
	}{
		{4, []uint16{4, 2, 4, 2, 4, 2}, "HHLLHH"},
		{5, []uint16{5, 4, 2, 5, 2, 5, 4}, "HHHLLHH"},
		{3, []uint16{3, 2, 3, 3}, "HHLH"},
	} {
		_, b, clk, _ := newTestPIT(t)
		pitProgram(b, 0, 0x36, c.n)
		for i, want := range c.counts {
			clk.at(int64(1 + i))
			st, cnt := pitReadBack(b, 0)
			out := "L"
			if st&0x80 != 0 {
				out = "H"
			}
			if cnt != want || out != c.outs[i:i+1] {
				t.Errorf("N=%d tick %d: count %d out %s, want %d %s", c.n, 1+i, cnt, out, want, c.outs[i:i+1])
			}
		}
	}
}

func TestPITMode0InterruptOnTerminalCount(t *testing.T) {
	p, b, clk, irq := newTestPIT(t)
	clk.at(10)
	pitProgram(b, 0, 0x30, 100) // load at 11, terminal at 111
	if irq.level {
		t.Fatal("mode 0 OUT must go low on the control word")
	}
	if d := p.Deadline(); d != pitTickTime(111) {
		t.Fatalf("deadline %d, want %d", d, pitTickTime(111))
	}
	rises := irq.rises
	clk.at(110)
	p.Advance(clk.ns)
	if irq.level {
		t.Fatal("OUT high before terminal count")
	}
	clk.at(111)
	p.Advance(clk.ns)
	if !irq.level || irq.rises != rises+1 {
		t.Fatal("OUT did not rise at terminal count")
	}
	if pitLatched(b, 0) != 0 {
		t.Fatal("count at terminal not 0")
	}
	clk.at(112)
	if v := pitLatched(b, 0); v != 0xFFFF {
		t.Fatalf("count after terminal = %#x, want wrap to 0xFFFF", v)
	}
	if p.Deadline() != NoDeadline {
		t.Fatal("mode 0 fires once")
	}
	// Writing the first byte stops counting and drops OUT.
	b.Out(0x40, 1, 0x10)
	if irq.level {
		t.Fatal("first byte in mode 0 must drop OUT")
	}
	c1 := pitLatched(b, 0)
	clk.at(200)
	if c2 := pitLatched(b, 0); c2 != c1 {
		t.Fatalf("counting continued after first byte: %#x -> %#x", c1, c2)
	}
	b.Out(0x40, 1, 0x00) // count 0x0010, load at 201
	clk.at(217)
	p.Advance(clk.ns)
	if !irq.level {
		t.Fatal("reloaded count did not reach terminal")
	}
}

func TestPITMode4SoftwareStrobe(t *testing.T) {
	_, b, clk, _ := newTestPIT(t)
	pitProgram(b, 0, 0x38, 5) // load at 1, strobe at 6
	for tick, want := range map[int64]bool{1: true, 5: true, 6: false, 7: true, 6 + 65536: true} {
		clk.at(tick)
		if st, _ := pitReadBack(b, 0); (st&0x80 != 0) != want {
			t.Errorf("tick %d: OUT %v", tick, !want)
		}
	}
}

func TestPITMode1And5GateTriggered(t *testing.T) {
	p, b, clk, _ := newTestPIT(t)
	pitProgram(b, 2, 0xB2, 10) // counter 2, mode 1
	clk.at(5)
	if !p.Out2() {
		t.Fatal("mode 1 OUT must start high")
	}
	if st, _ := pitReadBack(b, 2); st&0x40 == 0 {
		t.Fatal("null count must stay set until the trigger")
	}
	clk.at(20)
	p.SetGate2(true) // trigger: load at 21, OUT low 21..30
	for tick, want := range map[int64]bool{20: true, 21: false, 30: false, 31: true} {
		clk.at(tick)
		if p.Out2() != want {
			t.Errorf("mode 1 tick %d: OUT %v", tick, !want)
		}
	}
	// Retrigger during the pulse restarts it.
	clk.at(25)
	p.SetGate2(false)
	p.SetGate2(true)
	if p.Out2() {
		t.Fatal("OUT glitched high at the retrigger")
	}
	clk.at(35)
	if p.Out2() {
		t.Fatal("retrigger did not extend the one-shot")
	}
	clk.at(36)
	if !p.Out2() {
		t.Fatal("retriggered one-shot did not end")
	}

	p.SetGate2(false)
	pitProgram(b, 2, 0xBA, 3) // mode 5
	clk.at(40)
	p.SetGate2(true) // load at 41, strobe at 44
	for tick, want := range map[int64]bool{43: true, 44: false, 45: true} {
		clk.at(tick)
		if p.Out2() != want {
			t.Errorf("mode 5 tick %d: OUT %v", tick, !want)
		}
	}
}

func TestPITGateInModes2And3(t *testing.T) {
	p, b, clk, _ := newTestPIT(t)
	p.SetGate2(true)
	pitProgram(b, 2, 0xB4, 100) // mode 2, load at 1
	clk.at(50)
	p.SetGate2(false)
	v := pitLatched(b, 2)
	clk.at(80)
	if pitLatched(b, 2) != v || !p.Out2() {
		t.Fatal("gate low must stop mode 2 with OUT high")
	}
	p.SetGate2(true) // reload at 81
	clk.at(81)
	if v := pitLatched(b, 2); v != 100 {
		t.Fatalf("gate rising edge must reload: %d", v)
	}
	clk.at(180)
	if p.Out2() {
		t.Fatal("OUT should be low at the end of the restarted period")
	}
	// Mode 0 with the gate: counting pauses.
	pitProgram(b, 2, 0xB0, 10) // load at 181
	clk.at(185)
	p.SetGate2(false)
	clk.at(300)
	if v := pitLatched(b, 2); v != 6 {
		t.Fatalf("paused mode 0 count %d, want 6", v)
	}
	p.SetGate2(true)
	clk.at(306)
	if !p.Out2() {
		t.Fatal("mode 0 terminal count after resuming")
	}
}

func TestPITNewCountTakesEffectAtBoundary(t *testing.T) {
	_, b, clk, _ := newTestPIT(t)
	pitProgram(b, 0, 0x34, 100) // periods start at 1, 101, 201...
	clk.at(50)
	b.Out(0x40, 1, 10)
	b.Out(0x40, 1, 0)
	if st, c := pitReadBack(b, 0); st&0x40 == 0 || c != 51 {
		t.Fatalf("status %#x count %d: old period must run on with null count set", st, c)
	}
	clk.at(101)
	if st, c := pitReadBack(b, 0); st&0x40 != 0 || c != 10 {
		t.Fatalf("at the boundary: status %#x count %d, want new count 10", st, c)
	}
	clk.at(111)
	if _, c := pitReadBack(b, 0); c != 10 {
		t.Fatalf("second new period: %d", c)
	}
	// Mode 3: the new count waits for the end of the half-cycle.
	pitProgram(b, 0, 0x36, 100) // load at 112, low half starts at 162
	clk.at(120)
	b.Out(0x40, 1, 20)
	b.Out(0x40, 1, 0)
	clk.at(161)
	if st, c := pitReadBack(b, 0); c != 2 || st&0x80 == 0 {
		t.Fatalf("old half-cycle: count %d status %#x", c, st)
	}
	clk.at(162)
	if st, c := pitReadBack(b, 0); c != 20 || st&0x80 != 0 {
		t.Fatalf("new half-cycle: count %d status %#x, want 20 low", c, st)
	}
	clk.at(172)
	if st, _ := pitReadBack(b, 0); st&0x80 == 0 {
		t.Fatal("new low half must be N/2 = 10 clocks")
	}
}

func TestPITBCDAndAccessModes(t *testing.T) {
	_, b, clk, _ := newTestPIT(t)
	pitProgram(b, 0, 0x35, 0x1000) // mode 2 BCD 1000
	clk.at(2)
	if v := pitLatched(b, 0); v != 0x0999 {
		t.Fatalf("BCD count %#x, want 0x0999", v)
	}
	pitProgram(b, 0, 0x31, 0) // mode 0 BCD count 0 = 10000
	clk.at(3)
	if v := pitLatched(b, 0); v != 0 {
		t.Fatalf("%#x", v)
	}
	clk.at(4)
	if v := pitLatched(b, 0); v != 0x9999 {
		t.Fatalf("BCD wrap %#x, want 0x9999", v)
	}
	// LSB only.
	b.Out(0x43, 1, 0x14)
	b.Out(0x40, 1, 0x50)
	clk.at(5 + 0x10)
	b.Out(0x43, 1, 0x00)
	if v := b.In(0x40, 1); v != 0x40 {
		t.Fatalf("LSB-only latch %#x, want 0x40", v)
	}
	// MSB only: count 0x0200.
	b.Out(0x43, 1, 0x24)
	b.Out(0x40, 1, 0x02)
	clk.at(5 + 0x10 + 1 + 0x100)
	if v := b.In(0x40, 1); v != 0x01 {
		t.Fatalf("MSB-only read %#x, want 0x01", v)
	}
}

func TestPITLatchHoldsUntilRead(t *testing.T) {
	_, b, clk, _ := newTestPIT(t)
	pitProgram(b, 0, 0x34, 1000)
	clk.at(101)
	b.Out(0x43, 1, 0x00)
	clk.at(201)
	b.Out(0x43, 1, 0x00) // ignored: already latched
	lo := b.In(0x40, 1)
	clk.at(301)
	hi := b.In(0x40, 1)
	if v := hi<<8 | lo; v != 900 {
		t.Fatalf("latched %d, want 900", v)
	}
	lo, hi = b.In(0x40, 1), b.In(0x40, 1)
	if v := hi<<8 | lo; v != 700 {
		t.Fatalf("unlatched %d, want 700", v)
	}
	// Status then count from one read-back; null count after a CW.
	b.Out(0x43, 1, 0x34)
	if st, _ := pitReadBack(b, 0); st&0x40 == 0 {
		t.Fatal("control word must set null count")
	}
	if v := b.In(0x43, 1); v != 0xFF {
		t.Fatalf("control port read %#x", v)
	}
}

func TestPITIRQ0Deadlines(t *testing.T) {
	p, b, clk, irq := newTestPIT(t)
	pitProgram(b, 0, 0x34, 1193)
	start := irq.rises
	for i := 0; i < 100; i++ {
		d := p.Deadline()
		if want := pitTickTime(int64(1 + 1193*(i+1))); d != want {
			t.Fatalf("period %d: deadline %d, want %d", i, d, want)
		}
		clk.ns = d
		p.Advance(d)
	}
	if got := irq.rises - start; got != 100 {
		t.Fatalf("%d IRQ0 edges in 100 periods", got)
	}
	// A late Advance still delivers one edge.
	clk.ns += 10e6
	p.Advance(clk.ns)
	if irq.rises-start != 101 {
		t.Fatal("missed periods produced no edge")
	}
}

func TestPITSaveLoad(t *testing.T) {
	p, b, clk, _ := newTestPIT(t)
	pitProgram(b, 0, 0x36, 1000)
	pitProgram(b, 2, 0xB0, 77)
	clk.at(333)
	b.Out(0x43, 1, 0x00)
	data, err := p.Save()
	if err != nil {
		t.Fatal(err)
	}
	irq := &ppLine{}
	q := NewPIT(clk, irq)
	if err := q.Load(data); err != nil {
		t.Fatal(err)
	}
	bq := mem.NewPortBus()
	q.Register(bq)
	clk.at(777)
	for i := 0; i < 3; i++ {
		if a, c := b.In(0x40, 1), bq.In(0x40, 1); a != c {
			t.Fatalf("read %d differs after load: %#x %#x", i, a, c)
		}
	}
	if p.Deadline() != q.Deadline() {
		t.Fatal("deadline differs after load")
	}
	if err := q.Load(data[:10]); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
	bad := append([]byte(nil), data...)
	bad[1] = 7 // mode 7 with raw mode 3
	if err := q.Load(bad); err == nil {
		t.Fatal("inconsistent mode accepted")
	}
}

func TestPITGarbageNeverPanics(t *testing.T) {
	p, b, clk, _ := newTestPIT(t)
	for i := 0; i < 20000; i++ {
		v := uint32(i) * 2654435761 >> 11
		b.Out(0x40+uint16(v%4), 1, v>>8)
		b.In(0x40+uint16(v>>3%4), 1)
		if i%7 == 0 {
			p.SetGate2(v&1 != 0)
		}
		clk.ns += int64(v % 5000)
		p.Advance(clk.ns)
		p.Deadline()
	}
}

func TestPITLoadNoiseNeverPanics(t *testing.T) {
	p, b, clk, _ := newTestPIT(t)
	data, _ := p.Save()
	for seed := uint64(0); seed < 2000; seed++ {
		ppNoise(data, seed)
		data[0] = pitSnapVersion
		for i := 0; i < 3; i++ {
			c := data[1+78*i:]
			c[1] &= 7
			c[0] = c[1]
			if c[0] > 5 {
				c[0] -= 4
			}
			c[2] = 1 + c[2]%3
			binary.LittleEndian.PutUint64(c[30:], 1+uint64(c[30])%9999) // N
			binary.LittleEndian.PutUint64(c[38:], uint64(c[38])%9999)   // Hold
			binary.LittleEndian.PutUint64(c[54:], 1+uint64(c[54])%9999) // PendN
			binary.LittleEndian.PutUint64(c[70:], uint64(c[70])<<20)    // Last
		}
		if err := p.Load(data); err != nil {
			t.Fatal("valid noise snapshot rejected:", err)
		}
		{
			clk.ns += 1e6
			p.Advance(clk.ns)
			p.Deadline()
			b.In(0x40, 1)
			b.Out(0x40, 1, 5)
			b.Out(0x43, 1, 0xC2)
			p.SetGate2(seed&1 == 0)
		}
	}
}
