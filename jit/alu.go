package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Integer ALU instructions run as the same host instruction at the same
// size, so results and flags are the hardware's.

// Flag bits the JIT treats specially.
const (
	flagCF = 0x1
	flagAF = 0x10
	flagOF = 0x800
)

const (
	aluADD = iota
	aluOR
	aluADC
	aluSBB
	aluAND
	aluSUB
	aluXOR
	aluCMP
)

var aluOps = [8][4]obj.As{
	{x86.AADDB, x86.AADDW, x86.AADDL, x86.AADDQ},
	{x86.AORB, x86.AORW, x86.AORL, x86.AORQ},
	{x86.AADCB, x86.AADCW, x86.AADCL, x86.AADCQ},
	{x86.ASBBB, x86.ASBBW, x86.ASBBL, x86.ASBBQ},
	{x86.AANDB, x86.AANDW, x86.AANDL, x86.AANDQ},
	{x86.ASUBB, x86.ASUBW, x86.ASUBL, x86.ASUBQ},
	{x86.AXORB, x86.AXORW, x86.AXORL, x86.AXORQ},
	{x86.ACMPB, x86.ACMPW, x86.ACMPL, x86.ACMPQ},
}

func sizeIndex(sz uint8) int {
	switch sz {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	}
	return 3
}

// immValue is the instruction's immediate sign-extended from its encoded
// size, then as a signed value of sz bytes (how the host encodes it).
func immValue(in *cpu.Inst, sz uint8) int64 {
	v := in.Imm
	switch in.ImmSize {
	case 1:
		v = uint64(int64(int8(v)))
	case 2:
		v = uint64(int64(int16(v)))
	case 4:
		v = uint64(int64(int32(v)))
	}
	switch sz {
	case 1:
		return int64(int8(v))
	case 2:
		return int64(int16(v))
	case 4:
		return int64(int32(v))
	}
	return int64(v)
}

// aluCore applies ALU operation op of size sz with source from to AX.
func (g *gen) aluCore(op int, sz uint8, from obj.Addr) { g.aluOp(op, sz, reg(rAX), from) }

// aluOp applies ALU operation op of size sz: dst op= src (CMP only
// compares). At most one operand is in memory; a 32-bit operation on a
// register zero-extends it, as the guest's does.
func (g *gen) aluOp(op int, sz uint8, dst, src obj.Addr) {
	a := g.a
	if op == aluADC || op == aluSBB {
		if !g.hostHas(1) {
			g.spill()
			a.op(x86.ABTQ, imm(imgCF), st(g.lay.Arith))
		}
	}
	as := aluOps[op][sizeIndex(sz)]
	if op == aluCMP {
		a.op(as, dst, src)
	} else {
		a.op(as, src, dst)
	}
	switch op {
	case aluOR, aluAND, aluXOR:
		g.wrote(arithFlags, flagAF)
	default:
		g.wrote(arithFlags, 0)
	}
	g.noteRecipe(op, sz, dst, src)
}

// srcOperand is the source operand guest register r (sz bytes) as an
// operand that may be in memory, or, if inMem is false because the other
// operand is in memory, in a host register (CX, loaded if need be).
func (g *gen) srcOperand(in *cpu.Inst, r, sz uint8, inMem bool) obj.Addr {
	loc := g.gpr(in, r, sz)
	if loc.Type == obj.TYPE_MEM && !inMem {
		g.a.op(loadOp(sz), loc, reg(rCX))
		return reg(rCX)
	}
	return loc
}

// storeRM writes AX to the r/m operand (DX holds a memory operand's host
// address).
func (g *gen) storeRM(in *cpu.Inst, sz uint8) {
	if in.Mod == 3 {
		g.storeReg(rAX, in, in.RM, sz)
		return
	}
	g.a.op(storeOp(sz), reg(rAX), hostMem())
}

// loadDstRM loads the r/m destination of a read-modify-write into AX
// (DX: its host address).
func (g *gen) loadDstRM(in *cpu.Inst, sz uint8, write bool) {
	if in.Mod == 3 {
		g.loadReg(rAX, in, in.RM, sz)
		return
	}
	g.memOperand(in, sz, write)
	g.a.op(loadOp(sz), hostMem(), reg(rAX))
}

