package cpu

import "unsafe"

// Specialised handlers for the most frequent 32-bit forms. bind picks them
// when the decoded operands allow it, so that the hot loop avoids the
// generic size and operation switches. Each computes exactly what the
// generic handler would; the SingleStepTests and the differential tests
// cover both.

// fastHandler returns a specialised handler for in, or nil. m64 says the
// code is 64-bit (where 40-4F are REX prefixes, not INC/DEC).
func fastHandler(in *Inst, m64 bool) handler {
	op := in.Op
	if in.Prefixes&PfxLock != 0 {
		return nil
	}
	if in.OpSize == 8 {
		return fastHandler64(in)
	}
	if in.OpSize != 4 {
		return nil
	}
	if m64 && op >= 0x40 && op <= 0x4f {
		return nil
	}
	switch {
	case op < 0x40 && op&7 <= 3 && op&1 == 1 && in.Mod == 3:
		if op&2 != 0 {
			// Gv,Ev with a register source: make it Ev,Gv with the
			// operands swapped so that one handler serves both.
			in.Reg, in.RM = in.RM, in.Reg
			in.swapped = true
		}
		return aluRR32[op>>3&7]
	case op == 0x8b && in.Mod != 3:
		return opLoad32
	case op == 0x89 && in.Mod != 3:
		return opStore32
	case (op == 0x89 || op == 0x8b) && in.Mod == 3:
		if op == 0x8b {
			in.Reg, in.RM = in.RM, in.Reg
			in.swapped = true
		}
		return opMovRR32
	case op >= 0x40 && op <= 0x47:
		return opInc32
	case op >= 0x48 && op <= 0x4f:
		return opDec32
	case op == 0x83 && in.Mod == 3:
		return aluRI32[in.Reg&7]
	case op == 0x75 || op == Map0F|0x85:
		return opJnz
	case op == 0x74 || op == Map0F|0x84:
		return opJz
	case (op == 0xd1 || op == 0xc1) && in.Mod == 3 && in.Reg&7 == 4:
		return opShl32RI
	}
	return nil
}

var aluRR32 = [8]handler{
	func(c *CPU, in *Inst) { // ADD
		a, b := c.R[in.RM]&0xffffffff, c.R[in.Reg]&0xffffffff
		r := (a + b) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazyAdd, 4, a, b, r, 0
	},
	func(c *CPU, in *Inst) { // OR
		r := (c.R[in.RM] | c.R[in.Reg]) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 4, r
	},
	func(c *CPU, in *Inst) { // ADC
		c.R[in.RM] = c.alu(aluADC, 4, c.R[in.RM]&0xffffffff, c.R[in.Reg]&0xffffffff)
	},
	func(c *CPU, in *Inst) { // SBB
		c.R[in.RM] = c.alu(aluSBB, 4, c.R[in.RM]&0xffffffff, c.R[in.Reg]&0xffffffff)
	},
	func(c *CPU, in *Inst) { // AND
		r := c.R[in.RM] & c.R[in.Reg] & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 4, r
	},
	func(c *CPU, in *Inst) { // SUB
		a, b := c.R[in.RM]&0xffffffff, c.R[in.Reg]&0xffffffff
		r := (a - b) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 4, a, b, r, 0
	},
	func(c *CPU, in *Inst) { // XOR
		r := (c.R[in.RM] ^ c.R[in.Reg]) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 4, r
	},
	func(c *CPU, in *Inst) { // CMP
		a, b := c.R[in.RM]&0xffffffff, c.R[in.Reg]&0xffffffff
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 4, a, b, (a-b)&0xffffffff, 0
	},
}

var aluRI32 = [8]handler{
	func(c *CPU, in *Inst) { // ADD
		a, b := c.R[in.RM]&0xffffffff, uint64(uint32(int32(int8(in.Imm))))
		r := (a + b) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazyAdd, 4, a, b, r, 0
	},
	func(c *CPU, in *Inst) { // OR
		r := (c.R[in.RM] | uint64(uint32(int32(int8(in.Imm))))) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 4, r
	},
	func(c *CPU, in *Inst) { // ADC
		c.R[in.RM] = c.alu(aluADC, 4, c.R[in.RM]&0xffffffff, uint64(uint32(int32(int8(in.Imm)))))
	},
	func(c *CPU, in *Inst) { // SBB
		c.R[in.RM] = c.alu(aluSBB, 4, c.R[in.RM]&0xffffffff, uint64(uint32(int32(int8(in.Imm)))))
	},
	func(c *CPU, in *Inst) { // AND
		r := c.R[in.RM] & uint64(uint32(int32(int8(in.Imm))))
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 4, r
	},
	func(c *CPU, in *Inst) { // SUB
		a, b := c.R[in.RM]&0xffffffff, uint64(uint32(int32(int8(in.Imm))))
		r := (a - b) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 4, a, b, r, 0
	},
	func(c *CPU, in *Inst) { // XOR
		r := (c.R[in.RM] ^ uint64(uint32(int32(int8(in.Imm))))) & 0xffffffff
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 4, r
	},
	func(c *CPU, in *Inst) { // CMP
		a, b := c.R[in.RM]&0xffffffff, uint64(uint32(int32(int8(in.Imm))))
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 4, a, b, (a-b)&0xffffffff, 0
	},
}

