package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"

	"fuji/mem"
)

// The local APIC (Intel SDM Vol. 3A ch. 11, "Advanced Programmable
// Interrupt Controller"), in xAPIC mode through MMIO at IA32_APIC_BASE and,
// when the model has it, in x2APIC mode through MSRs 0x800-0x8FF. Where the
// manual is silent it does what QEMU's TCG APIC does.
//
// Wiring: the 8259A's INTR drives LINT0 (ExtINT, the virtual-wire mode
// that is the power-on default of the bootstrap processor), NMI sources
// drive LINT1; I/O APICs and other local APICs send interrupt messages
// through an APICBus; the LAPIC drives its processor's INTR pin and NMI
// and is the processor's interrupt controller (Acknowledge is the INTA
// cycle, which it passes on to the 8259A for ExtINT interrupts).
//
// The timer counts the 1 GHz APIC bus clock (1 tick per virtual ns, as
// QEMU's APIC_BUS_CYCLE_NS) through the divide configuration; its state is
// the time of the last load, and counts are computed from the virtual
// clock when read. TSC-deadline mode converts TSC values with the TSC rate
// given in LAPICConfig.

// Physical addresses of the APIC-architecture devices on a PC.
const (
	LAPICDefaultBase = 0xFEE00000
	IOAPICBase       = 0xFEC00000
	HPETBase         = 0xFED00000
)

// IA32_APIC_BASE (MSR 0x1B) bits.
const (
	APICBaseBSP    = 1 << 8  // processor is the bootstrap processor (read-only)
	APICBaseEXTD   = 1 << 10 // x2APIC mode
	APICBaseEnable = 1 << 11 // APIC global enable
	apicBaseAddr   = 0x000FFFFFFFFFF000
)

// LAPICVersion is the version register: version 0x14 (an integrated
// xAPIC), max LVT entry 5 (timer, thermal, performance, LINT0, LINT1,
// error), no directed-EOI support, as QEMU.
const LAPICVersion = 0x00050014

// MSRs served by the local APIC.
const (
	MSRTSCDeadline = 0x6E0
	MSRX2APICFirst = 0x800
	MSRX2APICLast  = 0x8FF
)

// Delivery modes of interrupt messages, LVT entries and I/O APIC
// redirection entries.
const (
	DeliveryFixed  = 0
	DeliveryLowest = 1
	DeliverySMI    = 2
	DeliveryNMI    = 4
	DeliveryINIT   = 5
	DeliverySIPI   = 6 // start-up
	DeliveryExtINT = 7
)

// Destination shorthands of the ICR.
const (
	ShorthandNone       = 0
	ShorthandSelf       = 1
	ShorthandAll        = 2 // all including self
	ShorthandAllButSelf = 3
)

// APICMessage is an interrupt message on the APIC bus (the system bus of
// xAPIC processors): an IPI from a local APIC's ICR or an interrupt from
// an I/O APIC redirection entry.
type APICMessage struct {
	Dest      uint32 // destination (8 bits in xAPIC mode, 32 in x2APIC)
	Vector    uint8
	Mode      uint8 // Delivery*
	Logical   bool  // logical destination mode
	Level     bool  // assert (false only for the INIT level de-assert)
	Trigger   bool  // level triggered (fixed/lowest: sets the TMR bit)
	Shorthand uint8 // Shorthand*; needs Source
	Source    *LAPIC
}

// APICDeliverer accepts interrupt messages (an I/O APIC's view of the
// APIC bus).
type APICDeliverer interface {
	Deliver(m APICMessage)
}

// EOIListener receives the EOI broadcast a local APIC sends when it ends
// a level-triggered interrupt (I/O APICs clear their remote IRR).
type EOIListener interface {
	EOI(vector uint8)
}

// APICBus connects local APICs to each other and I/O APICs to local
// APICs. Delivery is immediate (no bus arbitration delays).
type APICBus struct {
	lapics []*LAPIC
	eoi    []EOIListener
}

// NewAPICBus returns an empty bus.
func NewAPICBus() *APICBus { return &APICBus{} }

// AddEOIListener registers an I/O APIC for EOI broadcasts.
func (b *APICBus) AddEOIListener(l EOIListener) { b.eoi = append(b.eoi, l) }

func (b *APICBus) broadcastEOI(vec uint8) {
	for _, l := range b.eoi {
		l.EOI(vec)
	}
}

// Deliver routes a message to the local APICs it addresses.
func (b *APICBus) Deliver(m APICMessage) {
	if m.Source != nil {
		switch m.Shorthand {
		case ShorthandSelf:
			m.Source.accept(m)
			return
		case ShorthandAll, ShorthandAllButSelf:
			for _, l := range b.lapics {
				if l != m.Source || m.Shorthand == ShorthandAll {
					l.accept(m)
				}
			}
			return
		}
	}
	if m.Mode == DeliveryLowest {
		// Lowest priority: the addressed APIC with the lowest
		// arbitration priority takes it (ties: the first).
		var best *LAPIC
		for _, l := range b.lapics {
			if l.matches(m.Dest, m.Logical) && l.softwareEnabled() && (best == nil || l.apr() < best.apr()) {
				best = l
			}
		}
		if best != nil {
			best.accept(m)
		}
		return
	}
	for _, l := range b.lapics {
		if l.matches(m.Dest, m.Logical) {
			l.accept(m)
		}
	}
}