// aluRM: op r/m, reg (srcReg) or op r/m, imm. The operation runs on the
// destination where it is: a cached register or guest memory.
func (g *gen) aluRM(in *cpu.Inst, op int, sz uint8, srcReg bool) bool {
	g.carryIn(op)
	var dst obj.Addr
	switch h, ok := g.hostReg(in, in.RM, sz); {
	case in.Mod != 3:
		g.memOperand(in, sz, op != aluCMP)
		dst = hostMem()
	case ok:
		dst = reg(h)
	default:
		g.loadDstRM(in, sz, false)
		dst = reg(rAX)
	}
	src := imm(immValue(in, sz))
	if srcReg {
		src = g.srcOperand(in, in.Reg, sz, dst.Type == obj.TYPE_REG)
	}
	g.aluOp(op, sz, dst, src)
	if op != aluCMP {
		if dst.Type == obj.TYPE_REG && dst.Reg == rAX {
			g.storeRM(in, sz)
		} else if in.Mod == 3 {
			g.dirty |= 1 << in.RM
		}
	}
	g.retire()
	return true
}

// carryIn spills the flags before ADC or SBB loads its operands, when the
// host does not hold CF: aluOp then loads CF from memory (spill uses AX,
// which holds an operand by then).
func (g *gen) carryIn(op int) {
	if op == aluADC || op == aluSBB {
		g.observe(flagCF)
	}
	if (op == aluADC || op == aluSBB) && !g.hostHas(1) {
		g.spill()
	}
}

// rmSource is the r/m source operand (sz bytes) where it is: a guest
// register's place (gpr) or guest memory (its host address at hostMem).
func (g *gen) rmSource(in *cpu.Inst, sz uint8) obj.Addr {
	if in.Mod == 3 {
		return g.gpr(in, in.RM, sz)
	}
	g.memOperand(in, sz, false)
	return hostMem()
}

// hostReg returns the cache register of guest register r for an access
// of sz bytes, if it has one.
func (g *gen) hostReg(in *cpu.Inst, r, sz uint8) (int16, bool) {
	h := g.cache[r&15]
	return h, h != 0 && !highByte(in, r, sz)
}

// aluReg: op reg, r/m.
func (g *gen) aluReg(in *cpu.Inst, op int, sz uint8) bool {
	g.carryIn(op)
	if h, ok := g.hostReg(in, in.Reg, sz); ok {
		g.aluOp(op, sz, reg(h), g.rmSource(in, sz))
		if op != aluCMP {
			g.dirty |= 1 << in.Reg
		}
		g.retire()
		return true
	}
	g.loadRM(rCX, in, sz)
	g.loadReg(rAX, in, in.Reg, sz)
	g.aluCore(op, sz, reg(rCX))
	if op != aluCMP {
		g.storeReg(rAX, in, in.Reg, sz)
	}
	g.retire()
	return true
}

// aluAcc: op AL/eAX, imm.
func (g *gen) aluAcc(in *cpu.Inst, op int, sz uint8) bool {
	g.carryIn(op)
	if h, ok := g.hostReg(in, cpu.RAX, sz); ok {
		g.aluOp(op, sz, reg(h), imm(immValue(in, sz)))
		if op != aluCMP {
			g.dirty |= 1 << cpu.RAX
		}
		g.retire()
		return true
	}
	g.loadReg(rAX, in, cpu.RAX, sz)
	g.aluCore(op, sz, imm(immValue(in, sz)))
	if op != aluCMP {
		g.storeReg(rAX, in, cpu.RAX, sz)
	}
	g.retire()
	return true
}

