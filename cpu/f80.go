package cpu

import "math/bits"

// Software 80-bit extended-precision arithmetic for the x87 (SDM Vol. 1
// ch. 4 and 8): exact intermediate results rounded once under the
// precision and rounding control, with the x87's exception semantics.
// Nothing here uses host floating point.

const (
	f80Bias   = 16383
	f80ExpMax = 0x7fff
	f80Int    = uint64(1) << 63
	f80QBit   = uint64(1) << 62

	// x87 bias adjust for unmasked overflow/underflow (Vol. 1 4.9.1.4-5).
	f80BiasAdjust = 24576
)

// Rounding control values (FCW.RC and MXCSR.RC).
const (
	rcNearest = 0
	rcDown    = 1
	rcUp      = 2
	rcZero    = 3
)

// Well-known values.
var (
	f80Indefinite = F80{Mant: 0xc000000000000000, SExp: 0xffff}
	f80One        = F80{Mant: f80Int, SExp: f80Bias}
)

// fpEnv is the rounding context of one operation and the exceptions it
// raised (FSW bit layout: IE DE ZE OE UE PE).
type fpEnv struct {
	rc    uint8
	prec  uint8  // significand bits kept by roundPack: 24, 53 or 64
	mask  uint16 // FCW exception masks (1 = masked)
	flags uint16
	up    bool // the last rounding increased the magnitude (C1)
	// bDen: the second operand was a denormal in its memory format
	// (float32/float64 denormals become normal extended values, but
	// still raise DE when the operation examines its operands).
	bDen bool
	// spec is the destination format of arithmetic (specF80 for the
	// x87, float32/float64 for SSE, which rounds once, directly).
	spec fmtSpec
	// tiny: the last roundPack saw a result below the normal range.
	tiny bool
}

// x87Env builds the environment of an arithmetic instruction from FCW.
func x87Env(fcw uint16) fpEnv {
	e := fpEnv{rc: uint8(fcw>>10) & 3, mask: fcw & fswExc, prec: 64, spec: specF80}
	switch fcw >> 8 & 3 {
	case 0:
		e.prec = 24
	case 2:
		e.prec = 53
	}
	return e
}

// F80 classes.
const (
	fcZero = iota
	fcDenormal
	fcNormal
	fcInf
	fcQNaN
	fcSNaN
	fcUnsupported // pseudo-NaN, pseudo-infinity, unnormal
)

func (a F80) exp() int32   { return int32(a.SExp & 0x7fff) }
func (a F80) sign() bool   { return a.SExp&0x8000 != 0 }
func (a F80) neg() F80     { a.SExp ^= 0x8000; return a }
func (a F80) abs() F80     { a.SExp &^= 0x8000; return a }
func signOf(s bool) uint16 { return uint16(b64(s)) << 15 }

// b64 is 1 for true.
func b64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (a F80) class() int {
	e := a.exp()
	switch {
	case e == 0:
		if a.Mant == 0 {
			return fcZero
		}
		return fcDenormal // includes pseudo-denormals (J=1)
	case e == f80ExpMax:
		if a.Mant&f80Int == 0 {
			return fcUnsupported
		}
		if a.Mant<<1 == 0 {
			return fcInf
		}
		if a.Mant&f80QBit != 0 {
			return fcQNaN
		}
		return fcSNaN
	case a.Mant&f80Int == 0:
		return fcUnsupported
	}
	return fcNormal
}

func (a F80) isNaN() bool { c := a.class(); return c == fcQNaN || c == fcSNaN }

func f80Inf(s bool) F80  { return F80{Mant: f80Int, SExp: signOf(s) | f80ExpMax} }
func f80Zero(s bool) F80 { return F80{SExp: signOf(s)} }

// unpack returns the sign, unbiased-by-nothing exponent and a normalized
// significand (bit 63 set) of a finite nonzero value. Denormals and
// pseudo-denormals have the exponent of the smallest normal, 1.
func (a F80) unpack() (bool, int32, uint64) {
	e, m := a.exp(), a.Mant
	if e == 0 {
		e = 1
	}
	n := bits.LeadingZeros64(m)
	return a.sign(), e - int32(n), m << uint(n)
}

