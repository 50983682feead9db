package chipset

import (
	"bytes"
	"testing"

	"fuji/mem"
)

// apCPU is a fake processor: its INTR pin level and the NMIs, INITs and
// SIPIs it took.
type apCPU struct {
	intr  bool
	nmis  int
	inits int
	sipis []uint8
}

func (c *apCPU) Set(l bool)        { c.intr = l }
func (c *apCPU) NMI()              { c.nmis++ }
func (c *apCPU) INIT()             { c.inits++ }
func (c *apCPU) SIPI(vector uint8) { c.sipis = append(c.sipis, vector) }

type apRig struct {
	l   *LAPIC
	cpu *apCPU
	clk *ppClock
	bus *APICBus
	mem *mem.Bus
}

func newAPRig(t *testing.T, cfg LAPICConfig) *apRig {
	t.Helper()
	clk := &ppClock{}
	bus := NewAPICBus()
	cfg.BSP = true
	l := NewLAPIC(cfg, clk, bus)
	cpu := &apCPU{}
	l.SetProcessor(cpu)
	m, err := mem.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Map(m); err != nil {
		t.Fatal(err)
	}
	return &apRig{l, cpu, clk, bus, m}
}

// rd and wr access an xAPIC register through the bus, as the CPU would.
func (r *apRig) rd(off uint64) uint32 { return uint32(r.mem.Read(LAPICDefaultBase+off, 4)) }
func (r *apRig) wr(off uint64, v uint32) {
	r.mem.Write(LAPICDefaultBase+off, 4, uint64(v))
}

// enable sets the software enable bit with spurious vector 0xFF.
func (r *apRig) enable() { r.wr(0xF0, 0x1FF) }

// selfIPI sends a fixed self-IPI of vec.
func (r *apRig) selfIPI(vec uint8) { r.wr(0x300, uint32(vec)|ShorthandSelf<<18) }

func (r *apRig) irrHas(vec uint8) bool {
	return r.rd(0x200+uint64(vec>>5)*0x10)&(1<<(vec&31)) != 0
}

func (r *apRig) isrHas(vec uint8) bool {
	return r.rd(0x100+uint64(vec>>5)*0x10)&(1<<(vec&31)) != 0
}

func TestLAPICResetState(t *testing.T) {
	r := newAPRig(t, LAPICConfig{ID: 3})
	for _, c := range []struct {
		off  uint64
		want uint32
	}{
		{0x20, 3 << 24}, {0x30, 0x50014}, {0x80, 0}, {0xE0, 0xFFFFFFFF}, {0xF0, 0xFF},
		{0x320, 0x10000}, {0x330, 0x10000}, {0x340, 0x10000}, {0x350, 0x700}, {0x360, 0x10000},
		{0x370, 0x10000}, {0x380, 0}, {0x390, 0}, {0x3E0, 0},
	} {
		if got := r.rd(c.off); got != c.want {
			t.Errorf("register %#x = %#x, want %#x", c.off, got, c.want)
		}
	}
	if b := r.l.APICBase(); b != 0xFEE00900 {
		t.Errorf("IA32_APIC_BASE = %#x", b)
	}
	// Software-disabled: LVT masks cannot be cleared.
	r.wr(0x320, 0x40)
	if r.rd(0x320) != 0x10040 {
		t.Errorf("LVT timer written while software-disabled = %#x", r.rd(0x320))
	}
}

