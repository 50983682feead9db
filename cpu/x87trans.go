package cpu

import "math/big"

// x87 transcendental instructions: F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN
// FCOS FSINCOS. Each result is computed with math/big at tPrec bits and
// rounded once to the 64-bit significand (correctly rounded in practice,
// within the manual's 1-ulp bound). This is a slow path by nature.

const tPrec = 320

// piDigits holds π well beyond what reducing |x| < 2^63 at tPrec needs.
const piDigits = "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798214808651328230664709384460955058223172535940812848111745028410270193852110555964462294895493038196"

func bigNew() *big.Float { return new(big.Float).SetPrec(tPrec) }

func bigPi() *big.Float {
	p, _, _ := big.ParseFloat(piDigits, 10, tPrec+128, big.ToNearestEven)
	return p
}

// bigFromF80 converts a finite value exactly.
func bigFromF80(a F80) *big.Float {
	f := bigNew()
	if a.class() == fcZero {
		if a.sign() {
			f.Neg(f)
		}
		return f
	}
	s, x, m := a.unpack()
	f.SetUint64(m)
	f.SetMantExp(f, int(x-f80Bias-63))
	if s {
		f.Neg(f)
	}
	return f
}

// roundBig rounds a big value to an x87 register value.
func (e *fpEnv) roundBig(x *big.Float) F80 {
	if x.Sign() == 0 {
		return f80Zero(x.Signbit())
	}
	mant := new(big.Float)
	exp := x.MantExp(mant)
	mant.Abs(mant)
	mant.SetMantExp(mant, 128)
	i, acc := mant.Int(nil)
	w := i.Bits()
	var lo, hi uint64
	if len(w) > 0 {
		lo = uint64(w[0])
	}
	if len(w) > 1 {
		hi = uint64(w[1])
	}
	if acc != big.Exact {
		lo |= 1
	}
	saved := e.prec
	e.prec = 64
	r := e.roundPack(x.Signbit(), int32(exp)+f80Bias-1, hi, lo, specF80, true)
	e.prec = saved
	return r
}

