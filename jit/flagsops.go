package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Flag instructions: PUSHF and CLI outside user mode (where V86 mode's
// IOPL rules and the virtual interrupt flags come in; the kernel's
// local_irq_save is PUSHF; POP; CLI), and CLC, STC, CMC.

const (
	flagIF = 1 << 9
	flagRF = 1 << 16
	flagVM = 1 << 17
)

// pushf: 9C. RFLAGS is State.flags with the status flags from the image,
// bit 1 set, and VM and RF pushed as zero.
func (g *gen) pushf(in *cpu.Inst) bool {
	if g.src.FlatSegs&cpu.FlatSuper == 0 {
		return false
	}
	a := g.a
	l := g.lay
	g.spill()
	a.op(x86.AMOVQ, st(l.Flags), reg(rCX))
	a.op(x86.AANDQ, imm(^int64(arithFlags|flagVM|flagRF)), reg(rCX))
	g.imageToRflags()
	a.op(x86.AORQ, reg(rBX), reg(rCX))
	a.op(x86.AORQ, imm(2), reg(rCX))
	g.pushValue(rCX, int(in.OpSize))
	g.retire()
	return true
}

// cli: FA. Allowed when CPL <= IOPL (always at CPL 0; the slow path
// raises #GP otherwise).
func (g *gen) cli(in *cpu.Inst) bool {
	if g.src.FlatSegs&cpu.FlatSuper == 0 {
		return false
	}
	a := g.a
	l := g.lay
	g.spill()
	slow := g.slowPath()
	a.op(x86.AMOVBLZX, st(l.CPL), reg(rBX))
	a.op(x86.AMOVQ, st(l.Flags), reg(rDI))
	a.op(x86.ASHRQ, imm(12), reg(rDI))
	a.op(x86.AANDL, imm(3), reg(rDI))
	a.op(x86.ACMPL, reg(rBX), reg(rDI))
	a.jmp(x86.AJHI, slow)
	a.op(x86.AANDQ, imm(^int64(flagIF)), st(l.Flags))
	g.retire()
	return true
}

// carryOp: F5 CMC, F8 CLC, F9 STC, the host instruction on the host's CF.
func (g *gen) carryOp(in *cpu.Inst) bool {
	a := g.a
	switch in.Op {
	case 0xf5:
		g.observe(flagCF)
		if !g.hostHas(flagCF) {
			g.spill()
			g.loadCF()
		}
		a.op0(x86.ACMC)
	case 0xf8:
		a.op0(x86.ACLC)
	default:
		a.op0(x86.ASTC)
	}
	g.wrote(flagCF, 0)
	g.retire()
	return true
}
