package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"

	"fuji/mem"
)

// The Intel 8254 programmable interval timer at 0x40-0x43. Nothing ticks:
// each counter remembers when its counting element (CE) was loaded and
// computes its count and OUT pin for any input-clock tick by arithmetic.
// Tick k is the k-th rising edge of the 1.193182 MHz input since power-on.

// PITHz is the 8254's input clock on a PC.
const PITHz = 1193182

const pitNever = int64(^uint64(0) >> 1)

// pitMulDiv returns a*b/c rounded down, saturating instead of overflowing.
func pitMulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0) >> 1
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// pitTick returns the number of input clock edges up to virtual time ns.
func pitTick(ns int64) int64 {
	if ns <= 0 {
		return 0
	}
	return int64(pitMulDiv(uint64(ns), PITHz, 1e9))
}

// pitTickTime returns the earliest virtual time at which pitTick >= tick.
func pitTickTime(tick int64) int64 {
	if tick <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(tick), 1e9)
	if hi >= PITHz {
		return NoDeadline
	}
	q, r := bits.Div64(hi, lo, PITHz)
	if r != 0 {
		q++
	}
	if q > uint64(NoDeadline) {
		return NoDeadline
	}
	return int64(q)
}

// pitFloorMod returns a mod n in [0, n).
func pitFloorMod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

func pitFloorDiv(a, n int64) int64 {
	q := a / n
	if a%n != 0 && (a < 0) != (n < 0) {
		q--
	}
	return q
}

type pitCounter struct {
	mode    uint8 // effective mode 0-5
	rawMode uint8 // M2-M0 as written (status byte)
	rw      uint8 // 1 LSB, 2 MSB, 3 LSB then MSB
	bcd     bool
	cr      uint16 // count register as written
	crLow   uint8  // LSB waiting for its MSB
	wrMSB   bool   // write flip-flop: next byte is the MSB
	rdMSB   bool   // read flip-flop for unlatched reads
	latched bool   // output latch holds a count
	olMSB   bool   // next latched byte is the MSB
	ol      uint16
	stLatch bool // status latched
	status  uint8
	gate    bool

	loaded   bool  // a complete count has been written since the mode was set
	counting bool  // CE runs from t0 (and for 0/4/2/3 the gate is high)
	t0       int64 // tick at which CE holds n
	n        int64 // modulus loaded: 1..65536 (binary) or 1..10000 (BCD)
	hold     int64 // CE value while stopped or before t0
	fired    bool  // modes 0/4: terminal count passed before t0
	trigLow  bool  // mode 1: retriggered while OUT was low, so it stays low
	pend     bool  // modes 2/3: a new count waits for the period boundary
	pendTick int64
	pendN    int64
	null     int64 // null count is set while tick < null

	irq    IRQLine // nil: OUT connected to nothing we model
	driven bool
	last   int64 // last tick processed
}

func (c *pitCounter) modulus() int64 {
	if c.bcd {
		return 10000
	}
	return 65536
}

// effective returns the count value of CR (0 is the maximum count).
func (c *pitCounter) effective() int64 {
	v := int64(c.cr)
	if c.bcd {
		// Non-decimal digits count as their binary value; keep in range.
		v = (v>>12&15)*1000 + (v>>8&15)*100 + (v>>4&15)*10 + v&15
		v %= 10000
	}
	if v == 0 {
		return c.modulus()
	}
	return v
}

// half returns mode 3's high and low phase lengths for n.
func pitHalf(n int64) (h, l int64) {
	h = (n + 1) / 2
	return h, n - h
}

