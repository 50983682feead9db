package chipset

import (
	"bytes"
	"testing"
)

type hpRig struct {
	h    *HPET
	clk  *ppClock
	outs [32]*ppLine
}

func newHPRig(t *testing.T) *hpRig {
	t.Helper()
	r := &hpRig{clk: &ppClock{}}
	r.h = NewHPET(r.clk, HPETIntCapPIIX, func(n int) IRQLine {
		r.outs[n] = &ppLine{}
		return r.outs[n]
	})
	return r
}

func (r *hpRig) rd(off uint64) uint64 { return r.h.ReadMMIO(off, 8) }
func (r *hpRig) rd32(off uint64) uint32 {
	return uint32(r.h.ReadMMIO(off, 4))
}
func (r *hpRig) wr(off uint64, v uint64)   { r.h.WriteMMIO(off, 8, v) }
func (r *hpRig) wr32(off uint64, v uint32) { r.h.WriteMMIO(off, 4, uint64(v)) }

// at moves the clock and runs the device as the run loop would.
func (r *hpRig) at(ns int64) {
	r.clk.ns = ns
	if r.h.Deadline() <= ns {
		r.h.Advance(ns)
	}
}

func TestHPETCapabilities(t *testing.T) {
	r := newHPRig(t)
	if v := r.rd(0x000); v != 0x05F5E100_8086A201 {
		t.Errorf("GCAP_ID = %#x", v)
	}
	if r.rd32(0x000) != 0x8086A201 || r.rd32(0x004) != 100000000 {
		t.Error("32-bit halves of GCAP_ID wrong")
	}
	for i := uint64(0); i < 3; i++ {
		if v := r.rd(0x100 + 0x20*i); v != 0x4<<32|0x30 {
			t.Errorf("timer %d config = %#x", i, v)
		}
		if v := r.rd(0x108 + 0x20*i); v != ^uint64(0) {
			t.Errorf("timer %d comparator = %#x", i, v)
		}
	}
	if r.outs[0] == nil || r.outs[8] == nil || r.outs[2] == nil || r.outs[5] != nil {
		t.Error("output lines asked for are not 0, 2 and 8")
	}
}

func TestHPETMainCounter(t *testing.T) {
	r := newHPRig(t)
	r.clk.ns = 1000
	if r.rd(0xF0) != 0 {
		t.Fatal("halted counter moved")
	}
	r.wr(0x10, 1)
	r.clk.ns = 1000 + 12345
	if v := r.rd(0xF0); v != 123 {
		t.Errorf("counter after 12345 ns = %d, want 123", v)
	}
	r.clk.ns = 2_000_000_050
	if v := r.rd(0xF0); v != 20_000_000-10+0 {
		// (2e9+50-1000)/100 = 19999990
		t.Errorf("counter after 2 s = %d", v)
	}
	r.wr(0x10, 0) // halt
	r.clk.ns += 1e6
	if v := r.rd(0xF0); v != 19999990 {
		t.Errorf("halted counter = %d", v)
	}
	// Written while halted, in halves.
	r.wr32(0xF4, 1)
	r.wr32(0xF0, 0xFFFFFFF0)
	if v := r.rd(0xF0); v != 0x1_FFFFFFF0 {
		t.Errorf("counter written = %#x", v)
	}
	r.wr(0x10, 1)
	r.clk.ns += 3000
	if r.rd32(0xF0) != 0x0000000E || r.rd32(0xF4) != 2 {
		t.Errorf("counter halves after carry: %#x %#x", r.rd32(0xF4), r.rd32(0xF0))
	}
}

