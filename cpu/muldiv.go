package cpu

import "math/bits"

// MUL, IMUL and DIV, IDIV. After MUL/IMUL, CF and OF say whether the
// result needed the upper half; SF, ZF, AF and PF are undefined and set
// here from the low half as P6-class processors do for SF/ZF/PF, with AF
// clear. After DIV/IDIV all six flags are undefined and are left as they
// were.

func signExt(v uint64, sz uint8) int64 {
	s := 64 - 8*uint(sz)
	return int64(v<<s) >> s
}

func (c *CPU) mulFlags(lo uint64, sz uint8, overflow bool) {
	f := szp(lo, sz)
	if overflow {
		f |= FlagCF | FlagOF
	}
	c.setArith(f)
}

// mul: unsigned rDX:rAX = rAX * src.
func (c *CPU) mul(sz uint8, src uint64) {
	a := c.R[RAX] & sizeMask(sz)
	switch sz {
	case 1:
		r := a * src
		c.R[RAX] = c.R[RAX]&^0xffff | r&0xffff
		c.mulFlags(r, 1, r>>8 != 0)
	case 2:
		r := a * src
		c.regSetN(RAX, 2, r)
		c.regSetN(RDX, 2, r>>16)
		c.mulFlags(r, 2, r>>16 != 0)
	case 4:
		r := a * src
		c.R[RAX] = r & 0xffffffff
		c.R[RDX] = r >> 32
		c.mulFlags(r, 4, r>>32 != 0)
	default:
		hi, lo := bits.Mul64(a, src)
		c.R[RAX], c.R[RDX] = lo, hi
		c.mulFlags(lo, 8, hi != 0)
	}
}

// regSetN writes a register at size sz without 8-bit high-register rules.
func (c *CPU) regSetN(r uint8, sz uint8, v uint64) {
	switch sz {
	case 1:
		c.R[r] = c.R[r]&^0xff | v&0xff
	case 2:
		c.R[r] = c.R[r]&^0xffff | v&0xffff
	case 4:
		c.R[r] = v & 0xffffffff
	default:
		c.R[r] = v
	}
}

// imul1: one-operand signed rDX:rAX = rAX * src.
func (c *CPU) imul1(sz uint8, src uint64) {
	a := signExt(c.R[RAX], sz)
	b := signExt(src, sz)
	switch sz {
	case 1:
		r := a * b
		c.R[RAX] = c.R[RAX]&^0xffff | uint64(r)&0xffff
		c.mulFlags(uint64(r), 1, r != int64(int8(r)))
	case 2:
		r := a * b
		c.regSetN(RAX, 2, uint64(r))
		c.regSetN(RDX, 2, uint64(r)>>16)
		c.mulFlags(uint64(r), 2, r != int64(int16(r)))
	case 4:
		r := a * b
		c.R[RAX] = uint64(r) & 0xffffffff
		c.R[RDX] = uint64(r) >> 32 & 0xffffffff
		c.mulFlags(uint64(r), 4, r != int64(int32(r)))
	default:
		hi, lo := imul128(a, b)
		c.R[RAX], c.R[RDX] = lo, hi
		c.mulFlags(lo, 8, hi != uint64(int64(lo)>>63))
	}
}

// imul128 is the signed 64x64→128 product.
func imul128(a, b int64) (hi, lo uint64) {
	hi, lo = bits.Mul64(uint64(a), uint64(b))
	if a < 0 {
		hi -= uint64(b)
	}
	if b < 0 {
		hi -= uint64(a)
	}
	return
}

// imul2 returns the truncated signed product and sets CF/OF.
func (c *CPU) imul2(sz uint8, a, b uint64) uint64 {
	x, y := signExt(a, sz), signExt(b, sz)
	var r uint64
	var of bool
	if sz == 8 {
		hi, lo := imul128(x, y)
		r, of = lo, hi != uint64(int64(lo)>>63)
	} else {
		p := x * y
		r = uint64(p) & sizeMask(sz)
		of = p != signExt(uint64(p), sz)
	}
	c.mulFlags(r, sz, of)
	return r
}

