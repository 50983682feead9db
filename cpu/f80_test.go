package cpu

import (
	"math/big"
	"testing"
)

// Known exact results of the software extended-precision arithmetic:
// rounding boundaries under each precision and rounding control,
// denormals, overflow and underflow responses.

func f80(se uint16, m uint64) F80 { return F80{Mant: m, SExp: se} }

func env(pc, rc uint8, masks uint16) fpEnv {
	return x87Env(uint16(pc)<<8 | uint16(rc)<<10 | masks)
}

func TestF80AddRounding(t *testing.T) {
	one := f80(0x3fff, 1<<63)
	tiny := func(k int) F80 { return f80(uint16(0x3fff-k), 1<<63) } // 2^-k
	cases := []struct {
		name   string
		pc, rc uint8
		a, b   F80
		want   F80
		pe, c1 bool
	}{
		{"exact", 3, rcNearest, one, one, f80(0x4000, 1<<63), false, false},
		{"tie-even-64", 3, rcNearest, one, tiny(64), one, true, false},
		{"above-tie-64", 3, rcNearest, one, f80(0x3fbf, 0xc000000000000000), f80(0x3fff, 1<<63|1), true, true},
		{"up-64", 3, rcUp, one, tiny(100), f80(0x3fff, 1<<63|1), true, true},
		{"down-64", 3, rcDown, one, tiny(100), one, true, false},
		{"zero-neg", 3, rcZero, one.neg(), tiny(100).neg(), one.neg(), true, false},
		{"tie-even-24", 0, rcNearest, one, tiny(24), one, true, false},
		{"tie-odd-24", 0, rcNearest, f80(0x3fff, 1<<63|1<<40), tiny(24), f80(0x3fff, 1<<63|2<<40), true, true},
		{"tie-even-53", 2, rcNearest, one, tiny(53), one, true, false},
		{"up-53", 2, rcUp, one, tiny(80), f80(0x3fff, 1<<63|1<<11), true, true},
		{"carry-out", 0, rcUp, f80(0x3fff, 0xffffff0000000000), tiny(80), f80(0x4000, 1<<63), true, true},
		{"x-x-down", 3, rcDown, one, one.neg(), f80(0x8000, 0), false, false},
		{"x-x-near", 3, rcNearest, one, one.neg(), f80(0, 0), false, false},
	}
	for _, tc := range cases {
		e := env(tc.pc, tc.rc, 0x3f)
		r := e.f80Add(tc.a, tc.b, false)
		if r != tc.want || (e.flags&fswPE != 0) != tc.pe || e.up != tc.c1 && tc.pe {
			t.Errorf("%s: got %04x:%016x flags %02x up %v, want %04x:%016x pe %v c1 %v",
				tc.name, r.SExp, r.Mant, e.flags, e.up, tc.want.SExp, tc.want.Mant, tc.pe, tc.c1)
		}
	}
}