func TestLAPICTimerOneShot(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	r.wr(0x3E0, 0xB) // divide by 1
	r.wr(0x320, 0x40)
	r.clk.ns = 100
	r.wr(0x380, 1000)
	if d := r.l.Deadline(); d != 1100 {
		t.Fatalf("deadline %d, want 1100", d)
	}
	r.clk.ns = 500
	if c := r.rd(0x390); c != 600 {
		t.Errorf("current count at 500 = %d, want 600", c)
	}
	r.l.Advance(1099)
	if r.cpu.intr {
		t.Fatal("interrupt before the count reached zero")
	}
	r.clk.ns = 1100
	r.l.Advance(1100)
	if !r.cpu.intr || !r.irrHas(0x40) {
		t.Fatal("no timer interrupt at zero")
	}
	if v := r.l.Acknowledge(); v != 0x40 {
		t.Fatalf("acknowledge = %#x", v)
	}
	if c := r.rd(0x390); c != 0 {
		t.Errorf("current count after expiry = %d", c)
	}
	if r.l.Deadline() != NoDeadline {
		t.Error("one-shot timer still has a deadline")
	}
	// Divide by 16: 100 ticks take 1600 ns.
	r.wr(0x3E0, 0x3)
	r.clk.ns = 2000
	r.wr(0x380, 100)
	r.clk.ns = 2800
	if c := r.rd(0x390); c != 50 {
		t.Errorf("count at half time (÷16) = %d, want 50", c)
	}
	if d := r.l.Deadline(); d != 3600 {
		t.Errorf("deadline (÷16) = %d, want 3600", d)
	}
	// Changing the divider mid-count keeps the count: 50 ticks ÷2 left.
	r.wr(0x3E0, 0x0)
	if c := r.rd(0x390); c != 50 {
		t.Errorf("count after divider change = %d", c)
	}
	if d := r.l.Deadline(); d != 2900 {
		t.Errorf("deadline after divider change = %d, want 2900", d)
	}
	// Writing 0 stops the timer.
	r.wr(0x380, 0)
	if r.l.Deadline() != NoDeadline {
		t.Error("initial count 0 did not stop the timer")
	}
}

func TestLAPICTimerPeriodic(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	r.wr(0x3E0, 0x0) // divide by 2
	r.wr(0x320, 1<<17|0x41)
	r.wr(0x380, 500) // period 1000 ns
	if d := r.l.Deadline(); d != 1000 {
		t.Fatalf("first deadline %d", d)
	}
	r.clk.ns = 1000
	r.l.Advance(1000)
	if !r.irrHas(0x41) {
		t.Fatal("no interrupt after the first period")
	}
	r.l.Acknowledge()
	r.wr(0xB0, 0)
	if d := r.l.Deadline(); d != 2000 {
		t.Errorf("second deadline %d", d)
	}
	r.clk.ns = 2250
	if c := r.rd(0x390); c != 375 {
		t.Errorf("count at 2250 = %d, want 375", c)
	}
	// Missed periods give one interrupt; the next deadline stays on the grid.
	r.clk.ns = 10500
	r.l.Advance(10500)
	if !r.irrHas(0x41) || r.l.Deadline() != 11000 {
		t.Errorf("after missed periods: IRR %v deadline %d", r.irrHas(0x41), r.l.Deadline())
	}
	r.l.Acknowledge()
	r.wr(0xB0, 0)
	// Masked: no deadline, no interrupt; unmasked it resumes on the grid.
	r.wr(0x320, 1<<17|1<<16|0x41)
	if r.l.Deadline() != NoDeadline {
		t.Error("masked timer has a deadline")
	}
	r.clk.ns = 13500
	r.l.Advance(13500)
	r.wr(0x320, 1<<17|0x41)
	if r.irrHas(0x41) {
		t.Error("masked period delivered after unmasking")
	}
	if d := r.l.Deadline(); d != 14000 {
		t.Errorf("deadline after unmask %d", d)
	}
}