// nanResult picks the NaN result of a two-operand operation (Vol. 1
// Table 4-7) and raises IE for an SNaN or unsupported operand.
func (e *fpEnv) nanResult(a, b F80) F80 {
	ca, cb := a.class(), b.class()
	if ca == fcUnsupported || cb == fcUnsupported {
		e.flags |= fswIE
		return f80Indefinite
	}
	if ca == fcSNaN || cb == fcSNaN {
		e.flags |= fswIE
	}
	an, bn := ca == fcQNaN || ca == fcSNaN, cb == fcQNaN || cb == fcSNaN
	a.Mant |= f80QBit
	b.Mant |= f80QBit
	switch {
	case an && bn:
		if ca != cb { // one QNaN, one SNaN: the QNaN
			if ca == fcQNaN {
				return a
			}
			return b
		}
		if a.Mant != b.Mant {
			if a.Mant > b.Mant {
				return a
			}
			return b
		}
		if a.SExp < b.SExp {
			return a
		}
		return b
	case an:
		return a
	}
	return b
}

// nan1 is the result of a one-operand operation on a NaN or unsupported
// value.
func (e *fpEnv) nan1(a F80) F80 {
	switch a.class() {
	case fcUnsupported:
		e.flags |= fswIE
		return f80Indefinite
	case fcSNaN:
		e.flags |= fswIE
	}
	a.Mant |= f80QBit
	return a
}

// invalid raises IE and returns the default indefinite.
func (e *fpEnv) invalid() F80 {
	e.flags |= fswIE
	return f80Indefinite
}

// tinyBeforeRounding: the x87 and SSE units detect tininess before
// rounding (an exact result below the smallest normal is tiny even when
// rounding would bring it up to it).
const tinyBeforeRounding = true

// fmtSpec is a destination format for roundPack: significand bits and
// the biased (f80-scale) exponent range of its normal numbers.
type fmtSpec struct {
	prec       uint8
	emin, emax int32
}

var (
	specF80 = fmtSpec{64, 1, 0x7ffe}
	specF64 = fmtSpec{53, f80Bias - 1022, f80Bias + 1023}
	specF32 = fmtSpec{24, f80Bias - 126, f80Bias + 127}
)

// roundPack rounds sign × 0.sig0sig1 × 2^(exp-f80Bias+1) (sig0 bit 63 is
// the integer bit; sig0 must be normalized unless zero) to the format f
// with e.prec significand bits at most, under e.rc. The result is an F80
// whose value is representable in f; a value that is denormal in f has
// exponent field f.emin-1 and a clear integer bit. regDest selects the
// x87 register response to unmasked overflow/underflow (bias adjust);
// for memory destinations the caller stores nothing when OE/UE are
// unmasked.
func (e *fpEnv) roundPack(sign bool, exp int32, sig0, sig1 uint64, f fmtSpec, regDest bool) F80 {
	e.up = false
	e.tiny = false
	if sig0 == 0 && sig1 == 0 {
		return f80Zero(sign)
	}
	prec := f.prec
	if e.prec < prec {
		prec = e.prec
	}
	tiny := false
	if exp < f.emin {
		tiny = true
		e.tiny = true
		if regDest && e.mask&fswUE == 0 {
			e.flags |= fswUE
			exp += f80BiasAdjust
			tiny = false
			if exp < f.emin {
				// Beyond the bias adjust's reach: a signed zero.
				e.flags |= fswPE
				return f80Zero(sign)
			}
		} else if e.mask&fswUE == 0 {
			e.flags |= fswUE // memory destination: no store
		} else {
			sig0, sig1 = shr128Jam(sig0, sig1, uint(f.emin-exp))
			exp = f.emin - 1
		}
	}
	// Round sig0:sig1 to prec bits of sig0.
	var kept, rem, half uint64
	sh := uint(64 - prec)
	inexact := false
	inc := false
	if sh == 0 {
		kept, rem, half = sig0, sig1, 1<<63
		inexact = rem != 0
		switch e.rc {
		case rcNearest:
			inc = rem > half || rem == half && kept&1 != 0
		case rcDown:
			inc = sign && inexact
		case rcUp:
			inc = !sign && inexact
		}
	} else {
		kept = sig0 >> sh
		rem = sig0 & (1<<sh - 1)
		half = 1 << (sh - 1)
		sticky := sig1 != 0
		inexact = rem != 0 || sticky
		switch e.rc {
		case rcNearest:
			inc = rem > half || rem == half && (sticky || kept&1 != 0)
		case rcDown:
			inc = sign && inexact
		case rcUp:
			inc = !sign && inexact
		}
	}
	if inc {
		kept++
		if sh == 0 && kept == 0 || sh != 0 && kept == 1<<(64-sh) {
			// Carry out of the significand.
			kept = 1 << (63 - sh)
			exp++
		} else if exp == f.emin-1 && kept>>(63-sh)&1 != 0 {
			exp = f.emin // a denormal rounded up to the smallest normal
		}
	}
	if tiny && inexact {
		e.flags |= fswUE
	}
	if exp > f.emax {
		if regDest && e.mask&fswOE == 0 {
			e.flags |= fswOE
			exp -= f80BiasAdjust
			if exp > f.emax {
				// Beyond the bias adjust's reach: infinity.
				e.flags |= fswPE
				e.up = true
				return f80Inf(sign)
			}
		} else if e.mask&fswOE == 0 {
			e.flags |= fswOE // memory destination: no store
		} else {
			e.flags |= fswOE | fswPE
			// Masked overflow: infinity or the largest finite number
			// by the rounding direction (Vol. 1 4.9.1.4).
			toInf := e.rc == rcNearest || e.rc == rcUp && !sign || e.rc == rcDown && sign
			e.up = toInf
			if toInf {
				return F80{Mant: f80Int, SExp: signOf(sign) | uint16(f80ExpMax)}
			}
			return F80{Mant: ^uint64(0) << (64 - prec), SExp: signOf(sign) | uint16(f.emax)}
		}
	}
	if inexact {
		e.flags |= fswPE
		e.up = inc
	}
	m := kept << sh
	if exp < 0 || exp > f80ExpMax {
		// Only reachable with bias-adjusted results of extreme
		// operands; wrap as the 15-bit field does.
		exp &= 0x7fff
	}
	return F80{Mant: m, SExp: signOf(sign) | uint16(exp)}
}

