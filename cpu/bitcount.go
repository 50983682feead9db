package cpu

import "math/bits"

// POPCNT (F3 0F B8), LZCNT (F3 0F BD), TZCNT (F3 0F BC). Whether F3 0F
// BC/BD are TZCNT/LZCNT or plain BSF/BSR (the F3 ignored, as on CPUs
// without BMI1/ABM) is the model's choice (fpFeatures.tzcnt/lzcnt).

func (c *CPU) bitcountBind(in *Inst) handler {
	f := &c.model.fp
	switch in.Op {
	case Map0F | 0xb8:
		if f.popcnt && in.Prefixes&PfxRepne == 0 {
			return opPopcnt
		}
	case Map0F | 0xbc:
		if f.tzcnt {
			return opTzcnt
		}
		return opBsf
	case Map0F | 0xbd:
		if f.lzcnt {
			return opLzcnt
		}
		return opBsr
	}
	return opUD
}

// opPopcnt: ZF = (source == 0); OF SF AF CF PF cleared.
func opPopcnt(c *CPU, in *Inst) {
	sz := in.OpSize
	v := c.rmRead(in, sz)
	n := uint64(bits.OnesCount64(v))
	c.regSet(in, in.Reg, sz, n)
	var f uint64
	if v == 0 {
		f = FlagZF
	}
	c.setArith(f)
}

// opLzcnt: CF = (source == 0), ZF = (result == 0); OF SF AF PF
// undefined (left as the oracle leaves them: cleared).
func opLzcnt(c *CPU, in *Inst) {
	sz := in.OpSize
	v := c.rmRead(in, sz)
	n := uint64(bits.LeadingZeros64(v) - (64 - 8*int(sz)))
	if v == 0 {
		n = 8 * uint64(sz)
	}
	c.regSet(in, in.Reg, sz, n)
	c.cntFlags(v == 0, n == 0)
}

// opTzcnt: as LZCNT, counting trailing zeros.
func opTzcnt(c *CPU, in *Inst) {
	sz := in.OpSize
	v := c.rmRead(in, sz)
	n := uint64(bits.TrailingZeros64(v))
	if v == 0 {
		n = 8 * uint64(sz)
	}
	c.regSet(in, in.Reg, sz, n)
	c.cntFlags(v == 0, n == 0)
}

func (c *CPU) cntFlags(cf, zf bool) {
	f := c.Flags() &^ (FlagCF | FlagZF)
	if cf {
		f |= FlagCF
	}
	if zf {
		f |= FlagZF
	}
	c.setArith(f & FlagsArith)
}
