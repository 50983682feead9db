package cpu

import "math/bits"

// x87 basic arithmetic and comparisons: FADD FMUL FSUB FSUBR FDIV FDIVR
// (register, memory, integer and popping forms), FSQRT, FRNDINT, FSCALE,
// FXTRACT, FPREM/FPREM1, FCOM/FUCOM/FICOM/FCOMI/FUCOMI, FTST, FXAM.

// arith computes a op b for the ModRM.reg operation numbers of D8/DC.
func (e *fpEnv) arith(op uint8, a, b F80) F80 {
	switch op & 7 {
	case 0:
		return e.f80Add(a, b, false)
	case 1:
		return e.f80Mul(a, b)
	case 4:
		return e.f80Add(a, b, true)
	case 5:
		return e.f80Add(b, a, true)
	case 6:
		return e.f80Div(a, b)
	}
	return e.f80Div(b, a)
}

// fmemOperand reads the memory operand of D8/DA/DC/DE arithmetic and
// compares as an F80 (conversion exceptions go to e).
func (c *CPU) fmemOperand(in *Inst, off uint64, e *fpEnv) F80 {
	switch in.Op & 7 {
	case 0:
		return e.f80FromF32(uint32(c.read(in.Seg, off, 4)))
	case 2:
		return f80FromInt(int64(int32(c.read(in.Seg, off, 4))))
	case 4:
		return e.f80FromF64(c.read(in.Seg, off, 8))
	}
	return f80FromInt(int64(int16(c.read(in.Seg, off, 2))))
}

// opFarithMem: D8/DA/DC/DE arithmetic with a memory operand.
func opFarithMem(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	e := x87Env(c.FCW)
	b := c.fmemOperand(in, off, &e)
	c.x87BeginMem(in)
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	r := e.arith(in.Reg, c.st(0), b)
	if c.x87Finish(&e) {
		c.setST(0, r)
	}
}

// opFarithReg: D8 (ST0 = ST0 op STi), DC (STi = ST0 op' STi) and DE
// (the same, then pop).
func opFarithReg(c *CPU, in *Inst) {
	c.x87Begin(in)
	i := int(in.RM & 7)
	dst := 0
	if in.Op&7 != 0 {
		dst = i
	}
	a, b, ok := c.fregPair(i)
	if !ok {
		if c.stackUnderflow() {
			c.setST(dst, f80Indefinite)
			if in.Op&7 == 6 {
				c.fpop()
			}
		}
		return
	}
	e := x87Env(c.FCW)
	r := e.arith(in.Reg, a, b)
	if c.x87Finish(&e) {
		c.setST(dst, r)
		if in.Op&7 == 6 {
			c.fpop()
		}
	}
}

// opFsqrt: D9 FA.
func opFsqrt(c *CPU, in *Inst) {
	c.x87Begin(in)
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	e := x87Env(c.FCW)
	r := e.f80Sqrt(c.st(0))
	if c.x87Finish(&e) {
		c.setST(0, r)
	}
}

// opFrndint: D9 FC.
func opFrndint(c *CPU, in *Inst) {
	c.x87Begin(in)
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	e := x87Env(c.FCW)
	e.denormCheck(c.st(0).class())
	r := e.f80Round(c.st(0), e.rc)
	if c.x87Finish(&e) {
		c.setST(0, r)
	}
}