// ce returns the counting element at tick t (0..modulus-1).
func (c *pitCounter) ce(t int64) int64 {
	if !c.counting || t < c.t0 {
		return c.hold
	}
	k, n, m := t-c.t0, c.n, c.modulus()
	switch c.mode {
	case 2:
		return (n - k%n) % m
	case 3:
		h, _ := pitHalf(n)
		p := k % n
		var v int64
		switch {
		case p < h && (p == 0 || n%2 == 0):
			v = n - 2*p
		case p < h: // odd: N, N-1, then down by two
			v = n + 1 - 2*p
		case n%2 == 0:
			v = n - 2*(p-h)
		case p == h:
			v = n
		default: // odd low phase: N, N-3, then down by two
			v = n - 1 - 2*(p-h)
		}
		return v % m
	default:
		return pitFloorMod(n-k, m)
	}
}

// out returns the OUT pin at tick t.
func (c *pitCounter) out(t int64) bool {
	switch c.mode {
	case 0:
		return c.loaded && (c.fired || c.counting && t >= c.t0+c.n)
	case 1:
		return !(c.counting && (t >= c.t0 || c.trigLow && t == c.t0-1) && t < c.t0+c.n)
	case 4:
		return !(c.counting && !c.fired && t == c.t0+c.n)
	case 5:
		return !(c.counting && t == c.t0+c.n)
	case 2:
		return !c.counting || t < c.t0 || (t-c.t0)%c.n != c.n-1
	default: // 3
		h, _ := pitHalf(c.n)
		return !c.counting || t < c.t0 || (t-c.t0)%c.n < h
	}
}

// nextRise returns the first tick after a at which OUT rises, or pitNever.
func (c *pitCounter) nextRise(a int64) int64 {
	if !c.counting {
		return pitNever
	}
	var r int64
	switch c.mode {
	case 0:
		r = c.t0 + c.n
		if c.fired {
			return pitNever
		}
	case 1:
		r = c.t0 + c.n
	case 4:
		r = c.t0 + c.n + 1
		if c.fired {
			return pitNever
		}
	case 5:
		r = c.t0 + c.n + 1
	default: // 2, 3: OUT rises at each reload
		if c.n < 2 {
			return pitNever // mode 2 N=1 stays low; mode 3 N=1 stays high
		}
		j := max(1, pitFloorDiv(a-c.t0, c.n)+1)
		return c.t0 + j*c.n
	}
	if r > a {
		return r
	}
	return pitNever
}

// catchUp brings the counter to tick t: deferred reloads happen in order
// and OUT edges on the IRQ line are delivered (a burst of missed periods
// collapses into one edge, as a latch would).
func (c *pitCounter) catchUp(t int64) {
	for c.pend && c.pendTick <= t {
		c.edges(c.pendTick)
		c.applyPending()
	}
	c.edges(t)
}

func (c *pitCounter) edges(t int64) {
	if t <= c.last {
		return
	}
	if c.irq != nil {
		if c.nextRise(c.last) <= t {
			if c.driven {
				c.irq.Set(false)
			}
			c.irq.Set(true)
			c.driven = true
		}
		c.drive(t)
	}
	c.last = t
}

// drive sets the IRQ line to OUT at tick t without looking for edges.
func (c *pitCounter) drive(t int64) {
	if c.irq != nil {
		if o := c.out(t); o != c.driven {
			c.driven = o
			c.irq.Set(o)
		}
	}
}

func (c *pitCounter) applyPending() {
	b := c.pendTick
	lowStart := false
	if c.mode == 3 {
		h, _ := pitHalf(c.n)
		lowStart = (b-c.t0)%c.n == h && h != c.n
	}
	c.n = c.pendN
	c.t0 = b
	if lowStart {
		h, _ := pitHalf(c.n)
		c.t0 = b - h
	}
	c.pend = false
}

// nextBoundary returns the tick after t at which mode 2/3 reloads CE.
func (c *pitCounter) nextBoundary(t int64) int64 {
	k := t - c.t0
	p := k % c.n
	base := c.t0 + k - p
	if c.mode == 3 {
		h, l := pitHalf(c.n)
		if p < h && l > 0 {
			return base + h
		}
	}
	return base + c.n
}