// fastLA returns the linear address of an n-byte access at seg:off when
// it needs no checks beyond the TLB's (within limits, canonical, no
// alignment or breakpoint checks, not crossing a page), else ok=false.
func (c *CPU) fastLA(s uint8, off uint64, n uint64, write bool) (uint64, bool) {
	l := &c.seg[s]
	if c.extraChecks {
		return 0, false
	}
	var la uint64
	if c.mode == Mode64 {
		la = l.base + off
		if uint64(int64(la<<16)>>16) != la {
			return 0, false
		}
	} else {
		lo, hi := l.rlo, l.rhi
		if write {
			lo, hi = l.wlo, l.whi
		}
		if off < lo || off+n-1 > hi {
			return 0, false
		}
		la = (l.base + off) & 0xffffffff
	}
	return la, la&0xfff <= 0x1000-n
}

// read32 reads a dword at seg:off through the TLB fast path.
func (c *CPU) read32(s uint8, off uint64) uint32 {
	la, ok := c.fastLA(s, off, 4, false)
	if !ok {
		return uint32(c.read(s, off, 4))
	}
	e := &c.tlb.r[(la>>12)&(tlbSize-1)]
	if e.tag == la&^0xfff|c.userTag {
		return *(*uint32)(unsafe.Add(e.host, la&0xfff))
	}
	return uint32(c.linRead(la, 4))
}

// write32 writes a dword at seg:off through the TLB fast path.
func (c *CPU) write32(s uint8, off uint64, v uint32) {
	la, ok := c.fastLA(s, off, 4, true)
	if !ok {
		c.write(s, off, 4, uint64(v))
		return
	}
	e := &c.tlb.w[(la>>12)&(tlbSize-1)]
	if e.tag == la&^0xfff|c.userTag {
		*(*uint32)(unsafe.Add(e.host, la&0xfff)) = v
		return
	}
	c.linWrite(la, 4, uint64(v))
}

func opLoad32(c *CPU, in *Inst) { c.R[in.Reg] = uint64(c.read32(in.Seg, c.ea(in))) }

func opStore32(c *CPU, in *Inst) { c.write32(in.Seg, c.ea(in), uint32(c.R[in.Reg])) }

func opMovRR32(c *CPU, in *Inst) { c.R[in.RM] = c.R[in.Reg] & 0xffffffff }

func opInc32(c *CPU, in *Inst) {
	r := in.Op & 7
	cin := b2u(c.cf())
	a := c.R[r] & 0xffffffff
	v := (a + 1) & 0xffffffff
	c.R[r] = v
	c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazyInc, 4, a, 1, v, cin
}

func opDec32(c *CPU, in *Inst) {
	r := in.Op & 7
	cin := b2u(c.cf())
	a := c.R[r] & 0xffffffff
	v := (a - 1) & 0xffffffff
	c.R[r] = v
	c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazyDec, 4, a, 1, v, cin
}

func opJnz(c *CPU, in *Inst) {
	if !c.zf() {
		c.branchTo(relTarget(c, in), in.OpSize)
	}
}

func opJz(c *CPU, in *Inst) {
	if c.zf() {
		c.branchTo(relTarget(c, in), in.OpSize)
	}
}

// opShl32RI: SHL r32, 1 / imm8.
func opShl32RI(c *CPU, in *Inst) {
	n := uint64(1)
	if in.Op == 0xc1 {
		n = in.Imm & 0x1f
		if n == 0 {
			// Flags unchanged; a 32-bit destination is still written
			// (zero-extended in 64-bit mode).
			c.R[in.RM] &= 0xffffffff
			return
		}
	}
	v := c.R[in.RM] & 0xffffffff
	r := v << n & 0xffffffff
	cf := v>>(32-n)&1 != 0
	of := (r&0x80000000 != 0) != cf
	c.lop = lazyNone
	c.flags = c.flags&^FlagsArith | szp(r, 4) | b2f(cf, FlagCF) | b2f(of, FlagOF)
	c.R[in.RM] = r
}

