package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// SSE data movement and the SSE2/SSSE3 integer and bitwise operations.
// They have no flags and no rounding: the host runs the guest's very
// instruction on X0 (the destination) and X1 (the source), loaded from
// and stored back to State.XMM. Floating-point arithmetic stays with the
// interpreter (its MXCSR, its exceptions). X0 and X1 are scratch in Go's
// ABI, so generated code may use them freely.

// Operand forms of the native vector instructions.
const (
	vecOp        = iota + 1 // xmm(reg) = op(xmm(reg), xmm/m128)
	vecOpImm                // the same with an imm8
	vecShiftI               // 66 0F 71-73 /n ib: xmm(rm) = op(xmm(rm), imm8)
	vecLoad                 // xmm(reg) = xmm/m128
	vecStore                // xmm/m128 = xmm(reg)
	vecMovmsk               // PMOVMSKB r32(reg), xmm(rm)
	vecMovdTo               // MOVD/MOVQ xmm(reg), r/m32/64 (66 0F 6E)
	vecMovdFrom             // MOVD/MOVQ r/m32/64, xmm(reg) (66 0F 7E)
	vecMovqLoad             // MOVQ xmm(reg), xmm/m64 (F3 0F 7E)
	vecMovqStore            // MOVQ xmm/m64, xmm(reg) (66 0F D6)
)

// vecForm classifies an instruction the JIT runs natively as a vector
// instruction: its form, its mandatory prefix byte (0 for none) and
// whether a 16-byte memory operand must be aligned (#GP(0) otherwise, as
// legacy SSE requires of every m128 but the unaligned moves).
func vecForm(in *cpu.Inst) (form int, pfx byte, align bool) {
	p := in.Prefixes & (cpu.PfxOpSize | cpu.PfxRep | cpu.PfxRepne)
	op := in.Op
	switch p {
	case 0:
		switch op {
		case cpu.Map0F | 0x28:
			return vecLoad, 0, true
		case cpu.Map0F | 0x29:
			return vecStore, 0, true
		case cpu.Map0F | 0x10:
			return vecLoad, 0, false
		case cpu.Map0F | 0x11:
			return vecStore, 0, false
		case cpu.Map0F | 0x54, cpu.Map0F | 0x55, cpu.Map0F | 0x56, cpu.Map0F | 0x57:
			return vecOp, 0, true
		}
	case cpu.PfxRep:
		switch op {
		case cpu.Map0F | 0x6f:
			return vecLoad, 0, false
		case cpu.Map0F | 0x7f:
			return vecStore, 0, false
		case cpu.Map0F | 0x7e:
			return vecMovqLoad, 0, false
		case cpu.Map0F | 0x70: // PSHUFHW
			return vecOpImm, 0xf3, true
		}
	case cpu.PfxRepne:
		if op == cpu.Map0F|0x70 { // PSHUFLW
			return vecOpImm, 0xf2, true
		}
	case cpu.PfxOpSize:
		b := byte(op)
		switch op &^ 0xff {
		case cpu.Map0F:
			switch {
			case b == 0x6f || b == 0x28:
				return vecLoad, 0, true
			case b == 0x10:
				return vecLoad, 0, false
			case b == 0x7f || b == 0x29:
				return vecStore, 0, true
			case b == 0x11:
				return vecStore, 0, false
			case b == 0x6e:
				return vecMovdTo, 0, false
			case b == 0x7e:
				return vecMovdFrom, 0, false
			case b == 0xd6:
				return vecMovqStore, 0, false
			case b == 0xd7:
				if in.Mod == 3 {
					return vecMovmsk, 0, false
				}
			case b == 0x70:
				return vecOpImm, 0x66, true
			case b >= 0x71 && b <= 0x73:
				if in.Mod == 3 {
					return vecShiftI, 0x66, false
				}
			case b >= 0x54 && b <= 0x57, b >= 0x60 && b <= 0x6d, b >= 0x74 && b <= 0x76,
				b >= 0xd1 && b <= 0xd5, b >= 0xd8 && b <= 0xdf, b >= 0xe0 && b <= 0xe5,
				b >= 0xe8 && b <= 0xef, b >= 0xf1 && b <= 0xf6, b >= 0xf8 && b <= 0xfe:
				return vecOp, 0x66, true
			}
		case cpu.Map0F38:
			// SSSE3: PSHUFB .. PSIGND, PABSB/W/D.
			if b <= 0x0b || b >= 0x1c && b <= 0x1e {
				return vecOp, 0x66, true
			}
		}
	}
	return 0, 0, false
}

// xmmOff is the offset in the CPU of XMM register r (half h).
func (g *gen) xmmOff(r uint8, h int) uintptr { return g.lay.XMM + uintptr(r)*16 + uintptr(h)*8 }

// sseCheck jumps to the slow path (where the interpreter raises #UD or
// #NM) unless SSE instructions may run: CR0.EM and CR0.TS clear,
// CR4.OSFXSR set. The caller has spilled the flags.
func (g *gen) sseCheck() {
	a := g.a
	slow := g.slowPath()
	a.op(x86.ATESTL, imm(cr0EM|cr0TS), st(g.lay.CR0))
	a.jmp(x86.AJNE, slow)
	a.op(x86.ATESTL, imm(cr4OSFXSR), st(g.lay.CR4))
	a.jmp(x86.AJEQ, slow)
}

