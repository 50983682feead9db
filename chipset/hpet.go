package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"

	"fuji/mem"
)

// The High Precision Event Timer (IA-PC HPET specification 1.0a) as QEMU's
// pc machine has it: one block at 0xFED00000 with a 64-bit main counter
// at 10 MHz (period 100 000 000 fs), three comparators, all
// periodic-capable and 64-bit, legacy replacement routing, vendor 0x8086.
//
// The main counter is computed from the virtual clock: while enabled it is
// its value at the last enable/write plus the 100 ns ticks since. Each
// comparator keeps the virtual time of its next match; Advance processes
// matches due (periodic comparators accumulate their period, several
// missed periods count as one interrupt). Register accesses first catch up
// to the present, so reads see the comparators' accumulated values.
//
// Interrupt routing: out(n) is the interrupt line n of the board, in
// I/O APIC input numbering (for n < 16 also the 8259 input). As QEMU, out(0)
// is ISA IRQ0 (8259 IR0, I/O APIC pin 2). With LEG_RT_CNF timer 0 drives
// out(0) and timer 1 out(8), and the PIT and RTC, whose IRQs pass through
// PITInput/RTCInput, are cut off; otherwise timer n drives
// out(Tn_INT_ROUTE_CNF), within Tn_INT_ROUTE_CAP.

// HPETTimers is the number of comparators.
const HPETTimers = 3

const (
	hpetPeriodFs = 100000000 // femtoseconds per tick: 100 ns (10 MHz)
	hpetTickNs   = 100
	hpetCapLow   = 0x8086A201 // vendor 8086, LEG_RT_CAP, COUNT_SIZE_CAP, 3 timers, rev 1

	hpetCfgEnable = 1 << 0
	hpetCfgLegacy = 1 << 1

	hpetTnLevel    = 1 << 1
	hpetTnEnable   = 1 << 2
	hpetTnPeriodic = 1 << 3
	hpetTnPerCap   = 1 << 4
	hpetTnSizeCap  = 1 << 5
	hpetTnValSet   = 1 << 6
	hpetTn32Bit    = 1 << 8
	hpetTnRoute    = 0x1F << 9
	hpetTnWritable = hpetTnLevel | hpetTnEnable | hpetTnPeriodic | hpetTnValSet | hpetTn32Bit | hpetTnRoute
)

// HPETIntCapPIIX is Tn_INT_ROUTE_CAP of QEMU's pc (i440FX/PIIX) machine:
// I/O APIC input 2 only.
const HPETIntCapPIIX = 1 << 2

type hpetTimer struct {
	config uint64 // Tn_CONF (low 32 bits; the capability is added on read)
	cmp    uint64
	period uint64
	due    int64 // virtual time of the next match, NoDeadline if none
}

// HPET is the event timer block.
type HPET struct {
	clk    Clock
	intCap uint32
	out    [32]IRQLine
	driven [32]bool // level driven on out
	notify func()

	cfg     uint64
	isr     uint64
	counter uint64 // main counter at tref (or halted value)
	tref    int64
	t       [HPETTimers]hpetTimer

	legacyIn [2]hpetLegacyIn // PIT, RTC
	legacyLv [2]bool
}

type hpetLegacyIn struct {
	h *HPET
	n int
}

// Set drives the legacy input (the PIT's or RTC's IRQ).
func (p *hpetLegacyIn) Set(level bool) {
	p.h.legacyLv[p.n] = level
	p.h.updateOutputs()
}

// NewHPET returns an HPET in its reset state. intCap is every timer's
// Tn_INT_ROUTE_CAP (HPETIntCapPIIX for the pc machine); out returns the
// board's interrupt line n (see the package comment above) and is called
// for 0, 8 and every n in intCap.
func NewHPET(clk Clock, intCap uint32, out func(n int) IRQLine) *HPET {
	h := &HPET{clk: clk, intCap: intCap}
	for n := range h.out {
		h.out[n] = NoIRQ{}
		if n == 0 || n == 8 || intCap&(1<<n) != 0 {
			if l := out(n); l != nil {
				h.out[n] = l
			}
		}
	}
	h.legacyIn[0] = hpetLegacyIn{h, 0}
	h.legacyIn[1] = hpetLegacyIn{h, 1}
	h.Reset()
	return h
}

// PITInput is where the PIT's IRQ0 goes: it reaches out(0) unless legacy
// replacement routing is on.
func (h *HPET) PITInput() IRQLine { return &h.legacyIn[0] }