// shr128Jam shifts a:b right by n, ORing lost bits into the lsb.
func shr128Jam(a, b uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return a, b
	case n < 64:
		lost := b << (64 - n)
		return a >> n, a<<(64-n) | b>>n | b64(lost != 0)
	case n == 64:
		return 0, a | b64(b != 0)
	case n < 128:
		lost := a<<(128-n) | b
		return 0, a>>(n-64) | b64(lost != 0)
	}
	return 0, b64(a|b != 0)
}

// normRound normalizes sig0:sig1 (not both zero) and rounds to an x87
// register.
func (e *fpEnv) normRound(sign bool, exp int32, sig0, sig1 uint64) F80 {
	if sig0 == 0 {
		sig0, sig1 = sig1, 0
		exp -= 64
	}
	if n := uint(bits.LeadingZeros64(sig0)); n != 0 {
		sig0 = sig0<<n | sig1>>(64-n)
		sig1 <<= n
		exp -= int32(n)
	}
	return e.roundPack(sign, exp, sig0, sig1, e.spec, true)
}

// denormCheck raises DE for a denormal operand.
func (e *fpEnv) denormCheck(cl int) {
	if cl == fcDenormal {
		e.flags |= fswDE
	}
}

// denorm2 raises DE for denormal operands of a two-operand operation,
// including a memory operand that was denormal in its own format.
func (e *fpEnv) denorm2(ca, cb int) {
	if ca == fcDenormal || cb == fcDenormal || e.bDen {
		e.flags |= fswDE
	}
}

