package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Bit tests: BT, BTS, BTR, BTC with an immediate bit offset (0F BA /4-/7,
// any destination) or a register one (0F A3/AB/B3/BB, register
// destination only: with memory the offset addresses a bit string around
// the operand, left to the interpreter). The host instruction at the same
// size masks the offset as the guest's does and sets CF; the interpreter
// leaves the other flags alone, so they are spilled first and stay in
// memory.

// bitOps are BT, BTS, BTR, BTC by size (16, 32, 64 bits).
var bitOps = [4][3]obj.As{
	{x86.ABTW, x86.ABTL, x86.ABTQ},
	{x86.ABTSW, x86.ABTSL, x86.ABTSQ},
	{x86.ABTRW, x86.ABTRL, x86.ABTRQ},
	{x86.ABTCW, x86.ABTCL, x86.ABTCQ},
}

func (g *gen) bitTest(in *cpu.Inst) bool {
	sz := in.OpSize
	var kind int
	switch in.Op {
	case cpu.Map0F | 0xa3:
		kind = 0
	case cpu.Map0F | 0xab:
		kind = 1
	case cpu.Map0F | 0xb3:
		kind = 2
	case cpu.Map0F | 0xbb:
		kind = 3
	default: // 0F BA
		if in.Reg&7 < 4 {
			return false
		}
		kind = int(in.Reg&7) - 4
	}
	if in.Op != cpu.Map0F|0xba && in.Mod != 3 {
		return false
	}
	as := sized(sz, 0, bitOps[kind][0], bitOps[kind][1], bitOps[kind][2])
	a := g.a
	g.spill() // CF alone comes from the host
	var src obj.Addr
	if in.Op == cpu.Map0F|0xba {
		src = imm(int64(in.Imm & uint64(8*sz-1)))
	} else {
		g.loadReg(rCX, in, in.Reg, sz)
		src = reg(rCX)
	}
	switch h, cached := g.hostReg(in, in.RM, sz); {
	case in.Mod != 3:
		g.memOperand(in, sz, kind != 0)
		a.op(as, src, hostMem())
	case cached:
		// A 32-bit BTS/BTR/BTC zero-extends the register, as the
		// guest's write does; BT writes nothing.
		a.op(as, src, reg(h))
		if kind != 0 {
			g.dirty |= 1 << in.RM
		}
	default:
		g.loadReg(rAX, in, in.RM, sz)
		a.op(as, src, reg(rAX))
		if kind != 0 {
			g.storeReg(rAX, in, in.RM, sz)
		}
	}
	g.wrote(flagCF, 0)
	g.retire()
	return true
}