// LAPICProcessor is the processor a local APIC signals: its INTR pin
// (an interrupt is ready for Acknowledge) and NMI. cpu.CPU satisfies it.
type LAPICProcessor interface {
	Set(level bool)
	NMI()
}

// LAPICStartup is implemented by processors that take INIT and start-up
// IPIs (optional; without it INIT only resets the APIC and SIPIs are
// dropped).
type LAPICStartup interface {
	INIT()
	SIPI(vector uint8)
}

// LAPICSMI is implemented by processors with system-management mode
// (optional; without it SMIs are dropped).
type LAPICSMI interface {
	SMI()
}

// ExtINTController is the 8259A seen from the local APIC: the INTA cycle
// of an ExtINT interrupt is answered by it. chipset.PIC satisfies it.
type ExtINTController interface {
	Acknowledge() uint8
}

// LAPICConfig describes one local APIC.
type LAPICConfig struct {
	ID          uint32 // initial APIC ID
	BSP         bool   // bootstrap processor (IA32_APIC_BASE.BSP, LINT0 virtual wire at reset)
	TSCHz       uint64 // TSC rate for TSC-deadline mode; 0 means 1 GHz
	TSCDeadline bool   // LVT timer mode 10b exists (CPUID.1:ECX[24])
	X2APIC      bool   // x2APIC mode exists (CPUID.1:ECX[21])
}

// LVT entry indexes.
const (
	lvtTimer = iota
	lvtThermal
	lvtPerf
	lvtLINT0
	lvtLINT1
	lvtError
	lvtCount
)

// LVT bits.
const (
	lvtMasked    = 1 << 16
	lvtLevelTrig = 1 << 15
	lvtRemoteIRR = 1 << 14
)

// Timer modes (LVT timer bits 18:17).
const (
	timerOneShot  = 0
	timerPeriodic = 1
	timerDeadline = 2
)

// ESR bits.
const (
	esrSendIllegal = 1 << 5
	esrRecvIllegal = 1 << 6
	esrIllegalReg  = 1 << 7
)

// lvtWritable returns the writable part of LVT entry i (delivery status
// and remote IRR are read-only).
func lvtWritable(i int) uint32 {
	switch i {
	case lvtTimer:
		return 0x0FF | lvtMasked | 3<<17
	case lvtThermal, lvtPerf:
		return 0x7FF | lvtMasked
	case lvtLINT0, lvtLINT1:
		return 0x7FF | 1<<13 | lvtLevelTrig | lvtMasked
	}
	return 0x0FF | lvtMasked // error
}

// LAPIC is one processor's local APIC.
type LAPIC struct {
	cfg      LAPICConfig
	clk      Clock
	bus      *APICBus
	proc     LAPICProcessor
	startup  LAPICStartup
	smi      LAPICSMI
	pic      ExtINTController
	mmio     *mem.Bus
	mappedAt uint64 // base mapped on mmio, or noMapping
	notify   func() // the timer deadline moved (the run loop re-plans)
	lint     [2]lapicPin

	base uint64 // IA32_APIC_BASE

	id      uint32
	tpr     uint8
	ldr     uint32
	dfr     uint32
	svr     uint32
	esr     uint32 // ESR as last latched
	errPend uint32 // errors since the last ESR write
	icr     uint64 // ICR: low 32 bits, destination in the high
	lvt     [lvtCount]uint32
	irr     [4]uint64
	isr     [4]uint64
	tmr     [4]uint64

	initCount uint32
	dcr       uint32 // divide configuration as written
	shift     uint   // log2 of the divisor
	t0        int64  // when the count was (last) loaded
	next      int64  // next expiry not yet processed, NoDeadline if none
	tscDL     uint64 // IA32_TSC_DEADLINE

	lintLevel [2]bool // LINT0/LINT1 pin levels
	extint    bool    // an ExtINT message waits for INTA
	intr      bool    // INTR output level
}

const noMapping = ^uint64(0)

type lapicPin struct {
	l *LAPIC
	n int
}

// Set drives the LINT pin.
func (p *lapicPin) Set(level bool) { p.l.setLINT(p.n, level) }

type noProcessor struct{}

func (noProcessor) Set(bool) {}
func (noProcessor) NMI()     {}

// NewLAPIC returns a local APIC in its power-on state attached to bus
// (nil: a bus of its own), its processor unconnected and not mapped.
func NewLAPIC(cfg LAPICConfig, clk Clock, bus *APICBus) *LAPIC {
	if cfg.TSCHz == 0 {
		cfg.TSCHz = 1e9
	}
	if bus == nil {
		bus = NewAPICBus()
	}
	l := &LAPIC{cfg: cfg, clk: clk, bus: bus, proc: noProcessor{}, mappedAt: noMapping}
	l.lint[0] = lapicPin{l, 0}
	l.lint[1] = lapicPin{l, 1}
	bus.lapics = append(bus.lapics, l)
	l.Reset()
	return l
}

// SetProcessor connects the processor's INTR pin and NMI (and, if it
// implements them, LAPICStartup and LAPICSMI), driving INTR at once.
func (l *LAPIC) SetProcessor(p LAPICProcessor) {
	if p == nil {
		p = noProcessor{}
	}
	l.proc = p
	l.startup, _ = p.(LAPICStartup)
	l.smi, _ = p.(LAPICSMI)
	l.proc.Set(l.intr)
}

// SetExtINT connects the 8259A that answers ExtINT acknowledges.
func (l *LAPIC) SetExtINT(pic ExtINTController) { l.pic = pic }

