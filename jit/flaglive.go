package jit

import "fuji/cpu"

// Status flag liveness within a block. An instruction whose flags a later
// one overwrites before anything reads them, and before any point where
// the code may leave (a helper, a slow path, the block's end), need not
// compute them: IMUL skips its flag image, INC and DEC skip loading CF,
// a shift by CL skips its PUSHFQ, and a block that loops to itself keeps
// the flags out of memory on the way round when its start overwrites
// them. The analysis is conservative: an instruction it does not know
// may leave, and so needs every flag. Emitters that use it record the
// flags they left undefined (gen.garbage); should one of those reach a
// point that reads them after all (an exit the analysis did not foresee),
// the compiler notices and compiles the block again without it.

// flagUse is what one instruction does with the status flags on its way
// through the inline path.
type flagUse struct {
	reads, writes uint64
	mayExit       bool // it may leave the code (then every flag is read)
}

// instFlags classifies in (ModRM's fields as decoded) for the analysis.
// writes is only what every execution writes.
func instFlags(in *cpu.Inst, m64 bool) flagUse {
	exit := flagUse{reads: arithFlags, mayExit: true}
	op := in.Op
	reg := in.Mod == 3
	switch {
	case op < 0x40 && op&7 < 6:
		if op&7 < 4 && !reg {
			return exit
		}
		u := flagUse{writes: arithFlags}
		if k := op >> 3; k == 2 || k == 3 { // ADC, SBB
			u.reads = flagCF
		}
		return u
	case op >= 0x40 && op <= 0x4f && !m64:
		return flagUse{writes: arithFlags &^ flagCF}
	case (op == 0x80 || op == 0x81 || op == 0x83) && reg:
		u := flagUse{writes: arithFlags}
		if k := in.Reg & 7; k == 2 || k == 3 {
			u.reads = flagCF
		}
		return u
	case (op == 0x84 || op == 0x85) && reg, op == 0xa8 || op == 0xa9:
		return flagUse{writes: arithFlags}
	case (op == 0x69 || op == 0x6b || op == cpu.Map0F|0xaf) && reg && in.OpSize != 2:
		return flagUse{writes: arithFlags}
	case (op == 0xc0 || op == 0xc1 || op == 0xd0 || op == 0xd1) && reg:
		n := uint64(1)
		if op < 0xd0 {
			n = in.Imm & 0xff
		}
		mask := uint64(31)
		if in.OpSize == 8 && op&1 != 0 {
			mask = 63
		}
		switch {
		case n&mask == 0:
			return exit // left to a helper
		case in.Reg&7 < 2: // ROL, ROR
			return flagUse{writes: flagCF | flagOF}
		case in.Reg&7 >= 4:
			return flagUse{writes: arithFlags}
		}
		return exit // RCL, RCR
	case (op == 0xd2 || op == 0xd3) && reg && in.Reg&7 != 2 && in.Reg&7 != 3:
		return flagUse{} // a zero count writes nothing
	case (op == 0xf6 || op == 0xf7) && reg && in.Reg&7 == 0:
		return flagUse{writes: arithFlags}
	case (op == 0xf6 || op == 0xf7) && reg && in.Reg&7 == 2:
		return flagUse{}
	case (op == 0xf6 || op == 0xf7) && reg && in.Reg&7 == 3:
		return flagUse{writes: arithFlags}
	case (op == 0xfe || op == 0xff) && reg && in.Reg&7 < 2:
		return flagUse{writes: arithFlags &^ flagCF}
	case op >= 0x88 && op <= 0x8b && reg, op >= 0xb0 && op <= 0xbf, op == 0x8d,
		(op == 0xc6 || op == 0xc7) && reg && in.Reg&7 == 0,
		op >= 0x90 && op <= 0x99, (op == 0x86 || op == 0x87) && reg,
		op == 0x63 && m64 && reg,
		(op == cpu.Map0F|0xb6 || op == cpu.Map0F|0xb7 || op == cpu.Map0F|0xbe || op == cpu.Map0F|0xbf) && reg:
		return flagUse{}
	case op >= cpu.Map0F|0x40 && op <= cpu.Map0F|0x4f && reg, op >= cpu.Map0F|0x90 && op <= cpu.Map0F|0x9f && reg:
		return flagUse{reads: condMask(uint8(op & 0xf))}
	}
	return exit
}

// flagLiveness computes, for each instruction of the block, the flags
// dead after it (overwritten before read or exit), and the flags live at
// the block's start.
func (g *gen) flagLiveness() (deadAfter []uint64, liveIn uint64) {
	n := len(g.src.Insts)
	deadAfter = make([]uint64, n)
	live := uint64(arithFlags) // at the end, the next block may read them all
	for i := n - 1; i >= 0; i-- {
		deadAfter[i] = arithFlags &^ live
		ic := g.src.Insts[i]
		ic.Reg, ic.RM = ic.ModRMRegs()
		u := instFlags(&ic, g.mode64())
		if u.mayExit || ic.Faults() {
			live = arithFlags
			continue
		}
		live = live&^u.writes | u.reads
	}
	return deadAfter, live
}

// dead reports whether every flag in mask is dead after the current
// instruction.
func (g *gen) dead(mask uint64) bool {
	return g.deadAfter != nil && g.deadAfter[g.i]&mask == mask
}

// leaveUndefined records that the current instruction left the flags in
// mask undefined in the host (they are dead): the host holds "them"
// until an instruction writes them.
func (g *gen) leaveUndefined(mask uint64) {
	if g.flags != flagsHost {
		g.flags, g.live, g.zero = flagsHost, 0, 0
	}
	g.live |= mask
	g.zero &^= mask
	g.garbage |= mask
}

// observe notes that the code reads the flags in mask here: none may be
// undefined.
func (g *gen) observe(mask uint64) {
	if g.garbage&mask != 0 {
		g.bad = true
	}
}
