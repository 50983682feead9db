package cpu

// Shifts and rotates: group 2 (ROL ROR RCL RCR SHL SHR SAL SAR) and
// SHLD/SHRD. The count is masked to 5 bits (6 with a 64-bit operand); a
// masked count of zero changes no flags. OF is defined for a count of 1
// only; for larger counts Fuji computes it with the count-1 formula, as
// P6-family processors do for SHL/SHR/SAR.

// shiftCount returns the masked count of a group-2 instruction.
func shiftCount(c *CPU, in *Inst, sz uint8) uint64 {
	var n uint64
	switch in.Op {
	case 0xd0, 0xd1:
		n = 1
	case 0xd2, 0xd3:
		n = c.R[RCX] & 0xff
	default:
		n = in.Imm & 0xff
	}
	if sz == 8 {
		return n & 0x3f
	}
	return n & 0x1f
}

func opShift(c *CPU, in *Inst) {
	sz := opSize(in)
	n := shiftCount(c, in, sz)
	if n == 0 {
		// Still a memory access for the read-modify-write check.
		if in.Mod != 3 {
			la := c.linear(in.Seg, c.ea(in), int(sz), true)
			c.probeRead(la)
		} else if sz == 4 {
			// longmode: the 32-bit register is still written, which
			// zero-extends it in 64-bit mode (Intel; Bochs).
			c.R[in.RM] &= 0xffffffff
		}
		return
	}
	op := in.Reg & 7
	c.rmw(in, sz, func(c *CPU, v uint64) (uint64, bool) { return c.shift(op, sz, v, n), true })
}

// shift performs a group-2 operation with a nonzero masked count n.
func (c *CPU) shift(op uint8, sz uint8, v, n uint64) uint64 {
	bits := uint64(sz) * 8
	m := sizeMask(sz)
	sign := signBit(sz)
	c.materialize()
	f := c.flags & FlagsArith
	var r uint64
	cf := f&FlagCF != 0
	switch op {
	case 0: // ROL
		k := n % bits
		r = (v<<k | v>>(bits-k)) & m
		cf = r&1 != 0
		f = f&^(FlagCF|FlagOF) | b2f(cf, FlagCF) | b2f((r&sign != 0) != cf, FlagOF)
		c.flags = c.flags&^FlagsArith | f
		return r
	case 1: // ROR
		k := n % bits
		r = (v>>k | v<<(bits-k)) & m
		cf = r&sign != 0
		of := (r&sign != 0) != (r&(sign>>1) != 0)
		f = f&^(FlagCF|FlagOF) | b2f(cf, FlagCF) | b2f(of, FlagOF)
		c.flags = c.flags&^FlagsArith | f
		return r
	case 2: // RCL
		k := n
		if sz < 4 {
			k = n % (bits + 1)
		}
		r = v
		for i := uint64(0); i < k; i++ {
			out := r&sign != 0
			r = (r<<1 | uint64(b2u(cf))) & m
			cf = out
		}
		f = f&^(FlagCF|FlagOF) | b2f(cf, FlagCF) | b2f((r&sign != 0) != cf, FlagOF)
		c.flags = c.flags&^FlagsArith | f
		return r
	case 3: // RCR
		k := n
		if sz < 4 {
			k = n % (bits + 1)
		}
		r = v
		for i := uint64(0); i < k; i++ {
			out := r&1 != 0
			r = r>>1 | uint64(b2u(cf))<<(bits-1)
			cf = out
		}
		// For a count of 1 this equals old MSB XOR old CF; larger counts
		// (undefined) use the last step, as hardware does.
		of := (r&sign != 0) != (r&(sign>>1) != 0)
		f = f&^(FlagCF|FlagOF) | b2f(cf, FlagCF) | b2f(of, FlagOF)
		c.flags = c.flags&^FlagsArith | f
		return r
	case 4, 6: // SHL/SAL
		if n < bits {
			r = v << n & m
			cf = v>>(bits-n)&1 != 0
		} else {
			r = 0
			cf = n == bits && v&1 != 0
		}
		of := (r&sign != 0) != cf
		c.flags = c.flags&^FlagsArith | szp(r, sz) | b2f(cf, FlagCF) | b2f(of, FlagOF)
		return r
	case 5: // SHR
		if n < bits {
			r = v >> n
			cf = v>>(n-1)&1 != 0
		} else {
			r = 0
			cf = n == bits && v&sign != 0
		}
		of := n == 1 && v&sign != 0
		if n > 1 {
			of = (r&sign != 0) != (r&(sign>>1) != 0)
		}
		c.flags = c.flags&^FlagsArith | szp(r, sz) | b2f(cf, FlagCF) | b2f(of, FlagOF)
		return r
	default: // SAR
		sv := signExt(v, sz)
		if n < bits {
			r = uint64(sv>>n) & m
			cf = sv>>(n-1)&1 != 0
		} else {
			r = uint64(sv>>63) & m
			cf = sv < 0
		}
		c.flags = c.flags&^FlagsArith | szp(r, sz) | b2f(cf, FlagCF)
		return r
	}
}

func b2f(b bool, f uint64) uint64 {
	if b {
		return f
	}
	return 0
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// opShxd: 0F A4/A5 SHLD, 0F AC/AD SHRD (Ib or CL).
func opShxd(c *CPU, in *Inst) {
	sz := in.OpSize
	var n uint64
	if in.Op&1 == 0 {
		n = in.Imm
	} else {
		n = c.R[RCX]
	}
	if sz == 8 {
		n &= 0x3f
	} else {
		n &= 0x1f
	}
	src := c.regGet(in, in.Reg, sz)
	if n == 0 {
		if in.Mod != 3 {
			c.probeRead(c.linear(in.Seg, c.ea(in), int(sz), true))
		} else if sz == 4 {
			c.R[in.RM] &= 0xffffffff // longmode: as opShift
		}
		return
	}
	left := in.Op < Map0F|0xa8
	c.rmw(in, sz, func(c *CPU, v uint64) (uint64, bool) { return c.shxd(sz, v, src, n, left), true })
}

func (c *CPU) shxd(sz uint8, dst, src, n uint64, left bool) uint64 {
	bits := uint64(sz) * 8
	m := sizeMask(sz)
	sign := signBit(sz)
	var r uint64
	var cf bool
	if sz == 2 {
		// 16-bit operands with counts above 16 shift through a 32-bit
		// (dst:src:dst) pattern on P6 processors.
		if left {
			w := dst<<32 | src<<16 | dst
			r = (w << n >> 32) & m
			cf = (w<<(n-1))>>47&1 != 0
		} else {
			w := dst | src<<16 | dst<<32
			r = (w >> n) & m
			cf = (w>>(n-1))&1 != 0
		}
	} else if left {
		r = (dst<<n | src>>(bits-n)) & m
		cf = dst>>(bits-n)&1 != 0
	} else {
		r = (dst>>n | src<<(bits-n)) & m
		cf = dst>>(n-1)&1 != 0
	}
	of := (r&sign != 0) != (dst&sign != 0)
	c.materialize()
	c.flags = c.flags&^FlagsArith | szp(r, sz) | b2f(cf, FlagCF) | b2f(of, FlagOF)
	return r
}