// opFscale: D9 FD. ST0 = ST0 × 2^trunc(ST1).
func opFscale(c *CPU, in *Inst) {
	c.x87Begin(in)
	a, b, ok := c.fregPair(1)
	if !ok {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	e := x87Env(c.FCW)
	r := e.fscale(a, b)
	if c.x87Finish(&e) {
		c.setST(0, r)
	}
}

func (e *fpEnv) fscale(a, b F80) F80 {
	ca, cb := a.class(), b.class()
	if ca >= fcQNaN || cb >= fcQNaN {
		return e.nanResult(a, b)
	}
	e.denormCheck(ca)
	e.denormCheck(cb)
	switch {
	case cb == fcInf && !b.sign():
		if ca == fcZero {
			return e.invalid()
		}
		if ca == fcInf {
			return a
		}
		return f80Inf(a.sign())
	case cb == fcInf:
		if ca == fcInf {
			return e.invalid()
		}
		return f80Zero(a.sign())
	case ca == fcZero || ca == fcInf:
		return a
	}
	// trunc(b) as a clamped integer: beyond ±2^20 every result
	// overflows or underflows anyway.
	var n int32
	if cb != fcZero {
		_, xb, mb := b.unpack()
		x := xb - f80Bias
		switch {
		case x < 0:
			n = 0
		case x > 20:
			n = 1 << 21
		default:
			n = int32(mb >> uint(63-x))
		}
		if b.sign() {
			n = -n
		}
	}
	s, xa, ma := a.unpack()
	e.prec = 64 // FSCALE is exact but for range: PC does not apply
	return e.roundPack(s, xa+n, ma, 0, specF80, true)
}

// opFxtract: D9 F4. ST0 becomes its exponent, then the significand is
// pushed.
func opFxtract(c *CPU, in *Inst) {
	c.x87Begin(in)
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
			c.fpush(f80Indefinite)
		}
		return
	}
	if c.FTW>>uint((c.fTop()-1)&7)&1 != 0 {
		if c.stackOverflow() {
			c.setST(0, f80Indefinite)
			c.fpush(f80Indefinite)
		}
		return
	}
	a := c.st(0)
	e := x87Env(c.FCW)
	var ex, sig F80
	switch a.class() {
	case fcQNaN, fcSNaN, fcUnsupported:
		ex = e.nan1(a)
		sig = ex
	case fcZero:
		e.flags |= fswZE
		ex, sig = f80Inf(true), a
	case fcInf:
		ex, sig = f80Inf(false), a
	default:
		e.denormCheck(a.class())
		s, x, m := a.unpack()
		ex = f80FromInt(int64(x - f80Bias))
		sig = F80{Mant: m, SExp: signOf(s) | f80Bias}
	}
	if c.x87Finish(&e) {
		c.setST(0, ex)
		c.fpush(sig)
	}
}

