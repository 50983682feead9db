package chipset

import (
	"testing"

	"fuji/mem"
)

type pmRig struct {
	ports *mem.PortBus
	clk   *pfClock
	sci   *pfLine
	pm    *ACPIPM
	offs  int
}

func newPMRig(t *testing.T) *pmRig {
	t.Helper()
	r := &pmRig{ports: mem.NewPortBus(), clk: &pfClock{}, sci: &pfLine{}}
	r.pm = NewACPIPM(r.ports, r.clk, r.sci, func() { r.offs++ })
	return r
}

// setup does what SeaBIOS's piix4_pm_setup does.
func (r *pmRig) setup(base uint16) {
	r.pm.ConfigWrite(PIIX4PMBA, 4, uint32(base)|1)
	r.pm.ConfigWrite(PIIX4PMMISC, 1, 1)
}

func TestACPIPMConfig(t *testing.T) {
	r := newPMRig(t)
	h := r.pm.Header()
	if h.ConfigRead(0, 4) != 0x71138086 || h.ConfigRead(8, 4) != 0x06800003 {
		t.Errorf("identity %#x class %#x", h.ConfigRead(0, 4), h.ConfigRead(8, 4))
	}
	if h.ConfigRead(PIIX4PMBA, 4) != 1 || h.Byte(PCIIntPin) != 1 {
		t.Error("PMBA or interrupt pin default wrong")
	}
	// SeaBIOS skips SMM setup when APMC_EN (DEVACTB bit 25) is set.
	if h.ConfigRead(PIIX4DEVACTB, 4)&(1<<25) == 0 {
		t.Error("APMC_EN not preset: SeaBIOS would try to initialise SMM")
	}
	r.pm.ConfigWrite(0x90, 4, 0x701)
	if h.ConfigRead(0x90, 4) != 0 {
		t.Error("SMBus base not read-only zero")
	}
	r.pm.ConfigWrite(PIIX4PMBA, 4, 0xFFFFFFFF)
	if got := h.ConfigRead(PIIX4PMBA, 4); got != 0xFFC1 {
		t.Errorf("PMBA sized = %#x, want 0xFFC1", got)
	}
	if _, on := r.pm.PMBase(); on {
		t.Error("PM block decodes before PMREGMISC enable")
	}
}

func TestPMTimerAndRelocation(t *testing.T) {
	r := newPMRig(t)
	r.setup(0x600)
	if base, on := r.pm.PMBase(); !on || base != 0x600 {
		t.Fatalf("PM block at %#x %v", base, on)
	}
	cases := []struct {
		ns   int64
		want uint32
	}{
		{0, 0},
		{1000, 3},                // 3.58 ticks
		{1_000_000_000, 3579545}, // one second
		{10_000_000_000, 35795450 - 2<<24},
		{86400_000_000_000, 309272688000 & 0xFFFFFF}, // one day
	}
	for _, c := range cases {
		r.clk.now = c.ns
		if got := r.ports.In(0x608, 4); got != c.want {
			t.Errorf("PM_TMR at %d ns = %#x, want %#x", c.ns, got, c.want)
		}
	}
	r.clk.now = 1_000_000_000
	if got := r.ports.In(0x609, 1); got != 3579545>>8&0xFF {
		t.Errorf("byte read of PM_TMR+1 = %#x", got)
	}
	// Relocate: the old range is released, the new one answers.
	r.pm.ConfigWrite(PIIX4PMBA, 4, 0xB001)
	if r.ports.Handler(0x608) != nil {
		t.Error("old PM block still claimed")
	}
	if got := r.ports.In(0xB008, 4); got != 3579545 {
		t.Errorf("PM_TMR at new base = %#x", got)
	}
	r.pm.ConfigWrite(PIIX4PMMISC, 1, 0)
	if r.ports.Handler(0xB008) != nil {
		t.Error("PM block decodes with PMIOSE clear")
	}
	// A base on another device's ports is not taken.
	other := &pfPorts{}
	r.ports.Register(0x3F8, 0x3FF, other)
	r.pm.ConfigWrite(PIIX4PMBA, 4, 0x3C1)
	r.pm.ConfigWrite(PIIX4PMMISC, 1, 1)
	if r.ports.Handler(0x3F8) != other {
		t.Error("PM block stole the UART's ports")
	}
}