// SetDeadlineChanged registers f, called when a register write moves the
// timer's deadline (the run loop may be sleeping or running a long slice
// planned against the old one).
func (l *LAPIC) SetDeadlineChanged(f func()) { l.notify = f }

// Map maps the xAPIC registers on b at the current base and follows
// IA32_APIC_BASE changes from now on.
func (l *LAPIC) Map(b *mem.Bus) error {
	l.mmio = b
	return l.remap()
}

// remap puts the MMIO window where IA32_APIC_BASE says: mapped in xAPIC
// mode, absent when the APIC is disabled or in x2APIC mode.
func (l *LAPIC) remap() error {
	if l.mmio == nil {
		return nil
	}
	want := noMapping
	if l.base&(APICBaseEnable|APICBaseEXTD) == APICBaseEnable {
		want = l.base & apicBaseAddr
	}
	if want == l.mappedAt {
		return nil
	}
	if l.mappedAt != noMapping {
		l.mmio.Unmap(l.mappedAt)
		l.mappedAt = noMapping
	}
	if want == noMapping {
		return nil
	}
	if err := l.mmio.MapMMIO("lapic", want, 0x1000, l); err != nil {
		// The guest moved the APIC onto another device: it is not
		// reachable through memory until moved again.
		return err
	}
	l.mappedAt = want
	return nil
}

// LINT0 returns the LINT0 input (the 8259A's INTR on a PC).
func (l *LAPIC) LINT0() IRQLine { return &l.lint[0] }

// LINT1 returns the LINT1 input (NMI sources on a PC).
func (l *LAPIC) LINT1() IRQLine { return &l.lint[1] }

// ID returns the APIC ID (8 bits in xAPIC mode).
func (l *LAPIC) ID() uint32 { return l.id }

// Reset is a hardware reset: IA32_APIC_BASE to its default (enabled, at
// 0xFEE00000), the ID to the initial APIC ID, every register to its
// power-on value, and, on the bootstrap processor, LINT0 in ExtINT mode
// unmasked as QEMU does (the virtual wire firmware would set up). Pin
// levels are physical and survive.
func (l *LAPIC) Reset() {
	l.base = LAPICDefaultBase | APICBaseEnable
	if l.cfg.BSP {
		l.base |= APICBaseBSP
	}
	l.id = l.cfg.ID & 0xFF
	l.initReset()
	if l.cfg.BSP {
		l.lvt[lvtLINT0] = DeliveryExtINT << 8
	}
	_ = l.remap() // the default window is free if it was at build time
	// Drive INTR unconditionally: the processor's reset dropped its pin.
	l.intr = l.pendingLevel()
	l.proc.Set(l.intr)
}

// initReset puts the registers in the state an INIT leaves them in (SDM
// "Local APIC State After an INIT Reset"): everything but the ID and
// IA32_APIC_BASE.
func (l *LAPIC) initReset() {
	l.tpr = 0
	l.ldr = 0
	l.dfr = 0xFFFFFFFF
	l.svr = 0xFF
	l.esr, l.errPend = 0, 0
	l.icr = 0
	for i := range l.lvt {
		l.lvt[i] = lvtMasked
	}
	l.irr, l.isr, l.tmr = [4]uint64{}, [4]uint64{}, [4]uint64{}
	l.initCount = 0
	l.dcr = 0
	l.shift = 1
	l.t0 = 0
	l.next = NoDeadline
	l.tscDL = 0
	l.extint = false
	if l.x2() {
		l.enterX2APIC()
	}
}

func (l *LAPIC) x2() bool { return l.base&APICBaseEXTD != 0 }

func (l *LAPIC) globallyEnabled() bool { return l.base&APICBaseEnable != 0 }

func (l *LAPIC) softwareEnabled() bool { return l.globallyEnabled() && l.svr&0x100 != 0 }

func (l *LAPIC) enterX2APIC() {
	l.id = l.cfg.ID
	l.ldr = (l.id>>4)<<16 | 1<<(l.id&15)
}

// APICBase returns IA32_APIC_BASE as the local APIC sees it.
func (l *LAPIC) APICBase() uint64 { return l.base }

// SetAPICBase applies a WRMSR of IA32_APIC_BASE. The CPU checks the
// reserved bits (above its physical address width, 0-7 and 9) first;
// SetAPICBase reports false for a transition the SDM forbids (x2APIC
// without the feature or without EN, x2APIC to xAPIC, disabled to
// x2APIC), on which the CPU raises #GP and keeps the old value. BSP is
// read-only. Disabling the APIC resets its registers (re-enabling gives
// the power-on state without the virtual wire); the MMIO window follows
// the base.
func (l *LAPIC) SetAPICBase(v uint64) bool {
	en, ext := v&APICBaseEnable != 0, v&APICBaseEXTD != 0
	wasEn, wasExt := l.globallyEnabled(), l.x2()
	switch {
	case ext && (!l.cfg.X2APIC || !en):
		return false
	case wasEn && wasExt && en && !ext:
		return false
	case !wasEn && ext:
		return false
	}
	l.base = v&(apicBaseAddr|APICBaseEnable|APICBaseEXTD) | l.base&APICBaseBSP
	switch {
	case wasEn && !en:
		l.initReset()
		l.id = l.cfg.ID & 0xFF
	case ext && !wasExt:
		l.enterX2APIC()
	}
	_ = l.remap()
	l.update()
	l.kick()
	return true
}

