package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// MUL, IMUL and DIV of F7 at 32 and 64 bits, and CMPXCHG to memory. The
// host instruction computes the results; flags follow the interpreter
// where the manuals leave them undefined (MUL/IMUL: SF, ZF and PF from
// the low half, AF clear; DIV: all six unchanged). A division that would
// fault (#DE) goes to the slow path before the host divides: the host
// must never fault.

// mulFlagsImage stores the flags of a multiplication whose low half is in
// AX (sz bytes) and whose host CF/OF said "upper half needed": CF and OF
// from OF (taken first, in BL), SF, ZF and PF from the low half, AF clear.
// It clobbers AX: callers store the results first.
func (g *gen) mulFlagsImage(sz uint8) {
	a := g.a
	a.op1(x86.ASETOS, reg(rBX))
	a.op(sized(sz, x86.ATESTB, x86.ATESTW, x86.ATESTL, x86.ATESTQ), reg(rAX), reg(rAX))
	a.op0(x86.ALAHF)
	a.op(x86.AANDL, imm(0xc400), reg(rAX)) // SF ZF PF
	a.op(x86.AMOVBLZX, reg(rBX), reg(rBX))
	a.op(x86.AORL, reg(rBX), reg(rAX)) // OF, bit 0
	a.op(x86.ASHLL, imm(imgCF), reg(rBX))
	a.op(x86.AORL, reg(rBX), reg(rAX)) // CF
	a.op(x86.AMOVW, reg(rAX), st(g.lay.Arith))
	g.flags, g.live, g.zero, g.garbage = flagsMem, 0, 0, 0
}

// mulDiv: F7 /4 MUL, /5 IMUL, /6 DIV, /7 IDIV at 32 and 64 bits.
func (g *gen) mulDiv(in *cpu.Inst) bool {
	sz := in.OpSize
	kind := in.Reg & 7
	if sz < 4 {
		return false
	}
	a := g.a
	g.spill()
	g.loadRM(rCX, in, sz)
	g.loadReg(rAX, in, cpu.RAX, sz)
	if kind >= 6 {
		g.loadReg(rDX, in, cpu.RDX, sz)
		slow := g.slowPath()
		a.op(sized(sz, 0, 0, x86.ATESTL, x86.ATESTQ), reg(rCX), reg(rCX))
		a.jmp(x86.AJEQ, slow)
		if kind == 6 {
			// The quotient fits exactly when the high half is below
			// the divisor.
			a.op(sized(sz, 0, 0, x86.ACMPL, x86.ACMPQ), reg(rDX), reg(rCX))
			a.jmp(x86.AJCC, slow)
			a.op(sized(sz, 0, 0, x86.ADIVL, x86.ADIVQ), reg(rCX), obj.Addr{}) // golang-asm: the operand is the source
		} else {
			// Only the common case runs here: the dividend is the sign
			// extension of its low half (CDQ/CQO before), and not the
			// one overflow of that case, MIN / -1.
			sh := int64(8*sz - 1)
			a.op(sized(sz, 0, 0, x86.AMOVL, x86.AMOVQ), reg(rAX), reg(rDI))
			a.op(sized(sz, 0, 0, x86.ASARL, x86.ASARQ), imm(sh), reg(rDI))
			a.op(sized(sz, 0, 0, x86.ACMPL, x86.ACMPQ), reg(rDI), reg(rDX))
			a.jmp(x86.AJNE, slow)
			ok := a.label()
			a.op(sized(sz, 0, 0, x86.ACMPL, x86.ACMPQ), reg(rCX), imm(-1))
			a.jmp(x86.AJNE, ok)
			a.op(sized(sz, 0, 0, x86.AMOVL, x86.AMOVQ), reg(rAX), reg(rDI))
			a.op(sized(sz, 0, 0, x86.ASHLL, x86.ASHLQ), imm(1), reg(rDI))
			a.jmp(x86.AJEQ, slow) // RAX was 0 or MIN: 0 / -1 is fine, but rare
			a.place(ok)
			a.op(sized(sz, 0, 0, x86.AIDIVL, x86.AIDIVQ), reg(rCX), obj.Addr{}) // golang-asm: the operand is the source
		}
		// The guest's flags are unchanged: the image in memory holds
		// them; the host's are the division's.
		g.storeReg(rAX, in, cpu.RAX, sz)
		g.storeReg(rDX, in, cpu.RDX, sz)
		g.retire()
		return true
	}
	if kind == 4 {
		a.op(sized(sz, 0, 0, x86.AMULL, x86.AMULQ), reg(rCX), obj.Addr{}) // golang-asm: the operand is the source
	} else {
		a.op(sized(sz, 0, 0, x86.AIMULL, x86.AIMULQ), reg(rCX), obj.Addr{}) // golang-asm: the operand is the source
	}
	g.storeReg(rDX, in, cpu.RDX, sz)
	g.storeReg(rAX, in, cpu.RAX, sz)
	g.mulFlagsImage(sz)
	g.retire()
	return true
}

// cmpxchg: 0F B1 CMPXCHG r/m, reg with a memory destination. The host's
// CMPXCHG compares, stores and sets the flags (those of CMP); when the
// values differ it loads the old value into AX, which goes to the
// guest's accumulator.
func (g *gen) cmpxchg(in *cpu.Inst) bool {
	sz := in.OpSize
	if in.Mod == 3 {
		return false
	}
	a := g.a
	g.memOperand(in, sz, true)
	g.loadReg(rAX, in, cpu.RAX, sz)
	g.loadReg(rCX, in, in.Reg, sz)
	a.op(sized(sz, 0, x86.ACMPXCHGW, x86.ACMPXCHGL, x86.ACMPXCHGQ), reg(rCX), hostMem())
	g.wrote(arithFlags, 0)
	same := a.label()
	a.jmp(x86.AJEQ, same)
	g.storeReg(rAX, in, cpu.RAX, sz) // MOVs only: the host flags stay
	a.place(same)
	g.retire()
	return true
}
