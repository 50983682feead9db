package cpu

import (
	"math"
	"testing"
)

// Unit tests for the SSE3-SSE4.2 semantics the random oracle reaches
// only by chance: ROUND's rounding sources and precision suppression,
// DPPS masks, PCMPxSTRx results and flags, #XM for the new arithmetic.

func f32x4(a, b, c, d float32) [2]uint64 {
	return [2]uint64{uint64(math.Float32bits(a)) | uint64(math.Float32bits(b))<<32,
		uint64(math.Float32bits(c)) | uint64(math.Float32bits(d))<<32}
}

func TestRoundModes(t *testing.T) {
	// roundps xmm0, xmm1, imm
	in := f32x4(1.5, -1.5, 2.5, -0.25)
	cases := []struct {
		imm   byte
		mxrc  uint32
		want  [2]uint64
		pflag bool
	}{
		{0x0, 3, f32x4(2, -2, 2, float32(math.Copysign(0, -1))), true}, // nearest even, MXCSR ignored
		{0x1, 0, f32x4(1, -2, 2, -1), true},                            // down
		{0x2, 0, f32x4(2, -1, 3, float32(math.Copysign(0, -1))), true}, // up
		{0x3, 0, f32x4(1, -1, 2, float32(math.Copysign(0, -1))), true}, // truncate
		{0x4, 1, f32x4(1, -2, 2, -1), true},                            // MXCSR.RC = down
		{0x4, 3, f32x4(1, -1, 2, float32(math.Copysign(0, -1))), true}, // MXCSR.RC = truncate
		{0x9, 0, f32x4(1, -2, 2, -1), false},                           // down, PE suppressed
		{0xc, 2, f32x4(2, -1, 3, float32(math.Copysign(0, -1))), false},
	}
	for _, tc := range cases {
		c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, 0x08, 0xc1, tc.imm})
		c.XMM[1] = in
		c.MXCSR = mxcsrReset | tc.mxrc<<mxRCShift
		stepOK(t, c)
		if c.XMM[0] != tc.want {
			t.Errorf("imm %#x rc %d: %016x:%016x want %016x:%016x", tc.imm, tc.mxrc, c.XMM[0][1], c.XMM[0][0], tc.want[1], tc.want[0])
		}
		if got := c.MXCSR&mxPE != 0; got != tc.pflag {
			t.Errorf("imm %#x: PE %v want %v", tc.imm, got, tc.pflag)
		}
	}
	// An unmasked precision exception: #XM unless imm8[3] suppresses it;
	// the destination is unchanged on the fault.
	for _, sup := range []bool{false, true} {
		imm := byte(0)
		if sup {
			imm = 8
		}
		c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, 0x0a, 0xc1, imm}) // roundss
		c.XMM[1] = f32x4(0.5, 0, 0, 0)
		c.XMM[0] = f32x4(7, 8, 9, 10)
		c.MXCSR = mxcsrReset &^ (mxPE << mxMaskShift)
		v := run(t, c)
		if sup && v >= 0 || !sup && v != ExcXM {
			t.Errorf("roundss PE unmasked, suppress=%v: vector %d", sup, v)
		}
		want := f32x4(0, 8, 9, 10)
		if !sup {
			want = f32x4(7, 8, 9, 10)
		}
		if c.XMM[0] != want {
			t.Errorf("roundss suppress=%v: xmm0 %016x:%016x", sup, c.XMM[0][1], c.XMM[0][0])
		}
	}
	// SNaN: IE, quieted.
	c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, 0x09, 0xc1, 0}) // roundpd
	c.XMM[1] = [2]uint64{0x7ff0000000000001, 0x7ff8000000000002}
	stepOK(t, c)
	if c.XMM[0] != [2]uint64{0x7ff8000000000001, 0x7ff8000000000002} || c.MXCSR&mxIE == 0 {
		t.Errorf("roundpd NaN: %x mxcsr %x", c.XMM[0], c.MXCSR)
	}
}

func TestDPPSMasks(t *testing.T) {
	a := f32x4(1, 2, 3, 4)
	b := f32x4(10, 100, 1000, 10000)
	cases := []struct {
		imm byte
		sum float32
	}{
		{0xff, 43210}, {0xf1, 43210}, {0x11, 10}, {0x21, 200}, {0x51, 3010}, {0xa2, 40200}, {0x0f, 0},
	}
	for _, tc := range cases {
		c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, 0x40, 0xc1, tc.imm})
		c.XMM[0], c.XMM[1] = a, b
		stepOK(t, c)
		var want [2]uint64
		for i := 0; i < 4; i++ {
			if tc.imm>>i&1 != 0 {
				laneSet(&want, i, false, uint64(math.Float32bits(tc.sum)))
			}
		}
		if c.XMM[0] != want {
			t.Errorf("dpps imm %#x: %016x:%016x want %016x:%016x", tc.imm, c.XMM[0][1], c.XMM[0][0], want[1], want[0])
		}
	}
	// DPPD: products 0 and 1 into lane 1 only.
	c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, 0x41, 0xc1, 0x32})
	c.XMM[0] = [2]uint64{math.Float64bits(3), math.Float64bits(5)}
	c.XMM[1] = [2]uint64{math.Float64bits(7), math.Float64bits(11)}
	stepOK(t, c)
	if c.XMM[0] != [2]uint64{0, math.Float64bits(76)} {
		t.Errorf("dppd: %x", c.XMM[0])
	}
}