// RTCInput is where the RTC's IRQ8 goes: it reaches out(8) unless legacy
// replacement routing is on.
func (h *HPET) RTCInput() IRQLine { return &h.legacyIn[1] }

// SetDeadlineChanged registers f, called when a register write moves a
// deadline.
func (h *HPET) SetDeadlineChanged(f func()) { h.notify = f }

// Map maps the registers at HPETBase (1 KiB).
func (h *HPET) Map(b *mem.Bus) error { return b.MapMMIO("hpet", HPETBase, 0x400, h) }

// Reset halts and clears the counter and puts every comparator in its
// reset state (one-shot, disabled, comparator all ones, as QEMU).
func (h *HPET) Reset() {
	h.cfg, h.isr, h.counter, h.tref = 0, 0, 0, 0
	for i := range h.t {
		h.t[i] = hpetTimer{config: hpetTnPerCap | hpetTnSizeCap, cmp: ^uint64(0), due: NoDeadline}
	}
	h.updateOutputs()
}

func (h *HPET) enabled() bool { return h.cfg&hpetCfgEnable != 0 }
func (h *HPET) legacy() bool  { return h.cfg&hpetCfgLegacy != 0 }

// count returns the main counter at now.
func (h *HPET) count(now int64) uint64 {
	if !h.enabled() || now <= h.tref {
		return h.counter
	}
	return h.counter + uint64((now-h.tref)/hpetTickNs)
}

// tickTime returns the virtual time at which the main counter, at cur
// now, has advanced by d ticks (saturating at NoDeadline).
func (h *HPET) tickTime(now int64, d uint64) int64 {
	base := int64(0)
	if now > h.tref {
		base = (now - h.tref) / hpetTickNs
	}
	const maxTicks = uint64(NoDeadline/hpetTickNs) / 4
	if d > maxTicks || uint64(base) > maxTicks {
		return NoDeadline
	}
	return h.tref + (base+int64(d))*hpetTickNs
}

// addTicks adds n ticks to the time t, saturating.
func addTicks(t int64, n uint64) int64 {
	const maxTicks = uint64(NoDeadline/hpetTickNs) / 4
	if t == NoDeadline || n > maxTicks || t > NoDeadline/2 {
		return NoDeadline
	}
	return t + int64(n)*hpetTickNs
}

// arm computes when comparator i next matches the main counter: when
// the counter (its low half in 32-bit mode) next becomes equal to it. A
// comparator the counter has reached or passed matches after the wrap
// (QEMU fires it at once; the spec's equality match does not).
func (h *HPET) arm(i int, now int64) {
	t := &h.t[i]
	if !h.enabled() {
		t.due = NoDeadline
		return
	}
	cur := h.count(now)
	var d uint64
	if t.config&hpetTn32Bit != 0 {
		d = uint64(uint32(t.cmp) - uint32(cur))
	} else {
		d = t.cmp - cur
	}
	if d == 0 {
		// The counter already reached the comparator: the next match
		// is a full wrap away.
		if t.config&hpetTn32Bit == 0 {
			t.due = NoDeadline
			return
		}
		d = 1 << 32
	}
	t.due = h.tickTime(now, d)
}

// route returns the output timer i drives.
func (h *HPET) route(i int) int {
	if h.legacy() && i < 2 {
		return i * 8 // timer 0 → IRQ0, timer 1 → IRQ8
	}
	return int(h.t[i].config >> 9 & 0x1F)
}

// updateOutputs drives every output with the OR of its sources: the
// legacy PIT/RTC inputs (unless in legacy replacement mode) and the
// level-triggered comparators with their status bit set.
func (h *HPET) updateOutputs() {
	var want [32]bool
	if !h.legacy() {
		want[0] = h.legacyLv[0]
		want[8] = h.legacyLv[1]
	}
	if h.enabled() {
		for i := range h.t {
			c := h.t[i].config
			if c&hpetTnLevel != 0 && c&hpetTnEnable != 0 && h.isr&(1<<i) != 0 {
				want[h.route(i)] = true
			}
		}
	}
	for n := range want {
		if want[n] != h.driven[n] {
			h.driven[n] = want[n]
			h.out[n].Set(want[n])
		}
	}
}