func TestLAPICTimerTSCDeadline(t *testing.T) {
	r := newAPRig(t, LAPICConfig{TSCDeadline: true, TSCHz: 2e9})
	r.enable()
	r.wr(0x320, 2<<17|0x42)
	r.clk.ns = 100
	r.l.SetTSCDeadline(5000, 1000) // 4000 TSC ticks at 2 GHz: 2000 ns
	if d := r.l.Deadline(); d != 2100 {
		t.Fatalf("deadline %d, want 2100", d)
	}
	if v := r.l.TSCDeadline(); v != 5000 {
		t.Errorf("IA32_TSC_DEADLINE = %d", v)
	}
	r.wr(0x380, 10) // ignored in TSC-deadline mode
	if r.rd(0x380) != 0 || r.rd(0x390) != 0 {
		t.Error("initial count written in TSC-deadline mode")
	}
	r.clk.ns = 2099
	r.l.Advance(2099)
	if r.irrHas(0x42) {
		t.Fatal("fired early")
	}
	r.clk.ns = 2100
	r.l.Advance(2100)
	if !r.irrHas(0x42) {
		t.Fatal("did not fire at the deadline")
	}
	if v := r.l.TSCDeadline(); v != 0 {
		t.Errorf("IA32_TSC_DEADLINE after firing = %d", v)
	}
	r.l.Acknowledge()
	r.wr(0xB0, 0)
	// A deadline in the past fires at once.
	r.l.SetTSCDeadline(10, 20000)
	if !r.irrHas(0x42) {
		t.Error("past deadline did not fire at once")
	}
	r.l.Acknowledge()
	r.wr(0xB0, 0)
	// Leaving TSC-deadline mode disarms.
	r.l.SetTSCDeadline(1<<40, 0)
	r.wr(0x320, 0x42)
	if r.l.Deadline() != NoDeadline || r.l.TSCDeadline() != 0 {
		t.Error("mode change did not disarm")
	}
	// Without the feature, mode 10b does not exist.
	r2 := newAPRig(t, LAPICConfig{})
	r2.enable()
	r2.wr(0x320, 2<<17|0x42)
	r2.l.SetTSCDeadline(100, 0)
	if r2.rd(0x320) != 0x42 || r2.l.Deadline() != NoDeadline {
		t.Errorf("TSC-deadline without the feature: LVT %#x deadline %d", r2.rd(0x320), r2.l.Deadline())
	}
}

func TestLAPICPriority(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	r.wr(0x80, 0x50)
	r.selfIPI(0x52)
	r.selfIPI(0x35)
	if r.cpu.intr {
		t.Fatal("class 5 delivered with TPR 0x50")
	}
	r.wr(0x80, 0x4F)
	if !r.cpu.intr {
		t.Fatal("class 5 not delivered with TPR 0x4F")
	}
	if v := r.l.Acknowledge(); v != 0x52 {
		t.Fatalf("acknowledge %#x", v)
	}
	if p := r.rd(0xA0); p != 0x50 {
		t.Errorf("PPR with 0x52 in service = %#x", p)
	}
	if r.cpu.intr {
		t.Error("0x35 deliverable while 0x52 in service")
	}
	r.wr(0xB0, 0)
	if p := r.rd(0xA0); p != 0x4F {
		t.Errorf("PPR after EOI = %#x", p)
	}
	if r.cpu.intr {
		t.Error("0x35 deliverable with TPR 0x4F")
	}
	r.wr(0x80, 0)
	if !r.cpu.intr {
		t.Error("0x35 not deliverable with TPR 0")
	}
	// The TPR rises between INTR and INTA: spurious vector, no ISR bit.
	r.wr(0xF0, 0x1E7)
	r.wr(0x80, 0xF0)
	if v := r.l.Acknowledge(); v != 0xE7 {
		t.Errorf("spurious acknowledge = %#x", v)
	}
	if !r.irrHas(0x35) || r.isrHas(0x35) {
		t.Error("spurious acknowledge moved the request")
	}
	// APR: TPR vs the IRR and ISR classes.
	r.wr(0x80, 0x20)
	if a := r.rd(0x90); a != 0x30 {
		t.Errorf("APR = %#x, want 0x30", a)
	}
}