// f80Add returns a + b (sub: a - b).
func (e *fpEnv) f80Add(a, b F80, sub bool) F80 {
	ca, cb := a.class(), b.class()
	if ca >= fcQNaN || cb >= fcQNaN {
		return e.nanResult(a, b) // NaN signs are not flipped by FSUB
	}
	if sub {
		b = b.neg()
	}
	e.denorm2(ca, cb)
	if ca == fcInf || cb == fcInf {
		if ca == fcInf && cb == fcInf && a.sign() != b.sign() {
			return e.invalid()
		}
		if ca == fcInf {
			return a
		}
		return b
	}
	if ca == fcZero && cb == fcZero {
		if a.sign() == b.sign() {
			return a
		}
		return f80Zero(e.rc == rcDown)
	}
	if ca == fcZero {
		return e.roundReg(b)
	}
	if cb == fcZero {
		return e.roundReg(a)
	}
	sa, ea, ma := a.unpack()
	sb, eb, mb := b.unpack()
	if ea < eb || ea == eb && ma < mb {
		sa, ea, ma, sb, eb, mb = sb, eb, mb, sa, ea, ma
	}
	// |a| >= |b|: align b.
	b0, b1 := shr128Jam(mb, 0, uint(ea-eb))
	if sa == sb {
		lo, c := bits.Add64(0, b1, 0)
		hi, c2 := bits.Add64(ma, b0, c)
		if c2 != 0 {
			lo = lo>>1 | hi<<63 | lo&1
			hi = hi>>1 | 1<<63
			ea++
		}
		return e.roundPack(sa, ea, hi, lo, e.spec, true)
	}
	lo, bw := bits.Sub64(0, b1, 0)
	hi, _ := bits.Sub64(ma, b0, bw)
	if hi == 0 && lo == 0 {
		return f80Zero(e.rc == rcDown)
	}
	return e.normRound(sa, ea, hi, lo)
}

// roundReg rounds a finite nonzero value to the register precision (a
// denormal operand is renormalized and may raise UE again).
func (e *fpEnv) roundReg(a F80) F80 {
	s, x, m := a.unpack()
	return e.roundPack(s, x, m, 0, e.spec, true)
}

// f80Mul returns a × b.
func (e *fpEnv) f80Mul(a, b F80) F80 {
	ca, cb := a.class(), b.class()
	if ca >= fcQNaN || cb >= fcQNaN {
		return e.nanResult(a, b)
	}
	e.denorm2(ca, cb)
	s := a.sign() != b.sign()
	if ca == fcInf || cb == fcInf {
		if ca == fcZero || cb == fcZero {
			return e.invalid()
		}
		return f80Inf(s)
	}
	if ca == fcZero || cb == fcZero {
		return f80Zero(s)
	}
	_, ea, ma := a.unpack()
	_, eb, mb := b.unpack()
	hi, lo := bits.Mul64(ma, mb)
	exp := ea + eb - f80Bias + 1
	return e.normRound(s, exp, hi, lo)
}

// f80Div returns a / b.
func (e *fpEnv) f80Div(a, b F80) F80 {
	ca, cb := a.class(), b.class()
	if ca >= fcQNaN || cb >= fcQNaN {
		return e.nanResult(a, b)
	}
	s := a.sign() != b.sign()
	switch {
	case ca == fcInf && cb == fcInf, ca == fcZero && cb == fcZero:
		return e.invalid()
	case cb == fcZero && ca != fcInf:
		// Divide-by-zero is reported without DE for a denormal
		// dividend (as the hardware does).
		e.flags |= fswZE
		return f80Inf(s)
	}
	e.denorm2(ca, cb)
	switch {
	case ca == fcInf:
		return f80Inf(s)
	case cb == fcInf:
		return f80Zero(s)
	case ca == fcZero:
		return f80Zero(s)
	}
	_, ea, ma := a.unpack()
	_, eb, mb := b.unpack()
	exp := ea - eb + f80Bias
	// Quotient of ma·2^64 / mb with ma < mb ensured by a pre-shift.
	var hi, lo uint64
	if ma >= mb {
		hi, lo = ma>>1, ma<<63
	} else {
		hi, lo = ma, 0
		exp--
	}
	q0, r := bits.Div64(hi, lo, mb)
	q1, r2 := bits.Div64(r, 0, mb)
	return e.normRound(s, exp, q0, q1|b64(r2 != 0))
}