// fire signals a match of comparator i.
func (h *HPET) fire(i int) {
	c := h.t[i].config
	if c&hpetTnLevel != 0 {
		// Level: the status bit is set even with the interrupt
		// disabled; the line follows it while enabled.
		h.isr |= 1 << i
		h.updateOutputs()
		return
	}
	if c&hpetTnEnable != 0 {
		if r := h.route(i); !h.driven[r] {
			h.out[r].Set(true)
			h.out[r].Set(false)
		}
	}
}

// Deadline returns the next comparator match that raises an interrupt
// (chipset.Timed). Matches of disabled comparators are processed lazily.
func (h *HPET) Deadline() int64 {
	next := NoDeadline
	for i := range h.t {
		if h.t[i].config&hpetTnEnable != 0 && h.t[i].due < next {
			next = h.t[i].due
		}
	}
	return next
}

// Advance processes comparator matches due at or before now
// (chipset.Timed).
func (h *HPET) Advance(now int64) {
	for i := range h.t {
		t := &h.t[i]
		if t.due > now {
			continue
		}
		h.fire(i)
		switch {
		case t.config&hpetTnPeriodic != 0 && t.period != 0:
			k := uint64((now-t.due)/hpetTickNs)/t.period + 1
			t.cmp += k * t.period
			if t.config&hpetTn32Bit != 0 {
				t.cmp = uint64(uint32(t.cmp))
			}
			hi, lo := bits.Mul64(k, t.period)
			if hi != 0 {
				t.due = NoDeadline
			} else {
				t.due = addTicks(t.due, lo)
			}
		case t.config&hpetTn32Bit != 0:
			t.due = addTicks(t.due, 1<<32) // the next wrap of the low half
		default:
			t.due = NoDeadline
		}
	}
}

func (h *HPET) kick() {
	if h.notify != nil && h.Deadline() != NoDeadline {
		h.notify()
	}
}

// read64 returns the 64-bit register at the 8-aligned offset off.
func (h *HPET) read64(off uint64, now int64) uint64 {
	switch {
	case off == 0x000:
		return uint64(hpetPeriodFs)<<32 | hpetCapLow
	case off == 0x010:
		return h.cfg
	case off == 0x020:
		return h.isr
	case off == 0x0F0:
		return h.count(now)
	case off >= 0x100 && off < 0x100+0x20*HPETTimers:
		t := &h.t[(off-0x100)/0x20]
		switch off & 0x1F {
		case 0x00:
			return t.config | uint64(h.intCap)<<32
		case 0x08:
			if t.config&hpetTn32Bit != 0 {
				return uint64(uint32(t.cmp))
			}
			return t.cmp
		}
	}
	return 0
}

// ReadMMIO reads a register (32- or 64-bit accesses).
func (h *HPET) ReadMMIO(off uint64, size int) uint64 {
	if size < 4 {
		return 0
	}
	now := h.clk.Now()
	h.Advance(now)
	v := h.read64(off&^7, now)
	if off&4 != 0 {
		return v >> 32
	}
	if size == 4 {
		return v & 0xFFFFFFFF
	}
	return v
}

// WriteMMIO writes a register (32- or 64-bit accesses; a 32-bit write
// replaces its half).
func (h *HPET) WriteMMIO(off uint64, size int, val uint64) {
	if size < 4 {
		return
	}
	now := h.clk.Now()
	h.Advance(now)
	reg := off &^ 7
	var mask uint64 = ^uint64(0)
	switch {
	case off&4 != 0:
		val <<= 32
		mask = 0xFFFFFFFF << 32
	case size == 4:
		val &= 0xFFFFFFFF
		mask = 0xFFFFFFFF
	}
	merge := func(old uint64) uint64 { return old&^mask | val&mask }
	switch {
	case reg == 0x010:
		h.writeConfig(merge(h.cfg), now)
	case reg == 0x020:
		h.isr &^= val & mask & (1<<HPETTimers - 1) // write 1 to clear
		h.updateOutputs()
	case reg == 0x0F0:
		// Spec: write only while halted; QEMU accepts it anyway.
		h.counter = merge(h.count(now))
		h.tref = now
		for i := range h.t {
			h.arm(i, now)
		}
	case reg >= 0x100 && reg < 0x100+0x20*HPETTimers:
		i := int((reg - 0x100) / 0x20)
		switch reg & 0x1F {
		case 0x00:
			h.writeTimerConfig(i, merge(h.t[i].config), now)
		case 0x08:
			h.writeComparator(i, val, mask, now)
		}
	}
	h.kick()
}

