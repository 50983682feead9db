package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Deferred flag spills. A memory access's probe clobbers the host flags,
// so the flags the previous instruction left there are spilled before it
// (LAHF, SETO, a store), although the slow path is the only place that
// may need them: most often the access is a move whose flags a later
// instruction overwrites, or an ALU operation that overwrites them
// itself. When the previous instruction was an ALU operation or TEST
// whose operands stay where they were (cache registers, guest registers
// in memory, constants), the spill moves into the slow path, which
// computes those flags again from the operands (ADD: the old destination
// is the new one minus the source; logic operations: the result decides)
// before it leaves. The loop benchmark's two accesses each lost a spill.

// recipe is how to compute the host flags again: the ALU operation op
// (aluTEST for TEST) of size sz that instruction i ran on dst and src.
type recipe struct {
	ok       bool
	i        int
	op       int
	sz       uint8
	dst, src obj.Addr
	// live and zero are the flag state when the spill was deferred.
	live, zero uint64
}

// aluTEST marks a TEST in a recipe.
const aluTEST = 8

// durable reports whether operand x keeps its value while the next
// instruction computes its memory operand: a constant, a cache register,
// or a guest register in State.R.
func (g *gen) durable(x obj.Addr) bool {
	switch x.Type {
	case obj.TYPE_CONST:
		return true
	case obj.TYPE_REG:
		for _, h := range cacheRegs {
			if x.Reg == h {
				return true
			}
		}
	case obj.TYPE_MEM:
		return x.Reg == x86.REG_R15 && x.Index == 0 && x.Offset >= int64(g.lay.R) && x.Offset < int64(g.lay.R)+16*8
	}
	return false
}

// noteRecipe records the ALU operation just emitted as the way to its
// flags, if its operands allow.
func (g *gen) noteRecipe(op int, sz uint8, dst, src obj.Addr) {
	g.recipe.ok = false
	if op == aluADC || op == aluSBB || !g.durable(dst) || !g.durable(src) {
		return
	}
	if (op == aluADD || op == aluSUB) && dst.Type == src.Type && dst.Reg == src.Reg && dst.Offset == src.Offset {
		return // x+x: the old value is not the new one minus x
	}
	g.recipe = recipe{ok: true, i: g.i, op: op, sz: sz, dst: dst, src: src}
}

// deferSpill reports whether the spill before instruction in's memory
// operand may move into its slow path, and if so readies it. A move
// must leave flags that are dead; an ALU operation (not ADC/SBB, which
// read CF) writes them all itself.
func (g *gen) deferSpill(in *cpu.Inst) bool {
	r := &g.recipe
	if g.flags != flagsHost || !r.ok || r.i != g.i-1 || g.garbage != 0 || g.slow != nil {
		return false
	}
	op := in.Op
	switch {
	case op >= 0x88 && op <= 0x8b, op == 0xc6 || op == 0xc7,
		op == cpu.Map0F|0xb6, op == cpu.Map0F|0xb7, op == cpu.Map0F|0xbe, op == cpu.Map0F|0xbf,
		op == 0x63 && g.mode64():
		if !g.dead(arithFlags) {
			return false
		}
	case op < 0x40 && op&7 < 4 && op>>3 != aluADC && op>>3 != aluSBB,
		(op == 0x80 || op == 0x81 || op == 0x83) && in.Reg&7 != aluADC && in.Reg&7 != aluSBB,
		op == 0x84 || op == 0x85:
	default:
		return false
	}
	r.live, r.zero = g.live, g.zero
	return true
}

// endDefer follows the probe of a deferred spill: the host flags are
// the probe's now, undefined until the instruction or a later one
// writes them all.
func (g *gen) endDefer() {
	g.flags, g.live, g.zero = flagsMem, 0, 0
	g.leaveUndefined(arithFlags)
	g.recipe.ok = false
}

// recompute emits, in a slow path, the flags of recipe r into memory:
// the operation again (on AX for ADD and SUB), then the spill.
func (g *gen) recompute(r recipe) {
	a := g.a
	si := sizeIndex(r.sz)
	switch r.op {
	case aluADD, aluSUB:
		undo, redo := aluSUB, aluADD
		if r.op == aluSUB {
			undo, redo = aluADD, aluSUB
		}
		a.op(loadOp(r.sz), r.dst, reg(rAX))
		a.op(aluOps[undo][si], r.src, reg(rAX))
		a.op(aluOps[redo][si], r.src, reg(rAX))
	case aluCMP:
		a.op(aluOps[aluCMP][si], r.dst, r.src)
	case aluTEST:
		a.op(sized(r.sz, x86.ATESTB, x86.ATESTW, x86.ATESTL, x86.ATESTQ), r.src, r.dst)
	default: // OR, AND, XOR: the result decides, CF and OF clear
		if r.dst.Type == obj.TYPE_REG {
			a.op(sized(r.sz, x86.ATESTB, x86.ATESTW, x86.ATESTL, x86.ATESTQ), r.dst, r.dst)
		} else {
			a.op(sized(r.sz, x86.ACMPB, x86.ACMPW, x86.ACMPL, x86.ACMPQ), r.dst, imm(0))
		}
	}
	g.flags, g.live, g.zero = flagsHost, r.live, r.zero
	g.spill()
}