// test: TEST r/m, reg or TEST r/m, imm (or TEST acc, imm), on the
// operands where they are.
func (g *gen) test(in *cpu.Inst, sz uint8, srcReg, acc bool) bool {
	var dst obj.Addr
	switch {
	case acc:
		dst = g.gpr(in, cpu.RAX, sz)
	case in.Mod == 3:
		dst = g.gpr(in, in.RM, sz)
	default:
		g.memOperand(in, sz, false)
		dst = hostMem()
	}
	src := imm(immValue(in, sz))
	if srcReg {
		src = g.srcOperand(in, in.Reg, sz, dst.Type == obj.TYPE_REG)
		if src.Type == obj.TYPE_MEM {
			src, dst = dst, src // TEST is symmetric; the register goes first
		}
	}
	g.a.op(sized(sz, x86.ATESTB, x86.ATESTW, x86.ATESTL, x86.ATESTQ), src, dst)
	g.wrote(arithFlags, flagAF)
	g.noteRecipe(aluTEST, sz, dst, src)
	g.retire()
	return true
}

// unary: INC, DEC, NOT, NEG of r/m.
func (g *gen) unary(in *cpu.Inst, sz uint8, kind int) bool {
	h, cached := g.hostReg(in, in.RM, sz)
	cached = cached && in.Mod == 3
	if kind < 2 && !g.hostHas(1) && !g.dead(flagCF) {
		g.spill() // for keepCF, before AX is loaded: spill uses it
	}
	if !cached {
		g.loadDstRM(in, sz, true)
	}
	var as obj.As
	var w uint64
	switch kind {
	case 0:
		as, w = sized(sz, x86.AINCB, x86.AINCW, x86.AINCL, x86.AINCQ), arithFlags&^1
	case 1:
		as, w = sized(sz, x86.ADECB, x86.ADECW, x86.ADECL, x86.ADECQ), arithFlags&^1
	case 2:
		as = sized(sz, x86.ANOTB, x86.ANOTW, x86.ANOTL, x86.ANOTQ)
	default:
		as, w = sized(sz, x86.ANEGB, x86.ANEGW, x86.ANEGL, x86.ANEGQ), arithFlags
	}
	if w&1 == 0 && w != 0 {
		g.keepCF()
	}
	if cached {
		g.a.op1(as, reg(h))
		g.dirty |= 1 << in.RM
	} else {
		g.a.op1(as, reg(rAX))
	}
	if w != 0 {
		g.wrote(w, 0)
	}
	if !cached {
		g.storeRM(in, sz)
	}
	g.retire()
	return true
}

// keepCF readies the host flags for INC or DEC, which keep CF: the
// host's CF must be the guest's, so that afterwards the host holds every
// status flag.
func (g *gen) keepCF() {
	if g.flags == flagsHost && g.live&1 != 0 || g.dead(flagCF) {
		// CF is in the host, or no one reads it before it is
		// written: the guest's stays where it is (memory).
		return
	}
	g.spill()
	g.loadCF()
}

// incDecReg: 40-4F outside 64-bit mode.
func (g *gen) incDecReg(in *cpu.Inst) bool {
	r := uint8(in.Op & 7)
	sz := in.OpSize
	g.keepCF()
	h, cached := g.hostReg(in, r, sz)
	if !cached {
		h = rAX
		g.loadReg(rAX, in, r, sz)
	}
	if in.Op < 0x48 {
		g.a.op1(sized(sz, x86.AINCB, x86.AINCW, x86.AINCL, x86.AINCQ), reg(h))
	} else {
		g.a.op1(sized(sz, x86.ADECB, x86.ADECW, x86.ADECL, x86.ADECQ), reg(h))
	}
	g.wrote(arithFlags&^1, 0)
	if cached {
		g.dirty |= 1 << r
	} else {
		g.storeReg(rAX, in, r, sz)
	}
	g.retire()
	return true
}

