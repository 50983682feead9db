package cpu

// Data movement: MOV in its forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, CMOVcc,
// SETcc, CBW/CWD families, XLAT, BSWAP, segment register moves and the
// far-pointer loads (LDS LES LSS LFS LGS).

func opNop(c *CPU, in *Inst) {}

// opMovRM: 88-8B.
func opMovRM(c *CPU, in *Inst) {
	sz := opSize(in)
	if in.Op&2 != 0 {
		c.regSet(in, in.Reg, sz, c.rmRead(in, sz))
		return
	}
	c.rmWrite(in, sz, c.regGet(in, in.Reg, sz))
}

// opMovRMImm: C6/C7 /0.
func opMovRMImm(c *CPU, in *Inst) {
	sz := opSize(in)
	c.rmWrite(in, sz, signExtImm(in, sz))
}

// opMovRegImm8: B0-B7.
func opMovRegImm8(c *CPU, in *Inst) {
	r := uint8(in.Op&7) | (in.Rex&RexB)<<3
	c.regSet(in, r, 1, in.Imm)
}

// opMovRegImm: B8-BF (imm64 with REX.W).
func opMovRegImm(c *CPU, in *Inst) {
	r := uint8(in.Op&7) | (in.Rex&RexB)<<3
	c.regSet(in, r, in.OpSize, in.Imm)
}

// opMovMoffs: A0-A3 MOV AL/eAX, moffs and back.
func opMovMoffs(c *CPU, in *Inst) {
	sz := opSize(in)
	off := in.Imm
	switch in.AddrSize {
	case 2:
		off &= 0xffff
	case 4:
		off &= 0xffffffff
	}
	if in.Op&2 == 0 {
		c.regSet(in, RAX, sz, c.read(in.Seg, off, int(sz)))
		return
	}
	c.write(in.Seg, off, int(sz), c.regGet(in, RAX, sz))
}

// opLea: 8D.
func opLea(c *CPU, in *Inst) {
	c.regSet(in, in.Reg, in.OpSize, c.ea(in))
}

// opMovzx: 0F B6/B7.
func opMovzx(c *CPU, in *Inst) {
	var src uint8 = 1
	if in.Op&1 != 0 {
		src = 2
	}
	c.regSet(in, in.Reg, in.OpSize, c.rmRead(in, src))
}

// opMovsx: 0F BE/BF.
func opMovsx(c *CPU, in *Inst) {
	var src uint8 = 1
	if in.Op&1 != 0 {
		src = 2
	}
	c.regSet(in, in.Reg, in.OpSize, uint64(signExt(c.rmRead(in, src), src))&sizeMask(in.OpSize))
}

// opMovsxd: 63 in 64-bit mode.
func opMovsxd(c *CPU, in *Inst) {
	if in.OpSize != 8 {
		c.regSet(in, in.Reg, in.OpSize, c.rmRead(in, in.OpSize))
		return
	}
	c.regSet(in, in.Reg, 8, uint64(signExt(c.rmRead(in, 4), 4)))
}

// opXchgRM: 86/87. With a memory operand it is always locked (no effect
// here: one CPU runs at a time).
func opXchgRM(c *CPU, in *Inst) {
	sz := opSize(in)
	r := c.regGet(in, in.Reg, sz)
	if in.Mod == 3 {
		c.regSet(in, in.Reg, sz, c.regGet(in, in.RM, sz))
		c.regSet(in, in.RM, sz, r)
		return
	}
	c.rmw(in, sz, func(c *CPU, old uint64) (uint64, bool) {
		c.regSet(in, in.Reg, sz, old)
		return r, true
	})
}

// opXchgAcc: 90-97 XCHG rAX, r (90 with REX.B is XCHG rAX, R8).
func opXchgAcc(c *CPU, in *Inst) {
	r := uint8(in.Op&7) | (in.Rex&RexB)<<3
	sz := in.OpSize
	a := c.regGet(in, RAX, sz)
	c.regSet(in, RAX, sz, c.regGet(in, r, sz))
	c.regSet(in, r, sz, a)
}

