package jit

import (
	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Guest memory and register operands.

// loadOps are the zero-extending loads by size.
func loadOp(sz uint8) obj.As {
	switch sz {
	case 1:
		return x86.AMOVBLZX
	case 2:
		return x86.AMOVWLZX
	case 4:
		return x86.AMOVL
	}
	return x86.AMOVQ
}

// storeOp is the store of sz bytes.
func storeOp(sz uint8) obj.As {
	switch sz {
	case 1:
		return x86.AMOVB
	case 2:
		return x86.AMOVW
	case 4:
		return x86.AMOVL
	}
	return x86.AMOVQ
}

// sized picks the instruction of an operation by operand size.
func sized(sz uint8, b, w, l, q obj.As) obj.As {
	switch sz {
	case 1:
		return b
	case 2:
		return w
	case 4:
		return l
	}
	return q
}

// loadReg loads guest register r (sz bytes, zero-extended) into host
// register h.
func (g *gen) loadReg(h int16, in *cpu.Inst, r uint8, sz uint8) {
	g.a.op(loadOp(sz), g.gpr(in, r, sz), reg(h))
}

// storeReg writes host register h to guest register r at size sz:
// 8- and 16-bit writes keep the other bits; a 32-bit write clears the
// upper half.
func (g *gen) storeReg(h int16, in *cpu.Inst, r uint8, sz uint8) {
	a := g.a
	if highByte(in, r, sz) {
		// AH..BH: through memory; a cached register is written back
		// first and reloaded after.
		c := g.cache[r-4]
		if c != 0 {
			g.writeBack(g.dirty & (1 << (r - 4)))
		}
		a.op(x86.AMOVB, reg(h), st(g.lay.R+uintptr(r-4)*8+1))
		if c != 0 {
			a.op(x86.AMOVQ, st(g.lay.R+uintptr(r-4)*8), reg(c))
		}
		return
	}
	if c := g.cache[r]; c != 0 {
		// MOVL zero-extends into the whole register, as a 32-bit
		// write does.
		a.op(storeOp(sz), reg(h), reg(c))
		g.dirty |= 1 << r
		return
	}
	if sz == 4 {
		// The host value is zero-extended: every 32-bit host
		// operation that produces it does so.
		sz = 8
	}
	a.op(storeOp(sz), reg(h), st(g.lay.R+uintptr(r)*8))
}

// ea computes the memory operand's offset into SI: one LEA of the
// operand's own form, on the cache registers where the base and index
// are cached; a 32-bit LEA truncates to the address size by itself.
func (g *gen) ea(in *cpu.Inst) {
	a := g.a
	if in.Base == cpu.RegRIP {
		v := g.next + uint64(int64(in.Disp))
		if in.AddrSize == 4 {
			v &= 0xffffffff
		}
		a.op(x86.AMOVQ, imm(int64(v)), reg(rSI))
		return
	}
	addrReg := func(r uint8, scratch int16) int16 {
		if h := g.cache[r]; h != 0 {
			return h
		}
		a.op(x86.AMOVQ, st(g.lay.R+uintptr(r)*8), reg(scratch))
		return scratch
	}
	if in.Base < 16 && g.cache[in.Base] == 0 && in.Index >= 16 && in.Disp == 0 && in.AddrSize == 4 {
		a.op(x86.AMOVL, st(g.lay.R+uintptr(in.Base)*8), reg(rSI)) // zero-extends
		return
	}
	m := obj.Addr{Type: obj.TYPE_MEM, Offset: int64(in.Disp)}
	if in.Base < 16 {
		m.Reg = addrReg(in.Base, rSI)
	}
	if in.Index < 16 {
		m.Index = addrReg(in.Index, rDI)
		m.Scale = 1 << in.Scale
	}
	switch {
	case m.Reg == 0 && m.Index == 0:
		v := uint64(int64(in.Disp))
		switch in.AddrSize {
		case 2:
			v &= 0xffff
		case 4:
			v &= 0xffffffff
		}
		a.op(x86.AMOVQ, imm(int64(v)), reg(rSI))
	case in.AddrSize == 8:
		if m.Reg == rSI && m.Index == 0 && m.Offset == 0 {
			return
		}
		a.op(x86.ALEAQ, m, reg(rSI))
	default:
		a.op(x86.ALEAL, m, reg(rSI))
		if in.AddrSize == 2 {
			a.op(x86.AMOVWLZX, reg(rSI), reg(rSI))
		}
	}
}

// linear turns the offset in SI into a linear address for an access of
// n bytes through segment s, jumping to the slow path if the segment's
// limits or rights refuse it. The caller has spilled the flags.
func (g *gen) linear(s uint8, n int, write bool) {
	a := g.a
	l := g.lay
	seg := uintptr(s) * l.SegStride
	if g.mode64() {
		if s >= cpu.FS {
			a.op(x86.AADDQ, st(l.SegBase+seg), reg(rSI))
		}
		return
	}
	// A flat segment (base 0, every 32-bit offset allowed) needs no
	// code: the offset is the linear address, and an access that wraps
	// at 4 GiB crosses a page, which the probe sends to the slow path.
	// The code then runs only while the segment stays flat.
	bit := uint16(1) << (2 * s)
	if write {
		bit <<= 1
	}
	if g.src.FlatSegs&bit != 0 {
		g.flat |= bit
		return
	}
	lo, hi := l.SegRLo, l.SegRHi
	if write {
		lo, hi = l.SegWLo, l.SegWHi
	}
	slow := g.slowPath()
	a.op(x86.ACMPQ, reg(rSI), st(lo+seg))
	a.jmp(x86.AJCS, slow)
	a.op(x86.ALEAQ, mem(rSI, int64(n-1)), reg(rDI))
	a.op(x86.ACMPQ, reg(rDI), st(hi+seg))
	a.jmp(x86.AJHI, slow)
	a.op(x86.AADDQ, st(l.SegBase+seg), reg(rSI))
	a.op(x86.AMOVL, reg(rSI), reg(rSI))
}

// probe looks the linear address in SI up and leaves the host address
// as DX+SI (hostMem); a miss, a page crossing, or a page without a fast
// path goes to the slow path. It checks the access site's own slot of
// the access-site cache first (cpu.tlb.sites: the last translation this
// access used), then, out of line, the software TLB, whose entry it then
// copies to the slot. The tag compared is that of the access's last
// byte: an access that crosses a page never matches the entry of its
// first byte's page (as QEMU's softmmu does), and in 64-bit mode a
// non-canonical address never matches, since the tag keeps every bit
// above the page offset.
func (g *gen) probe(n int, write bool) {
	a := g.a
	l := g.lay
	slow := g.slowPath()
	site := g.j.nextSite % cpu.NumSites
	g.j.nextSite++
	slot := l.Sites + uintptr(site)*16
	// BX: the tag of the last byte's page.
	a.op(x86.ALEAQ, mem(rSI, int64(n-1)), reg(rBX))
	a.op(x86.AANDQ, imm(-0x1000), reg(rBX))
	switch {
	case g.src.FlatSegs&cpu.FlatSuper != 0:
		g.flat |= cpu.FlatSuper // the tag's user bit is 0
	case g.src.FlatSegs&cpu.FlatUser != 0:
		g.flat |= cpu.FlatUser
		a.op(x86.AORQ, imm(1), reg(rBX))
	default:
		a.op(x86.AORQ, st(l.UserTag), reg(rBX))
	}
	miss := a.label()
	a.op(x86.ACMPQ, reg(rBX), st(slot))
	a.jmp(x86.AJNE, miss)
	// DX: the addend; the host address is DX+SI (hostMem).
	a.op(x86.AMOVQ, st(slot+8), reg(rDX))
	back := a.label()
	a.place(back)
	arr := l.TLBRead
	if write {
		arr = l.TLBWrite
	}
	g.tails = append(g.tails, func() {
		a.place(miss)
		// DI: the TLB entry's offset, (page & mask) * 32 (entry
		// size, checked in New).
		a.op(x86.AMOVL, reg(rSI), reg(rDI))
		a.op(x86.ASHRL, imm(12-5), reg(rDI))
		a.op(x86.AANDL, imm((1<<l.TLBBits-1)<<5), reg(rDI))
		a.op(x86.ACMPQ, reg(rBX), memIdx(x86.REG_R15, int64(arr+l.TLBTag), rDI, 1))
		a.jmp(x86.AJNE, slow)
		a.op(x86.AMOVQ, memIdx(x86.REG_R15, int64(arr+l.TLBAddend), rDI, 1), reg(rDX))
		// Copy the entry to the slot, listing the slot if it was
		// empty (Go empties the listed slots when TLB entries go).
		filled := a.label()
		a.op(x86.ACMPQ, st(slot), imm(-1))
		a.jmp(x86.AJNE, filled)
		a.op(x86.AMOVL, st(l.SiteN), reg(rDI))
		a.op(x86.AMOVW, imm(int64(site)), memIdx(x86.REG_R15, int64(l.SiteList), rDI, 2))
		a.op(x86.AADDL, imm(1), st(l.SiteN))
		a.place(filled)
		a.op(x86.AMOVQ, reg(rBX), st(slot))
		a.op(x86.AMOVQ, reg(rDX), st(slot+8))
		a.jmp(obj.AJMP, back)
	})
}

// hostMem is the memory operand a probe leaves: the linear address in SI
// plus the TLB entry's addend in DX (one ADD less than summing them).
func hostMem() obj.Addr { return memIdx(rDX, 0, rSI, 1) }

// memOperand leaves at hostMem (DX+SI) the host address of the instruction's memory
// operand (sz bytes), checked for writing if write (a read-modify-write
// reads through the same address).
func (g *gen) memOperand(in *cpu.Inst, sz uint8, write bool) {
	deferred := g.deferSpill(in)
	if !deferred {
		g.spill()
	}
	g.deferring = deferred
	g.ea(in)
	g.linear(in.Seg, int(sz), write)
	g.probe(int(sz), write)
	g.deferring = false
	if deferred {
		g.endDefer()
	}
}

// loadRM loads the r/m operand (sz bytes, zero-extended) into h. For a
// memory operand it leaves its host address at hostMem.
func (g *gen) loadRM(h int16, in *cpu.Inst, sz uint8) {
	if in.Mod == 3 {
		g.loadReg(h, in, in.RM, sz)
		return
	}
	g.memOperand(in, sz, false)
	g.a.op(loadOp(sz), hostMem(), reg(h))
}

// Stack.

// stackOffset leaves in SI the stack offset RSP+delta, wrapped to the
// stack size, and keeps a copy in R8.
func (g *gen) stackOffset(delta int64) {
	a := g.a
	a.op(x86.AMOVQ, g.gpr(nil, cpu.RSP, 8), reg(rSI))
	if delta != 0 {
		a.op(x86.ALEAQ, mem(rSI, delta), reg(rSI))
	}
	if !g.mode64() {
		a.op(x86.AANDQ, st(g.lay.StackMask), reg(rSI))
	}
	a.op(x86.AMOVQ, reg(rSI), reg(r8))
}

// stackAccess turns the stack offset in SI into a host address at hostMem for
// n bytes.
func (g *gen) stackAccess(n int, write bool) {
	g.linear(cpu.SS, n, write)
	g.probe(n, write)
}

// setSP writes the new stack offset in h to RSP, keeping the bits above
// the stack size (SS.B clear: only SP changes).
func (g *gen) setSP(h int16) {
	a := g.a
	if g.mode64() {
		g.setGPR64(h, cpu.RSP)
		return
	}
	a.op(x86.AMOVQ, st(g.lay.StackMask), reg(rDI))
	a.op(x86.AANDQ, reg(rDI), reg(h))
	a.op1(x86.ANOTQ, reg(rDI))
	a.op(x86.AANDQ, g.gpr(nil, cpu.RSP, 8), reg(rDI))
	a.op(x86.AORQ, reg(h), reg(rDI))
	g.setGPR64(rDI, cpu.RSP)
}