// opFprem: D9 F8 FPREM (truncating) and D9 F5 FPREM1 (IEEE).
func opFprem(c *CPU, in *Inst) {
	c.x87Begin(in)
	a, b, ok := c.fregPair(1)
	c.FSW &^= fswC2
	if !ok {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	e := x87Env(c.FCW)
	r, q, done := e.fprem(a, b, in.ModRM == 0xf5)
	special := a.class() >= fcQNaN || b.class() >= fcQNaN || e.flags&fswIE != 0
	if !c.x87Finish(&e) {
		return
	}
	c.setST(0, r)
	switch {
	case special:
		// NaN and invalid results leave C0 and C3 alone.
	case done:
		c.FSW &^= fswCC
		c.FSW |= uint16(q>>2&1)<<8 | uint16(q&1)<<9 | uint16(q>>1&1)<<14
	default:
		c.FSW = c.FSW&^fswCC | fswC2
	}
}

// fprem returns the (partial) remainder, the low three quotient bits
// and whether the reduction is complete (C2 = 0).
func (e *fpEnv) fprem(a, b F80, ieee bool) (F80, uint64, bool) {
	ca, cb := a.class(), b.class()
	if ca >= fcQNaN || cb >= fcQNaN {
		return e.nanResult(a, b), 0, true
	}
	if ca == fcInf || cb == fcZero {
		return e.invalid(), 0, true
	}
	e.denormCheck(ca)
	e.denormCheck(cb)
	if ca == fcZero {
		return a, 0, true
	}
	// An unreduced a comes back through the rounder (exactly): a
	// pseudo-denormal is normalized, a denormal may raise UE.
	e.prec = 64 // the remainder is exact: PC does not apply
	if cb == fcInf {
		return e.roundReg(a), 0, true
	}
	sa, xa, ma := a.unpack()
	_, xb, mb := b.unpack()
	d := xa - xb
	switch {
	case d < -1, d == -1 && !ieee:
		return e.roundReg(a), 0, true
	case d == -1:
		// |a| in [|b|/2, |b|): the nearest quotient is 1 when
		// |a| > |b|/2; the remainder (2mb - ma) is at scale xb-1.
		if ma <= mb {
			return e.roundReg(a), 0, true
		}
		hi := mb >> 63
		lo := mb << 1
		var bw uint64
		lo, bw = bits.Sub64(lo, ma, 0)
		hi -= bw
		return e.normRound(!sa, xb-1+64, hi, lo), 1, true
	}
	partial := false
	if d >= 64 {
		// Partial reduction by b·2^(d-N), N = 32 + d mod 32 (AMD's
		// documented choice; Intel's is in the same 32..63 range),
		// with a truncated quotient.
		n := 32 + d%32
		xb += d - n
		d = n
		partial = true
	}
	var hi, lo uint64
	if d == 0 {
		lo = ma
	} else {
		hi, lo = ma>>(64-uint(d)), ma<<uint(d)
	}
	q, r := bits.Div64(hi, lo, mb)
	s := sa
	if ieee && !partial && (r > mb-r || r == mb-r && q&1 != 0) {
		r = mb - r
		q++
		s = !s
	}
	if r == 0 {
		return f80Zero(sa), q, !partial
	}
	return e.normRound(s, xb, r, 0), q, !partial
}

// compare returns -1, 0, 1, or 2 for unordered, raising IE for NaNs
// (quiet: only SNaN) and unsupported values, DE for denormals.
func (e *fpEnv) compare(a, b F80, quiet bool) int {
	ca, cb := a.class(), b.class()
	if ca >= fcQNaN || cb >= fcQNaN {
		if !quiet || ca != fcQNaN && cb != fcQNaN || ca == fcSNaN || cb == fcSNaN || ca == fcUnsupported || cb == fcUnsupported {
			e.flags |= fswIE
		}
		return 2
	}
	e.denorm2(ca, cb)
	if ca == fcZero && cb == fcZero {
		return 0
	}
	sa, sb := a.sign(), b.sign()
	if ca == fcZero {
		sa = !sb
	}
	if cb == fcZero {
		sb = !sa
	}
	if sa != sb {
		if sa {
			return -1
		}
		return 1
	}
	var xa, xb int32
	var ma, mb uint64
	if ca == fcInf {
		xa, ma = 0x10000, 0
	} else if ca != fcZero {
		_, xa, ma = a.unpack()
	}
	if cb == fcInf {
		xb, mb = 0x10000, 0
	} else if cb != fcZero {
		_, xb, mb = b.unpack()
	}
	r := 0
	switch {
	case xa > xb || xa == xb && ma > mb:
		r = 1
	case xa < xb || xa == xb && ma < mb:
		r = -1
	}
	if sa {
		r = -r
	}
	return r
}

// setCC sets C3 C2 C0 from a comparison result and clears C1.
func (c *CPU) setCC(r int) {
	c.FSW &^= fswCC
	switch r {
	case -1:
		c.FSW |= fswC0
	case 0:
		c.FSW |= fswC3
	case 2:
		c.FSW |= fswC0 | fswC2 | fswC3
	}
}

// fcomPops is how many registers a compare pops: reg 3 (FCOMP), DD /5
// (FUCOMP), DE D9 (FCOMPP) and DA E9 (FUCOMPP).
func fcomPops(in *Inst) int {
	r := in.Reg & 7
	switch {
	case in.Op&7 == 5 && in.Mod == 3:
		if r == 5 {
			return 1
		}
		return 0
	case in.Op&7 == 6 && in.Mod == 3:
		if r == 3 {
			return 2
		}
		return 1 // FCOMP5
	case r == 3:
		return 1
	}
	return 0
}

// opFcomMem: FCOM/FCOMP/FICOM/FICOMP with a memory operand.
func opFcomMem(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	e := x87Env(c.FCW)
	b := c.fmemOperand(in, off, &e)
	c.x87BeginMem(in)
	c.fcomDo(in, 0, b, false, &e, fcomPops(in))
}

// fcomDo compares ST0 with b (or ST(i) when b is taken from the stack).
func (c *CPU) fcomDo(in *Inst, i int, b F80, quiet bool, e *fpEnv, pops int) {
	if c.stEmpty(0) || i != 0 && c.stEmpty(i) {
		c.setCC(2)
		if c.stackUnderflow() {
			for ; pops > 0; pops-- {
				c.fpop()
			}
		}
		return
	}
	if i != 0 {
		b = c.st(i)
	}
	r := e.compare(c.st(0), b, quiet)
	// The condition codes are written even when an unmasked exception
	// suppresses the pop (unordered for IE).
	c.setCC(r)
	if !c.x87Finish(e) {
		return
	}
	for ; pops > 0; pops-- {
		c.fpop()
	}
}

// opFcomReg: D8 D0-DF, DC/DE aliases, DD E0-EF (FUCOM/FUCOMP).
func opFcomReg(c *CPU, in *Inst) {
	c.x87Begin(in)
	e := x87Env(c.FCW)
	quiet := in.Op&7 == 5
	i := int(in.RM & 7)
	if i == 0 {
		// Comparing ST0 with itself: go through the same path.
		if c.stEmpty(0) {
			c.fcomDo(in, 0, F80{}, quiet, &e, fcomPops(in))
			return
		}
		c.fcomDo(in, 0, c.st(0), quiet, &e, fcomPops(in))
		return
	}
	c.fcomDo(in, i, F80{}, quiet, &e, fcomPops(in))
}

// opFcompp: DE D9.
func opFcompp(c *CPU, in *Inst) {
	c.x87Begin(in)
	e := x87Env(c.FCW)
	c.fcomDo(in, 1, F80{}, false, &e, 2)
}

// opFucompp: DA E9.
func opFucompp(c *CPU, in *Inst) {
	c.x87Begin(in)
	e := x87Env(c.FCW)
	c.fcomDo(in, 1, F80{}, true, &e, 2)
}

// opFcomi: DB E8 FUCOMI, DB F0 FCOMI, DF E8 FUCOMIP, DF F0 FCOMIP. They
// set ZF PF CF and clear OF SF AF.
func opFcomi(c *CPU, in *Inst) {
	c.x87Begin(in)
	i := int(in.RM & 7)
	pop := in.Op&7 == 7
	quiet := in.Reg&7 == 5
	// The flags are written even when an unmasked exception
	// suppresses the pop; C1 changes only on a stack fault.
	var r int
	ok := true
	if c.stEmpty(0) || c.stEmpty(i) {
		ok = c.stackUnderflow()
		r = 2
	} else {
		e := x87Env(c.FCW)
		r = e.compare(c.st(0), c.st(i), quiet)
		c1 := c.FSW & fswC1
		ok = c.x87Finish(&e)
		c.FSW = c.FSW&^fswC1 | c1
	}
	var f uint64
	switch r {
	case -1:
		f = FlagCF
	case 0:
		f = FlagZF
	case 2:
		f = FlagZF | FlagPF | FlagCF
	}
	c.setArith(f)
	if pop && ok {
		c.fpop()
	}
}

// opFtst: D9 E4, compare ST0 with +0.0.
func opFtst(c *CPU, in *Inst) {
	c.x87Begin(in)
	e := x87Env(c.FCW)
	c.fcomDo(in, 0, F80{}, false, &e, 0)
}

// opFxam: D9 E5. C1 is the sign; C3 C2 C0 the class.
func opFxam(c *CPU, in *Inst) {
	c.x87Begin(in)
	v := c.st(0)
	c.FSW &^= fswCC
	if v.sign() {
		c.FSW |= fswC1
	}
	if c.stEmpty(0) {
		c.FSW |= fswC3 | fswC0
		return
	}
	switch v.class() {
	case fcUnsupported:
	case fcQNaN, fcSNaN:
		c.FSW |= fswC0
	case fcNormal:
		c.FSW |= fswC2
	case fcInf:
		c.FSW |= fswC2 | fswC0
	case fcZero:
		c.FSW |= fswC3
	case fcDenormal:
		c.FSW |= fswC3 | fswC2
	}
}