// expm1 returns e^t − 1 by its Taylor series (|t| ≤ 1).
func expm1(t *big.Float) *big.Float {
	sum := bigNew()
	term := bigNew().SetInt64(1)
	eps := bigNew().SetMantExp(big.NewFloat(1), -tPrec-8)
	for n := int64(1); n < 400; n++ {
		term.Mul(term, t)
		term.Quo(term, bigNew().SetInt64(n))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	return sum
}

// atanhSeries returns atanh(z) = z + z³/3 + z⁵/5 + ... (|z| ≤ 1/2).
func atanhSeries(z *big.Float) *big.Float {
	sum := bigNew().Set(z)
	z2 := bigNew().Mul(z, z)
	p := bigNew().Set(z)
	eps := bigNew().SetMantExp(big.NewFloat(1), -tPrec-8)
	for n := int64(3); n < 2000; n += 2 {
		p.Mul(p, z2)
		t := bigNew().Quo(p, bigNew().SetInt64(n))
		sum.Add(sum, t)
		if t.Abs(t).Cmp(eps) < 0 {
			break
		}
	}
	return sum
}

func bigLn2() *big.Float {
	r := atanhSeries(bigNew().Quo(bigNew().SetInt64(1), bigNew().SetInt64(3)))
	return r.Mul(r, bigNew().SetInt64(2))
}

// bigLn returns ln(y) for y > 0.
func bigLn(y *big.Float) *big.Float {
	m := bigNew()
	k := y.MantExp(m) // y = m·2^k, m in [0.5, 1)
	// Keep m in [√½, √2) so that the series argument stays small.
	if m.Cmp(big.NewFloat(0.70710678118654752)) < 0 {
		m.SetMantExp(m, 1)
		k--
	}
	one := bigNew().SetInt64(1)
	z := bigNew().Quo(bigNew().Sub(m, one), bigNew().Add(m, one))
	r := atanhSeries(z)
	r.Mul(r, bigNew().SetInt64(2))
	if k != 0 {
		l2 := bigLn2()
		l2.Mul(l2, bigNew().SetInt64(int64(k)))
		r.Add(r, l2)
	}
	return r
}

// bigAtan returns atan(z) for z ≥ 0.
func bigAtan(z *big.Float) *big.Float {
	one := bigNew().SetInt64(1)
	inv := false
	if z.Cmp(one) > 0 {
		z = bigNew().Quo(one, z)
		inv = true
	}
	// atan(z) = 2·atan(z / (1 + √(1+z²))), three times: z < 0.07.
	z = bigNew().Set(z)
	for i := 0; i < 3; i++ {
		s := bigNew().Mul(z, z)
		s.Add(s, one)
		s.Sqrt(s)
		s.Add(s, one)
		z.Quo(z, s)
	}
	sum := bigNew().Set(z)
	z2 := bigNew().Mul(z, z)
	p := bigNew().Set(z)
	eps := bigNew().SetMantExp(big.NewFloat(1), -tPrec-8)
	for n := int64(3); n < 2000; n += 2 {
		p.Mul(p, z2)
		p.Neg(p)
		t := bigNew().Quo(p, bigNew().SetInt64(n))
		sum.Add(sum, t)
		if t.Abs(t).Cmp(eps) < 0 {
			break
		}
	}
	sum.Mul(sum, bigNew().SetInt64(8))
	if inv {
		h := bigPi()
		h.SetMantExp(h, -1)
		sum.Sub(h, sum)
	}
	return sum
}

// sinCos returns sin(x) and cos(x). Like the hardware, the argument is
// reduced by multiples of π/2 where π is the 66-bit approximation the
// x87 holds (Intel documents the 66-bit value; the oracle's results agree),
// then the reduced argument's sine and cosine are computed accurately.
func sinCos(x *big.Float) (*big.Float, *big.Float) {
	prec := uint(tPrec + 128)
	hp := bigPi().SetPrec(66).SetPrec(prec) // rounds to nearest: ...C234C
	hp.SetMantExp(hp, -1)                   // π/2
	q := new(big.Float).SetPrec(prec).Quo(x, hp)
	// Round q to the nearest integer.
	qi, _ := new(big.Float).SetPrec(prec).Add(q, big.NewFloat(0.5)).Int(nil)
	if q.Sign() < 0 {
		qi, _ = new(big.Float).SetPrec(prec).Sub(q, big.NewFloat(0.5)).Int(nil)
	}
	k := new(big.Float).SetPrec(prec).SetInt(qi)
	r := new(big.Float).SetPrec(prec).Mul(k, hp)
	r.Sub(new(big.Float).SetPrec(prec).Set(x), r)
	r.SetPrec(tPrec)
	// Taylor series on |r| ≤ π/4.
	s, c := bigNew().Set(r), bigNew().SetInt64(1)
	r2 := bigNew().Mul(r, r)
	ts, tc := bigNew().Set(r), bigNew().SetInt64(1)
	eps := bigNew().SetMantExp(big.NewFloat(1), -tPrec-8)
	for n := int64(1); n < 200; n++ {
		ts.Mul(ts, r2)
		ts.Quo(ts, bigNew().SetInt64((2*n)*(2*n+1)))
		ts.Neg(ts)
		tc.Mul(tc, r2)
		tc.Quo(tc, bigNew().SetInt64((2*n-1)*(2*n)))
		tc.Neg(tc)
		s.Add(s, ts)
		c.Add(c, tc)
		if new(big.Float).Abs(tc).Cmp(eps) < 0 && new(big.Float).Abs(ts).Cmp(eps) < 0 {
			break
		}
	}
	if r.Sign() != 0 {
		// For a tiny r the series stops at 1 and r within tPrec; the
		// true values lie just inside them (|sin r| < |r|, cos r < 1):
		// keep that for rounding direction, PE and UE.
		eps := uint(tPrec + 16)
		if s.Cmp(r) == 0 {
			d := new(big.Float).SetPrec(eps+64).SetMantExp(r, -int(eps))
			s = new(big.Float).SetPrec(eps+64).Sub(s.SetPrec(eps+64), d)
		}
		if c.Cmp(big.NewFloat(1)) == 0 {
			d := new(big.Float).SetPrec(eps+64).SetMantExp(big.NewFloat(1), -int(eps))
			c = new(big.Float).SetPrec(eps+64).Sub(c.SetPrec(eps+64), d)
		}
	}
	switch new(big.Int).And(qi, big.NewInt(3)).Int64() {
	case 1:
		s, c = c, s.Neg(s)
	case 2:
		s.Neg(s)
		c.Neg(c)
	case 3:
		s, c = c.Neg(c), s
	}
	return s, c
}

// trigOutOfRange reports |x| ≥ 2^63: the instruction sets C2 and leaves
// the operand unchanged.
func trigOutOfRange(a F80) bool {
	cl := a.class()
	return (cl == fcNormal || cl == fcDenormal) && a.exp() >= f80Bias+63
}

// trigPrologue handles an empty ST0 and the special operands of FSIN,
// FCOS, FSINCOS and FPTAN. It returns false when the instruction is done.
func (c *CPU) trig0(in *Inst, pushes bool) (F80, bool) {
	c.x87Begin(in)
	c.FSW &^= fswC2
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
			if pushes {
				c.fpush(f80Indefinite)
			}
		}
		return F80{}, false
	}
	if pushes && c.FTW>>uint((c.fTop()-1)&7)&1 != 0 {
		if c.stackOverflow() {
			c.setST(0, f80Indefinite)
			c.fpush(f80Indefinite)
		}
		return F80{}, false
	}
	a := c.st(0)
	if trigOutOfRange(a) {
		c.FSW = c.FSW&^fswC1 | fswC2
		return F80{}, false
	}
	c.FSW &^= fswC2
	return a, true
}