// setMode handles a control word selecting a mode for this counter.
func (c *pitCounter) setMode(v uint8, t int64) {
	c.hold = c.ce(t)
	c.rw = v >> 4 & 3
	c.rawMode = v >> 1 & 7
	c.mode = c.rawMode
	if c.mode > 5 {
		c.mode -= 4
	}
	c.bcd = v&1 != 0
	c.hold %= c.modulus()
	c.wrMSB, c.rdMSB, c.olMSB = false, false, false
	c.loaded, c.counting, c.fired, c.pend = false, false, false, false
	c.null = pitNever
	c.drive(t)
}

// writeByte handles a write to the counter's port.
func (c *pitCounter) writeByte(v uint8, t int64) {
	switch c.rw {
	case 1:
		c.cr = uint16(v)
	case 2:
		c.cr = uint16(v) << 8
	default:
		if !c.wrMSB {
			c.crLow = v
			c.wrMSB = true
			if c.mode == 0 {
				// Mode 0: the first byte stops counting and drops OUT.
				c.hold = c.ce(t)
				c.loaded, c.counting, c.fired = false, false, false
				c.drive(t)
			}
			return
		}
		c.wrMSB = false
		c.cr = uint16(v)<<8 | uint16(c.crLow)
	}
	c.loadCount(t)
}

// loadCount acts on a complete count written at tick t; the transfer
// CR->CE happens on the next clock (t+1) where the mode allows it.
func (c *pitCounter) loadCount(t int64) {
	n := c.effective()
	switch c.mode {
	case 0, 4:
		c.loaded, c.fired = true, false
		c.t0, c.n = t+1, n
		c.null = t + 1
		c.counting = c.gate
		if !c.gate {
			c.hold = n % c.modulus()
		}
	case 1, 5:
		c.loaded = true
		c.null = pitNever // until the gate triggers
	default: // 2, 3
		switch {
		case !c.loaded || !c.counting:
			c.loaded = true
			if c.gate {
				c.counting = true
				c.t0, c.n = t+1, n
				c.null = t + 1
			} else {
				c.null = pitNever
			}
		case t < c.t0:
			c.n = n // the load on the next clock takes the newest count
		default:
			// The current period (mode 2) or half-cycle (mode 3)
			// finishes with the old count.
			c.pend = true
			c.pendN = n
			c.pendTick = c.nextBoundary(t)
			c.null = c.pendTick
		}
	}
	c.drive(t)
}

// setGate applies a GATE level at tick t.
func (c *pitCounter) setGate(g bool, t int64) {
	if g == c.gate {
		return
	}
	c.gate = g
	switch c.mode {
	case 0, 4:
		if !c.loaded {
			break
		}
		if g {
			c.counting = true
			c.t0 = t
			c.n = c.hold
			if c.n == 0 {
				c.n = c.modulus()
			}
		} else if c.counting {
			c.hold = c.ce(t)
			c.fired = c.fired || t >= c.t0+c.n
			c.counting = false
		}
	case 1, 5:
		if g && c.loaded {
			c.trigLow = c.mode == 1 && !c.out(t)
			c.counting = true
			c.t0, c.n = t+1, c.effective()
			c.null = t + 1
		}
	default: // 2, 3
		if g && c.loaded {
			c.counting = true
			c.t0, c.n = t+1, c.effective()
			c.pend = false
			c.null = t + 1
		} else if !g && c.counting {
			c.hold = c.ce(t)
			c.counting = false
			if c.pend {
				c.pend = false
				c.null = pitNever
			}
		}
	}
	c.drive(t)
}

func (c *pitCounter) display(v int64) uint16 {
	if !c.bcd {
		return uint16(v)
	}
	v %= 10000
	return uint16(v/1000<<12 | v/100%10<<8 | v/10%10<<4 | v%10)
}

func (c *pitCounter) latchCount(t int64) {
	if !c.latched {
		c.ol = c.display(c.ce(t))
		c.latched = true
		c.olMSB = false
	}
}