// HasInterrupt reports whether an interrupt waits for Acknowledge: a
// fixed vector whose priority class is above the PPR, or an ExtINT
// request. It is the level of the processor's INTR pin.
func (l *LAPIC) HasInterrupt() bool { return l.pendingLevel() }

// INTR reports the level the LAPIC drives on the processor's INTR pin.
func (l *LAPIC) INTR() bool { return l.intr }

// Acknowledge is the processor's INTA cycle. An ExtINT interrupt (or any
// interrupt while the APIC is globally disabled) is answered by the
// 8259A; otherwise the highest-priority deliverable vector moves from the
// IRR to the ISR. When nothing is deliverable any more (the TPR was raised
// since INTR rose) the answer is the spurious vector, with no ISR bit set.
func (l *LAPIC) Acknowledge() uint8 {
	if !l.globallyEnabled() || l.extint || l.extINTWire() {
		l.extint = false
		v := uint8(0xFF)
		if l.pic != nil {
			v = l.pic.Acknowledge()
		}
		l.update()
		return v
	}
	v := l.deliverable()
	if v < 0 {
		l.update()
		return uint8(l.svr)
	}
	clearBit(&l.irr, v)
	setBit(&l.isr, v)
	l.update()
	return uint8(v)
}

// extINTWire reports whether LINT0 passes the 8259A's INTR through now.
func (l *LAPIC) extINTWire() bool {
	e := l.lvt[lvtLINT0]
	return l.lintLevel[0] && e&lvtMasked == 0 && e>>8&7 == DeliveryExtINT
}

// deliverable returns the fixed vector the APIC would deliver, or -1.
func (l *LAPIC) deliverable() int {
	if !l.softwareEnabled() {
		return -1 // held in the IRR
	}
	v := highestBit(&l.irr)
	if v < 0 || uint8(v)>>4 <= l.ppr()>>4 {
		return -1
	}
	return v
}

func (l *LAPIC) pendingLevel() bool {
	if !l.globallyEnabled() {
		return l.lintLevel[0] // no APIC: LINT0 is the INTR pin
	}
	return l.extint || l.extINTWire() || l.deliverable() >= 0
}

// update drives the INTR output.
func (l *LAPIC) update() {
	if lv := l.pendingLevel(); lv != l.intr {
		l.intr = lv
		l.proc.Set(lv)
	}
}

// ppr is the processor priority (SDM 11.8.3.1).
func (l *LAPIC) ppr() uint8 {
	isrv := uint8(max(highestBit(&l.isr), 0))
	if l.tpr>>4 >= isrv>>4 {
		return l.tpr
	}
	return isrv & 0xF0
}

// apr is the arbitration priority (SDM 11.6.2.4 / Figure 11-15).
func (l *LAPIC) apr() uint8 {
	isrv := uint8(max(highestBit(&l.isr), 0))
	irrv := uint8(max(highestBit(&l.irr), 0))
	if l.tpr>>4 >= irrv>>4 && l.tpr>>4 > isrv>>4 {
		return l.tpr
	}
	return max(l.tpr&0xF0, isrv&0xF0, irrv&0xF0)
}

// matches reports whether a destination addresses this APIC.
func (l *LAPIC) matches(dest uint32, logical bool) bool {
	if !l.globallyEnabled() {
		return false
	}
	if l.x2() {
		if dest == 0xFFFFFFFF {
			return true
		}
		if !logical {
			return dest == l.id
		}
		return dest>>16 == l.ldr>>16 && dest&l.ldr&0xFFFF != 0
	}
	dest &= 0xFF
	if dest == 0xFF {
		return true
	}
	if !logical {
		return dest == l.id&0xFF
	}
	ld := l.ldr >> 24
	if l.dfr>>28 == 0xF { // flat model
		return dest&ld != 0
	}
	// Cluster model: cluster in the high nibble, members in the low.
	return dest>>4 == ld>>4 && dest&ld&0xF != 0
}

// accept takes a message addressed to this APIC.
func (l *LAPIC) accept(m APICMessage) {
	if !l.globallyEnabled() {
		return
	}
	switch m.Mode {
	case DeliveryFixed, DeliveryLowest:
		// A software-disabled APIC takes only INIT, NMI, SMI and
		// SIPI (SDM 11.4.7.2).
		if l.softwareEnabled() {
			l.acceptFixed(m.Vector, m.Trigger)
		}
	case DeliveryNMI:
		l.proc.NMI()
	case DeliverySMI:
		if l.smi != nil {
			l.smi.SMI()
		}
	case DeliveryINIT:
		if m.Trigger && !m.Level {
			return // INIT level de-assert: arbitration IDs only
		}
		l.initReset()
		l.update()
		l.kick()
		if l.startup != nil {
			l.startup.INIT()
		}
	case DeliverySIPI:
		if l.startup != nil {
			l.startup.SIPI(m.Vector)
		}
	case DeliveryExtINT:
		l.extint = true
		l.update()
	}
}

// acceptFixed sets a vector in the IRR (and its trigger mode in the TMR).
// Vectors 0-15 are illegal: the APIC logs a receive error instead.
func (l *LAPIC) acceptFixed(vec uint8, level bool) {
	if vec < 16 {
		l.raiseError(esrRecvIllegal)
		return
	}
	setBit(&l.irr, int(vec))
	if level {
		setBit(&l.tmr, int(vec))
	} else {
		clearBit(&l.tmr, int(vec))
	}
	l.update()
}

