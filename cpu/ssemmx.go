package cpu

import "math"

// SSE/SSE2 forms that mix MMX and XMM registers: CVTPI2PS/CVTPI2PD,
// CVT(T)PS2PI, CVT(T)PD2PI, MOVQ2DQ/MOVDQ2Q, MASKMOVQ/MASKMOVDQU; and
// the reciprocal approximations RCPPS/RCPSS, RSQRTPS/RSQRTSS.
//
// An instruction with an MMX register operand makes the x87 → MMX
// transition (TOP = 0, all tags valid; a pending x87 exception is #MF);
// CVTPI2PS/PD from memory do not.

// opCvtPI: 0F 2A CVTPI2PS, 66 0F 2A CVTPI2PD, 0F 2C/2D CVTTPS2PI/
// CVTPS2PI, 66 0F 2C/2D CVTTPD2PI/CVTPD2PI.
func opCvtPI(c *CPU, in *Inst) {
	c.sseAvail()
	double := in.Prefixes&PfxOpSize != 0
	var flags uint16
	if uint8(in.Op) == 0x2a {
		var s uint64
		if in.Mod == 3 {
			c.mmxAvail()
			s = c.mmGet(in.RM)
		} else {
			s = c.read(in.Seg, c.ea(in), 8)
		}
		r := c.XMM[in.Reg]
		if double {
			r = [2]uint64{}
		}
		for i := 0; i < 2; i++ {
			e := c.sseEnv(double)
			laneSet(&r, i, double, c.intToFP(int64(int32(s>>(32*uint(i)))), double, &e))
			flags |= e.flags
		}
		c.sseFinish(flags)
		c.XMM[in.Reg] = r
		return
	}
	var s [2]uint64
	switch {
	case double:
		s = c.xmmRM(in, true)
	case in.Mod == 3:
		s = c.XMM[in.RM]
	default:
		s[0] = c.read(in.Seg, c.ea(in), 8)
	}
	c.mmxAvail()
	trunc := uint8(in.Op) == 0x2c
	var r uint64
	for i := 0; i < 2; i++ {
		e := c.sseEnv(double)
		r |= c.fpToInt(laneGet(s, i, double), double, 32, trunc, &e) << (32 * uint(i))
		flags |= e.flags
	}
	c.sseFinish(flags)
	c.mmSet(in.Reg, r)
}

// opMovq2dq: F3 0F D6 MOVQ2DQ xmm, mm; F2 0F D6 MOVDQ2Q mm, xmm.
func opMovq2dq(c *CPU, in *Inst) {
	c.sseAvail()
	c.mmxAvail()
	if in.Prefixes&PfxRep != 0 {
		c.XMM[in.Reg] = [2]uint64{c.mmGet(in.RM), 0}
		return
	}
	c.mmSet(in.Reg, c.XMM[in.RM][0])
}

// opMaskmov: 0F F7 MASKMOVQ mm1, mm2; 66 0F F7 MASKMOVDQU xmm1, xmm2.
// The bytes of the first operand whose mask byte (second operand) has
// bit 7 set are stored at DS:rDI (a segment override applies). An
// all-zero mask stores nothing and, as on AMD processors, raises no
// memory exception (Intel leaves this implementation-specific).
func opMaskmov(c *CPU, in *Inst) {
	var d, m [2]uint64
	n := 8
	if in.Prefixes&PfxOpSize != 0 {
		c.sseAvail()
		d, m = c.XMM[in.Reg], c.XMM[in.RM]
		n = 16
	} else {
		c.mmxAvail()
		d[0], m[0] = c.mmGet(in.Reg), c.mmGet(in.RM)
	}
	var sel uint32
	for i := 0; i < n; i++ {
		if vget(m, uint(i), 1)&0x80 != 0 {
			sel |= 1 << i
		}
	}
	if sel == 0 {
		return
	}
	la := c.linear(in.Seg, c.R[RDI]&addrMask(in), n, true)
	c.probeWrite(la)
	c.probeWrite(la + uint64(n) - 1)
	for i := 0; i < n; i++ {
		if sel>>i&1 != 0 {
			c.linWrite(la+uint64(i), 1, vget(d, uint(i), 1))
		}
	}
}

// opRcp: 0F 53 RCPPS, F3 0F 53 RCPSS, 0F 52 RSQRTPS, F3 0F 52 RSQRTSS.
//
// The manual bounds the relative error by 1.5·2^-12 and leaves the
// approximation to the implementation (Intel and AMD tables differ);
// Fuji returns the correctly rounded result, which is within the bound.
// The special cases are the manual's: denormal inputs count as zero,
// ±0 gives ±∞, tiny results flush to ±0, a negative RSQRT operand gives
// the QNaN indefinite, NaNs are returned quieted. No MXCSR flags change.
func opRcp(c *CPU, in *Inst) {
	c.sseAvail()
	scalar := in.Prefixes&PfxRep != 0
	var s [2]uint64
	r := c.XMM[in.Reg]
	n := 4
	if scalar {
		s[0] = c.xmmRMLow(in, 4)
		n = 1
	} else {
		s = c.xmmRM(in, true)
	}
	rsqrt := uint8(in.Op) == 0x52
	for i := 0; i < n; i++ {
		laneSet(&r, i, false, uint64(rcpLane(uint32(laneGet(s, i, false)), rsqrt)))
	}
	c.XMM[in.Reg] = r
}

func rcpLane(x uint32, rsqrt bool) uint32 {
	sign := x & 0x80000000
	switch {
	case isNaN32(x):
		return x | 0x400000
	case x&0x7f800000 == 0: // zero or denormal
		return sign | 0x7f800000
	case rsqrt && sign != 0:
		return 0xffc00000
	case x&0x7fffffff == 0x7f800000:
		return sign
	}
	f := float64(math.Float32frombits(x))
	var y float64
	if rsqrt {
		y = 1 / math.Sqrt(f)
	} else {
		y = 1 / f
	}
	if math.Abs(y) < 0x1p-126 {
		return sign
	}
	return math.Float32bits(float32(y))
}
