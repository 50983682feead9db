package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG, CMOVcc, SETcc,
// CBW/CWD and their wider forms. None of them changes flags.

// movToRM: 88/89 (r/m = reg).
func (g *gen) movToRM(in *cpu.Inst, sz uint8) bool {
	if in.Mod != 3 {
		g.memOperand(in, sz, true)
		src := g.srcOperand(in, in.Reg, sz, false)
		g.a.op(storeOp(sz), src, hostMem())
		g.retire()
		return true
	}
	if h, ok := g.hostReg(in, in.RM, sz); ok {
		g.movToCached(h, in, in.RM, sz, g.gpr(in, in.Reg, sz))
		g.retire()
		return true
	}
	g.loadReg(rAX, in, in.Reg, sz)
	g.storeRM(in, sz)
	g.retire()
	return true
}

// movToCached moves src (sz bytes) into cache register h of guest
// register r: MOVL zero-extends as a 32-bit write does, MOVB and MOVW
// keep the other bits.
func (g *gen) movToCached(h int16, in *cpu.Inst, r, sz uint8, src obj.Addr) {
	g.a.op(storeOp(sz), src, reg(h))
	g.dirty |= 1 << r
}

// movFromRM: 8A/8B (reg = r/m).
func (g *gen) movFromRM(in *cpu.Inst, sz uint8) bool {
	if h, ok := g.hostReg(in, in.Reg, sz); ok {
		g.movToCached(h, in, in.Reg, sz, g.rmSource(in, sz))
		g.retire()
		return true
	}
	g.loadRM(rAX, in, sz)
	g.storeReg(rAX, in, in.Reg, sz)
	g.retire()
	return true
}

// movImmRM: C6/C7 /0 (r/m = imm).
func (g *gen) movImmRM(in *cpu.Inst, sz uint8) bool {
	if in.Mod != 3 {
		// The immediate straight to memory: at 8 bytes it is the
		// guest's sign-extended imm32, as the host's MOVQ takes it.
		g.memOperand(in, sz, true)
		g.a.op(storeOp(sz), imm(immValue(in, sz)), hostMem())
		g.retire()
		return true
	} else if h, ok := g.hostReg(in, in.RM, sz); ok {
		g.movImmCached(h, in, in.RM, sz, immValue(in, sz))
		g.retire()
		return true
	}
	g.movImm(rAX, sz, immValue(in, sz))
	g.storeRM(in, sz)
	g.retire()
	return true
}

// movImmCached loads a constant into cache register h of guest register
// r at size sz.
func (g *gen) movImmCached(h int16, in *cpu.Inst, r, sz uint8, v int64) {
	if sz >= 4 {
		g.movImm(h, sz, v)
	} else {
		g.a.op(storeOp(sz), imm(v), reg(h))
	}
	g.dirty |= 1 << r
}

// movImm loads a constant into h (zero-extended for sizes below 8).
func (g *gen) movImm(h int16, sz uint8, v int64) {
	switch sz {
	case 1:
		v = int64(uint8(v))
	case 2:
		v = int64(uint16(v))
	case 4:
		v = int64(uint32(v))
	}
	if sz == 8 {
		g.a.op(x86.AMOVQ, imm(v), reg(h))
	} else {
		g.a.op(x86.AMOVL, imm(v), reg(h))
	}
}

// movRegImm: B0-BF.
func (g *gen) movRegImm(in *cpu.Inst) bool {
	r := uint8(in.Op&7) | (in.Rex&cpu.RexB)<<3
	sz := in.OpSize
	if in.Op < 0xb8 {
		sz = 1
	}
	v := int64(in.Imm)
	if sz != 8 {
		v = immValue(in, sz)
	}
	if h, ok := g.hostReg(in, r, sz); ok {
		g.movImmCached(h, in, r, sz, v)
		g.retire()
		return true
	}
	g.movImm(rAX, sz, v)
	g.storeReg(rAX, in, r, sz)
	g.retire()
	return true
}