func TestLAPICNestedEOI(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	r.selfIPI(0x40)
	if v := r.l.Acknowledge(); v != 0x40 {
		t.Fatalf("first %#x", v)
	}
	r.selfIPI(0x45) // same class: waits
	if r.cpu.intr {
		t.Fatal("same-class vector nested")
	}
	r.selfIPI(0x80)
	if v := r.l.Acknowledge(); v != 0x80 {
		t.Fatalf("nested %#x", v)
	}
	if !r.isrHas(0x40) || !r.isrHas(0x80) {
		t.Fatal("ISR does not hold both")
	}
	r.wr(0xB0, 0) // ends 0x80, the highest
	if r.isrHas(0x80) || !r.isrHas(0x40) {
		t.Fatal("EOI did not end the highest in service")
	}
	if r.cpu.intr {
		t.Fatal("0x45 deliverable while 0x40 in service")
	}
	r.wr(0xB0, 0)
	if !r.cpu.intr {
		t.Fatal("0x45 not deliverable after EOI of 0x40")
	}
	if v := r.l.Acknowledge(); v != 0x45 {
		t.Fatalf("third %#x", v)
	}
	r.wr(0xB0, 0)
	if r.rd(0x100+0x20) != 0 || r.cpu.intr {
		t.Error("state not idle at the end")
	}
}

func TestLAPICIPIs(t *testing.T) {
	r := newAPRig(t, LAPICConfig{ID: 1})
	r.enable()
	// Physical destination = own ID.
	r.wr(0x310, 1<<24)
	r.wr(0x300, 0x50)
	if !r.irrHas(0x50) {
		t.Error("physical IPI to self not received")
	}
	// Physical destination = another ID.
	r.wr(0x310, 2<<24)
	r.wr(0x300, 0x51)
	if r.irrHas(0x51) {
		t.Error("IPI to APIC 2 received by APIC 1")
	}
	// Logical flat: LDR bit 2.
	r.wr(0xD0, 0x04<<24)
	r.wr(0x310, 0x06<<24)
	r.wr(0x300, 1<<11|0x52)
	if !r.irrHas(0x52) {
		t.Error("logical flat IPI not received")
	}
	// Logical cluster: cluster 1, member bit 0.
	r.wr(0xE0, 0x0FFFFFFF)
	r.wr(0xD0, 0x11<<24)
	r.wr(0x310, 0x21<<24)
	r.wr(0x300, 1<<11|0x53)
	if r.irrHas(0x53) {
		t.Error("IPI to cluster 2 received in cluster 1")
	}
	r.wr(0x310, 0x13<<24)
	r.wr(0x300, 1<<11|0x53)
	if !r.irrHas(0x53) {
		t.Error("cluster IPI not received")
	}
	// Shorthands.
	r.wr(0x300, ShorthandAll<<18|0x54)
	r.wr(0x300, ShorthandAllButSelf<<18|0x55)
	if !r.irrHas(0x54) || r.irrHas(0x55) {
		t.Error("all-including-self / all-excluding-self wrong")
	}
	// Lowest priority to self.
	r.wr(0x310, 1<<24)
	r.wr(0x300, DeliveryLowest<<8|0x56)
	if !r.irrHas(0x56) {
		t.Error("lowest-priority IPI not received")
	}
	// NMI, INIT, SIPI.
	r.wr(0x300, ShorthandSelf<<18|DeliveryNMI<<8)
	if r.cpu.nmis != 1 {
		t.Error("NMI IPI not delivered")
	}
	r.wr(0x300, ShorthandSelf<<18|DeliverySIPI<<8|0x9A)
	if len(r.cpu.sipis) != 1 || r.cpu.sipis[0] != 0x9A {
		t.Errorf("SIPI %v", r.cpu.sipis)
	}
	r.wr(0x300, ShorthandSelf<<18|DeliveryINIT<<8|1<<15) // level de-assert: nothing
	if r.cpu.inits != 0 {
		t.Error("INIT de-assert acted")
	}
	r.wr(0x300, ShorthandSelf<<18|DeliveryINIT<<8|1<<14)
	if r.cpu.inits != 1 || r.rd(0xF0) != 0xFF || r.irrHas(0x50) || r.rd(0x20) != 1<<24 {
		t.Error("INIT did not reset the APIC (keeping the ID)")
	}
	// Illegal vector: send error, latched by the ESR write.
	r.enable()
	r.selfIPI(0x05)
	if r.rd(0x280) != 0 {
		t.Error("ESR changed before the write that latches it")
	}
	r.wr(0x280, 0)
	if e := r.rd(0x280); e != esrSendIllegal {
		t.Errorf("ESR = %#x", e)
	}
	r.wr(0x280, 0)
	if r.rd(0x280) != 0 {
		t.Error("ESR not cleared by the next write")
	}
	// The error LVT signals errors; an illegal register address is one.
	r.wr(0x370, 0xE0)
	r.rd(0x2F0) // CMCI: not present with 6 LVT entries
	r.wr(0x280, 0)
	if r.rd(0x280) != esrIllegalReg || !r.irrHas(0xE0) {
		t.Errorf("illegal register: ESR %#x error interrupt %v", r.rd(0x280), r.irrHas(0xE0))
	}
	// A software-disabled APIC drops fixed interrupts but takes NMIs.
	r.wr(0xF0, 0xFF)
	r.selfIPI(0x60)
	r.wr(0x300, ShorthandSelf<<18|DeliveryNMI<<8)
	if r.irrHas(0x60) || r.cpu.nmis != 2 {
		t.Error("software-disabled APIC acceptance wrong")
	}
}

