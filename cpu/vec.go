package cpu

// extHandler binds the instructions bind.go does not list: the MMX, SSE
// and later vector forms of the 0F, 0F 38 and 0F 3A maps, their state
// management (FXSAVE, LDMXCSR, XSAVE, ...), POPCNT, LZCNT/TZCNT, CRC32.
func (c *CPU) extHandler(in *Inst) handler {
	switch in.Op {
	case Map0F | 0xb8, Map0F | 0xbc, Map0F | 0xbd:
		return c.bitcountBind(in)
	case Map0F | 0xae:
		return c.grp15Bind(in)
	case Map0F38 | 0xf0, Map0F38 | 0xf1:
		if in.Prefixes&PfxRepne != 0 {
			if c.model.fp.sse42 && in.Prefixes&PfxRep == 0 {
				return opCrc32
			}
			return opUD
		}
	}
	return c.vecBind(in)
}

// Availability checks (SDM Vol. 3A 2.5, Table 2-2; Vol. 2 exception
// tables of the SSE/MMX instructions).

// sseAvail: CR0.EM=1 or CR4.OSFXSR=0 → #UD; CR0.TS=1 → #NM.
func (c *CPU) sseAvail() {
	if c.CR0&CR0EM != 0 || c.CR4&CR4OSFXSR == 0 {
		c.raise(ExcUD, 0)
	}
	if c.CR0&CR0TS != 0 {
		c.raise(ExcNM, 0)
	}
}

// mmxAvail: CR0.EM=1 → #UD; CR0.TS=1 → #NM; a pending x87 exception →
// #MF. An MMX instruction then puts the x87 in MMX state: TOP = 0, all
// registers valid.
func (c *CPU) mmxAvail() {
	if c.CR0&CR0EM != 0 {
		c.raise(ExcUD, 0)
	}
	if c.CR0&CR0TS != 0 {
		c.raise(ExcNM, 0)
	}
	c.fwaitCheck()
	c.FSW &^= fswTop
	c.FTW = 0xff
}

// Register and memory operands of vector instructions.

// xmmRM reads the 128-bit r/m operand; align requires 16-byte alignment
// (#GP(0)), as the legacy-SSE packed forms do.
func (c *CPU) xmmRM(in *Inst, align bool) [2]uint64 {
	if in.Mod == 3 {
		return c.XMM[in.RM]
	}
	off := c.ea(in)
	if align && off&15 != 0 {
		c.raise(ExcGP, 0)
	}
	la := c.linear(in.Seg, off, 16, false)
	return [2]uint64{c.linRead(la, 8), c.linRead(la+8, 8)}
}

// xmmRMLow reads n (4 or 8) bytes: the low lane of a register or memory.
func (c *CPU) xmmRMLow(in *Inst, n int) uint64 {
	if in.Mod == 3 {
		if n == 4 {
			return c.XMM[in.RM][0] & 0xffffffff
		}
		return c.XMM[in.RM][0]
	}
	return c.read(in.Seg, c.ea(in), n)
}

// writeXMMMem stores 128 bits at the memory operand.
func (c *CPU) writeXMMMem(in *Inst, v [2]uint64, align bool) {
	off := c.ea(in)
	if align && off&15 != 0 {
		c.raise(ExcGP, 0)
	}
	la := c.linear(in.Seg, off, 16, true)
	c.probeWrite(la)
	c.probeWrite(la + 15)
	c.linWrite(la, 8, v[0])
	c.linWrite(la+8, 8, v[1])
}

// mmGet/mmSet access MMi, the significand of x87 register Ri; a write
// sets the sign/exponent to all ones (SDM Vol. 1 9.5.1).
func (c *CPU) mmGet(i uint8) uint64 { return c.ST[i&7].Mant }

func (c *CPU) mmSet(i uint8, v uint64) {
	c.ST[i&7] = F80{Mant: v, SExp: 0xffff}
}

// mmRM reads the 64-bit MMX r/m operand.
func (c *CPU) mmRM(in *Inst) uint64 {
	if in.Mod == 3 {
		return c.mmGet(in.RM)
	}
	return c.read(in.Seg, c.ea(in), 8)
}

// opEmms: 0F 77. All x87 tags empty.
func opEmms(c *CPU, in *Inst) {
	if c.CR0&CR0EM != 0 {
		c.raise(ExcUD, 0)
	}
	if c.CR0&CR0TS != 0 {
		c.raise(ExcNM, 0)
	}
	c.fwaitCheck()
	c.FTW = 0
}