// opFsinCos: D9 FE FSIN, D9 FF FCOS.
func opFsinCos(c *CPU, in *Inst) {
	a, ok := c.trig0(in, false)
	if !ok {
		return
	}
	e := x87Env(c.FCW)
	var r F80
	switch cl := a.class(); cl {
	case fcQNaN, fcSNaN, fcUnsupported:
		r = e.nan1(a)
	case fcInf:
		r = e.invalid()
	case fcZero:
		r = a
		if in.ModRM == 0xff {
			r = f80One
		}
	default:
		e.denormCheck(cl)
		s, co := sinCos(bigFromF80(a))
		if in.ModRM == 0xff {
			r = e.roundBig(co)
		} else {
			r = e.roundBig(s)
		}
	}
	if c.x87Finish(&e) {
		c.setST(0, r)
	}
}

// opFsincos: D9 FB. ST0 = sin, then cos is pushed.
func opFsincos(c *CPU, in *Inst) {
	a, ok := c.trig0(in, true)
	if !ok {
		return
	}
	e := x87Env(c.FCW)
	var s, co F80
	switch cl := a.class(); cl {
	case fcQNaN, fcSNaN, fcUnsupported:
		s = e.nan1(a)
		co = s
	case fcInf:
		s = e.invalid()
		co = s
	case fcZero:
		s, co = a, f80One
	default:
		e.denormCheck(cl)
		bs, bc := sinCos(bigFromF80(a))
		s = e.roundBig(bs)
		up := e.up
		co = e.roundBig(bc)
		e.up = e.up || up
	}
	if c.x87Finish(&e) {
		c.setST(0, s)
		c.fpush(co)
	}
}

// opFptan: D9 F2. ST0 = tan, then 1.0 is pushed.
func opFptan(c *CPU, in *Inst) {
	a, ok := c.trig0(in, true)
	if !ok {
		return
	}
	e := x87Env(c.FCW)
	var r F80
	switch cl := a.class(); cl {
	case fcQNaN, fcSNaN, fcUnsupported:
		r = e.nan1(a)
	case fcInf:
		r = e.invalid()
	case fcZero:
		r = a
	default:
		e.denormCheck(cl)
		s, co := sinCos(bigFromF80(a))
		r = e.roundBig(bigNew().Quo(s, co))
	}
	if !c.x87Finish(&e) {
		return
	}
	c.setST(0, r)
	if r.isNaN() {
		c.fpush(r)
	} else {
		c.fpush(f80One)
	}
}