func strXMM(s string) [2]uint64 {
	var v [2]uint64
	for i := 0; i < len(s) && i < 16; i++ {
		v[i>>3] |= uint64(s[i]) << (8 * uint(i&7))
	}
	return v
}

func TestPcmpstr(t *testing.T) {
	const arith = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
	cases := []struct {
		name     string
		op, imm  byte
		a, b     string
		eax, edx uint64
		ecx      uint64
		flags    uint64
	}{
		// Equal any, implicit: first vowel of "hello" is at 1.
		{"istri any", 0x63, 0x00, "aeiou", "hello", 0, 0, 1, FlagCF | FlagZF | FlagSF},
		// Most significant index: 'o' at 4.
		{"istri any msb", 0x63, 0x40, "aeiou", "hello", 0, 0, 4, FlagCF | FlagZF | FlagSF},
		// No match: ECX = 16, CF clear.
		{"istri none", 0x63, 0x00, "xyz", "hello", 0, 0, 16, FlagZF | FlagSF},
		// Ranges a-z: first byte outside ("negative polarity") is '1' at 5.
		{"istri ranges neg", 0x63, 0x14, "az", "hello1world", 0, 0, 5, FlagCF | FlagZF | FlagSF},
		// Masked negative: only valid bytes of the string are negated.
		{"istri ranges maskneg msb", 0x63, 0x74, "az", "hello1world", 0, 0, 5, FlagCF | FlagZF | FlagSF},
		// Equal each (strcmp): the first difference at 3 (negated).
		{"istri each", 0x63, 0x18, "abcdef", "abcxef", 0, 0, 3, FlagCF | FlagZF | FlagSF},
		// Equal ordered (strstr): "lo" in "hello" at 3; OF is bit 0.
		{"istri ordered", 0x63, 0x0c, "lo", "hello", 0, 0, 3, FlagCF | FlagZF | FlagSF},
		// A partial match at the end of a full 16-byte string counts.
		{"istri ordered partial", 0x63, 0x0c, "pqr", "0123456789abcdep", 0, 0, 15, FlagCF | FlagSF},
		// Explicit lengths: EAX = -2 (|len| = 2), EDX = 100 (saturates to
		// 16: ZF clear); 'e' matches at 1.
		{"estri any", 0x61, 0x00, "ae", "hello", ^uint64(1), 100, 1, FlagCF | FlagSF},
		// Words, equal each, OF from bit 0.
		{"istri words each", 0x63, 0x09, "a\x00b\x00", "a\x00c\x00", 0, 0, 0, FlagCF | FlagZF | FlagSF | FlagOF},
	}
	for _, tc := range cases {
		c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, tc.op, 0xc1, tc.imm})
		c.XMM[0], c.XMM[1] = strXMM(tc.a), strXMM(tc.b)
		c.R[RAX], c.R[RDX] = tc.eax, tc.edx
		c.SetFlags(arith)
		stepOK(t, c)
		if c.R[RCX] != tc.ecx {
			t.Errorf("%s: ecx %d want %d", tc.name, c.R[RCX], tc.ecx)
		}
		if f := c.Flags() & arith; f != tc.flags {
			t.Errorf("%s: flags %#x want %#x", tc.name, f, tc.flags)
		}
	}
	// PCMPISTRM xmm1, xmm2 with the byte-mask output: "hello" against
	// the set "lo" marks bytes 2-4.
	c := newRealCPU(t, []byte{0x66, 0x0f, 0x3a, 0x62, 0xca, 0x40})
	c.XMM[1], c.XMM[2] = strXMM("lo"), strXMM("hello")
	stepOK(t, c)
	if want := [2]uint64{0x000000ffffff0000, 0}; c.XMM[0] != want {
		t.Errorf("pcmpistrm mask %x want %x", c.XMM[0], want)
	}
}

func TestSSE3XM(t *testing.T) {
	// haddps xmm0, xmm1: MAX+MAX in lane 0 overflows; with OE
	// unmasked gives #XM and leaves xmm0 unchanged.
	c := newRealCPU(t, []byte{0xf2, 0x0f, 0x7c, 0xc1})
	c.XMM[0] = f32x4(math.MaxFloat32, math.MaxFloat32, 1, 2)
	c.MXCSR = mxcsrReset &^ (mxOE << mxMaskShift)
	old := c.XMM[0]
	if v := run(t, c); v != ExcXM {
		t.Fatalf("vector %d want #XM", v)
	}
	if c.XMM[0] != old || c.MXCSR&mxOE == 0 {
		t.Errorf("xmm0 %x mxcsr %x", c.XMM[0], c.MXCSR)
	}
}