// raiseError logs an error and signals it through the error LVT.
func (l *LAPIC) raiseError(bit uint32) {
	l.errPend |= bit
	e := l.lvt[lvtError]
	if e&lvtMasked == 0 && uint8(e) >= 16 {
		l.acceptFixed(uint8(e), false)
	}
}

// localDeliver signals a local interrupt source through its LVT entry.
func (l *LAPIC) localDeliver(i int) {
	e := l.lvt[i]
	if e&lvtMasked != 0 {
		return
	}
	mode := uint8(e >> 8 & 7)
	if i == lvtTimer || i == lvtError {
		mode = DeliveryFixed
	}
	switch mode {
	case DeliveryFixed:
		level := (i == lvtLINT0 || i == lvtLINT1) && e&lvtLevelTrig != 0
		if level {
			l.lvt[i] |= lvtRemoteIRR
		}
		l.acceptFixed(uint8(e), level)
	case DeliveryNMI:
		l.proc.NMI()
	case DeliverySMI:
		if l.smi != nil {
			l.smi.SMI()
		}
	case DeliveryINIT:
		l.accept(APICMessage{Mode: DeliveryINIT, Level: true})
	case DeliveryExtINT:
		l.update()
	}
}

// setLINT applies a new level on LINT0/LINT1. Polarity is not applied
// (sources drive the asserted level), as QEMU.
func (l *LAPIC) setLINT(n int, level bool) {
	was := l.lintLevel[n]
	l.lintLevel[n] = level
	if !l.globallyEnabled() {
		// No APIC: LINT0 is INTR, LINT1 is NMI.
		if n == 0 {
			l.update()
		} else if level && !was {
			l.proc.NMI()
		}
		return
	}
	i := lvtLINT0 + n
	e := l.lvt[i]
	switch uint8(e >> 8 & 7) {
	case DeliveryExtINT:
		l.update()
	case DeliveryFixed:
		if e&lvtLevelTrig != 0 {
			if level && e&lvtRemoteIRR == 0 {
				l.localDeliver(i)
			}
		} else if level && !was {
			l.localDeliver(i)
		}
	default:
		if level && !was {
			l.localDeliver(i)
		}
	}
}

// eoi ends the highest-priority interrupt in service. For a
// level-triggered vector it broadcasts the EOI to the I/O APICs and ends
// a level-triggered LINT request of that vector (re-sending it if the pin
// is still asserted).
func (l *LAPIC) eoi() {
	v := highestBit(&l.isr)
	if v < 0 {
		return
	}
	clearBit(&l.isr, v)
	if testBit(&l.tmr, v) {
		for n := 0; n < 2; n++ {
			i := lvtLINT0 + n
			if e := l.lvt[i]; e&lvtRemoteIRR != 0 && int(uint8(e)) == v {
				l.lvt[i] &^= lvtRemoteIRR
				if l.lintLevel[n] && e&lvtLevelTrig != 0 && e>>8&7 == DeliveryFixed {
					l.localDeliver(i)
				}
			}
		}
		l.bus.broadcastEOI(uint8(v))
	}
	l.update()
}

// sendIPI sends the interrupt the ICR describes.
func (l *LAPIC) sendIPI() {
	lo := uint32(l.icr)
	mode := uint8(lo >> 8 & 7)
	vec := uint8(lo)
	level := lo&(1<<14) != 0
	trig := lo&(1<<15) != 0
	m := APICMessage{
		Vector:    vec,
		Mode:      mode,
		Logical:   lo&(1<<11) != 0,
		Level:     level,
		Trigger:   trig && mode == DeliveryINIT,
		Shorthand: uint8(lo >> 18 & 3),
		Source:    l,
	}
	if l.x2() {
		m.Dest = uint32(l.icr >> 32)
	} else {
		m.Dest = uint32(l.icr >> 56)
	}
	switch mode {
	case DeliveryFixed, DeliveryLowest:
		if vec < 16 {
			l.raiseError(esrSendIllegal)
			return
		}
	case 3, DeliveryExtINT: // reserved in the ICR
		return
	}
	l.bus.Deliver(m)
}

// Timer.

func (l *LAPIC) timerMode() uint32 {
	m := l.lvt[lvtTimer] >> 17 & 3
	if m == 3 {
		return timerOneShot // reserved: behaves as one-shot
	}
	return m
}

// period is the length in ns of n timer ticks.
func (l *LAPIC) ticksNs(n uint64) int64 { return int64(n << l.shift) }

// currentCount is the timer's current-count register at now.
func (l *LAPIC) currentCount(now int64) uint32 {
	if l.initCount == 0 || l.timerMode() == timerDeadline {
		return 0
	}
	el := uint64(0)
	if now > l.t0 {
		el = uint64(now-l.t0) >> l.shift
	}
	if l.timerMode() == timerPeriodic {
		return l.initCount - uint32(el%uint64(l.initCount))
	}
	if el >= uint64(l.initCount) {
		return 0
	}
	return l.initCount - uint32(el)
}