// opF2xm1: D9 F0. ST0 = 2^ST0 − 1 for −1 ≤ ST0 ≤ 1 (other values give
// an undefined result; Fuji computes the true value).
func opF2xm1(c *CPU, in *Inst) {
	c.x87Begin(in)
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	a := c.st(0)
	e := x87Env(c.FCW)
	var r F80
	switch cl := a.class(); cl {
	case fcQNaN, fcSNaN, fcUnsupported:
		r = e.nan1(a)
	case fcInf:
		if a.sign() {
			r = F80{Mant: f80Int, SExp: 0xbfff} // −1
		} else {
			r = a
		}
	case fcZero:
		r = a
	default:
		e.denormCheck(cl)
		switch {
		case a == f80One:
			r = a
		case a == f80One.neg():
			r = F80{Mant: f80Int, SExp: 0xbffe} // −0.5
		default:
			t := bigFromF80(a)
			t.Mul(t, bigLn2())
			if t.MantExp(nil) > 2 {
				// Outside the documented range: 2^x − 1 directly.
				r = e.pow2m1Big(a)
			} else {
				r = e.roundBig(expm1(t))
			}
		}
	}
	if c.x87Finish(&e) {
		c.setST(0, r)
	}
}

// pow2m1Big computes 2^a − 1 for |a| > 1 (argument outside the
// instruction's defined domain).
func (e *fpEnv) pow2m1Big(a F80) F80 {
	x := bigFromF80(a)
	if x.Cmp(big.NewFloat(20000)) > 0 {
		return e.roundPack(false, 0x10000, f80Int, 0, specF80, true)
	}
	if x.Cmp(big.NewFloat(-200)) < 0 {
		return F80{Mant: f80Int, SExp: 0xbfff}
	}
	n, _ := x.Int64()
	f := bigNew().Sub(x, bigNew().SetInt64(n))
	f.Mul(f, bigLn2())
	v := expm1(f)
	v.Add(v, bigNew().SetInt64(1))
	v.SetMantExp(v, int(n))
	v.Sub(v, bigNew().SetInt64(1))
	return e.roundBig(v)
}

// opFyl2x: D9 F1. ST1 = ST1 × log2(ST0), pop.
func opFyl2x(c *CPU, in *Inst) {
	c.x87Begin(in)
	a, b, ok := c.fregPair(1)
	if !ok {
		if c.stackUnderflow() {
			c.setST(1, f80Indefinite)
			c.fpop()
		}
		return
	}
	e := x87Env(c.FCW)
	r := e.fyl2x(a, b, false)
	if c.x87Finish(&e) {
		c.setST(1, r)
		c.fpop()
	}
}

// opFyl2xp1: D9 F9. ST1 = ST1 × log2(ST0 + 1), pop.
func opFyl2xp1(c *CPU, in *Inst) {
	c.x87Begin(in)
	a, b, ok := c.fregPair(1)
	if !ok {
		if c.stackUnderflow() {
			c.setST(1, f80Indefinite)
			c.fpop()
		}
		return
	}
	e := x87Env(c.FCW)
	r := e.fyl2x(a, b, true)
	if c.x87Finish(&e) {
		c.setST(1, r)
		c.fpop()
	}
}