// apPIC returns an 8259A pair initialised with vector bases 0x20/0x28
// whose output drives out.
func apPIC(out IRQLine) (*PIC, *mem.PortBus) {
	p := NewPIC()
	b := mem.NewPortBus()
	p.Register(b)
	for _, w := range [][3]uint16{{0x20, 0x11, 0}, {0x21, 0x20, 0}, {0x21, 0x04, 0}, {0x21, 0x01, 0},
		{0xA0, 0x11, 0}, {0xA1, 0x28, 0}, {0xA1, 0x02, 0}, {0xA1, 0x01, 0}} {
		b.Out(w[0], 1, uint32(w[1]))
	}
	p.SetOutput(out)
	return p, b
}

func TestLAPICVirtualWire(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	pic, _ := apPIC(r.l.LINT0())
	r.l.SetExtINT(pic)
	// Power-on: software-disabled, LINT0 ExtINT: the PIC gets through.
	pic.Line(1).Set(true)
	if !r.cpu.intr {
		t.Fatal("PIC INTR not passed through LINT0")
	}
	if v := r.l.Acknowledge(); v != 0x21 {
		t.Fatalf("ExtINT acknowledge = %#x, want 0x21", v)
	}
	if r.cpu.intr || r.isrHas(0x21) {
		t.Fatal("ExtINT left INTR high or set an ISR bit")
	}
	pic.Out(0x20, 1, 0x20) // EOI to the 8259
	pic.Line(1).Set(false)
	// ExtINT ignores the TPR.
	r.enable()
	r.wr(0x350, 0x700)
	r.wr(0x80, 0xFF)
	pic.Line(3).Set(true)
	if !r.cpu.intr {
		t.Fatal("ExtINT blocked by the TPR")
	}
	if v := r.l.Acknowledge(); v != 0x23 {
		t.Fatalf("acknowledge %#x", v)
	}
	pic.Out(0x20, 1, 0x20)
	pic.Line(3).Set(false)
	// LINT0 masked: the PIC is cut off.
	r.wr(0x80, 0)
	r.wr(0x350, 0x10700)
	pic.Line(4).Set(true)
	if r.cpu.intr {
		t.Fatal("masked LINT0 passed the PIC through")
	}
	// Unmasking passes the pending request.
	r.wr(0x350, 0x700)
	if !r.cpu.intr {
		t.Fatal("unmasked LINT0 did not pass the pending request")
	}
	// APIC globally disabled: the PIC drives INTR directly, the MMIO
	// window is gone.
	if !r.l.SetAPICBase(LAPICDefaultBase | APICBaseBSP) {
		t.Fatal("disable refused")
	}
	if !r.cpu.intr {
		t.Fatal("globally disabled APIC lost the PIC's INTR")
	}
	if v := r.l.Acknowledge(); v != 0x24 {
		t.Fatalf("acknowledge with APIC disabled %#x", v)
	}
	if r.rd(0x30) != 0xFFFFFFFF {
		t.Error("MMIO window still mapped with the APIC disabled")
	}
	// Re-enabled: registers at their reset values, LINT0 masked.
	r.l.SetAPICBase(LAPICDefaultBase | APICBaseEnable)
	if r.rd(0x30) != LAPICVersion || r.rd(0x350) != 0x10000 {
		t.Errorf("after re-enable: version %#x LINT0 %#x", r.rd(0x30), r.rd(0x350))
	}
}