// schedule computes the first expiry after now of a one-shot or
// periodic count (TSC-deadline mode keeps l.next as set).
func (l *LAPIC) schedule(now int64) {
	if l.timerMode() == timerDeadline {
		return
	}
	l.next = NoDeadline
	if l.initCount == 0 {
		return
	}
	p := l.ticksNs(uint64(l.initCount))
	if l.timerMode() == timerPeriodic {
		k := int64(1)
		if now >= l.t0 {
			k = (now-l.t0)/p + 1
		}
		l.next = l.t0 + k*p
		return
	}
	if e := l.t0 + p; e > now {
		l.next = e
	}
}

// sync processes a timer expiry due at or before now: the interrupt
// (unless masked), the periodic reload, the TSC-deadline disarm.
func (l *LAPIC) sync(now int64) {
	if l.next > now {
		return
	}
	l.localDeliver(lvtTimer)
	switch l.timerMode() {
	case timerPeriodic:
		l.schedule(now)
	case timerDeadline:
		l.tscDL = 0
		l.next = NoDeadline
	default:
		l.next = NoDeadline
	}
}

// Deadline returns the next timer interrupt (chipset.Timed). A masked
// timer still counts, but its expiries are processed lazily.
func (l *LAPIC) Deadline() int64 {
	if l.lvt[lvtTimer]&lvtMasked != 0 || !l.globallyEnabled() {
		return NoDeadline
	}
	return l.next
}

// Advance raises the timer interrupt if it is due (chipset.Timed).
func (l *LAPIC) Advance(now int64) { l.sync(now) }

func (l *LAPIC) kick() {
	if l.notify != nil && l.Deadline() != NoDeadline {
		l.notify()
	}
}

// TSCDeadline returns IA32_TSC_DEADLINE (0 when disarmed, or when the
// timer is not in TSC-deadline mode).
func (l *LAPIC) TSCDeadline() uint64 {
	l.sync(l.clk.Now())
	if l.timerMode() != timerDeadline {
		return 0
	}
	return l.tscDL
}

// SetTSCDeadline applies a WRMSR of IA32_TSC_DEADLINE; tscNow is the
// processor's time-stamp counter at the write. Outside TSC-deadline mode
// the write is ignored; 0 disarms; a deadline already passed fires at
// once.
func (l *LAPIC) SetTSCDeadline(deadline, tscNow uint64) {
	now := l.clk.Now()
	l.sync(now)
	if l.timerMode() != timerDeadline {
		return
	}
	l.tscDL = deadline
	switch {
	case deadline == 0:
		l.next = NoDeadline
	case deadline <= tscNow:
		l.next = now
	default:
		l.next = now + l.tscToNs(deadline-tscNow)
	}
	l.sync(now)
	l.kick()
}

// tscToNs converts TSC ticks to ns, rounding up, saturating.
func (l *LAPIC) tscToNs(d uint64) int64 {
	hi, lo := bits.Mul64(d, 1e9)
	if hi >= l.cfg.TSCHz {
		return NoDeadline / 2
	}
	q, r := bits.Div64(hi, lo, l.cfg.TSCHz)
	if r != 0 {
		q++
	}
	if q > uint64(NoDeadline/2) {
		return NoDeadline / 2
	}
	return int64(q)
}

// writeLVT writes an LVT entry.
func (l *LAPIC) writeLVT(i int, v uint32) {
	now := l.clk.Now()
	if i == lvtTimer {
		l.sync(now) // expiries up to now happen under the old setting
	}
	w := lvtWritable(i)
	if i == lvtTimer && !l.cfg.TSCDeadline {
		w &^= 1 << 18
	}
	if !l.softwareEnabled() {
		v |= lvtMasked // software-disabled: masks cannot be cleared
	}
	old := l.lvt[i]
	l.lvt[i] = v&w | old&^w
	if i == lvtTimer {
		oldDL := old>>17&3 == timerDeadline
		newDL := l.timerMode() == timerDeadline
		if oldDL != newDL {
			// Changing to or from TSC-deadline mode disarms the timer.
			l.initCount, l.tscDL, l.next = 0, 0, NoDeadline
		}
		l.schedule(now)
		l.kick()
	}
	l.update()
}

// writeDCR changes the divider, keeping the count where it is.
func (l *LAPIC) writeDCR(v uint32) {
	now := l.clk.Now()
	l.sync(now)
	l.dcr = v & 0xB
	d := l.dcr&3 | l.dcr>>1&4
	newShift := uint(d+1) & 7
	if l.initCount != 0 && l.timerMode() != timerDeadline {
		el := uint64(0)
		if now > l.t0 {
			el = uint64(now-l.t0) >> l.shift
		}
		if l.timerMode() == timerPeriodic {
			el %= uint64(l.initCount)
		} else if el > uint64(l.initCount) {
			el = uint64(l.initCount)
		}
		l.t0 = now - int64(el<<newShift)
	}
	l.shift = newShift
	l.schedule(now)
	l.kick()
}

func (l *LAPIC) writeInitCount(v uint32) {
	now := l.clk.Now()
	l.sync(now)
	if l.timerMode() == timerDeadline {
		return // ignored in TSC-deadline mode
	}
	l.initCount = v
	l.t0 = now
	l.schedule(now)
	l.kick()
}

// Registers, by index (MMIO offset / 16, MSR - 0x800).