// f80Sqrt returns √a.
func (e *fpEnv) f80Sqrt(a F80) F80 {
	ca := a.class()
	if ca >= fcQNaN {
		return e.nan1(a)
	}
	if ca == fcZero {
		return a
	}
	if a.sign() {
		return e.invalid()
	}
	e.denormCheck(ca)
	if ca == fcInf {
		return a
	}
	_, ex, m := a.unpack()
	// value = m·2^(ex-bias-63). Make the exponent even: N = m·2^64 or
	// m·2^63 so that √N has exactly 64 significant bits.
	x := ex - f80Bias
	var nh, nl uint64
	if x&1 == 0 {
		nh, nl = m>>1, m<<63 // N = m·2^63
	} else {
		nh, nl = m, 0 // N = m·2^64
		x--
	}
	r, rem0, rem1 := isqrt128(nh, nl)
	var sig1 uint64
	if rem0|rem1 != 0 {
		// The root is never exactly halfway; rem > r means above it.
		if rem0 != 0 || rem1 > r {
			sig1 = 0xc000000000000000
		} else {
			sig1 = 0x4000000000000000
		}
	}
	return e.roundPack(false, x/2+f80Bias, r, sig1, e.spec, true)
}

// isqrt128 returns r = ⌊√N⌋ and N − r² for N = nh:nl with N ≥ 2^126.
func isqrt128(nh, nl uint64) (r, remHi, remLo uint64) {
	// Bit-by-bit (restoring) square root: exact and branch-simple.
	var rh, rl uint64 // remainder (up to 66 bits)
	var root uint64
	for i := 0; i < 64; i++ {
		// Bring down the next two bits of N.
		top := nh >> 62
		nh = nh<<2 | nl>>62
		nl <<= 2
		rh = rh<<2 | rl>>62
		rl = rl<<2 | top
		// Trial = 4·root + 1 (as 128 bits).
		th := root >> 62
		tl := root<<2 | 1
		if rh > th || rh == th && rl >= tl {
			var bw uint64
			rl, bw = bits.Sub64(rl, tl, 0)
			rh, _ = bits.Sub64(rh, th, bw)
			root = root<<1 | 1
		} else {
			root <<= 1
		}
	}
	return root, rh, rl
}

// f80Round rounds a to an integer under rc (FRNDINT raises DE for a
// denormal itself).
func (e *fpEnv) f80Round(a F80, rc uint8) F80 {
	ca := a.class()
	if ca >= fcQNaN {
		return e.nan1(a)
	}
	if ca == fcZero || ca == fcInf {
		return a
	}
	s, ex, m := a.unpack()
	x := ex - f80Bias
	if x >= 63 {
		return a
	}
	var kept, rem uint64
	var half uint64
	var sticky bool
	if x < 0 {
		// |a| < 1: every bit is fraction.
		kept = 0
		if x == -1 {
			rem, half = m, 1<<63
		} else {
			rem, half = 1, 2 // a tiny nonzero value below one half
			sticky = true
		}
	} else {
		sh := uint(63 - x)
		kept = m >> sh
		rem = m & (1<<sh - 1)
		half = 1 << (sh - 1)
	}
	inexact := rem != 0 || sticky
	inc := false
	switch rc {
	case rcNearest:
		inc = rem > half || rem == half && kept&1 != 0
	case rcDown:
		inc = s && inexact
	case rcUp:
		inc = !s && inexact
	}
	if inexact {
		e.flags |= fswPE
		e.up = inc
	}
	if inc {
		kept++
	}
	if kept == 0 {
		return f80Zero(s)
	}
	return f80FromU64(s, kept)
}

// f80FromU64 converts an unsigned magnitude exactly.
func f80FromU64(s bool, v uint64) F80 {
	if v == 0 {
		return f80Zero(s)
	}
	n := bits.LeadingZeros64(v)
	return F80{Mant: v << uint(n), SExp: signOf(s) | uint16(f80Bias+63-n)}
}

// f80FromInt converts a signed integer exactly (FILD).
func f80FromInt(v int64) F80 {
	if v < 0 {
		return f80FromU64(true, uint64(-v))
	}
	return f80FromU64(false, uint64(v))
}

// f80ToInt converts to a signed integer of size bits under rc; on NaN,
// infinity or overflow it raises IE and returns ok=false (the caller
// stores the integer indefinite when IE is masked).
func (e *fpEnv) f80ToInt(a F80, size uint, rc uint8) (int64, bool) {
	ca := a.class()
	if ca >= fcInf {
		e.flags |= fswIE
		return 0, false
	}
	// FIST/FISTTP do not raise DE.
	if ca == fcZero {
		return 0, true
	}
	r := e.f80Round(a, rc)
	if r.class() == fcZero {
		return 0, true
	}
	s, ex, m := r.unpack()
	x := ex - f80Bias
	lim := uint64(1) << (size - 1) // |min|
	if x >= int32(size) {
		e.flags = e.flags&^fswPE | fswIE
		return 0, false
	}
	v := m >> uint(63-x)
	if !s && v >= lim || s && v > lim {
		e.flags = e.flags&^fswPE | fswIE
		return 0, false
	}
	if s {
		return -int64(v), true
	}
	return int64(v), true
}