func TestLAPICLINT1NMIAndLevelLINT(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	r.wr(0x360, DeliveryNMI<<8)
	r.l.LINT1().Set(true)
	r.l.LINT1().Set(true)
	r.l.LINT1().Set(false)
	if r.cpu.nmis != 1 {
		t.Errorf("LINT1 NMIs = %d, want 1 (edge)", r.cpu.nmis)
	}
	// LINT0 fixed, level: remote IRR until EOI, then again if still high.
	r.wr(0x350, lvtLevelTrig|0x70)
	r.l.LINT0().Set(true)
	if !r.irrHas(0x70) || r.rd(0x350)&lvtRemoteIRR == 0 {
		t.Fatal("level LINT0 not accepted")
	}
	r.l.Acknowledge()
	r.wr(0xB0, 0)
	if !r.irrHas(0x70) {
		t.Fatal("still-asserted level LINT0 not re-sent after EOI")
	}
	r.l.LINT0().Set(false)
	r.l.Acknowledge()
	r.wr(0xB0, 0)
	if r.irrHas(0x70) || r.rd(0x350)&lvtRemoteIRR != 0 {
		t.Fatal("deasserted LINT0 sent again")
	}
}

func TestLAPICRelocateAndX2APIC(t *testing.T) {
	r := newAPRig(t, LAPICConfig{ID: 5, X2APIC: true})
	if !r.l.SetAPICBase(0xFED80000 | APICBaseEnable) {
		t.Fatal("relocation refused")
	}
	if r.mem.Read(0xFED80030, 4) != LAPICVersion || r.rd(0x30) == LAPICVersion {
		t.Fatal("MMIO window did not move")
	}
	r.l.SetAPICBase(LAPICDefaultBase | APICBaseEnable)
	if r.l.SetAPICBase(LAPICDefaultBase | APICBaseEXTD) {
		t.Error("EXTD without EN accepted")
	}
	if !r.l.SetAPICBase(LAPICDefaultBase | APICBaseEnable | APICBaseEXTD) {
		t.Fatal("x2APIC refused")
	}
	if v, ok := r.l.ReadMSR(0x802); !ok || v != 5 {
		t.Errorf("x2APIC ID = %d %v", v, ok)
	}
	if v, _ := r.l.ReadMSR(0x80D); v != 1<<5 {
		t.Errorf("x2APIC LDR = %#x", v)
	}
	if _, ok := r.l.ReadMSR(0x80E); ok {
		t.Error("DFR readable in x2APIC mode")
	}
	if r.l.WriteMSR(0x80B, 1) {
		t.Error("non-zero EOI write accepted")
	}
	r.l.WriteMSR(0x80F, 0x1FF)
	r.l.WriteMSR(0x83F, 0x61) // SELF IPI
	if v, _ := r.l.ReadMSR(0x823); v&(1<<1) == 0 {
		t.Error("x2APIC self IPI not in the IRR")
	}
	if r.l.WriteMSR(0x830, 5<<32|0x62) || true {
		if v, _ := r.l.ReadMSR(0x823); v&(1<<2) == 0 {
			t.Error("x2APIC ICR IPI to own ID not received")
		}
	}
	if r.rd(0x30) != 0xFFFFFFFF {
		t.Error("MMIO window present in x2APIC mode")
	}
	if r.l.SetAPICBase(LAPICDefaultBase | APICBaseEnable) {
		t.Error("x2APIC to xAPIC accepted")
	}
	r2 := newAPRig(t, LAPICConfig{})
	if r2.l.SetAPICBase(LAPICDefaultBase | APICBaseEnable | APICBaseEXTD) {
		t.Error("x2APIC without the feature accepted")
	}
	if _, ok := r2.l.ReadMSR(0x802); ok {
		t.Error("x2APIC MSR readable in xAPIC mode")
	}
}