// opCmov: 0F 40-4F. The source is read whatever the condition (a memory
// fault is raised either way); a 32-bit CMOV zeroes the upper half of the
// destination in 64-bit mode even when the condition is false.
func opCmov(c *CPU, in *Inst) {
	sz := in.OpSize
	v := c.rmRead(in, sz)
	if c.cond(uint8(in.Op & 0xf)) {
		c.regSet(in, in.Reg, sz, v)
	} else if sz == 4 && c.mode == Mode64 {
		c.R[in.Reg] &= 0xffffffff
	}
}

// opSetcc: 0F 90-9F.
func opSetcc(c *CPU, in *Inst) {
	var v uint64
	if c.cond(uint8(in.Op & 0xf)) {
		v = 1
	}
	c.rmWrite(in, 1, v)
}

// opCbw: 98 CBW/CWDE/CDQE.
func opCbw(c *CPU, in *Inst) {
	switch in.OpSize {
	case 2:
		c.regSetN(RAX, 2, uint64(int64(int8(c.R[RAX]))))
	case 4:
		c.R[RAX] = uint64(uint32(int32(int16(c.R[RAX]))))
	default:
		c.R[RAX] = uint64(int64(int32(c.R[RAX])))
	}
}

// opCwd: 99 CWD/CDQ/CQO.
func opCwd(c *CPU, in *Inst) {
	switch in.OpSize {
	case 2:
		c.regSetN(RDX, 2, uint64(int64(int16(c.R[RAX]))>>16))
	case 4:
		c.R[RDX] = uint64(uint32(int32(c.R[RAX]) >> 31))
	default:
		c.R[RDX] = uint64(int64(c.R[RAX]) >> 63)
	}
}

// opXlat: D7.
func opXlat(c *CPU, in *Inst) {
	off := c.R[RBX] + c.R[RAX]&0xff
	switch in.AddrSize {
	case 2:
		off &= 0xffff
	case 4:
		off &= 0xffffffff
	}
	c.regSetN(RAX, 1, c.read(in.Seg, off, 1))
}

// opBswap: 0F C8-CF. With a 16-bit operand the result is undefined;
// P6-class processors clear the low word.
func opBswap(c *CPU, in *Inst) {
	r := uint8(in.Op&7) | (in.Rex&RexB)<<3
	switch in.OpSize {
	case 2:
		c.regSetN(r, 2, 0)
	case 4:
		v := uint32(c.R[r])
		c.R[r] = uint64(v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24)
	default:
		v := c.R[r]
		var o uint64
		for i := 0; i < 8; i++ {
			o = o<<8 | v&0xff
			v >>= 8
		}
		c.R[r] = o
	}
}

// opMovFromSeg: 8C MOV Ev, Sreg. A register destination of 32/64 bits
// gets the selector zero-extended; memory gets 16 bits.
func opMovFromSeg(c *CPU, in *Inst) {
	s := in.Reg & 7
	if s > GS {
		c.raise(ExcUD, 0)
	}
	v := uint64(c.Seg[s].Sel)
	if in.Mod == 3 {
		c.regSet(in, in.RM, in.OpSize, v)
		return
	}
	c.rmWrite(in, 2, v)
}

// opMovToSeg: 8E MOV Sreg, Ew.
func opMovToSeg(c *CPU, in *Inst) {
	c.loadSeg(int(in.Reg&7), uint16(c.rmRead(in, 2)))
}

// opLoadFarPtr: C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS.
func opLoadFarPtr(c *CPU, in *Inst) {
	var s int
	switch in.Op {
	case 0xc4:
		s = ES
	case 0xc5:
		s = DS
	case Map0F | 0xb2:
		s = SS
	case Map0F | 0xb4:
		s = FS
	default:
		s = GS
	}
	sz := in.OpSize
	off := c.ea(in)
	v := c.read(in.Seg, off, int(sz))
	sel := c.read(in.Seg, (off+uint64(sz))&addrMask(in), 2)
	c.loadSeg(s, uint16(sel))
	c.regSet(in, in.Reg, sz, v)
}

// addrMask is the mask of the instruction's address size.
func addrMask(in *Inst) uint64 {
	switch in.AddrSize {
	case 2:
		return 0xffff
	case 4:
		return 0xffffffff
	}
	return ^uint64(0)
}