func TestHPETOneShot(t *testing.T) {
	r := newHPRig(t)
	out := r.outs[2]
	r.wr(0x140, 2<<9|hpetTnEnable) // timer 2, route 2, edge, one-shot
	r.wr(0x148, 50)
	if r.h.Deadline() != NoDeadline {
		t.Fatal("deadline while the counter is halted")
	}
	r.clk.ns = 700
	r.wr(0x10, 1)
	if d := r.h.Deadline(); d != 700+5000 {
		t.Fatalf("deadline %d, want 5700", d)
	}
	r.at(5699)
	if out.rises != 0 {
		t.Fatal("fired early")
	}
	r.at(5700)
	if out.rises != 1 || out.level {
		t.Fatalf("edge: rises %d level %v", out.rises, out.level)
	}
	if r.h.Deadline() != NoDeadline {
		t.Error("64-bit one-shot re-armed")
	}
	if r.rd(0x20) != 0 {
		t.Error("edge timer set its status bit")
	}
	// 32-bit mode: fires again when the low half wraps.
	r.wr(0x140, 2<<9|hpetTnEnable|hpetTn32Bit)
	r.wr(0x148, 0x1_00000080) // high half dropped
	if v := r.rd(0x148); v != 0x80 {
		t.Errorf("32-bit comparator = %#x", v)
	}
	due := r.h.Deadline()
	if due != 700+0x80*100 {
		t.Fatalf("32-bit deadline %d", due)
	}
	r.at(due)
	if out.rises != 2 {
		t.Fatal("32-bit one-shot did not fire")
	}
	if d := r.h.Deadline(); d != due+(1<<32)*100 {
		t.Errorf("32-bit one-shot next match %d, want a wrap later", d)
	}
	// A disabled interrupt does not pulse.
	r.wr(0x140, 2<<9)
	r.wr(0x148, r.rd(0xF0)+10)
	r.at(r.clk.ns + 2000)
	if out.rises != 2 {
		t.Error("disabled timer pulsed")
	}
}

func TestHPETPeriodicLegacy(t *testing.T) {
	r := newHPRig(t)
	pit, rtc := r.h.PITInput(), r.h.RTCInput()
	pit.Set(true)
	if !r.outs[0].level {
		t.Fatal("PIT not passed through without legacy routing")
	}
	pit.Set(false)
	r.outs[0].rises = 0
	// As Linux sets up its legacy periodic tick: counter halted, 32-bit,
	// VAL_SET then the period.
	r.wr32(0x100, hpetTnEnable|hpetTnPeriodic|hpetTnValSet|hpetTn32Bit)
	r.wr32(0x108, 1000)
	r.wr32(0x108, 1000)
	r.clk.ns = 50
	r.wr32(0x10, hpetCfgEnable|hpetCfgLegacy)
	pit.Set(true)
	rtc.Set(true)
	if r.outs[0].level || r.outs[8].level {
		t.Fatal("PIT/RTC not cut off in legacy replacement mode")
	}
	for k := int64(1); k <= 3; k++ {
		r.at(50 + k*100000 - 1)
		if r.outs[0].rises != int(k-1) {
			t.Fatalf("period %d: early", k)
		}
		r.at(50 + k*100000)
		if r.outs[0].rises != int(k) {
			t.Fatalf("period %d: no interrupt", k)
		}
		if v := r.rd32(0x108); v != uint32(1000*(k+1)) {
			t.Fatalf("comparator after period %d = %d", k, v)
		}
	}
	// Missed periods: one interrupt, comparator past the counter.
	r.at(50 + 10*100000 + 30)
	if r.outs[0].rises != 4 || r.rd32(0x108) != 11000 {
		t.Errorf("after missed periods: rises %d comparator %d", r.outs[0].rises, r.rd32(0x108))
	}
	if d := r.h.Deadline(); d != 50+11*100000 {
		t.Errorf("next deadline %d", d)
	}
	// Periodic write without VAL_SET changes the period only.
	r.wr32(0x108, 500)
	if r.rd32(0x108) != 11000 {
		t.Error("comparator changed by a period write")
	}
	r.at(50 + 11*100000)
	if r.rd32(0x108) != 11500 {
		t.Errorf("comparator after the new period = %d", r.rd32(0x108))
	}
	// Timer 1 goes to IRQ8 in legacy mode.
	r.wr(0x120, hpetTnEnable)
	r.wr(0x128, r.rd(0xF0)+5)
	r.at(r.clk.ns + 500)
	if r.outs[8].rises != 1 {
		t.Error("timer 1 not on IRQ8 in legacy mode")
	}
	// Leaving legacy mode reconnects the PIT and RTC (held high).
	r.wr(0x10, hpetCfgEnable)
	if !r.outs[0].level || !r.outs[8].level {
		t.Error("PIT/RTC not reconnected")
	}
}