// lea: 8D.
func (g *gen) lea(in *cpu.Inst) bool {
	if in.Mod == 3 {
		return false
	}
	g.ea(in)
	sz := in.OpSize
	if sz == 4 {
		g.a.op(x86.AMOVL, reg(rSI), reg(rSI))
	}
	g.storeReg(rSI, in, in.Reg, sz)
	g.retire()
	return true
}

// movExt: 0F B6/B7 (MOVZX), 0F BE/BF (MOVSX), 63 (MOVSXD with REX.W).
func (g *gen) movExt(in *cpu.Inst) bool {
	sz := in.OpSize
	var srcSz uint8
	var ld = x86.AMOVBLZX
	switch in.Op {
	case cpu.Map0F | 0xb6:
		srcSz = 1
	case cpu.Map0F | 0xb7:
		srcSz, ld = 2, x86.AMOVWLZX
	case cpu.Map0F | 0xbe:
		srcSz, ld = 1, x86.AMOVBQSX
		if sz != 8 {
			ld = x86.AMOVBLSX
		}
	case cpu.Map0F | 0xbf:
		srcSz, ld = 2, x86.AMOVWQSX
		if sz != 8 {
			ld = x86.AMOVWLSX
		}
	default: // 63
		if sz != 8 {
			return false
		}
		srcSz, ld = 4, x86.AMOVLQSX
	}
	// A 32- or 64-bit destination in the cache is loaded directly (the
	// 32-bit forms zero-extend).
	dst := int16(rAX)
	h, cached := g.hostReg(in, in.Reg, sz)
	if cached && sz >= 4 {
		dst = h
	}
	g.a.op(ld, g.rmSource(in, srcSz), reg(dst))
	if dst == rAX {
		g.storeReg(rAX, in, in.Reg, sz)
	} else {
		g.dirty |= 1 << in.Reg
	}
	g.retire()
	return true
}

// xchg: 86/87 (reg <-> r/m), 91-97 (eAX <-> reg).
func (g *gen) xchg(in *cpu.Inst) bool {
	if in.Op >= 0x91 && in.Op <= 0x97 {
		r := uint8(in.Op&7) | (in.Rex&cpu.RexB)<<3
		sz := in.OpSize
		g.loadReg(rAX, in, cpu.RAX, sz)
		g.loadReg(rCX, in, r, sz)
		g.storeReg(rCX, in, cpu.RAX, sz)
		g.storeReg(rAX, in, r, sz)
		g.retire()
		return true
	}
	sz := in.OpSize
	if in.Op == 0x86 {
		sz = 1
	}
	g.loadDstRM(in, sz, true)
	g.loadReg(rCX, in, in.Reg, sz)
	if in.Mod == 3 {
		g.storeReg(rCX, in, in.RM, sz)
	} else {
		g.a.op(storeOp(sz), reg(rCX), hostMem())
	}
	g.storeReg(rAX, in, in.Reg, sz)
	g.retire()
	return true
}

// cmov: 0F 40-4F. The source is read whatever the condition; in 64-bit
// mode a 32-bit destination is written (zero-extended) either way.
func (g *gen) cmov(in *cpu.Inst) bool {
	sz := in.OpSize
	if sz == 2 {
		return false
	}
	if !g.hostHas(condMask(uint8(in.Op & 0xf))) {
		g.spill() // before AX is loaded: spill uses it
	}
	g.loadRM(rCX, in, sz)
	g.loadReg(rAX, in, in.Reg, sz)
	cc := g.condition(uint8(in.Op & 0xf))
	as := hostCmovL[cc]
	if sz == 8 {
		as = hostCmovQ[cc]
	} else if !g.mode64() {
		// Outside 64-bit mode a false condition leaves the whole
		// register alone, upper half included (the interpreter's
		// opCmov); only 64-bit mode zero-extends either way.
		g.a.op(x86.AMOVQ, g.gpr(in, in.Reg, 8), reg(rAX))
		as = hostCmovQ[cc]
	}
	g.a.op(as, reg(rCX), reg(rAX))
	if !g.mode64() {
		sz = 8 // the whole register, as loaded above or moved
	}
	g.storeReg(rAX, in, in.Reg, sz)
	g.retire()
	return true
}