func TestLAPICSaveLoad(t *testing.T) {
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	r.wr(0x320, 1<<17|0x41)
	r.wr(0x380, 500)
	r.selfIPI(0x90)
	r.l.Acknowledge()
	r.selfIPI(0xA0)
	data, err := r.l.Save()
	if err != nil {
		t.Fatal(err)
	}
	r2 := newAPRig(t, LAPICConfig{})
	if err := r2.l.Load(data); err != nil {
		t.Fatal(err)
	}
	d2, _ := r2.l.Save()
	if !bytes.Equal(data, d2) {
		t.Fatal("save/load/save differs")
	}
	if !r2.cpu.intr || r2.l.Deadline() != r.l.Deadline() || !r2.isrHas(0x90) {
		t.Error("loaded state does not behave as saved")
	}
	if err := r2.l.Load(data[:len(data)-1]); err == nil {
		t.Error("short snapshot accepted")
	}
	bad := append([]byte(nil), data...)
	bad[0] = 99
	if err := r2.l.Load(bad); err == nil {
		t.Error("bad version accepted")
	}
	bad = append([]byte(nil), data...)
	bad[2] |= 0x04 // IA32_APIC_BASE bit 10 (x2APIC) without the feature
	if err := r2.l.Load(bad); err == nil {
		t.Error("x2APIC base without the feature accepted")
	}
	// Random snapshots never panic.
	seed := uint64(1)
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), data...)
		for j := 0; j < 4; j++ {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[int(seed>>33)%len(b)] = byte(seed >> 20)
		}
		_ = r2.l.Load(b)
		r2.l.Advance(int64(seed >> 40))
		r2.l.Acknowledge()
	}
}

// TestLAPICGuestNoise writes random values to every register offset:
// nothing panics.
func TestLAPICGuestNoise(t *testing.T) {
	r := newAPRig(t, LAPICConfig{TSCDeadline: true, X2APIC: true})
	pic, _ := apPIC(r.l.LINT0())
	r.l.SetExtINT(pic)
	seed := uint64(7)
	for i := 0; i < 50000; i++ {
		seed = seed*6364136223846793005 + 1442695040888963407
		off := seed >> 52 & 0xFF0
		v := uint32(seed >> 13)
		if off == 0x300 && v>>8&7 == DeliveryINIT {
			continue
		}
		r.clk.ns += int64(seed >> 58)
		r.wr(off, v)
		r.rd(off)
		r.l.Advance(r.clk.ns)
		if r.cpu.intr {
			r.l.Acknowledge()
		}
		if seed&0xF == 0 {
			r.l.SetAPICBase(seed & (apicBaseAddr | APICBaseEnable | APICBaseEXTD) & 0xFFFFFFFFFF)
			r.l.WriteMSR(uint32(0x800+seed>>40&0xFF), seed>>3)
			r.l.SetTSCDeadline(seed>>7, seed>>9)
		}
	}
}

// TestAPICNoAllocations checks that the register paths the guest hits
// most do not allocate.
func TestAPICNoAllocations(t *testing.T) {
	r := newIORig(t, 0x11)
	r.route(1, 0x31, 0)
	r.wr(0x320, 1<<17|0x40)
	h := newHPRig(t)
	h.wr(0x10, 1)
	n := testing.AllocsPerRun(200, func() {
		r.wr(0x80, 0x10)
		r.rd(0x390)
		r.io.Line(1).Set(true)
		r.io.Line(1).Set(false)
		r.l.Acknowledge()
		r.wr(0xB0, 0)
		r.selfIPI(0x50)
		r.l.Acknowledge()
		r.wr(0xB0, 0)
		r.wr(0x380, 1000)
		r.clk.ns += 1000
		r.l.Advance(r.clk.ns)
		r.ioRead(0x12)
		h.rd(0xF0)
		h.wr32(0x108, 100)
		h.wr(0x20, 1)
	})
	if n != 0 {
		t.Errorf("%v allocations per round", n)
	}
}