func TestHPETLevelAndRoute(t *testing.T) {
	r := newHPRig(t)
	r.wr(0x10, 1)
	// Route 5 is not in the capability: reads back unchanged.
	r.wr(0x100, 5<<9)
	if r.rd(0x100)>>9&0x1F != 0 {
		t.Error("unsupported route accepted")
	}
	// Level, interrupt disabled: the status bit is still set.
	r.wr(0x100, 2<<9|hpetTnLevel)
	r.wr(0x108, r.rd(0xF0)+3)
	r.clk.ns += 300
	if r.rd(0x20) != 1 || r.outs[2].level {
		t.Fatalf("disabled level timer: status %#x line %v", r.rd(0x20), r.outs[2].level)
	}
	r.wr(0x20, 1)
	// Enabled: the line follows the status until written 1 to clear.
	r.wr(0x100, 2<<9|hpetTnLevel|hpetTnEnable)
	r.wr(0x108, r.rd(0xF0)+3)
	r.at(r.clk.ns + 300)
	if r.rd(0x20) != 1 || !r.outs[2].level {
		t.Fatal("level timer did not assert")
	}
	r.wr(0x20, 2) // another bit: no effect
	if !r.outs[2].level {
		t.Fatal("W1C of another bit cleared the status")
	}
	r.wr(0x20, 1)
	if r.rd(0x20) != 0 || r.outs[2].level {
		t.Fatal("W1C did not deassert")
	}
	// Halting the counter disables interrupts.
	r.wr(0x108, r.rd(0xF0)+3)
	r.at(r.clk.ns + 300)
	r.wr(0x10, 0)
	if r.outs[2].level {
		t.Error("level output stays asserted with the HPET halted")
	}
}

func TestHPETSaveLoad(t *testing.T) {
	r := newHPRig(t)
	r.wr(0x100, hpetTnEnable|hpetTnPeriodic|hpetTnValSet)
	r.wr(0x108, 100)
	r.wr(0x108, 100)
	r.wr(0x10, 3)
	r.at(25000)
	data, err := r.h.Save()
	if err != nil {
		t.Fatal(err)
	}
	r2 := newHPRig(t)
	r2.clk.ns = r.clk.ns
	if err := r2.h.Load(data); err != nil {
		t.Fatal(err)
	}
	d2, _ := r2.h.Save()
	if !bytes.Equal(data, d2) || r2.h.Deadline() != r.h.Deadline() || r2.rd(0xF0) != r.rd(0xF0) {
		t.Fatal("loaded HPET differs")
	}
	if err := r2.h.Load(data[:10]); err == nil {
		t.Error("short snapshot accepted")
	}
	bad := append([]byte(nil), data...)
	bad[0] = 9
	if err := r2.h.Load(bad); err == nil {
		t.Error("bad version accepted")
	}
	seed := uint64(11)
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), data...)
		seed = seed*6364136223846793005 + 1442695040888963407
		b[int(seed>>33)%len(b)] ^= byte(seed >> 20)
		if r2.h.Load(b) == nil {
			r2.at(int64(seed >> 30))
			r2.rd(0x108)
		}
	}
	// Guest noise.
	for i := 0; i < 50000; i++ {
		seed = seed*6364136223846793005 + 1442695040888963407
		off := seed >> 54 & 0x3FC
		r.clk.ns += int64(seed >> 56)
		r.h.WriteMMIO(off, 4<<(seed>>40&1), seed>>3)
		r.h.ReadMMIO(seed>>44&0x3F8, 8)
		if r.h.Deadline() <= r.clk.ns {
			r.h.Advance(r.clk.ns)
		}
	}
}
