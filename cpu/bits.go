package cpu

import "math/bits"

// Bit instructions: BT BTS BTR BTC (register and immediate offsets), BSF,
// BSR. Only CF is defined after BTx; OF, SF, AF and PF are undefined and
// left unchanged, ZF is unchanged.

// btOp applies operation op (0 BT, 1 BTS, 2 BTR, 3 BTC) to bit b of v.
func btOp(op uint8, v uint64, b uint64) (uint64, bool, bool) {
	mask := uint64(1) << b
	old := v&mask != 0
	switch op {
	case 1:
		return v | mask, old, true
	case 2:
		return v &^ mask, old, true
	case 3:
		return v ^ mask, old, true
	}
	return v, old, false
}

func btKind(in *Inst) uint8 {
	switch in.Op {
	case Map0F | 0xab:
		return 1
	case Map0F | 0xb3:
		return 2
	case Map0F | 0xbb:
		return 3
	case Map0F | 0xba:
		return in.Reg&7 - 4
	}
	return 0
}

// opBtRM: 0F A3/AB/B3/BB with a register bit offset. With a memory
// operand the offset is signed and may address any bit relative to the
// operand (SDM BT: bit string addressing).
func opBtRM(c *CPU, in *Inst) {
	sz := in.OpSize
	off := c.regGet(in, in.Reg, sz)
	op := btKind(in)
	bitsz := uint64(sz) * 8
	if in.Mod == 3 {
		v := c.regGet(in, in.RM, sz)
		nv, old, st := btOp(op, v, off%bitsz)
		if st {
			c.regSet(in, in.RM, sz, nv)
		}
		c.setCF(old)
		return
	}
	so := signExt(off, sz)
	disp := (so >> (3 + bitsLog(sz))) * int64(sz)
	a := (c.ea(in) + uint64(disp)) & addrMask(in)
	bit := uint64(so) & (bitsz - 1)
	c.btMem(in, op, sz, a, bit)
}

func bitsLog(sz uint8) uint {
	switch sz {
	case 2:
		return 1
	case 4:
		return 2
	}
	return 3
}

func (c *CPU) btMem(in *Inst, op uint8, sz uint8, off, bit uint64) {
	if op == 0 {
		v := c.read(in.Seg, off, int(sz))
		c.setCF(v>>bit&1 != 0)
		return
	}
	la := c.linear(in.Seg, off, int(sz), true)
	c.probeWrite(la)
	c.probeWrite(la + uint64(sz) - 1)
	v := c.linRead(la, int(sz))
	nv, old, _ := btOp(op, v, bit)
	c.linWrite(la, int(sz), nv)
	c.setCF(old)
}

// opBtImm: 0F BA /4-/7 with an immediate bit offset (taken modulo the
// operand size).
func opBtImm(c *CPU, in *Inst) {
	sz := in.OpSize
	bit := in.Imm & (uint64(sz)*8 - 1)
	op := btKind(in)
	if in.Mod == 3 {
		v := c.regGet(in, in.RM, sz)
		nv, old, st := btOp(op, v, bit)
		if st {
			c.regSet(in, in.RM, sz, nv)
		}
		c.setCF(old)
		return
	}
	c.btMem(in, op, sz, c.ea(in), bit)
}

// opBsf: 0F BC. With a zero source ZF is set and the destination is left
// unchanged (as P6 and later processors do).
func opBsf(c *CPU, in *Inst) {
	sz := in.OpSize
	v := c.rmRead(in, sz)
	c.materialize()
	if v == 0 {
		c.flags = c.flags&^FlagsArith | FlagZF | FlagPF
		return
	}
	r := uint64(bits.TrailingZeros64(v))
	c.regSet(in, in.Reg, sz, r)
	c.flags = c.flags&^FlagsArith | szp(r, sz)&FlagPF
}

// opBsr: 0F BD.
func opBsr(c *CPU, in *Inst) {
	sz := in.OpSize
	v := c.rmRead(in, sz)
	c.materialize()
	if v == 0 {
		c.flags = c.flags&^FlagsArith | FlagZF | FlagPF
		return
	}
	r := uint64(63 - bits.LeadingZeros64(v))
	c.regSet(in, in.Reg, sz, r)
	c.flags = c.flags&^FlagsArith | szp(r, sz)&FlagPF
}
