package cpu

import "unsafe"

// Specialised handlers for the most frequent 32-bit forms. bind picks them
// when the decoded operands allow it, so that the hot loop avoids the
// generic size and operation switches. Each computes exactly what the
// generic handler would; the SingleStepTests and the differential tests
// cover both.

// fastHandler returns a specialised handler for in, or nil.
func fastHandler(in *Inst) handler {
	op := in.Op
	if in.OpSize != 4 || in.Prefixes&PfxLock != 0 {
		return nil
	}
	switch {
	case op < 0x40 && op&7 <= 3 && op&1 == 1 && in.Mod == 3:
		if op&2 != 0 {
			// Gv,Ev with a register source: make it Ev,Gv with the
			// operands swapped so that one handler serves both.
			in.Reg, in.RM = in.RM, in.Reg
		}
		return aluRR32[op>>3&7]
	case op == 0x8b && in.Mod != 3:
		return opLoad32
	case op == 0x89 && in.Mod != 3:
		return opStore32
	case (op == 0x89 || op == 0x8b) && in.Mod == 3:
		if op == 0x8b {
			in.Reg, in.RM = in.RM, in.Reg
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

// read32 reads a dword at seg:off through the TLB fast path.
func (c *CPU) read32(s uint8, off uint64) uint32 {
	l := &c.seg[s]
	if off < l.rlo || off+3 > l.rhi || c.mode == Mode64 || c.extraChecks {
		return uint32(c.read(s, off, 4))
	}
	la := (l.base + off) & 0xffffffff
	e := &c.tlb.r[(la>>12)&(tlbSize-1)]
	if e.tag == la>>11&^1|c.userTag && la&0xfff <= 0xffc {
		return *(*uint32)(unsafe.Add(e.host, la&0xfff))
	}
	return uint32(c.linRead(la, 4))
}

// write32 writes a dword at seg:off through the TLB fast path.
func (c *CPU) write32(s uint8, off uint64, v uint32) {
	l := &c.seg[s]
	if off < l.wlo || off+3 > l.whi || c.mode == Mode64 || c.extraChecks {
		c.write(s, off, 4, uint64(v))
		return
	}
	la := (l.base + off) & 0xffffffff
	e := &c.tlb.w[(la>>12)&(tlbSize-1)]
	if e.tag == la>>11&^1|c.userTag && la&0xfff <= 0xffc {
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