// opImulRM: 0F AF IMUL Gv, Ev.
func opImulRM(c *CPU, in *Inst) {
	sz := in.OpSize
	c.regSet(in, in.Reg, sz, c.imul2(sz, c.regGet(in, in.Reg, sz), c.rmRead(in, sz)))
}

// opImulImm: 69/6B IMUL Gv, Ev, Iz/Ib.
func opImulImm(c *CPU, in *Inst) {
	sz := in.OpSize
	c.regSet(in, in.Reg, sz, c.imul2(sz, c.rmRead(in, sz), signExtImm(in, sz)))
}

// div: unsigned rDX:rAX / src.
func (c *CPU) div(in *Inst, sz uint8, src uint64) {
	if src == 0 {
		c.raise(ExcDE, 0)
	}
	switch sz {
	case 1:
		n := c.R[RAX] & 0xffff
		q, r := n/src, n%src
		if q > 0xff {
			c.raise(ExcDE, 0)
		}
		c.R[RAX] = c.R[RAX]&^0xffff | r<<8 | q
	case 2:
		n := (c.R[RDX]&0xffff)<<16 | c.R[RAX]&0xffff
		q, r := n/src, n%src
		if q > 0xffff {
			c.raise(ExcDE, 0)
		}
		c.regSetN(RAX, 2, q)
		c.regSetN(RDX, 2, r)
	case 4:
		n := (c.R[RDX]&0xffffffff)<<32 | c.R[RAX]&0xffffffff
		q, r := n/src, n%src
		if q > 0xffffffff {
			c.raise(ExcDE, 0)
		}
		c.R[RAX], c.R[RDX] = q, r
	default:
		if c.R[RDX] >= src {
			c.raise(ExcDE, 0)
		}
		q, r := bits.Div64(c.R[RDX], c.R[RAX], src)
		c.R[RAX], c.R[RDX] = q, r
	}
}

// idiv: signed rDX:rAX / src, quotient rounded toward zero.
func (c *CPU) idiv(in *Inst, sz uint8, src uint64) {
	d := signExt(src, sz)
	if d == 0 {
		c.raise(ExcDE, 0)
	}
	switch sz {
	case 1, 2, 4:
		var n int64
		switch sz {
		case 1:
			n = int64(int16(c.R[RAX]))
		case 2:
			n = int64(int32(uint32(c.R[RDX]&0xffff)<<16 | uint32(c.R[RAX]&0xffff)))
		default:
			n = int64((c.R[RDX]&0xffffffff)<<32 | c.R[RAX]&0xffffffff)
		}
		if n == -1<<63 && d == -1 {
			c.raise(ExcDE, 0)
		}
		q, r := n/d, n%d
		if q != signExt(uint64(q), sz) {
			c.raise(ExcDE, 0)
		}
		switch sz {
		case 1:
			c.R[RAX] = c.R[RAX]&^0xffff | (uint64(r)&0xff)<<8 | uint64(q)&0xff
		case 2:
			c.regSetN(RAX, 2, uint64(q))
			c.regSetN(RDX, 2, uint64(r))
		default:
			c.R[RAX], c.R[RDX] = uint64(q)&0xffffffff, uint64(r)&0xffffffff
		}
	default:
		hi, lo := c.R[RDX], c.R[RAX]
		neg := int64(hi) < 0
		if neg {
			lo = -lo
			hi = ^hi
			if lo == 0 {
				hi++
			}
		}
		ad := uint64(d)
		if d < 0 {
			ad = uint64(-d)
		}
		if hi >= ad {
			c.raise(ExcDE, 0)
		}
		q, r := bits.Div64(hi, lo, ad)
		qneg := neg != (d < 0)
		if qneg {
			if q > 1<<63 {
				c.raise(ExcDE, 0)
			}
			q = -q
		} else if q >= 1<<63 {
			c.raise(ExcDE, 0)
		}
		if neg {
			r = -r
		}
		c.R[RAX], c.R[RDX] = q, r
	}
}