func (h *HPET) writeConfig(v uint64, now int64) {
	cur := h.count(now)
	was := h.enabled()
	h.cfg = v & (hpetCfgEnable | hpetCfgLegacy)
	if was != h.enabled() {
		// Start or halt: the counter goes on from (or keeps) the value
		// it reached.
		h.counter, h.tref = cur, now
		for i := range h.t {
			h.arm(i, now)
		}
	}
	h.updateOutputs()
}

func (h *HPET) writeTimerConfig(i int, v uint64, now int64) {
	t := &h.t[i]
	old := t.config
	nv := v&hpetTnWritable | old&^hpetTnWritable&0xFFFFFFFF
	if r := nv >> 9 & 0x1F; h.intCap&(1<<r) == 0 {
		// A route the timer cannot take reads back as before.
		nv = nv&^hpetTnRoute | old&hpetTnRoute
	}
	t.config = nv
	if nv&hpetTn32Bit != 0 {
		t.cmp = uint64(uint32(t.cmp))
		t.period = uint64(uint32(t.period))
	}
	if nv&hpetTnLevel == 0 {
		h.isr &^= 1 << i // edge timers have no status
	}
	h.arm(i, now)
	h.updateOutputs()
}

// writeComparator sets the comparator (one-shot, or periodic with
// Tn_VAL_SET_CNF) and, in periodic mode, the period; Tn_VAL_SET_CNF
// clears. In 32-bit mode the high half is ignored.
func (h *HPET) writeComparator(i int, val, mask uint64, now int64) {
	t := &h.t[i]
	if t.config&hpetTn32Bit != 0 {
		mask &= 0xFFFFFFFF
		val &= 0xFFFFFFFF
	}
	periodic := t.config&hpetTnPeriodic != 0
	if !periodic || t.config&hpetTnValSet != 0 {
		t.cmp = t.cmp&^mask | val&mask
	}
	if periodic {
		t.period = t.period&^mask | val&mask
	}
	t.config &^= hpetTnValSet
	h.arm(i, now)
}

// Snapshots.

type hpetTimerState struct {
	Config, Cmp, Period uint64
	Due                 int64
}

type hpetSnapshot struct {
	Version  uint8
	IntCap   uint32
	Cfg, ISR uint64
	Counter  uint64
	TRef     int64
	T        [HPETTimers]hpetTimerState
	Legacy   [2]bool
	Driven   [32]bool
}

const hpetSnapVersion = 1

// Save returns the HPET's state.
func (h *HPET) Save() ([]byte, error) {
	s := hpetSnapshot{Version: hpetSnapVersion, IntCap: h.intCap, Cfg: h.cfg, ISR: h.isr,
		Counter: h.counter, TRef: h.tref, Legacy: h.legacyLv, Driven: h.driven}
	for i, t := range h.t {
		s.T[i] = hpetTimerState{t.config, t.cmp, t.period, t.due}
	}
	var b bytes.Buffer
	err := binary.Write(&b, binary.LittleEndian, &s)
	return b.Bytes(), err
}

// Load restores state from Save and re-drives the outputs.
func (h *HPET) Load(data []byte) error {
	var s hpetSnapshot
	if len(data) != binary.Size(&s) {
		return errors.New("chipset: HPET snapshot has the wrong size")
	}
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &s); err != nil {
		return err
	}
	if s.Version != hpetSnapVersion || s.IntCap != h.intCap {
		return errors.New("chipset: HPET snapshot version mismatch")
	}
	if s.Cfg&^(hpetCfgEnable|hpetCfgLegacy) != 0 || s.ISR>>HPETTimers != 0 {
		return errors.New("chipset: HPET snapshot out of range")
	}
	for _, t := range s.T {
		if t.Config&^(hpetTnWritable|hpetTnPerCap|hpetTnSizeCap) != 0 || t.Due < 0 ||
			h.intCap&(1<<(t.Config>>9&0x1F)) == 0 && t.Config&hpetTnRoute != 0 {
			return errors.New("chipset: HPET snapshot timer out of range")
		}
	}
	h.cfg, h.isr, h.counter, h.tref = s.Cfg, s.ISR, s.Counter, s.TRef
	for i, t := range s.T {
		h.t[i] = hpetTimer{t.Config, t.Cmp, t.Period, t.Due}
	}
	h.legacyLv = s.Legacy
	h.driven = s.Driven
	for n := range h.driven {
		h.out[n].Set(h.driven[n])
	}
	h.updateOutputs()
	return nil
}