func TestF80MulDivSqrt(t *testing.T) {
	three := f80(0x4000, 0xc000000000000000)
	one := f80(0x3fff, 1<<63)
	e := env(3, rcNearest, 0x3f)
	if r := e.f80Div(one, three); r != f80(0x3ffd, 0xaaaaaaaaaaaaaaab) || e.flags != fswPE || !e.up {
		t.Errorf("1/3 = %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	e = env(3, rcZero, 0x3f)
	if r := e.f80Div(one, three); r != f80(0x3ffd, 0xaaaaaaaaaaaaaaaa) {
		t.Errorf("1/3 chop = %04x:%016x", r.SExp, r.Mant)
	}
	e = env(3, rcNearest, 0x3f)
	two := f80(0x4000, 1<<63)
	if r := e.f80Sqrt(two); r != f80(0x3fff, 0xb504f333f9de6484) || e.flags != fswPE {
		t.Errorf("sqrt 2 = %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Sqrt(f80(0x4002, 0x9000000000000000)); r != three || e.flags != 0 {
		t.Errorf("sqrt 9 = %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Mul(three, three); r != f80(0x4002, 0x9000000000000000) || e.flags != 0 {
		t.Errorf("3*3 = %04x:%016x", r.SExp, r.Mant)
	}
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Div(one, f80(0, 0)); r != f80Inf(false) || e.flags != fswZE {
		t.Errorf("1/0 = %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Sqrt(one.neg()); r != f80Indefinite || e.flags != fswIE {
		t.Errorf("sqrt -1 = %04x:%016x", r.SExp, r.Mant)
	}
}

func TestF80DenormalOverflow(t *testing.T) {
	minNorm := f80(1, 1<<63)
	half := f80(0x3ffe, 1<<63)
	// Masked underflow: an exact denormal result raises no UE.
	e := env(3, rcNearest, 0x3f)
	if r := e.f80Mul(minNorm, half); r != f80(0, 1<<62) || e.flags != 0 {
		t.Errorf("min/2 = %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	// Inexact denormal: UE and PE.
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Mul(f80(1, 1<<63|1), half); e.flags != fswUE|fswPE || r.exp() != 0 {
		t.Errorf("inexact denormal flags %x r %04x:%016x", e.flags, r.SExp, r.Mant)
	}
	// Unmasked underflow: bias-adjusted result in the register.
	e = env(3, rcNearest, 0x3f&^fswUE)
	if r := e.f80Mul(minNorm, half); r != f80(0x6000, 1<<63) || e.flags&fswUE == 0 {
		t.Errorf("unmasked underflow %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	maxv := f80(0x7ffe, ^uint64(0))
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Add(maxv, maxv, false); r != f80Inf(false) || e.flags != fswOE|fswPE {
		t.Errorf("overflow %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	e = env(3, rcZero, 0x3f)
	if r := e.f80Add(maxv, maxv, false); r != maxv {
		t.Errorf("overflow chop %04x:%016x", r.SExp, r.Mant)
	}
	e = env(0, rcZero, 0x3f)
	if r := e.f80Add(maxv, maxv, false); r != f80(0x7ffe, 0xffffff0000000000) {
		t.Errorf("overflow chop pc24 %04x:%016x", r.SExp, r.Mant)
	}
	e = env(3, rcNearest, 0x3f&^fswOE)
	if r := e.f80Add(maxv, maxv, false); r != f80(0x7fff-0x6000, ^uint64(0)) || e.flags&fswOE == 0 {
		t.Errorf("unmasked overflow %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
	// Pseudo-denormal operands are read with exponent 1.
	e = env(3, rcNearest, 0x3f)
	if r := e.f80Add(f80(0, 1<<63), f80(0, 0), false); r != minNorm || e.flags != fswDE {
		t.Errorf("pseudo-denormal %04x:%016x flags %x", r.SExp, r.Mant, e.flags)
	}
}

func TestF80Conversions(t *testing.T) {
	e := env(3, rcNearest, 0x3f)
	if r := e.f80FromF32(1); r != f80(0x3fff-149, 1<<63) || !e.bDen {
		t.Errorf("f32 min denormal %04x:%016x", r.SExp, r.Mant)
	}
	if r := e.f80FromF64(1); r != f80(0x3fff-1074, 1<<63) {
		t.Errorf("f64 min denormal %04x:%016x", r.SExp, r.Mant)
	}
	e = env(3, rcNearest, 0x3f)
	if v := e.f80ToF32(f80(0x3fff-150, 1<<63)); v != 0 || e.flags != fswUE|fswPE {
		t.Errorf("2^-150 to f32 = %x flags %x (tie to even: 0)", v, e.flags)
	}
	e = env(3, rcNearest, 0x3f)
	if v := e.f80ToF64(f80(0x3fff, 1<<63|1<<10)); v != 0x3ff0000000000000 || e.flags != fswPE {
		t.Errorf("round to f64 = %x", v)
	}
	e = env(3, rcNearest, 0x3f)
	if x, ok := e.f80ToInt(f80(0x401e, 1<<63), 32, rcNearest); ok || x != 0 || e.flags&fswIE == 0 {
		t.Errorf("2^31 to int32 should be invalid")
	}
	e = env(3, rcNearest, 0x3f)
	if x, ok := e.f80ToInt(f80(0x4000, 0xa000000000000000), 16, rcNearest); !ok || x != 2 {
		t.Errorf("2.5 to int = %d (ties to even)", x)
	}
}

// TestX87Constants checks the constants against high-precision values
// (nearest rounding) and the hardware's directed-rounding neighbours.
func TestX87Constants(t *testing.T) {
	pi := bigPi()
	ln2 := bigLn2()
	l2e := bigNew().Quo(bigNew().SetInt64(1), ln2)
	l2t := bigNew().Quo(bigLn(bigNew().SetInt64(10)), ln2)
	lg2 := bigNew().Quo(ln2, bigLn(bigNew().SetInt64(10)))
	for _, k := range []struct {
		modrm byte
		v     *big.Float
	}{{0xe9, l2t}, {0xea, l2e}, {0xeb, pi}, {0xec, lg2}, {0xed, ln2}} {
		e := env(3, rcNearest, 0x3f)
		want := e.roundBig(k.v)
		c := newX87CPU(t, []byte{0xd9, k.modrm})
		c.FCW = 0x037f
		stepOK(t, c)
		if got := c.st(0); got != want {
			t.Errorf("D9 %02X = %04x:%016x want %04x:%016x", k.modrm, got.SExp, got.Mant, want.SExp, want.Mant)
		}
	}
}