func TestPMTimerOverflowSCI(t *testing.T) {
	r := newPMRig(t)
	r.setup(0x600)
	if r.pm.Deadline() != NoDeadline {
		t.Error("deadline scheduled with TMR_EN clear")
	}
	r.ports.Out(0x602, 2, PM1TmrEn)
	if r.pm.Deadline() != NoDeadline {
		t.Error("deadline scheduled with SCI_EN clear")
	}
	r.ports.Out(0xB2, 1, ACPIEnable) // OS enters ACPI mode via SMI_CMD
	if r.ports.In(0x604, 2)&PM1SCIEn == 0 {
		t.Fatal("ACPI_ENABLE did not set SCI_EN")
	}
	dl := r.pm.Deadline()
	// Bit 23 flips after 2^23 ticks = 2.343 s.
	if r.pm.ticks(dl) != 1<<23 || r.pm.ticks(dl-1) != 1<<23-1 {
		t.Fatalf("deadline %d ns: ticks %d / %d", dl, r.pm.ticks(dl-1), r.pm.ticks(dl))
	}
	r.clk.now = dl - 1
	r.pm.Advance(dl - 1)
	if r.sci.level || r.ports.In(0x600, 2)&PM1TmrSts != 0 {
		t.Error("TMR_STS set early")
	}
	r.clk.now = dl
	r.pm.Advance(dl)
	if !r.sci.level || r.ports.In(0x600, 2)&PM1TmrSts == 0 {
		t.Fatal("no TMR_STS/SCI at the overflow")
	}
	if r.pm.Deadline() != NoDeadline {
		t.Error("deadline kept while TMR_STS is pending")
	}
	// RW1C: writing 0 leaves it, writing 1 clears it and drops the SCI.
	r.ports.Out(0x600, 2, 0)
	if !r.sci.level {
		t.Error("writing 0 cleared TMR_STS")
	}
	r.ports.Out(0x600, 2, PM1TmrSts)
	if r.sci.level || r.ports.In(0x600, 2)&PM1TmrSts != 0 {
		t.Error("TMR_STS not cleared by writing 1")
	}
	if next := r.pm.Deadline(); r.pm.ticks(next) != 2<<23 {
		t.Errorf("next deadline at %d ticks", r.pm.ticks(next))
	}
	// Lazy: without Advance, a status read still sees the flip.
	r.ports.Out(0x602, 2, 0) // TMR_EN off: status only
	r.clk.now = 5_000_000_000
	if r.ports.In(0x600, 2)&PM1TmrSts == 0 {
		t.Error("status read did not catch up with the timer")
	}
	if r.sci.level {
		t.Error("SCI with TMR_EN clear")
	}
	// ACPI_DISABLE clears SCI_EN.
	r.ports.Out(0xB2, 1, ACPIDisable)
	if r.ports.In(0x604, 2)&PM1SCIEn != 0 || r.ports.In(0xB2, 1) != ACPIDisable {
		t.Error("ACPI_DISABLE")
	}
	// With SCI_EN clear, an enabled, pending event raises no SCI (it
	// would be an SMI).
	r.ports.Out(0x602, 2, PM1TmrEn)
	r.pm.Advance(r.clk.now)
	if r.ports.In(0x600, 2)&PM1TmrSts == 0 || r.sci.level {
		t.Error("SCI raised with SCI_EN clear")
	}
}

func TestPMSleepAndButtons(t *testing.T) {
	r := newPMRig(t)
	r.setup(0x600)
	// S3 (SLP_TYP 1) is ignored.
	r.ports.Out(0x604, 2, 1<<10|PM1SlpEn)
	if r.offs != 0 {
		t.Error("S3 request powered off")
	}
	if r.ports.In(0x604, 2)&PM1SlpEn != 0 {
		t.Error("SLP_EN reads back as 1")
	}
	// SLP_TYP written without SLP_EN does nothing.
	r.ports.Out(0x604, 2, 0)
	if r.offs != 0 {
		t.Error("power-off without SLP_EN")
	}
	// S5: SLP_TYP 0 with SLP_EN, as a byte write to the high half.
	r.ports.Out(0x605, 1, PM1SlpEn>>8)
	if r.offs != 1 {
		t.Fatalf("S5 via byte write: %d power-offs", r.offs)
	}
	r.ports.Out(0x604, 2, PM1SlpEn|PM1SCIEn)
	if r.offs != 2 {
		t.Errorf("S5 via word write: %d power-offs", r.offs)
	}
	if r.ports.In(0x604, 2)&PM1SCIEn == 0 {
		t.Error("SCI_EN lost in the same write")
	}

	// Power button: status always, SCI when enabled.
	r.pm.PowerButton()
	if r.ports.In(0x600, 2)&PM1PwrBtnSts == 0 || r.sci.level {
		t.Error("power button status/SCI wrong before enable")
	}
	r.ports.Out(0x603, 1, PM1PwrBtnEn>>8)
	if !r.sci.level {
		t.Error("no SCI with PWRBTN_EN")
	}
	r.ports.Out(0x601, 1, PM1PwrBtnSts>>8)
	if r.sci.level {
		t.Error("SCI kept after clearing PWRBTN_STS")
	}

	// GPE0 block at 0xAFE0.
	r.pm.SetGPE(1)
	if r.ports.In(0xAFE0, 1) != 2 || r.sci.level {
		t.Error("GPE status / SCI before enable")
	}
	r.ports.Out(0xAFE2, 1, 2)
	if !r.sci.level || r.ports.In(0xAFE0, 4) != 0x00020002 {
		t.Errorf("GPE SCI: level %v block %#x", r.sci.level, r.ports.In(0xAFE0, 4))
	}
	r.ports.Out(0xAFE0, 1, 2)
	if r.sci.level {
		t.Error("GPE status not RW1C")
	}
}

func TestACPIPMSaveLoad(t *testing.T) {
	r := newPMRig(t)
	r.setup(0x640)
	r.ports.Out(0x642, 2, PM1PwrBtnEn)
	r.ports.Out(0x644, 2, PM1SCIEn)
	r.pm.PowerButton()
	data, err := r.pm.Save()
	if err != nil {
		t.Fatal(err)
	}
	r2 := newPMRig(t)
	if err := r2.pm.Load(data); err != nil {
		t.Fatal(err)
	}
	if base, on := r2.pm.PMBase(); !on || base != 0x640 || !r2.sci.level {
		t.Errorf("after Load: base %#x on %v sci %v", base, on, r2.sci.level)
	}
	if r2.pm.Load(data[:len(data)-4]) == nil || r2.pm.Load([]byte{0xFF, 0xFF}) == nil {
		t.Error("bad snapshot accepted")
	}
	r2.pm.Reset()
	if _, on := r2.pm.PMBase(); on || r2.sci.level {
		t.Error("Reset left the block mapped or the SCI high")
	}
}
