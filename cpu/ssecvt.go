package cpu

// SSE/SSE2 conversions: CVTSI2SS/SD, CVT(T)SS2SI/SD2SI, CVTPS2PD,
// CVTPD2PS, CVTSS2SD, CVTSD2SS, CVTDQ2PS, CVT(T)PS2DQ, CVTDQ2PD,
// CVT(T)PD2DQ. Out-of-range and NaN conversions to integers give the
// integer indefinite (the sign bit alone) with IE.

// fpToInt converts one lane to a signed integer of size bits.
func (c *CPU) fpToInt(v uint64, double bool, size uint, trunc bool, e *fpEnv) uint64 {
	v = c.laneIn(v, double, e)
	e.bDen = false
	rc := e.rc
	if trunc {
		rc = rcZero
	}
	x, ok := e.f80ToInt(toF80(v, double, e), size, rc)
	if !ok {
		return uint64(1) << (size - 1)
	}
	if size == 32 {
		return uint64(uint32(x))
	}
	return uint64(x)
}

// fpConvert narrows or widens one lane between single and double.
func (c *CPU) fpConvert(v uint64, fromDouble bool, e *fpEnv) uint64 {
	v = c.laneIn(v, fromDouble, e)
	toDouble := !fromDouble
	if laneNaN(v, fromDouble) {
		if laneSNaN(v, fromDouble) {
			e.flags |= fswIE
		}
		f := toF80(v, fromDouble, e)
		f.Mant |= f80QBit
		if toDouble {
			return packF64(f)
		}
		return uint64(packF32(f))
	}
	if e.bDen {
		e.flags |= fswDE
	}
	f := toF80(v, fromDouble, e)
	if f.class() == fcZero || f.class() == fcInf {
		if toDouble {
			return packF64(f)
		}
		return uint64(packF32(f))
	}
	s, x, m := f.unpack()
	spec := specF32
	if toDouble {
		spec = specF64
	}
	r := e.roundPack(s, x, m, 0, spec, true)
	return c.packLane(r, toDouble, e)
}

// intToFP converts a signed integer to a lane under MXCSR.RC.
func (c *CPU) intToFP(x int64, double bool, e *fpEnv) uint64 {
	f := f80FromInt(x)
	if f.class() == fcZero {
		return 0
	}
	s, ex, m := f.unpack()
	spec := specF32
	if double {
		spec = specF64
	}
	r := e.roundPack(s, ex, m, 0, spec, true)
	if double {
		return packF64(r)
	}
	return uint64(packF32(r))
}

// opCvtScalarInt: F3/F2 0F 2A (CVTSI2SS/SD), 2C (CVTTSS2SI/SD2SI), 2D
// (CVTSS2SI/SD2SI).
func opCvtScalarInt(c *CPU, in *Inst) {
	c.sseAvail()
	double := in.Prefixes&PfxRepne != 0
	isz := uint8(4)
	if in.Rex&RexW != 0 {
		isz = 8
	}
	e := c.sseEnv(double)
	if uint8(in.Op) == 0x2a {
		x := c.rmRead(in, isz)
		var v int64
		if isz == 4 {
			v = int64(int32(x))
		} else {
			v = int64(x)
		}
		r := c.intToFP(v, double, &e)
		c.sseFinish(e.flags)
		if double {
			c.XMM[in.Reg][0] = r
		} else {
			c.XMM[in.Reg][0] = c.XMM[in.Reg][0]&^0xffffffff | r
		}
		return
	}
	n := 4
	if double {
		n = 8
	}
	v := c.xmmRMLow(in, n)
	r := c.fpToInt(v, double, uint(8*isz), uint8(in.Op) == 0x2c, &e)
	c.sseFinish(e.flags)
	c.regSet(in, in.Reg, isz, r)
}

// opCvtPacked: 0F 5A, 0F 5B, 0F E6 in their prefix forms.
func opCvtPacked(c *CPU, in *Inst) {
	c.sseAvail()
	o := uint8(in.Op)
	var flags uint16
	var r [2]uint64
	d := c.XMM[in.Reg]
	lane := func(double bool) fpEnv { return c.sseEnv(double) }
	switch {
	case o == 0x5a && in.Prefixes&PfxRep != 0: // CVTSS2SD
		s := c.xmmRMLow(in, 4)
		e := lane(true)
		r = d
		r[0] = c.fpConvert(s, false, &e)
		flags = e.flags
	case o == 0x5a && in.Prefixes&PfxRepne != 0: // CVTSD2SS
		s := c.xmmRMLow(in, 8)
		e := lane(false)
		r = d
		r[0] = r[0]&^0xffffffff | c.fpConvert(s, true, &e)
		flags = e.flags
	case o == 0x5a && in.Prefixes&PfxOpSize != 0: // CVTPD2PS
		s := c.xmmRM(in, true)
		for i := 0; i < 2; i++ {
			e := lane(false)
			laneSet(&r, i, false, c.fpConvert(s[i], true, &e))
			flags |= e.flags
		}
	case o == 0x5a: // CVTPS2PD
		s := [2]uint64{c.xmmRMLow(in, 8)}
		if in.Mod == 3 {
			s = c.XMM[in.RM]
		}
		for i := 0; i < 2; i++ {
			e := lane(true)
			r[i] = c.fpConvert(laneGet(s, i, false), false, &e)
			flags |= e.flags
		}
	case o == 0x5b && in.Prefixes&(PfxOpSize|PfxRep) == 0: // CVTDQ2PS
		s := c.xmmRM(in, true)
		for i := 0; i < 4; i++ {
			e := lane(false)
			laneSet(&r, i, false, c.intToFP(int64(int32(laneGet(s, i, false))), false, &e))
			flags |= e.flags
		}
	case o == 0x5b: // CVTPS2DQ (66), CVTTPS2DQ (F3)
		s := c.xmmRM(in, true)
		for i := 0; i < 4; i++ {
			e := lane(false)
			laneSet(&r, i, false, c.fpToInt(laneGet(s, i, false), false, 32, in.Prefixes&PfxRep != 0, &e))
			flags |= e.flags
		}
	case in.Prefixes&PfxRep != 0: // E6: CVTDQ2PD
		s := [2]uint64{c.xmmRMLow(in, 8)}
		if in.Mod == 3 {
			s = c.XMM[in.RM]
		}
		for i := 0; i < 2; i++ {
			e := lane(true)
			r[i] = c.intToFP(int64(int32(laneGet(s, i, false))), true, &e)
		}
	default: // E6: CVTTPD2DQ (66), CVTPD2DQ (F2)
		s := c.xmmRM(in, true)
		for i := 0; i < 2; i++ {
			e := lane(true)
			laneSet(&r, i, false, c.fpToInt(s[i], true, 32, in.Prefixes&PfxOpSize != 0, &e))
			flags |= e.flags
		}
	}
	c.sseFinish(flags)
	c.XMM[in.Reg] = r
}
