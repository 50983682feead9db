package cpu

import "math/bits"

// Lazy flag operations. Flag-setting ALU instructions record their operands
// and result; the six arithmetic flags are computed only when read.
const (
	lazyNone  = iota // arithmetic flags are in State.flags
	lazyAdd          // ADD, ADC (lcin): res = la + lb + lcin
	lazySub          // SUB, SBB, CMP, NEG: res = la - lb - lcin
	lazyLogic        // AND, OR, XOR, TEST: CF = OF = AF = 0
	lazyInc          // INC: lb = 1, CF = lcin
	lazyDec          // DEC: lb = 1, CF = lcin
)

func sizeMask(sz uint8) uint64 {
	return ^uint64(0) >> (64 - 8*uint(sz))
}

func signBit(sz uint8) uint64 { return 1 << (8*uint(sz) - 1) }

// setLazy records a flag-setting result. Operands and result must already
// be masked to sz bytes.
func (c *CPU) setLazy(op, sz uint8, a, b, res uint64, cin uint8) {
	c.lop, c.lsz, c.la, c.lb, c.lres, c.lcin = op, sz, a, b, res, cin
}

func (c *CPU) cf() bool {
	switch c.lop {
	case lazyNone:
		return c.flags&FlagCF != 0
	case lazyAdd:
		return c.lres < c.la || (c.lcin != 0 && c.lres == c.la)
	case lazySub:
		return c.la < c.lb || (c.lcin != 0 && c.la == c.lb)
	case lazyLogic:
		return false
	default:
		return c.lcin != 0
	}
}

func (c *CPU) zf() bool {
	if c.lop == lazyNone {
		return c.flags&FlagZF != 0
	}
	return c.lres == 0
}

func (c *CPU) sf() bool {
	if c.lop == lazyNone {
		return c.flags&FlagSF != 0
	}
	return c.lres&signBit(c.lsz) != 0
}

func (c *CPU) of() bool {
	s := signBit(c.lsz)
	switch c.lop {
	case lazyNone:
		return c.flags&FlagOF != 0
	case lazyAdd, lazyInc:
		return (c.la^c.lres)&(c.lb^c.lres)&s != 0
	case lazySub, lazyDec:
		return (c.la^c.lb)&(c.la^c.lres)&s != 0
	default:
		return false
	}
}

func (c *CPU) pf() bool {
	if c.lop == lazyNone {
		return c.flags&FlagPF != 0
	}
	return bits.OnesCount8(uint8(c.lres))&1 == 0
}

func (c *CPU) af() bool {
	switch c.lop {
	case lazyNone:
		return c.flags&FlagAF != 0
	case lazyLogic:
		return false
	default:
		return (c.la^c.lb^c.lres)&0x10 != 0
	}
}

// materialize folds a pending lazy result into State.flags.
func (c *CPU) materialize() {
	if c.lop == lazyNone {
		return
	}
	f := c.flags &^ FlagsArith
	if c.cf() {
		f |= FlagCF
	}
	if c.pf() {
		f |= FlagPF
	}
	if c.af() {
		f |= FlagAF
	}
	if c.zf() {
		f |= FlagZF
	}
	if c.sf() {
		f |= FlagSF
	}
	if c.of() {
		f |= FlagOF
	}
	c.flags = f
	c.lop = lazyNone
}

// Flags returns RFLAGS.
func (c *CPU) Flags() uint64 {
	c.materialize()
	return c.flags | 2
}

// SetFlags writes RFLAGS as is (no privilege checks; POPF/IRET apply
// their own masks before calling it).
func (c *CPU) SetFlags(f uint64) {
	c.lop = lazyNone
	c.flags = f&0x3f7fd5 | 2
}

// setArith sets the six arithmetic flags from a computed mask, keeping
// the others.
func (c *CPU) setArith(f uint64) {
	c.materialize()
	c.flags = c.flags&^FlagsArith | f&FlagsArith
}

// setCF sets or clears CF only.
func (c *CPU) setCF(v bool) {
	c.materialize()
	if v {
		c.flags |= FlagCF
	} else {
		c.flags &^= FlagCF
	}
}

// szp returns the SF, ZF and PF bits for a result of sz bytes.
func szp(res uint64, sz uint8) uint64 {
	var f uint64
	res &= sizeMask(sz)
	if res == 0 {
		f |= FlagZF
	}
	if res&signBit(sz) != 0 {
		f |= FlagSF
	}
	if bits.OnesCount8(uint8(res))&1 == 0 {
		f |= FlagPF
	}
	return f
}

// cond evaluates condition code cc (the low nibble of Jcc/SETcc/CMOVcc).
func (c *CPU) cond(cc uint8) bool {
	var r bool
	switch cc >> 1 {
	case 0:
		r = c.of()
	case 1:
		r = c.cf()
	case 2:
		r = c.zf()
	case 3:
		r = c.cf() || c.zf()
	case 4:
		r = c.sf()
	case 5:
		r = c.pf()
	case 6:
		r = c.sf() != c.of()
	default:
		r = c.zf() || c.sf() != c.of()
	}
	return r != (cc&1 != 0)
}