// fyl2x computes y·log2(x) (p1: y·log2(x+1)) with the special cases of
// the manual's FYL2X/FYL2XP1 tables.
func (e *fpEnv) fyl2x(x, y F80, p1 bool) F80 {
	cx, cy := x.class(), y.class()
	if cx >= fcQNaN || cy >= fcQNaN {
		return e.nanResult(x, y)
	}
	if !p1 {
		switch {
		case x.sign() && cx != fcZero:
			return e.invalid()
		case cx == fcZero:
			switch {
			case cy == fcZero:
				return e.invalid()
			case cy == fcInf:
				return f80Inf(!y.sign())
			}
			e.flags |= fswZE // no DE for a denormal y here
			return f80Inf(!y.sign())
		case cx == fcInf:
			if cy == fcZero {
				return e.invalid()
			}
			e.denormCheck(cy)
			return f80Inf(y.sign())
		}
		e.denormCheck(cx)
		e.denormCheck(cy)
		if x == f80One || x.SExp == f80Bias && x.Mant == f80Int {
			if cy == fcInf {
				return e.invalid()
			}
			return f80Zero(!y.sign())
		}
		if cy == fcInf {
			xb := bigFromF80(x)
			if xb.Cmp(big.NewFloat(1)) < 0 {
				return f80Inf(!y.sign())
			}
			return f80Inf(y.sign())
		}
		if cy == fcZero {
			xb := bigFromF80(x)
			return f80Zero(y.sign() != (xb.Cmp(big.NewFloat(1)) < 0))
		}
		// An exact power of two has an exact logarithm.
		if cx == fcNormal && x.Mant == f80Int {
			k := f80FromInt(int64(x.exp() - f80Bias))
			return e.f80Mul(y, k)
		}
		l := bigLn(bigFromF80(x))
		l.Quo(l, bigLn2())
		l.Mul(l, bigFromF80(y))
		return e.roundBig(l)
	}
	// FYL2XP1.
	switch {
	case cx == fcInf:
		if x.sign() || cy == fcZero {
			return e.invalid()
		}
		e.denormCheck(cy)
		return f80Inf(y.sign())
	case cy == fcInf:
		if cx == fcZero {
			return e.invalid()
		}
		e.denormCheck(cx)
		return f80Inf(y.sign() != x.sign())
	}
	e.denormCheck(cx)
	e.denormCheck(cy)
	if cx == fcZero || cy == fcZero {
		return f80Zero(x.sign() != y.sign())
	}
	xb := bigFromF80(x)
	if xb.Cmp(big.NewFloat(-1)) <= 0 {
		return e.invalid()
	}
	var l *big.Float
	if new(big.Float).Abs(xb).Cmp(big.NewFloat(0.5)) < 0 {
		// ln(1+x) = 2·atanh(x/(2+x)), no cancellation for small x.
		two := bigNew().SetInt64(2)
		l = atanhSeries(bigNew().Quo(xb, bigNew().Add(two, xb)))
		l.Mul(l, two)
	} else {
		// 1+x is exact at tPrec when |x| ≥ 1/2.
		l = bigLn(bigNew().Add(xb, bigNew().SetInt64(1)))
	}
	l.Quo(l, bigLn2())
	l.Mul(l, bigFromF80(y))
	return e.roundBig(l)
}

// opFpatan: D9 F3. ST1 = arctan(ST1/ST0) in the right quadrant, pop.
func opFpatan(c *CPU, in *Inst) {
	c.x87Begin(in)
	x, y, ok := c.fregPair(1)
	if !ok {
		if c.stackUnderflow() {
			c.setST(1, f80Indefinite)
			c.fpop()
		}
		return
	}
	e := x87Env(c.FCW)
	r := e.fpatan(y, x)
	if c.x87Finish(&e) {
		c.setST(1, r)
		c.fpop()
	}
}

func (e *fpEnv) fpatan(y, x F80) F80 {
	cx, cy := x.class(), y.class()
	if cx >= fcQNaN || cy >= fcQNaN {
		return e.nanResult(y, x)
	}
	e.denormCheck(cx)
	e.denormCheck(cy)
	sy := y.sign()
	pi := bigPi()
	var r *big.Float
	switch {
	case cy == fcZero:
		if !x.sign() {
			return f80Zero(sy)
		}
		r = pi
	case cy == fcInf:
		switch {
		case cx == fcInf && !x.sign():
			r = pi.SetMantExp(pi, -2)
		case cx == fcInf:
			r = pi.Mul(pi, big.NewFloat(0.75))
		default:
			r = pi.SetMantExp(pi, -1)
		}
	case cx == fcInf:
		if !x.sign() {
			return f80Zero(sy)
		}
		r = pi
	case cx == fcZero:
		r = pi.SetMantExp(pi, -1)
	default:
		q := bigNew().Quo(bigFromF80(y.abs()), bigFromF80(x.abs()))
		r = bigAtan(q)
		if x.sign() {
			r = pi.Sub(pi, r)
		}
	}
	if sy {
		r.Neg(r)
	}
	return e.roundBig(r)
}
