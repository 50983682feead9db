package cpu

// Operand access: registers, effective addresses, segmented memory and the
// stack. These are the interpreter's hot paths.

// regGet reads general register r at size sz. For sz 1 without REX,
// registers 4-7 are AH, CH, DH, BH.
func (c *CPU) regGet(in *Inst, r uint8, sz uint8) uint64 {
	switch sz {
	case 1:
		if r >= 4 && r < 8 && in.Prefixes&PfxRex == 0 {
			return c.R[r-4] >> 8 & 0xff
		}
		return c.R[r] & 0xff
	case 2:
		return c.R[r] & 0xffff
	case 4:
		return c.R[r] & 0xffffffff
	}
	return c.R[r]
}

// regSet writes general register r at size sz: 8- and 16-bit writes keep
// the other bits, 32-bit writes zero the upper half (as in 64-bit mode;
// the upper half is not visible outside it).
func (c *CPU) regSet(in *Inst, r uint8, sz uint8, v uint64) {
	switch sz {
	case 1:
		if r >= 4 && r < 8 && in.Prefixes&PfxRex == 0 {
			c.R[r-4] = c.R[r-4]&^0xff00 | (v&0xff)<<8
			return
		}
		c.R[r] = c.R[r]&^0xff | v&0xff
	case 2:
		c.R[r] = c.R[r]&^0xffff | v&0xffff
	case 4:
		c.R[r] = v & 0xffffffff
	default:
		c.R[r] = v
	}
}

// ea computes the offset of the memory operand.
func (c *CPU) ea(in *Inst) uint64 {
	a := uint64(int64(in.Disp))
	if in.Base < 16 {
		a += c.R[in.Base]
	} else if in.Base == RegRIP {
		a += c.RIP
	}
	if in.Index < 16 {
		a += c.R[in.Index] << in.Scale
	}
	switch in.AddrSize {
	case 2:
		return a & 0xffff
	case 4:
		return a & 0xffffffff
	}
	return a
}

// linear checks an access of n bytes at offset off in segment s and
// returns the linear address. It raises #GP(0), or #SS(0) for SS, on a
// limit or permission violation, or a non-canonical 64-bit address.
func (c *CPU) linear(s uint8, off uint64, n int, write bool) uint64 {
	l := &c.seg[s]
	lo, hi := l.rlo, l.rhi
	if write {
		lo, hi = l.wlo, l.whi
	}
	if off < lo || off+uint64(n-1) > hi || off+uint64(n-1) < off && c.mode != Mode64 {
		c.segFault(s)
	}
	la := l.base + off
	if c.mode == Mode64 {
		// longmode: both ends must be canonical (an access that
		// runs past 00007FFF_FFFFFFFF faults, as on Intel and Bochs).
		end := la + uint64(n-1)
		if uint64(int64(la<<16)>>16) != la || uint64(int64(end<<16)>>16) != end {
			c.segFault(s)
		}
	} else {
		la &= 0xffffffff
	}
	if c.extraChecks {
		c.accessChecks(la, off, n, write)
	}
	return la
}

func (c *CPU) segFault(s uint8) {
	if s == SS {
		c.raise(ExcSS, 0)
	}
	c.raise(ExcGP, 0)
}

// read reads n bytes at seg:off.
func (c *CPU) read(s uint8, off uint64, n int) uint64 {
	return c.linRead(c.linear(s, off, n, false), n)
}

// write writes n bytes at seg:off.
func (c *CPU) write(s uint8, off uint64, n int, v uint64) {
	c.linWrite(c.linear(s, off, n, true), n, v)
}

// rmRead reads the r/m operand of size sz.
func (c *CPU) rmRead(in *Inst, sz uint8) uint64 {
	if in.Mod == 3 {
		return c.regGet(in, in.RM, sz)
	}
	return c.read(in.Seg, c.ea(in), int(sz))
}

// rmWrite writes the r/m operand of size sz.
func (c *CPU) rmWrite(in *Inst, sz uint8, v uint64) {
	if in.Mod == 3 {
		c.regSet(in, in.RM, sz, v)
		return
	}
	c.write(in.Seg, c.ea(in), int(sz), v)
}

// rmAddr returns the linear address of a memory r/m operand for a
// read-modify-write, checked for writing (so the later write cannot
// fault on segmentation), and probes the page for writing.
func (c *CPU) rmLinear(in *Inst, sz uint8) uint64 {
	la := c.linear(in.Seg, c.ea(in), int(sz), true)
	return la
}

// Stack access. The stack pointer width follows SS.B (or 64-bit mode).

func (c *CPU) setSP(v uint64) { c.R[RSP] = c.R[RSP]&^c.stackMask | v&c.stackMask }

func (c *CPU) writeStack(off uint64, n int, v uint64) { c.write(SS, off&c.stackMask, n, v) }

func (c *CPU) readStack(off uint64, n int) uint64 { return c.read(SS, off&c.stackMask, n) }

func (c *CPU) push(n int, v uint64) {
	sp := c.R[RSP] - uint64(n)
	c.writeStack(sp, n, v)
	c.setSP(sp)
}

func (c *CPU) pop(n int) uint64 {
	v := c.readStack(c.R[RSP], n)
	c.setSP(c.R[RSP] + uint64(n))
	return v
}

func (c *CPU) push16(v uint16) { c.push(2, uint64(v)) }

// pushSize is the size of a push of the instruction's operand size (PUSH
// and POP default to 64-bit in 64-bit mode; the decoder has applied it).
func pushSize(in *Inst) int { return int(in.OpSize) }