func (c *pitCounter) latchStatus(t int64) {
	if c.stLatch {
		return
	}
	s := c.rw<<4 | c.rawMode<<1
	if c.bcd {
		s |= 1
	}
	if c.out(t) {
		s |= 0x80
	}
	if t < c.null {
		s |= 0x40
	}
	c.status = s
	c.stLatch = true
}

func (c *pitCounter) readByte(t int64) uint8 {
	if c.stLatch {
		c.stLatch = false
		return c.status
	}
	var v uint16
	msb := false
	if c.latched {
		v = c.ol
		switch c.rw {
		case 1:
			c.latched = false
		case 2:
			c.latched, msb = false, true
		default:
			msb = c.olMSB
			c.olMSB = !c.olMSB
			c.latched = c.olMSB
		}
	} else {
		v = c.display(c.ce(t))
		switch c.rw {
		case 2:
			msb = true
		case 3:
			msb = c.rdMSB
			c.rdMSB = !c.rdMSB
		}
	}
	if msb {
		return uint8(v >> 8)
	}
	return uint8(v)
}

// PIT is the 8254 with counter 0 on IRQ 0, counter 1 (DRAM refresh) and
// counter 2 (speaker, gated through port 0x61).
type PIT struct {
	clk Clock
	c   [3]pitCounter
}

// NewPIT returns a PIT reading time from clk, its counter 0 OUT on irq0.
func NewPIT(clk Clock, irq0 IRQLine) *PIT {
	if irq0 == nil {
		irq0 = NoIRQ{}
	}
	p := &PIT{clk: clk}
	p.c[0].irq = irq0
	p.Reset()
	return p
}

// Reset puts every counter in mode 3 with the maximum count running, as
// QEMU does; counter 2's gate is low.
func (p *PIT) Reset() {
	t := pitTick(p.clk.Now())
	for i := range p.c {
		c := &p.c[i]
		irq := c.irq
		*c = pitCounter{irq: irq, last: t, gate: i != 2}
		c.setMode(0x36, t)
		c.cr = 0
		c.loadCount(t)
		if irq != nil {
			c.driven = c.out(t)
			irq.Set(c.driven)
		}
	}
}

// Register claims ports 0x40-0x43.
func (p *PIT) Register(b *mem.PortBus) { b.Register(0x40, 0x43, p) }

func (p *PIT) now() int64 {
	t := pitTick(p.clk.Now())
	for i := range p.c {
		p.c[i].catchUp(t)
	}
	return t
}

// In reads a counter; the control port reads as a floating bus.
func (p *PIT) In(port uint16, size int) uint32 {
	var v uint32
	for i := 0; i < size; i++ { // low port first, as the ISA bus splits it
		v |= uint32(p.in8(port+uint16(i))) << (8 * i)
	}
	return v
}

// Out writes counters or the control word register.
func (p *PIT) Out(port uint16, size int, val uint32) {
	for i := 0; i < size; i++ {
		p.out8(port+uint16(i), uint8(val>>(8*i)))
	}
}

func (p *PIT) in8(port uint16) uint8 {
	n := int(port - 0x40)
	if n < 0 || n > 2 {
		return 0xFF
	}
	return p.c[n].readByte(p.now())
}

func (p *PIT) out8(port uint16, v uint8) {
	n := int(port - 0x40)
	if n < 0 || n > 3 {
		return
	}
	t := p.now()
	if n < 3 {
		p.c[n].writeByte(v, t)
		return
	}
	sc := v >> 6
	if sc == 3 { // read-back
		for i := range p.c {
			if v&(2<<i) == 0 {
				continue
			}
			if v&0x20 == 0 {
				p.c[i].latchCount(t)
			}
			if v&0x10 == 0 {
				p.c[i].latchStatus(t)
			}
		}
		return
	}
	c := &p.c[sc]
	if v&0x30 == 0 {
		c.latchCount(t)
		return
	}
	c.setMode(v, t)
}

// SetGate2 drives counter 2's GATE input (port 0x61 bit 0).
func (p *PIT) SetGate2(level bool) { p.c[2].setGate(level, p.now()) }