const (
	cr0EM     = 1 << 2
	cr0TS     = 1 << 3
	cr4OSFXSR = 1 << 9
)

// vecMem leaves at hostMem the host address of the memory operand (n bytes),
// checking the alignment of its offset first if align.
func (g *gen) vecMem(in *cpu.Inst, n int, write, align bool) {
	a := g.a
	g.ea(in)
	if align {
		a.op(x86.ATESTL, imm(15), reg(rSI))
		a.jmp(x86.AJNE, g.slowPath())
	}
	g.linear(in.Seg, n, write)
	g.probe(n, write)
}

// raw emits bytes as they are.
func (g *gen) raw(b ...byte) {
	for _, v := range b {
		g.a.op(x86.ABYTE, imm(int64(v)), obj.Addr{})
	}
}

// vector compiles the native vector instructions (see vecForm).
func (g *gen) vector(in *cpu.Inst) bool {
	form, pfx, align := vecForm(in)
	if form == 0 {
		return false
	}
	a := g.a
	x0, x1 := reg(x86.REG_X0), reg(x86.REG_X1)
	g.spill()
	g.sseCheck()
	switch form {
	case vecLoad:
		if in.Mod == 3 {
			a.op(x86.AMOVUPS, st(g.xmmOff(in.RM, 0)), x0)
		} else {
			g.vecMem(in, 16, false, align)
			a.op(x86.AMOVUPS, hostMem(), x0)
		}
		a.op(x86.AMOVUPS, x0, st(g.xmmOff(in.Reg, 0)))
	case vecStore:
		a.op(x86.AMOVUPS, st(g.xmmOff(in.Reg, 0)), x0)
		if in.Mod == 3 {
			a.op(x86.AMOVUPS, x0, st(g.xmmOff(in.RM, 0)))
		} else {
			g.vecMem(in, 16, true, align)
			a.op(x86.AMOVUPS, x0, hostMem())
		}
	case vecOp, vecOpImm:
		a.op(x86.AMOVUPS, st(g.xmmOff(in.Reg, 0)), x0)
		if in.Mod == 3 {
			a.op(x86.AMOVUPS, st(g.xmmOff(in.RM, 0)), x1)
		} else {
			g.vecMem(in, 16, false, align)
			a.op(x86.AMOVUPS, hostMem(), x1)
		}
		// The guest's instruction on X0, X1: ModRM 11 000 001.
		if pfx != 0 {
			g.raw(pfx)
		}
		switch in.Op &^ 0xff {
		case cpu.Map0F38:
			g.raw(0x0f, 0x38)
		default:
			g.raw(0x0f)
		}
		g.raw(byte(in.Op), 0xc1)
		if form == vecOpImm {
			g.raw(byte(in.Imm))
		}
		a.op(x86.AMOVUPS, x0, st(g.xmmOff(in.Reg, 0)))
	case vecShiftI:
		a.op(x86.AMOVUPS, st(g.xmmOff(in.RM, 0)), x0)
		g.raw(0x66, 0x0f, byte(in.Op), 0xc0|(in.Reg&7)<<3, byte(in.Imm))
		a.op(x86.AMOVUPS, x0, st(g.xmmOff(in.RM, 0)))
	case vecMovmsk:
		a.op(x86.AMOVUPS, st(g.xmmOff(in.RM, 0)), x0)
		g.raw(0x66, 0x0f, 0xd7, 0xc0) // PMOVMSKB EAX, XMM0
		g.storeReg(rAX, in, in.Reg, 4)
	case vecMovdTo:
		sz := uint8(4)
		if in.Rex&cpu.RexW != 0 {
			sz = 8
		}
		g.loadRM(rAX, in, sz)
		a.op(x86.AMOVQ, reg(rAX), st(g.xmmOff(in.Reg, 0)))
		a.op(x86.AMOVQ, imm(0), st(g.xmmOff(in.Reg, 1)))
	case vecMovdFrom:
		sz := uint8(4)
		if in.Rex&cpu.RexW != 0 {
			sz = 8
		}
		a.op(loadOp(sz), st(g.xmmOff(in.Reg, 0)), reg(rAX))
		if in.Mod == 3 {
			g.storeReg(rAX, in, in.RM, sz)
		} else {
			g.memOperand(in, sz, true)
			a.op(storeOp(sz), reg(rAX), hostMem())
		}
	case vecMovqLoad:
		if in.Mod == 3 {
			a.op(x86.AMOVQ, st(g.xmmOff(in.RM, 0)), reg(rAX))
		} else {
			g.memOperand(in, 8, false)
			a.op(x86.AMOVQ, hostMem(), reg(rAX))
		}
		a.op(x86.AMOVQ, reg(rAX), st(g.xmmOff(in.Reg, 0)))
		a.op(x86.AMOVQ, imm(0), st(g.xmmOff(in.Reg, 1)))
	case vecMovqStore:
		a.op(x86.AMOVQ, st(g.xmmOff(in.Reg, 0)), reg(rAX))
		if in.Mod == 3 {
			a.op(x86.AMOVQ, reg(rAX), st(g.xmmOff(in.RM, 0)))
			a.op(x86.AMOVQ, imm(0), st(g.xmmOff(in.RM, 1)))
		} else {
			g.memOperand(in, 8, true)
			a.op(x86.AMOVQ, reg(rAX), hostMem())
		}
	}
	g.retire()
	return true
}
