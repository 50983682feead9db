package cpu

import "testing"

// fakeLAPIC records the TPR the CPU writes through CR8.
type fakeLAPIC struct{ tpr uint8 }

func (f *fakeLAPIC) SetAPICBase(uint64) bool       { return true }
func (f *fakeLAPIC) TSCDeadline() uint64           { return 0 }
func (f *fakeLAPIC) SetTSCDeadline(uint64, uint64) {}
func (f *fakeLAPIC) ReadMSR(uint32) (uint64, bool) { return 0, false }
func (f *fakeLAPIC) WriteMSR(uint32, uint64) bool  { return false }
func (f *fakeLAPIC) TPR() uint8                    { return f.tpr }
func (f *fakeLAPIC) SetTPR(v uint8)                { f.tpr = v }

// TestCR8IsTPR: in 64-bit mode MOV to CR8 writes TPR[7:4] of the local
// APIC and MOV from CR8 reads it back (SDM Vol. 3A 10.8.6.1).
func TestCR8IsTPR(t *testing.T) {
	c := newLongCPU(t, "x86-64-v2")
	la := &fakeLAPIC{}
	c.SetLocalAPIC(la)
	c.SetControl(CR0PE|CR0ET|CR0PG, 0x1000, CR4PAE, EFERLME|EFERLMA)
	c.SetSegment(CS, flatCode64)
	c.R[RAX] = 0x9
	// 44 0f 22 c0: mov cr8, rax
	toCR := Inst{Op: Map0F | 0x22, Mod: 3, Reg: 8, RM: RAX, OpSize: 8, HasModRM: true}
	if v := raised(c, func() { opMovToCR(c, &toCR) }); v != -1 {
		t.Fatalf("mov cr8, rax raised vector %d", v)
	}
	if la.tpr != 0x90 {
		t.Fatalf("TPR = %#x after CR8 = 9, want 0x90", la.tpr)
	}
	la.tpr = 0x5c // the guest wrote the TPR through the APIC's MMIO
	fromCR := Inst{Op: Map0F | 0x20, Mod: 3, Reg: 8, RM: RBX, OpSize: 8, HasModRM: true}
	if v := raised(c, func() { opMovFromCR(c, &fromCR) }); v != -1 {
		t.Fatalf("mov rbx, cr8 raised vector %d", v)
	}
	if c.R[RBX] != 5 {
		t.Fatalf("CR8 = %#x with TPR 0x5c, want 5", c.R[RBX])
	}
	c.R[RAX] = 0x10 // reserved bits
	if v := raised(c, func() { opMovToCR(c, &toCR) }); v != ExcGP {
		t.Fatalf("CR8 = 0x10: vector %d, want #GP", v)
	}
}