// Gate2 reports counter 2's GATE input.
func (p *PIT) Gate2() bool { return p.c[2].gate }

// Out2 reports counter 2's OUT pin now (port 0x61 bit 5, the speaker).
func (p *PIT) Out2() bool { return p.c[2].out(p.now()) }

// Deadline returns the virtual time of counter 0's next rising OUT edge
// (the next IRQ 0 request), or NoDeadline.
func (p *PIT) Deadline() int64 {
	c := &p.c[0]
	r := c.nextRise(c.last)
	if c.pend && c.pendTick < r {
		r = c.pendTick
	}
	if r == pitNever {
		return NoDeadline
	}
	return pitTickTime(r)
}

// Advance delivers counter 0's OUT edges up to now.
func (p *PIT) Advance(now int64) {
	p.c[0].catchUp(pitTick(now))
}

type pitCounterState struct {
	Mode, RawMode, RW, CRLow, Status                         uint8
	BCD, WrMSB, RdMSB, Latched, OLMSB, StLatch, Gate, Loaded bool
	Counting, Fired, Pend, Driven, TrigLow                   bool
	CR, OL                                                   uint16
	T0, N, Hold, PendTick, PendN, Null, Last                 int64
}

type pitSnapshot struct {
	Version uint8
	C       [3]pitCounterState
}

const pitSnapVersion = 1

// Save returns the PIT's state.
func (p *PIT) Save() ([]byte, error) {
	s := pitSnapshot{Version: pitSnapVersion}
	for i := range p.c {
		c := &p.c[i]
		s.C[i] = pitCounterState{c.mode, c.rawMode, c.rw, c.crLow, c.status,
			c.bcd, c.wrMSB, c.rdMSB, c.latched, c.olMSB, c.stLatch, c.gate, c.loaded,
			c.counting, c.fired, c.pend, c.driven, c.trigLow, c.cr, c.ol,
			c.t0, c.n, c.hold, c.pendTick, c.pendN, c.null, c.last}
	}
	var b bytes.Buffer
	err := binary.Write(&b, binary.LittleEndian, &s)
	return b.Bytes(), err
}

// Load restores state from Save.
func (p *PIT) Load(data []byte) error {
	var s pitSnapshot
	if len(data) != binary.Size(&s) {
		return errors.New("chipset: PIT snapshot has the wrong size")
	}
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &s); err != nil {
		return err
	}
	if s.Version != pitSnapVersion {
		return errors.New("chipset: PIT snapshot version mismatch")
	}
	for _, c := range s.C {
		m := int64(65536)
		if c.BCD {
			m = 10000
		}
		want := c.RawMode
		if want > 5 {
			want -= 4
		}
		if c.Mode != want || c.RawMode > 7 || c.RW < 1 || c.RW > 3 ||
			c.N < 1 || c.N > m || c.Hold < 0 || c.Hold >= m ||
			(c.Pend && (c.PendN < 1 || c.PendN > m)) || c.Last < 0 {
			return errors.New("chipset: PIT snapshot out of range")
		}
	}
	for i := range p.c {
		c, x := &p.c[i], s.C[i]
		irq := c.irq
		*c = pitCounter{mode: x.Mode, rawMode: x.RawMode, rw: x.RW, crLow: x.CRLow, status: x.Status,
			bcd: x.BCD, wrMSB: x.WrMSB, rdMSB: x.RdMSB, latched: x.Latched, olMSB: x.OLMSB,
			stLatch: x.StLatch, gate: x.Gate, loaded: x.Loaded, counting: x.Counting,
			fired: x.Fired, pend: x.Pend, driven: x.Driven, trigLow: x.TrigLow, cr: x.CR, ol: x.OL,
			t0: x.T0, n: x.N, hold: x.Hold, pendTick: x.PendTick, pendN: x.PendN,
			null: x.Null, last: x.Last, irq: irq}
		if irq != nil {
			irq.Set(c.driven)
		}
	}
	return nil
}
