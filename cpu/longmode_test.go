package cpu

import (
	"testing"

	"fuji/mem"
)

// Unit checks of the IA-32e rules that the bare-metal programs cannot
// reach without a legacy IDT (conformance/baremetal/long*.asm cover the
// rest).

func newLongCPU(t *testing.T, model string) *CPU {
	t.Helper()
	bus, err := mem.New(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(bus, mem.NewPortBus(), Config{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// raised runs f and returns the vector of the guest exception it raised,
// or -1.
func raised(c *CPU, f func()) (vec int) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(guestFault); !ok {
				panic(r)
			}
			vec = int(c.fault.vec)
			c.fault.pending = false
		}
	}()
	f()
	return -1
}

var (
	flatCode32 = Segment{Sel: 8, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrCode | AttrRW | AttrDB | AttrG}
	flatCode64 = Segment{Sel: 8, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrCode | AttrRW | AttrL | AttrG}
)

func TestLongModeActivation(t *testing.T) {
	c := newLongCPU(t, "x86-64-v2")
	c.SetControl(CR0PE|CR0ET, 0x1000, 0, EFERLME)
	c.SetSegment(CS, flatCode32)
	if v := raised(c, func() { c.setCR0(c.CR0 | CR0PG) }); v != ExcGP {
		t.Errorf("CR0.PG with LME and CR4.PAE clear: got vector %d, want #GP", v)
	}
	c.SetControl(CR0PE|CR0ET, 0x1000, CR4PAE, EFERLME)
	c.SetSegment(CS, flatCode64)
	if v := raised(c, func() { c.setCR0(c.CR0 | CR0PG) }); v != ExcGP {
		t.Errorf("CR0.PG with CS.L set: got vector %d, want #GP", v)
	}
	c.SetSegment(CS, flatCode32)
	if v := raised(c, func() { c.setCR0(c.CR0 | CR0PG) }); v != -1 {
		t.Fatalf("activation: unexpected vector %d", v)
	}
	if c.EFER&EFERLMA == 0 || c.Mode() != Mode32 {
		t.Errorf("after activation: EFER=%#x mode=%d, want LMA and compatibility mode", c.EFER, c.Mode())
	}
	if c.wrmsr(msrEFER, c.EFER&^EFERLME) {
		t.Error("clearing EFER.LME with paging on was accepted")
	}
	if v := raised(c, func() { c.setCR4(c.CR4 &^ CR4PAE) }); v != ExcGP {
		t.Errorf("clearing CR4.PAE with LMA: got vector %d, want #GP", v)
	}
	c.SetSegment(CS, flatCode64)
	if c.Mode() != Mode64 {
		t.Fatalf("CS.L under LMA: mode %d, want 64-bit", c.Mode())
	}
	if v := raised(c, func() { c.setCR0(c.CR0 &^ CR0PG) }); v != ExcGP {
		t.Errorf("clearing CR0.PG in 64-bit mode: got vector %d, want #GP", v)
	}
	c.SetSegment(CS, flatCode32)
	if v := raised(c, func() { c.setCR0(c.CR0 &^ CR0PG) }); v != -1 || c.EFER&EFERLMA != 0 {
		t.Errorf("leaving IA-32e mode from compatibility mode: vector %d, EFER=%#x", v, c.EFER)
	}
}

func TestSyscallModes(t *testing.T) {
	c := newLongCPU(t, "x86-64-v2")
	c.SetControl(CR0PE|CR0ET|CR0PG, 0x1000, CR4PAE, EFERLME|EFERLMA|EFERSCE)
	c.SetSegment(CS, flatCode32)
	c.MSR.Star = 0x0018000800000000
	c.MSR.CStar = 0x5000
	in := &Inst{}
	if v := raised(c, func() { opSyscall(c, in) }); v != ExcUD {
		t.Errorf("SYSCALL in compatibility mode (Intel model): got vector %d, want #UD", v)
	}
	c.model.syscallCompat = true
	c.RIP = 0x1234
	if v := raised(c, func() { opSyscall(c, in) }); v != -1 {
		t.Fatalf("SYSCALL in compatibility mode (AMD behaviour): vector %d", v)
	}
	if c.RIP != 0x5000 || c.R[RCX] != 0x1234 || c.Mode() != Mode64 || c.CPL != 0 {
		t.Errorf("compat SYSCALL: RIP=%#x RCX=%#x mode=%d CPL=%d", c.RIP, c.R[RCX], c.Mode(), c.CPL)
	}
	c.R[RCX], c.R[R11] = 0x7000, 0x202
	if v := raised(c, func() { opSysret(c, in) }); v != -1 {
		t.Fatalf("SYSRET: vector %d", v)
	}
	if c.RIP != 0x7000 || c.Mode() != Mode32 || c.CPL != 3 || c.Seg[CS].Sel != 0x1b || c.Seg[SS].Sel != 0x23 || c.Flags()&FlagIF == 0 {
		t.Errorf("SYSRET to compatibility mode: RIP=%#x mode=%d CPL=%d CS=%#x SS=%#x", c.RIP, c.Mode(), c.CPL, c.Seg[CS].Sel, c.Seg[SS].Sel)
	}

	p := newLongCPU(t, "p6")
	p.SetControl(CR0PE|CR0ET, 0, 0, 0)
	p.SetSegment(CS, flatCode32)
	if v := raised(p, func() { opSyscall(p, in) }); v != ExcUD {
		t.Errorf("p6 SYSCALL: got vector %d, want #UD", v)
	}
	if p.wrmsr(msrEFER, EFERLME) || p.wrmsr(msrEFER, EFERSCE) {
		t.Error("p6 accepted EFER.LME or EFER.SCE")
	}
	if _, ok := p.rdmsr(msrLSTAR); ok {
		t.Error("p6 has LSTAR")
	}
}

func TestX8664v2CPUID(t *testing.T) {
	m := modelX8664v2()
	_, _, ecx, edx := m.cpuid(1, 0)
	if ecx&featCX16 == 0 {
		t.Error("CMPXCHG16B not advertised")
	}
	// Exactly the complete floating-point/vector extensions: x87, MMX,
	// FXSR, SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT.
	const wantEDX = featFPU | featMMX | featFXSR | featSSE | featSSE2
	if edx&wantEDX != wantEDX {
		t.Errorf("CPUID.1:EDX = %#x lacks FPU/MMX/FXSR/SSE/SSE2", edx)
	}
	const wantECX = featPOPCNT | featSSE3 | featSSSE3 | featSSE41 | featSSE42
	if ecx&wantECX != wantECX {
		t.Errorf("CPUID.1:ECX = %#x: want %#x (POPCNT, SSE3-SSE4.2)", ecx, uint32(wantECX))
	}
	m.fpuSIMD = false
	if _, _, ecx, edx = m.cpuid(1, 0); edx&(featFPU|featSSE|featSSE2) != 0 || ecx&featPOPCNT != 0 {
		t.Errorf("FPU/SIMD bits advertised without fpuSIMD: ecx=%#x edx=%#x", ecx, edx)
	}
	_, _, ecx, edx = m.cpuid(0x80000001, 0)
	if want := uint32(extSYSCALL | extNX | extPage1G | extRDTSCP | extLM); edx != want || ecx != extLAHF {
		t.Errorf("80000001h: ecx=%#x edx=%#x, want %#x %#x", ecx, edx, extLAHF, want)
	}
}