// readReg returns a register's value; ok is false for a register that
// does not exist in the current mode (an illegal register address in
// xAPIC mode, #GP in x2APIC mode).
func (l *LAPIC) readReg(idx uint32) (uint32, bool) {
	x2 := l.x2()
	switch {
	case idx == 0x02:
		if x2 {
			return l.id, true
		}
		return l.id << 24, true
	case idx == 0x03:
		return LAPICVersion, true
	case idx == 0x08:
		return uint32(l.tpr), true
	case idx == 0x09:
		return uint32(l.apr()), !x2
	case idx == 0x0A:
		return uint32(l.ppr()), true
	case idx == 0x0B, idx == 0x0C: // EOI (write-only), remote read
		return 0, !x2
	case idx == 0x0D:
		return l.ldr, true
	case idx == 0x0E:
		return l.dfr, !x2
	case idx == 0x0F:
		return l.svr, true
	case idx >= 0x10 && idx < 0x18:
		return word32(&l.isr, idx-0x10), true
	case idx >= 0x18 && idx < 0x20:
		return word32(&l.tmr, idx-0x18), true
	case idx >= 0x20 && idx < 0x28:
		return word32(&l.irr, idx-0x20), true
	case idx == 0x28:
		return l.esr, true
	case idx == 0x30:
		return uint32(l.icr), true
	case idx == 0x31:
		return uint32(l.icr >> 32), !x2
	case idx >= 0x32 && idx < 0x32+lvtCount:
		return l.lvt[idx-0x32], true
	case idx == 0x38:
		return l.initCount, true
	case idx == 0x39:
		return l.currentCount(l.clk.Now()), true
	case idx == 0x3E:
		return l.dcr, true
	}
	return 0, false
}

// writeReg writes a register; ok is false for a register that does not
// exist or, in x2APIC mode, is read-only or gets a reserved value.
func (l *LAPIC) writeReg(idx uint32, v uint32) bool {
	x2 := l.x2()
	switch {
	case idx == 0x02:
		if x2 {
			return false
		}
		l.id = v >> 24
	case idx == 0x03, idx == 0x09, idx == 0x0A, idx == 0x0C, idx >= 0x10 && idx < 0x28, idx == 0x39:
		return !x2 // read-only: xAPIC ignores the write
	case idx == 0x08:
		l.tpr = uint8(v)
		l.update()
	case idx == 0x0B:
		if x2 && v != 0 {
			return false
		}
		l.eoi()
	case idx == 0x0D:
		if x2 {
			return false
		}
		l.ldr = v & 0xFF000000
	case idx == 0x0E:
		if x2 {
			return false
		}
		l.dfr = v | 0x0FFFFFFF
	case idx == 0x0F:
		l.svr = v & 0x3FF
		if l.svr&0x100 == 0 {
			now := l.clk.Now()
			l.sync(now)
			for i := range l.lvt {
				l.lvt[i] |= lvtMasked
			}
		}
		l.update()
	case idx == 0x28:
		if x2 && v != 0 {
			return false
		}
		l.esr, l.errPend = l.errPend, 0
	case idx == 0x30:
		if x2 {
			return false // a 64-bit MSR, see WriteMSR
		}
		l.icr = l.icr&^0xFFFFFFFF | uint64(v&0xCCFFF)
		l.sendIPI()
	case idx == 0x31:
		if x2 {
			return false
		}
		l.icr = uint64(v&0xFF000000)<<32 | l.icr&0xFFFFFFFF
	case idx >= 0x32 && idx < 0x32+lvtCount:
		l.writeLVT(int(idx-0x32), v)
	case idx == 0x38:
		l.writeInitCount(v)
	case idx == 0x3E:
		l.writeDCR(v)
	case idx == 0x3F && x2: // SELF IPI
		if v&^0xFF != 0 {
			return false
		}
		l.icr = uint64(v & 0xFF)
		l.bus.Deliver(APICMessage{Vector: uint8(v), Mode: DeliveryFixed, Level: true, Shorthand: ShorthandSelf, Source: l})
	default:
		return false
	}
	return true
}

// ReadMMIO reads an xAPIC register. Registers are 32 bits on 16-byte
// boundaries; narrower reads see part of the register, bytes 4-15 of a
// slot read as zero.
func (l *LAPIC) ReadMMIO(off uint64, size int) uint64 {
	if l.base&(APICBaseEnable|APICBaseEXTD) != APICBaseEnable {
		return 0
	}
	sub := off & 0xF
	if sub >= 4 {
		return 0
	}
	v, ok := l.readReg(uint32(off>>4) & 0xFF)
	if !ok {
		l.raiseError(esrIllegalReg)
		return 0
	}
	return uint64(v >> (8 * sub))
}

// WriteMMIO writes an xAPIC register. Only aligned accesses of 32 bits or
// more reach a register (the low 32 bits), as QEMU.
func (l *LAPIC) WriteMMIO(off uint64, size int, val uint64) {
	if l.base&(APICBaseEnable|APICBaseEXTD) != APICBaseEnable || off&0xF != 0 || size < 4 {
		return
	}
	if !l.writeReg(uint32(off>>4)&0xFF, uint32(val)) {
		l.raiseError(esrIllegalReg)
	}
}

// ReadMSR reads an x2APIC register (MSR 0x800-0x8FF). ok is false (the
// CPU raises #GP) outside x2APIC mode and for registers that cannot be
// read.
func (l *LAPIC) ReadMSR(n uint32) (uint64, bool) {
	if n < MSRX2APICFirst || n > MSRX2APICLast || l.base&(APICBaseEnable|APICBaseEXTD) != APICBaseEnable|APICBaseEXTD {
		return 0, false
	}
	idx := n - MSRX2APICFirst
	if idx == 0x30 {
		return l.icr, true
	}
	v, ok := l.readReg(idx)
	return uint64(v), ok
}

