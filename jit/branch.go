package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Near control transfers and the stack: Jcc, JMP, CALL, RET (direct and
// indirect), PUSH, POP, LEAVE. A direct target is a constant and leaves
// through a chain slot; an indirect one exits to Go with RIP set.

// relTarget is a relative branch's target at the operand size.
func (g *gen) relTarget(in *cpu.Inst) uint64 {
	t := g.next + uint64(immValue(in, 8))
	switch in.OpSize {
	case 2:
		t &= 0xffff
	case 4:
		t &= 0xffffffff
	}
	return t
}

func canonical(v uint64) bool { return uint64(int64(v<<16)>>16) == v }

// checkTarget jumps to the slow path (where the interpreter raises #GP)
// if the constant target is outside CS's limit. Flags must be in memory.
func (g *gen) checkTarget(t uint64) {
	if g.mode64() || g.csUnlimited() {
		return
	}
	slow := g.slowPath()
	g.a.op(x86.ACMPL, st(g.lay.CSLimit), imm(int64(int32(uint32(t)))))
	g.a.jmp(x86.AJCS, slow)
}

// csUnlimited reports whether CS's limit passes every 32-bit target, and
// makes the code rely on it (NativeCode.Flat).
func (g *gen) csUnlimited() bool {
	if g.src.FlatSegs&cpu.FlatCSLimit == 0 {
		return false
	}
	g.flat |= cpu.FlatCSLimit
	return true
}

// checkTargetReg is checkTarget for a target in host register h.
func (g *gen) checkTargetReg(h int16) {
	a := g.a
	if !g.mode64() && g.csUnlimited() {
		return // a 16- or 32-bit target
	}
	slow := g.slowPath()
	if g.mode64() {
		a.op(x86.AMOVQ, reg(h), reg(rDI))
		a.op(x86.ASHLQ, imm(16), reg(rDI))
		a.op(x86.ASARQ, imm(16), reg(rDI))
		a.op(x86.ACMPQ, reg(rDI), reg(h))
		a.jmp(x86.AJNE, slow)
		return
	}
	a.op(x86.AMOVL, st(g.lay.CSLimit), reg(rDI))
	a.op(x86.ACMPQ, reg(h), reg(rDI))
	a.jmp(x86.AJHI, slow)
}

// jcc: 70-7F, 0F 80-8F.
func (g *gen) jcc(in *cpu.Inst) bool {
	t := g.relTarget(in)
	if g.mode64() && !canonical(t) {
		return false
	}
	a := g.a
	cc := uint8(in.Op & 0xf)
	taken := a.label()
	p0 := g.pending
	g.observe(condMask(cc))
	// With the flags in the host, the jump leaves them there on both
	// paths, and each path spills them on its way out (chainTo).
	flags, live, zero := g.flags, g.live, g.zero
	if g.hostHas(condMask(cc)) {
		a.jmp(hostJcc[cc], taken)
	} else {
		a.jmp(hostJcc[g.condition(cc)], taken)
		flags, live, zero = flagsMem, 0, 0
	}
	g.flags, g.live, g.zero = flags, live, zero
	g.retire()
	g.chainTo(g.next)

	a.place(taken)
	g.ended = false
	g.pending = p0
	g.flags, g.live, g.zero = flags, live, zero
	if !g.mode64() && !g.csUnlimited() {
		g.spill() // checkTarget's slow path
	}
	g.checkTarget(t)
	g.retire()
	g.chainTo(t)
	return true
}

// jmpRel: E9, EB.
func (g *gen) jmpRel(in *cpu.Inst) bool {
	t := g.relTarget(in)
	if g.mode64() && !canonical(t) {
		return false
	}
	g.spill()
	g.checkTarget(t)
	g.retire()
	g.chainTo(t)
	return true
}

// pushValue pushes host register h (n bytes). Flags must be spilled.
func (g *gen) pushValue(h int16, n int) {
	g.stackOffset(-int64(n))
	g.stackAccess(n, true)
	g.a.op(storeOp(uint8(n)), reg(h), hostMem())
	g.setSP(r8)
}

// callRel: E8.
func (g *gen) callRel(in *cpu.Inst) bool {
	t := g.relTarget(in)
	if g.mode64() && !canonical(t) {
		return false
	}
	g.spill()
	g.checkTarget(t)
	g.movImm(rCX, 8, int64(g.next))
	g.pushValue(rCX, int(in.OpSize))
	g.retire()
	g.chainTo(t)
	return true
}

// ret: C3, C2 Iw.
func (g *gen) ret(in *cpu.Inst) bool {
	n := int(in.OpSize)
	g.spill()
	g.stackOffset(0)
	g.stackAccess(n, false)
	g.a.op(loadOp(uint8(n)), hostMem(), reg(rAX))
	g.checkTargetReg(rAX)
	g.a.op(x86.ALEAQ, mem(r8, int64(n)+int64(in.Imm&0xffff)), reg(r8))
	g.setSP(r8)
	g.retire()
	g.exitIndirect(rAX)
	return true
}

// indirect: FF /2 (CALL r/m) and FF /4 (JMP r/m).
func (g *gen) indirect(in *cpu.Inst) bool {
	sz := in.OpSize
	g.spill()
	g.loadRM(rAX, in, sz)
	g.checkTargetReg(rAX)
	if in.Reg&7 == 2 {
		g.movImm(rCX, 8, int64(g.next))
		g.pushValue(rCX, int(sz))
	}
	g.retire()
	g.exitIndirect(rAX)
	return true
}

// pushReg: 50-57.
func (g *gen) pushReg(in *cpu.Inst) bool {
	r := uint8(in.Op&7) | (in.Rex&cpu.RexB)<<3
	g.spill()
	g.a.op(x86.AMOVQ, g.gpr(in, r, 8), reg(rCX))
	g.pushValue(rCX, int(in.OpSize))
	g.retire()
	return true
}

// pushImm: 68, 6A.
func (g *gen) pushImm(in *cpu.Inst) bool {
	n := in.OpSize
	g.spill()
	g.movImm(rCX, 8, immValue(in, 8))
	g.pushValue(rCX, int(n))
	g.retire()
	return true
}

// popReg: 58-5F.
func (g *gen) popReg(in *cpu.Inst) bool {
	r := uint8(in.Op&7) | (in.Rex&cpu.RexB)<<3
	n := in.OpSize
	g.spill()
	g.stackOffset(0)
	g.stackAccess(int(n), false)
	g.a.op(loadOp(n), hostMem(), reg(rCX))
	g.a.op(x86.ALEAQ, mem(r8, int64(n)), reg(r8))
	g.setSP(r8)
	g.storeReg(rCX, in, r, n)
	g.retire()
	return true
}

// leave: C9.
func (g *gen) leave(in *cpu.Inst) bool {
	n := in.OpSize
	a := g.a
	g.spill()
	a.op(x86.AMOVQ, g.gpr(in, cpu.RBP, 8), reg(rSI))
	if !g.mode64() {
		a.op(x86.AANDQ, st(g.lay.StackMask), reg(rSI))
	}
	a.op(x86.AMOVQ, reg(rSI), reg(r8))
	g.stackAccess(int(n), false)
	a.op(loadOp(n), hostMem(), reg(rCX))
	a.op(x86.ALEAQ, mem(r8, int64(n)), reg(r8))
	g.setSP(r8)
	g.storeReg(rCX, in, cpu.RBP, n)
	g.retire()
	return true
}