// f80FromF32 converts a float32 bit pattern exactly (FLD m32). An SNaN
// stays signaling; a denormal sets e.bDen.
func (e *fpEnv) f80FromF32(v uint32) F80 {
	s := v>>31 != 0
	ex := int32(v >> 23 & 0xff)
	fr := uint64(v & 0x7fffff)
	switch {
	case ex == 0xff:
		if fr == 0 {
			return f80Inf(s)
		}
		// NaNs keep their SNaN/QNaN kind: the consumer decides.
		return F80{Mant: f80Int | fr<<40, SExp: signOf(s) | f80ExpMax}
	case ex == 0:
		if fr == 0 {
			return f80Zero(s)
		}
		e.bDen = true
		n := bits.LeadingZeros64(fr)
		return F80{Mant: fr << uint(n), SExp: signOf(s) | uint16(f80Bias-86-n)}
	}
	return F80{Mant: f80Int | fr<<40, SExp: signOf(s) | uint16(ex-127+f80Bias)}
}

// f80FromF64 converts a float64 bit pattern exactly (FLD m64).
func (e *fpEnv) f80FromF64(v uint64) F80 {
	s := v>>63 != 0
	ex := int32(v >> 52 & 0x7ff)
	fr := v & (1<<52 - 1)
	switch {
	case ex == 0x7ff:
		if fr == 0 {
			return f80Inf(s)
		}
		return F80{Mant: f80Int | fr<<11, SExp: signOf(s) | f80ExpMax}
	case ex == 0:
		if fr == 0 {
			return f80Zero(s)
		}
		e.bDen = true
		n := bits.LeadingZeros64(fr)
		return F80{Mant: fr << uint(n), SExp: signOf(s) | uint16(f80Bias-1011-n)}
	}
	return F80{Mant: f80Int | fr<<11, SExp: signOf(s) | uint16(ex-1023+f80Bias)}
}

// f80ToF32 rounds to a float32 bit pattern (FST m32). The caller stores
// nothing when an unmasked exception was raised.
func (e *fpEnv) f80ToF32(a F80) uint32 {
	r := e.f80ToFmt(a, specF32)
	s := uint32(r.SExp>>15) << 31
	switch {
	case r.Mant == 0:
		return s
	case r.exp() == f80ExpMax:
		return s | 0x7f800000 | uint32(r.Mant>>40)&0x7fffff
	}
	ex := int32(r.SExp&0x7fff) - f80Bias + 127
	if ex <= 0 { // denormal in float32
		return s | uint32(r.Mant>>40)
	}
	return s | uint32(ex)<<23 | uint32(r.Mant>>40)&0x7fffff
}

// f80ToF64 rounds to a float64 bit pattern (FST m64).
func (e *fpEnv) f80ToF64(a F80) uint64 {
	r := e.f80ToFmt(a, specF64)
	s := uint64(r.SExp>>15) << 63
	switch {
	case r.Mant == 0:
		return s
	case r.exp() == f80ExpMax:
		return s | 0x7ff0000000000000 | r.Mant>>11&(1<<52-1)
	}
	ex := int64(r.SExp&0x7fff) - f80Bias + 1023
	if ex <= 0 {
		return s | r.Mant>>11
	}
	return s | uint64(ex)<<52 | r.Mant>>11&(1<<52-1)
}

// f80ToFmt rounds a to the format f (NaNs quieted, IE for SNaN).
func (e *fpEnv) f80ToFmt(a F80, f fmtSpec) F80 {
	switch a.class() {
	case fcZero, fcInf:
		return a
	case fcQNaN, fcSNaN, fcUnsupported:
		return e.nan1(a)
	}
	// FST m32/m64 do not raise DE (Vol. 2A FST: no #D).
	saved := e.prec
	e.prec = 64
	s, x, m := a.unpack()
	r := e.roundPack(s, x, m, 0, f, false)
	e.prec = saved
	return r
}