func TestRcpLaneSpecials(t *testing.T) {
	cases := []struct {
		x     uint32
		rsqrt bool
		want  uint32
	}{
		{0x00000000, false, 0x7f800000}, // 1/+0 = +inf
		{0x80000001, false, 0xff800000}, // a denormal counts as -0
		{0xff800000, false, 0x80000000}, // 1/-inf = -0
		{0x7f7fffff, false, 0x00000000}, // tiny result flushed
		{0x7f800001, false, 0x7fc00001}, // SNaN quieted
		{0xbf800000, true, 0xffc00000},  // rsqrt(-1): indefinite
		{0x80000000, true, 0xff800000},  // rsqrt(-0) = -inf
		{0x7f800000, true, 0x00000000},  // rsqrt(+inf) = +0
		{0x40800000, true, 0x3f000000},  // rsqrt(4) = 0.5
		{0x40000000, false, 0x3f000000}, // rcp(2) = 0.5
	}
	for _, tc := range cases {
		if got := rcpLane(tc.x, tc.rsqrt); got != tc.want {
			t.Errorf("rcpLane(%#x, rsqrt=%v) = %#x want %#x", tc.x, tc.rsqrt, got, tc.want)
		}
	}
}

func TestMaskmovq(t *testing.T) {
	// maskmovq mm0, mm1 at DS:DI = 0x3000 (real mode, 16-bit DI).
	c := newRealCPU(t, []byte{0x0f, 0xf7, 0xc1})
	c.R[RDI] = 0xffff0000_0000_3000
	c.ST[0] = F80{Mant: 0x8877665544332211, SExp: 0xffff}
	c.ST[1] = F80{Mant: 0x80000000000080ff, SExp: 0xffff}
	ram := c.bus.RAM()
	for i := 0; i < 8; i++ {
		ram[0x3000+i] = 0xee
	}
	stepOK(t, c)
	want := []byte{0x11, 0x22, 0xee, 0xee, 0xee, 0xee, 0xee, 0x88}
	if got := ram[0x3000:0x3008]; string(got) != string(want) {
		t.Errorf("memory % x want % x", got, want)
	}
	if c.FTW != 0xff || c.FSW&fswTop != 0 {
		t.Errorf("no MMX transition: ftw %02x fsw %04x", c.FTW, c.FSW)
	}
	// An all-zero mask stores nothing and does not fault, even past the
	// segment limit.
	c = newRealCPU(t, []byte{0x66, 0x0f, 0xf7, 0xc1})
	c.R[RDI] = 0xfffc
	stepOK(t, c)
}

func TestSSE4Faults(t *testing.T) {
	cases := []struct {
		name string
		code []byte
		want int
	}{
		// PCMPxSTRx take unaligned memory; the other m128 forms need 16.
		{"pcmpistri unaligned", []byte{0x66, 0x0f, 0x3a, 0x63, 0x0e, 0x08, 0x30, 0x00}, -1},
		{"ptest unaligned", []byte{0x66, 0x0f, 0x38, 0x17, 0x0e, 0x08, 0x30}, ExcGP},
		{"pmovsxbw unaligned m64", []byte{0x66, 0x0f, 0x38, 0x20, 0x0e, 0x08, 0x30}, -1},
		{"movntdqa register", []byte{0x66, 0x0f, 0x38, 0x2a, 0xc1}, ExcUD},
		{"haddps no prefix", []byte{0x0f, 0x7c, 0xc1}, ExcUD},
		{"pblendw without 66", []byte{0x0f, 0x3a, 0x0e, 0xc1, 0x00}, ExcUD},
		{"pabsb F3", []byte{0xf3, 0x0f, 0x38, 0x1c, 0xc1}, ExcUD},
		{"monitor (not advertised)", []byte{0x0f, 0x01, 0xc8}, ExcUD},
		{"mwait (not advertised)", []byte{0x0f, 0x01, 0xc9}, ExcUD},
		{"maskmovq memory form", []byte{0x0f, 0xf7, 0x06, 0x00, 0x30}, ExcUD},
	}
	for _, tc := range cases {
		c := newRealCPU(t, tc.code)
		if v := run(t, c); v != tc.want {
			t.Errorf("%s: vector %d, want %d", tc.name, v, tc.want)
		}
	}
	// CPUID.1:ECX.MONITOR (bit 3) stays clear.
	m := modelX8664v2()
	if _, _, ecx, _ := m.cpuid(1, 0); ecx&(1<<3) != 0 {
		t.Error("MONITOR advertised")
	}
}
