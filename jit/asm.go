package jit

import (
	"fmt"

	"github.com/twitchyliquid64/golang-asm/asm/arch"
	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
	"github.com/twitchyliquid64/golang-asm/objabi"
)

// asm is a thin layer over golang-asm's x86 back end: a list of Progs
// assembled at the end. golang-asm is not safe for concurrent use; each
// JIT (one per CPU) owns its own.
type asm struct {
	ctxt        *obj.Link
	arch        *arch.Arch
	first, last *obj.Prog
	err         error
	// progs is an arena of instructions reused by every compilation:
	// allocating each Prog afresh made the garbage collector a fifth of
	// the cost of compiling.
	progs []obj.Prog
	nprog int
}

func newAsm() *asm {
	a := &asm{arch: arch.Set("amd64")}
	a.ctxt = obj.Linknew(a.arch.LinkArch)
	a.ctxt.Headtype = objabi.Hlinux
	// As for hand-written assembly, no NOP padding to keep jumps off
	// 32-byte boundaries (the mitigation for an Intel erratum): the
	// padding made up to two multi-byte NOPs per guest memory access,
	// executed on every pass.
	a.ctxt.IsAsm = true
	a.ctxt.DiagFunc = func(format string, args ...interface{}) {
		if a.err == nil {
			a.err = fmt.Errorf("jit: assembler: "+format, args...)
		}
	}
	a.arch.Init(a.ctxt)
	return a
}

func (a *asm) reset() { a.first, a.last, a.err, a.nprog = nil, nil, nil, 0 }

// newProg returns a zeroed Prog from the arena. When the arena is full
// it moves to a larger one; Progs already handed out stay where they are.
func (a *asm) newProg() *obj.Prog {
	if a.nprog == len(a.progs) {
		a.progs = make([]obj.Prog, max(2*len(a.progs), 1024))
		a.nprog = 0
	}
	p := &a.progs[a.nprog]
	a.nprog++
	*p = obj.Prog{Ctxt: a.ctxt}
	return p
}

func (a *asm) add(p *obj.Prog) *obj.Prog {
	if a.first == nil {
		a.first = p
	} else {
		a.last.Link = p
	}
	a.last = p
	return p
}

// assemble returns the machine code. Progs' Pc fields hold their offsets.
func (a *asm) assemble() ([]byte, error) {
	if a.first == nil {
		return nil, fmt.Errorf("jit: empty block")
	}
	s := &obj.LSym{Func: &obj.FuncInfo{Text: a.first}}
	a.arch.Assemble(a.ctxt, s, a.newProg)
	if a.err != nil {
		return nil, a.err
	}
	return s.P, nil
}

// Operands.

func reg(r int16) obj.Addr { return obj.Addr{Type: obj.TYPE_REG, Reg: r} }

func imm(v int64) obj.Addr { return obj.Addr{Type: obj.TYPE_CONST, Offset: v} }

// mem is off(base).
func mem(base int16, off int64) obj.Addr {
	return obj.Addr{Type: obj.TYPE_MEM, Reg: base, Offset: off}
}

// memIdx is off(base)(index*scale).
func memIdx(base int16, off int64, index int16, scale int16) obj.Addr {
	return obj.Addr{Type: obj.TYPE_MEM, Reg: base, Offset: off, Index: index, Scale: scale}
}

// st is a field of the CPU (R15 holds the CPU pointer).
func st(off uintptr) obj.Addr { return mem(x86.REG_R15, int64(off)) }

// Instructions.

// op emits "as from, to" (golang-asm order: source first; for CMP the
// operands are in Intel order).
func (a *asm) op(as obj.As, from, to obj.Addr) *obj.Prog {
	p := a.newProg()
	p.As = as
	p.From = from
	p.To = to
	return a.add(p)
}

// op0 emits an instruction without operands.
func (a *asm) op0(as obj.As) *obj.Prog {
	p := a.newProg()
	p.As = as
	return a.add(p)
}

// op1 emits an instruction with a single (destination) operand.
func (a *asm) op1(as obj.As, to obj.Addr) *obj.Prog {
	p := a.newProg()
	p.As = as
	p.To = to
	return a.add(p)
}

// op3 emits a three-operand instruction (IMUL3): from, from3, to.
func (a *asm) op3(as obj.As, from, from3, to obj.Addr) *obj.Prog {
	p := a.newProg()
	p.As = as
	p.From = from
	p.SetFrom3(from3)
	p.To = to
	return a.add(p)
}

// label returns a new, not yet placed, jump target.
func (a *asm) label() *obj.Prog {
	p := a.newProg()
	p.As = obj.ANOP
	return p
}

// place puts a label at the current position.
func (a *asm) place(l *obj.Prog) { a.add(l) }

// jmp emits a jump (conditional or not) to label l.
func (a *asm) jmp(as obj.As, l *obj.Prog) {
	p := a.newProg()
	p.As = as
	p.To.Type = obj.TYPE_BRANCH
	p.To.SetTarget(l)
	a.add(p)
}