var hostCmovL = [16]obj.As{x86.ACMOVLOS, x86.ACMOVLOC, x86.ACMOVLCS, x86.ACMOVLCC, x86.ACMOVLEQ, x86.ACMOVLNE, x86.ACMOVLLS, x86.ACMOVLHI,
	x86.ACMOVLMI, x86.ACMOVLPL, x86.ACMOVLPS, x86.ACMOVLPC, x86.ACMOVLLT, x86.ACMOVLGE, x86.ACMOVLLE, x86.ACMOVLGT}

var hostCmovQ = [16]obj.As{x86.ACMOVQOS, x86.ACMOVQOC, x86.ACMOVQCS, x86.ACMOVQCC, x86.ACMOVQEQ, x86.ACMOVQNE, x86.ACMOVQLS, x86.ACMOVQHI,
	x86.ACMOVQMI, x86.ACMOVQPL, x86.ACMOVQPS, x86.ACMOVQPC, x86.ACMOVQLT, x86.ACMOVQGE, x86.ACMOVQLE, x86.ACMOVQGT}

// setcc: 0F 90-9F.
func (g *gen) setcc(in *cpu.Inst) bool {
	if in.Mod != 3 {
		g.memOperand(in, 1, true)
	}
	cc := g.condition(uint8(in.Op & 0xf))
	g.a.op1(hostSetcc[cc], reg(rAX))
	g.storeRM(in, 1)
	g.retire()
	return true
}

// cbw: 98 (CBW, CWDE, CDQE).
func (g *gen) cbw(in *cpu.Inst) bool {
	switch in.OpSize {
	case 2:
		g.a.op(x86.AMOVBLSX, g.gpr(in, cpu.RAX, 1), reg(rAX))
		g.storeReg(rAX, in, cpu.RAX, 2)
	case 4:
		g.a.op(x86.AMOVWLSX, g.gpr(in, cpu.RAX, 2), reg(rAX))
		g.storeReg(rAX, in, cpu.RAX, 4)
	default:
		g.a.op(x86.AMOVLQSX, g.gpr(in, cpu.RAX, 4), reg(rAX))
		g.storeReg(rAX, in, cpu.RAX, 8)
	}
	g.retire()
	return true
}

// cwd: 99 (CWD, CDQ, CQO).
func (g *gen) cwd(in *cpu.Inst) bool {
	sz := in.OpSize
	g.loadReg(rAX, in, cpu.RAX, sz)
	g.a.op0(sized(sz, 0, x86.ACWD, x86.ACDQ, x86.ACQO))
	if sz == 4 {
		g.a.op(x86.AMOVL, reg(rDX), reg(rDX))
	}
	g.storeReg(rDX, in, cpu.RDX, sz)
	g.retire()
	return true
}

// movFromSeg: 8C MOV r/m, Sreg. The selector, zero-extended: a register
// destination takes it at the operand size (a 16-bit one keeps the rest),
// memory takes two bytes.
func (g *gen) movFromSeg(in *cpu.Inst) bool {
	s := in.Reg & 7
	if s > cpu.GS {
		return false
	}
	a := g.a
	sel := st(g.lay.SegSel + uintptr(s)*g.lay.SegSelStride)
	if in.Mod == 3 {
		a.op(x86.AMOVWLZX, sel, reg(rAX))
		g.storeReg(rAX, in, in.RM, in.OpSize)
	} else {
		g.memOperand(in, 2, true)
		a.op(x86.AMOVWLZX, sel, reg(rAX))
		a.op(x86.AMOVW, reg(rAX), hostMem())
	}
	g.retire()
	return true
}
