package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// The register cache. Within a block, the guest registers it uses most
// live in host registers R9-R14: loaded on entry (and at every resume
// after a helper exit, since Go may have changed them), written back to
// State.R at every exit if written (dirty) on the way there. Between
// blocks, and whenever Go runs, State.R holds every register.

// cacheRegs are the host registers that hold guest registers. enter
// saves R12-R14 (R14 is Go's g); R9-R11 are scratch in Go's ABI.
var cacheRegs = [...]int16{x86.REG_R9, x86.REG_R10, x86.REG_R11, x86.REG_R12, x86.REG_R13, x86.REG_R14}

// assignCache picks the guest registers the block uses at least twice,
// most used first, for the cache registers. In a block that loops to
// itself every use repeats at each turn, and one use is enough.
func (g *gen) assignCache() {
	least := 1
	if g.selfLoop {
		least = 0
	}
	var uses [16]int
	for i := range g.src.Insts {
		in := &g.src.Insts[i]
		reg, rm := in.ModRMRegs()
		if in.HasModRM {
			if !opcodeInReg(in.Op) {
				uses[reg&15]++
			}
			if in.Mod == 3 {
				uses[rm&15]++
			}
		}
		if in.Base < 16 {
			uses[in.Base]++
		}
		if in.Index < 16 {
			uses[in.Index]++
		}
		op := in.Op
		switch {
		case op >= 0x40 && op <= 0x5f, op >= 0x90 && op <= 0x97, op >= 0xb0 && op <= 0xbf:
			uses[uint8(op&7)|(in.Rex&cpu.RexB)<<3]++
		}
		switch {
		case op >= 0x50 && op <= 0x5f, op == 0x68, op == 0x6a, op == 0xc2, op == 0xc3, op == 0xc9, op == 0xe8:
			uses[cpu.RSP] += 2
		}
	}
	for k := range cacheRegs {
		best, n := -1, least
		for r, u := range uses {
			if u > n {
				best, n = r, u
			}
		}
		if best < 0 {
			break
		}
		uses[best] = 0
		g.cache[best] = cacheRegs[k]
		g.cached |= 1 << best
	}
}

// loadCache loads every cached register from State.R.
func (g *gen) loadCache() {
	for r, h := range g.cache {
		if h != 0 {
			g.a.op(x86.AMOVQ, st(g.lay.R+uintptr(r)*8), reg(h))
		}
	}
}

// writeBack stores the registers in dirty to State.R.
func (g *gen) writeBack(dirty uint16) {
	for r, h := range g.cache {
		if h != 0 && dirty&(1<<r) != 0 {
			g.a.op(x86.AMOVQ, reg(h), st(g.lay.R+uintptr(r)*8))
		}
	}
}

// highByte reports whether r at size sz is AH, CH, DH or BH.
func highByte(in *cpu.Inst, r, sz uint8) bool {
	return sz == 1 && r >= 4 && r < 8 && in.Prefixes&cpu.PfxRex == 0
}

// gpr is where guest register r is for a read of sz bytes: its cache
// register or its field in the CPU. AH..BH are read from memory, after
// their register is written back if cached.
func (g *gen) gpr(in *cpu.Inst, r, sz uint8) obj.Addr {
	if highByte(in, r, sz) {
		if g.cache[r-4] != 0 {
			g.writeBack(g.dirty & (1 << (r - 4)))
		}
		return st(g.lay.R + uintptr(r-4)*8 + 1)
	}
	if h := g.cache[r]; h != 0 {
		return reg(h)
	}
	return st(g.lay.R + uintptr(r)*8)
}

// setGPR64 writes host register h to the whole of guest register r.
func (g *gen) setGPR64(h int16, r uint8) {
	if c := g.cache[r]; c != 0 {
		g.a.op(x86.AMOVQ, reg(h), reg(c))
		g.dirty |= 1 << r
		return
	}
	g.a.op(x86.AMOVQ, reg(h), st(g.lay.R+uintptr(r)*8))
}

// opcodeInReg reports whether ModRM's reg field extends the opcode (the
// group instructions) rather than naming a register.
func opcodeInReg(op uint16) bool {
	switch op {
	case 0x80, 0x81, 0x82, 0x83, 0x8f, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3,
		0xf6, 0xf7, 0xfe, 0xff, cpu.Map0F | 0x00, cpu.Map0F | 0x01, cpu.Map0F | 0x71,
		cpu.Map0F | 0x72, cpu.Map0F | 0x73, cpu.Map0F | 0xae, cpu.Map0F | 0xba, cpu.Map0F | 0xc7:
		return true
	}
	return op >= cpu.Map0F|0x18 && op <= cpu.Map0F|0x1f
}