// WriteMSR writes an x2APIC register; ok is false (#GP) outside x2APIC
// mode, for read-only or missing registers and reserved values.
func (l *LAPIC) WriteMSR(n uint32, v uint64) bool {
	if n < MSRX2APICFirst || n > MSRX2APICLast || l.base&(APICBaseEnable|APICBaseEXTD) != APICBaseEnable|APICBaseEXTD {
		return false
	}
	idx := n - MSRX2APICFirst
	if idx == 0x30 {
		l.icr = v & (0xFFFFFFFF<<32 | 0xCCFFF)
		l.sendIPI()
		return true
	}
	if v>>32 != 0 {
		return false
	}
	return l.writeReg(idx, uint32(v))
}

// 256-bit register helpers.

func setBit(a *[4]uint64, v int)       { a[v>>6&3] |= 1 << (v & 63) }
func clearBit(a *[4]uint64, v int)     { a[v>>6&3] &^= 1 << (v & 63) }
func testBit(a *[4]uint64, v int) bool { return a[v>>6&3]&(1<<(v&63)) != 0 }

func highestBit(a *[4]uint64) int {
	for i := 3; i >= 0; i-- {
		if a[i] != 0 {
			return i*64 + 63 - bits.LeadingZeros64(a[i])
		}
	}
	return -1
}

func word32(a *[4]uint64, i uint32) uint32 { return uint32(a[i>>1&3] >> (32 * (i & 1))) }

// Snapshots.

type lapicSnapshot struct {
	Version              uint8
	Base                 uint64
	ID                   uint32
	TPR                  uint8
	LDR, DFR, SVR, ESR   uint32
	ErrPend              uint32
	ICR                  uint64
	LVT                  [lvtCount]uint32
	IRR, ISR, TMR        [4]uint64
	InitCount, DCR       uint32
	T0, Next             int64
	TSCDeadline          uint64
	LINT0, LINT1, ExtINT bool
	INTR                 bool
}

const lapicSnapVersion = 1

// Save returns the local APIC's state.
func (l *LAPIC) Save() ([]byte, error) {
	s := lapicSnapshot{
		Version: lapicSnapVersion, Base: l.base, ID: l.id, TPR: l.tpr,
		LDR: l.ldr, DFR: l.dfr, SVR: l.svr, ESR: l.esr, ErrPend: l.errPend,
		ICR: l.icr, LVT: l.lvt, IRR: l.irr, ISR: l.isr, TMR: l.tmr,
		InitCount: l.initCount, DCR: l.dcr, T0: l.t0, Next: l.next, TSCDeadline: l.tscDL,
		LINT0: l.lintLevel[0], LINT1: l.lintLevel[1], ExtINT: l.extint, INTR: l.intr,
	}
	var b bytes.Buffer
	err := binary.Write(&b, binary.LittleEndian, &s)
	return b.Bytes(), err
}

// Load restores state from Save, moves the MMIO window and re-drives the
// INTR output.
func (l *LAPIC) Load(data []byte) error {
	var s lapicSnapshot
	if len(data) != binary.Size(&s) {
		return errors.New("chipset: LAPIC snapshot has the wrong size")
	}
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &s); err != nil {
		return err
	}
	if s.Version != lapicSnapVersion {
		return errors.New("chipset: LAPIC snapshot version mismatch")
	}
	ext, en := s.Base&APICBaseEXTD != 0, s.Base&APICBaseEnable != 0
	if s.Base&^(apicBaseAddr|APICBaseEnable|APICBaseEXTD|APICBaseBSP) != 0 ||
		(s.Base&APICBaseBSP != 0) != l.cfg.BSP || ext && (!en || !l.cfg.X2APIC) ||
		s.DCR&^0xB != 0 || s.SVR&^0x3FF != 0 || s.Next < 0 || (!ext && s.ID > 0xFF) {
		return errors.New("chipset: LAPIC snapshot out of range")
	}
	for i, v := range s.LVT {
		if v&^(lvtWritable(i)|lvtRemoteIRR) != 0 {
			return errors.New("chipset: LAPIC snapshot LVT out of range")
		}
	}
	l.base, l.id, l.tpr = s.Base, s.ID, s.TPR
	l.ldr, l.dfr, l.svr, l.esr, l.errPend = s.LDR, s.DFR, s.SVR, s.ESR, s.ErrPend
	l.icr, l.lvt, l.irr, l.isr, l.tmr = s.ICR, s.LVT, s.IRR, s.ISR, s.TMR
	l.initCount, l.dcr, l.t0, l.next, l.tscDL = s.InitCount, s.DCR, s.T0, s.Next, s.TSCDeadline
	d := l.dcr&3 | l.dcr>>1&4
	l.shift = uint(d+1) & 7
	l.lintLevel = [2]bool{s.LINT0, s.LINT1}
	l.extint = s.ExtINT
	if err := l.remap(); err != nil {
		return err
	}
	l.intr = l.pendingLevel()
	l.proc.Set(l.intr)
	return nil
}

// TPR returns the task-priority register (the CPU's CR8 reads TPR[7:4]).
func (l *LAPIC) TPR() uint8 { return l.tpr }

// SetTPR writes the task-priority register (MOV to CR8 writes TPR[7:4]).
func (l *LAPIC) SetTPR(v uint8) {
	l.tpr = v
	l.update()
}
