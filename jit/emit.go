package jit

import "fuji/cpu"

// emit compiles one instruction natively, or returns false, having
// emitted nothing, when it is left to a helper exit.
func (g *gen) emit(in *cpu.Inst) bool {
	op := in.Op
	m64 := g.mode64()
	if op >= cpu.Map0F && in.HasModRM && g.vector(in) {
		return true
	}
	switch {
	case op < 0x40 && op&7 < 6:
		alu := int(op >> 3)
		sz := in.OpSize
		if op&1 == 0 {
			sz = 1
		}
		switch op & 7 {
		case 0, 1:
			return g.aluRM(in, alu, sz, true)
		case 2, 3:
			return g.aluReg(in, alu, sz)
		default:
			return g.aluAcc(in, alu, sz)
		}
	case op >= 0x40 && op <= 0x4f && !m64:
		return g.incDecReg(in)
	case op >= 0x50 && op <= 0x57:
		return g.pushReg(in)
	case op >= 0x58 && op <= 0x5f:
		return g.popReg(in)
	case op == 0x63 && m64:
		return g.movExt(in)
	case op == 0x68 || op == 0x6a:
		return g.pushImm(in)
	case op == 0x69 || op == 0x6b:
		return g.imul(in)
	case op >= 0x70 && op <= 0x7f, op >= cpu.Map0F|0x80 && op <= cpu.Map0F|0x8f:
		return g.jcc(in)
	case op == 0x80 || op == 0x81 || op == 0x83 || op == 0x82 && !m64:
		sz := in.OpSize
		if op&1 == 0 {
			sz = 1
		}
		return g.aluRM(in, int(in.Reg&7), sz, false)
	case op == 0x84 || op == 0x85:
		sz := in.OpSize
		if op == 0x84 {
			sz = 1
		}
		return g.test(in, sz, true, false)
	case op == 0x86 || op == 0x87 || op >= 0x91 && op <= 0x97:
		return g.xchg(in)
	case op >= 0x88 && op <= 0x8b:
		sz := in.OpSize
		if op&1 == 0 {
			sz = 1
		}
		if op <= 0x89 {
			return g.movToRM(in, sz)
		}
		return g.movFromRM(in, sz)
	case op == 0x8c:
		return g.movFromSeg(in)
	case op == 0x9c:
		return g.pushf(in)
	case op == 0xfa:
		return g.cli(in)
	case op == 0xf5 || op == 0xf8 || op == 0xf9:
		return g.carryOp(in)
	case op == cpu.Map0F|0xa3, op == cpu.Map0F|0xab, op == cpu.Map0F|0xb3, op == cpu.Map0F|0xbb, op == cpu.Map0F|0xba:
		return g.bitTest(in)
	case op == 0x8d:
		return g.lea(in)
	case op == 0x90:
		if in.Rex&cpu.RexB != 0 {
			return g.xchg90(in)
		}
		g.retire()
		return true
	case op == 0x98:
		return g.cbw(in)
	case op == 0x99:
		return g.cwd(in)
	case op == 0xa8 || op == 0xa9:
		sz := in.OpSize
		if op == 0xa8 {
			sz = 1
		}
		return g.test(in, sz, false, true)
	case op >= 0xb0 && op <= 0xbf:
		return g.movRegImm(in)
	case op == 0xc0 || op == 0xc1 || op >= 0xd0 && op <= 0xd3:
		return g.shift(in)
	case op == 0xc2 || op == 0xc3:
		return g.ret(in)
	case (op == 0xc6 || op == 0xc7) && in.Reg&7 == 0:
		sz := in.OpSize
		if op == 0xc6 {
			sz = 1
		}
		return g.movImmRM(in, sz)
	case op == 0xc9:
		return g.leave(in)
	case op == 0xe8:
		return g.callRel(in)
	case op == 0xe9 || op == 0xeb:
		return g.jmpRel(in)
	case op == 0xf6 || op == 0xf7:
		sz := in.OpSize
		if op == 0xf6 {
			sz = 1
		}
		switch in.Reg & 7 {
		case 0, 1:
			return g.test(in, sz, false, false)
		case 2:
			return g.unary(in, sz, 2)
		case 3:
			return g.unary(in, sz, 3)
		default:
			if op == 0xf7 {
				return g.mulDiv(in)
			}
		}
	case op == 0xfe || op == 0xff:
		sz := in.OpSize
		if op == 0xfe {
			sz = 1
		}
		switch in.Reg & 7 {
		case 0, 1:
			return g.unary(in, sz, int(in.Reg&7))
		case 2, 4:
			if op == 0xff {
				return g.indirect(in)
			}
		}
	case in.Nop():
		// NOP forms: 0F 1F, PREFETCH hints, the reserved NOPs, fences.
		g.retire()
		return true
	case op == cpu.Map0F|0xb1:
		return g.cmpxchg(in)
	case op >= cpu.Map0F|0x40 && op <= cpu.Map0F|0x4f:
		return g.cmov(in)
	case op >= cpu.Map0F|0x90 && op <= cpu.Map0F|0x9f:
		return g.setcc(in)
	case op == cpu.Map0F|0xaf:
		return g.imul(in)
	case op == cpu.Map0F|0xb6 || op == cpu.Map0F|0xb7 || op == cpu.Map0F|0xbe || op == cpu.Map0F|0xbf:
		return g.movExt(in)
	}
	return false
}

// xchg90 is 90 with REX.B: XCHG eAX, r8.
func (g *gen) xchg90(in *cpu.Inst) bool {
	r := uint8(8)
	sz := in.OpSize
	g.loadReg(rAX, in, cpu.RAX, sz)
	g.loadReg(rCX, in, r, sz)
	g.storeReg(rCX, in, cpu.RAX, sz)
	g.storeReg(rAX, in, r, sz)
	g.retire()
	return true
}