// 64-bit operand forms.

func fastHandler64(in *Inst) handler {
	op := in.Op
	switch {
	case op < 0x40 && op&7 <= 3 && op&1 == 1 && in.Mod == 3:
		if op&2 != 0 {
			in.Reg, in.RM = in.RM, in.Reg
			in.swapped = true
		}
		return aluRR64[op>>3&7]
	case op == 0x8b && in.Mod != 3:
		return opLoad64
	case op == 0x89 && in.Mod != 3:
		return opStore64
	case (op == 0x89 || op == 0x8b) && in.Mod == 3:
		if op == 0x8b {
			in.Reg, in.RM = in.RM, in.Reg
			in.swapped = true
		}
		return opMovRR64
	case op == 0x83 && in.Mod == 3 && (in.Reg&7 == aluADD || in.Reg&7 == aluSUB || in.Reg&7 == aluCMP || in.Reg&7 == aluAND):
		return aluRI64
	case op == 0x85 && in.Mod == 3:
		return opTestRR64
	case op == 0x8d:
		return opLea64
	}
	return nil
}

func aluRR64Op(op uint8) handler {
	return func(c *CPU, in *Inst) {
		a, b := c.R[in.RM], c.R[in.Reg]
		var r uint64
		switch op {
		case aluADD:
			r = a + b
			c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazyAdd, 8, a, b, r, 0
		case aluOR:
			r = a | b
			c.lop, c.lsz, c.lres = lazyLogic, 8, r
		case aluAND:
			r = a & b
			c.lop, c.lsz, c.lres = lazyLogic, 8, r
		case aluXOR:
			r = a ^ b
			c.lop, c.lsz, c.lres = lazyLogic, 8, r
		case aluSUB, aluCMP:
			r = a - b
			c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 8, a, b, r, 0
			if op == aluCMP {
				return
			}
		default: // ADC, SBB
			r = c.alu(op, 8, a, b)
		}
		c.R[in.RM] = r
	}
}

var aluRR64 = [8]handler{
	aluRR64Op(0), aluRR64Op(1), aluRR64Op(2), aluRR64Op(3),
	aluRR64Op(4), aluRR64Op(5), aluRR64Op(6), aluRR64Op(7),
}

// aluRI64: 83 /0 /4 /5 /7 with a register destination.
func aluRI64(c *CPU, in *Inst) {
	a, b := c.R[in.RM], uint64(int64(int8(in.Imm)))
	switch in.Reg & 7 {
	case aluADD:
		r := a + b
		c.R[in.RM] = r
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazyAdd, 8, a, b, r, 0
	case aluAND:
		r := a & b
		c.R[in.RM] = r
		c.lop, c.lsz, c.lres = lazyLogic, 8, r
	case aluSUB:
		r := a - b
		c.R[in.RM] = r
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 8, a, b, r, 0
	default: // CMP
		c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = lazySub, 8, a, b, a-b, 0
	}
}

func opTestRR64(c *CPU, in *Inst) {
	c.lop, c.lsz, c.lres = lazyLogic, 8, c.R[in.RM]&c.R[in.Reg]
}

func opMovRR64(c *CPU, in *Inst) { c.R[in.RM] = c.R[in.Reg] }

func opLea64(c *CPU, in *Inst) { c.R[in.Reg] = c.ea(in) }

// read64 reads a qword at seg:off through the TLB fast path.
func (c *CPU) read64(s uint8, off uint64) uint64 {
	la, ok := c.fastLA(s, off, 8, false)
	if !ok {
		return c.read(s, off, 8)
	}
	e := &c.tlb.r[(la>>12)&(tlbSize-1)]
	if e.tag == la&^0xfff|c.userTag {
		return *(*uint64)(unsafe.Add(e.host, la&0xfff))
	}
	return c.linRead(la, 8)
}

// write64 writes a qword at seg:off through the TLB fast path.
func (c *CPU) write64(s uint8, off uint64, v uint64) {
	la, ok := c.fastLA(s, off, 8, true)
	if !ok {
		c.write(s, off, 8, v)
		return
	}
	e := &c.tlb.w[(la>>12)&(tlbSize-1)]
	if e.tag == la&^0xfff|c.userTag {
		*(*uint64)(unsafe.Add(e.host, la&0xfff)) = v
		return
	}
	c.linWrite(la, 8, v)
}

func opLoad64(c *CPU, in *Inst) { c.R[in.Reg] = c.read64(in.Seg, c.ea(in)) }

func opStore64(c *CPU, in *Inst) { c.write64(in.Seg, c.ea(in), c.R[in.Reg]) }