// imul: 0F AF (reg = reg * r/m), 69 and 6B (reg = r/m * imm). CF and OF
// are the host's; the undefined SF, ZF and PF come from the result and AF
// is zero, as the interpreter defines them.
func (g *gen) imul(in *cpu.Inst) bool {
	sz := in.OpSize
	if sz == 2 {
		return false
	}
	a := g.a
	g.loadRM(rCX, in, sz)
	if in.Mod == 3 {
		// IMUL writes every status flag and cannot leave the code:
		// the flags before it are dead, whatever the host holds.
		g.flags, g.live, g.zero = flagsMem, 0, 0
	} else {
		g.spill()
	}
	if in.Op == cpu.Map0F|0xaf {
		g.loadReg(rAX, in, in.Reg, sz)
		a.op(sized(sz, 0, 0, x86.AIMULL, x86.AIMULQ), reg(rCX), reg(rAX))
	} else {
		a.op3(sized(sz, 0, 0, x86.AIMUL3L, x86.AIMUL3Q), imm(immValue(in, sz)), reg(rCX), reg(rAX))
	}
	if g.dead(arithFlags) {
		g.leaveUndefined(arithFlags)
		g.storeReg(rAX, in, in.Reg, sz)
		g.retire()
		return true
	}
	// The result to CX first: mulFlagsImage clobbers AX.
	a.op(x86.AMOVQ, reg(rAX), reg(rCX))
	g.mulFlagsImage(sz)
	g.storeReg(rCX, in, in.Reg, sz)
	g.retire()
	return true
}

// shift: C0/C1 (imm8), D0/D1 (1), D2/D3 (CL) with ROL, ROR, SHL, SHR,
// SAL, SAR.
func (g *gen) shift(in *cpu.Inst) bool {
	sz := in.OpSize
	if in.Op&1 == 0 {
		sz = 1
	}
	// w: the flags the operation writes; z: those of them the
	// interpreter defines as zero (AF, and SAR's OF).
	var as obj.As
	var w, z uint64 = arithFlags, flagAF
	switch in.Reg & 7 {
	case 0:
		as, w, z = sized(sz, x86.AROLB, x86.AROLW, x86.AROLL, x86.AROLQ), 0x801, 0
	case 1:
		as, w, z = sized(sz, x86.ARORB, x86.ARORW, x86.ARORL, x86.ARORQ), 0x801, 0
	case 4, 6:
		as = sized(sz, x86.ASHLB, x86.ASHLW, x86.ASHLL, x86.ASHLQ)
	case 5:
		as = sized(sz, x86.ASHRB, x86.ASHRW, x86.ASHRL, x86.ASHRQ)
	case 7:
		as, z = sized(sz, x86.ASARB, x86.ASARW, x86.ASARL, x86.ASARQ), flagAF|flagOF
	default:
		return false // RCL, RCR
	}
	mask := uint64(31)
	if sz == 8 {
		mask = 63
	}
	a := g.a
	switch in.Op {
	case 0xc0, 0xc1, 0xd0, 0xd1:
		n := uint64(1)
		if in.Op < 0xd0 {
			n = in.Imm & 0xff
		}
		if n&mask == 0 {
			return false
		}
		if h, ok := g.hostReg(in, in.RM, sz); ok && in.Mod == 3 {
			a.op(as, imm(int64(n&mask)), reg(h))
			g.wrote(w, z)
			g.dirty |= 1 << in.RM
			break
		}
		g.loadDstRM(in, sz, true)
		a.op(as, imm(int64(n&mask)), reg(rAX))
		g.wrote(w, z)
		g.storeRM(in, sz)
	default: // CL
		if g.dead(arithFlags) {
			// Whatever the count, no one reads the flags after.
			g.loadDstRM(in, sz, true)
			a.op(x86.AMOVBLZX, g.gpr(in, cpu.RCX, 1), reg(rCX))
			a.op(as, reg(rCX), reg(rAX))
			g.leaveUndefined(arithFlags)
			g.storeRM(in, sz)
			break
		}
		g.spill()
		g.loadDstRM(in, sz, true)
		a.op(x86.AMOVBLZX, g.gpr(in, cpu.RCX, 1), reg(rCX))
		a.op(as, reg(rCX), reg(rAX))
		a.op0(x86.APUSHFQ)
		a.op1(x86.APOPQ, reg(rBX))
		g.storeRM(in, sz)
		skip := a.label()
		a.op(x86.ATESTL, imm(int64(mask)), reg(rCX))
		a.jmp(x86.AJEQ, skip)
		g.rflagsToImage()
		a.op(x86.AANDL, imm(imgMask(w&^z)), reg(rBX))
		a.op(x86.AANDW, imm(^imgMask(w)&0xffff), st(g.lay.Arith))
		a.op(x86.AORW, reg(rBX), st(g.lay.Arith))
		a.place(skip)
	}
	g.retire()
	return true
}
