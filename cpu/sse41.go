package cpu

// SSE4.1 (66 0F 38 / 66 0F 3A): integer min/max/multiply/compare/pack,
// PMOVSX/PMOVZX, PTEST, the blends, ROUNDPS/PD/SS/SD, DPPS/DPPD,
// INSERTPS/EXTRACTPS, PEXTR*/PINSR*, MPSADBW, PHMINPOSUW, MOVNTDQA.
// PCMPGTQ (SSE4.2) shares opSse41.

// opSse41: the element-wise and whole-register integer forms of 66 0F 38
// and the immediate blends/MPSADBW of 66 0F 3A.
func opSse41(c *CPU, in *Inst) {
	c.sseAvail()
	op := uint8(in.Op)
	d := c.XMM[in.Reg]
	var s [2]uint64
	if in.Op>>8 == 2 && op >= 0x20 && op <= 0x35 && op&0xf <= 5 {
		// PMOVSX/PMOVZX: the source is the low 8, 4 or 2 bytes.
		n := [6]int{8, 4, 2, 8, 4, 8}[op&0xf]
		s[0] = c.xmmRMLow(in, n)
		if in.Mod == 3 {
			s[0] = c.XMM[in.RM][0]
		}
	} else {
		s = c.xmmRM(in, true)
	}
	var r [2]uint64
	if in.Op>>8 == 3 {
		imm := uint(in.Imm & 0xff)
		switch op {
		case 0x0c: // BLENDPS
			r = d
			for i := uint(0); i < 4; i++ {
				if imm>>i&1 != 0 {
					vset(&r, i, 4, vget(s, i, 4))
				}
			}
		case 0x0d: // BLENDPD
			r = d
			for i := uint(0); i < 2; i++ {
				if imm>>i&1 != 0 {
					r[i] = s[i]
				}
			}
		case 0x0e: // PBLENDW
			r = d
			for i := uint(0); i < 8; i++ {
				if imm>>i&1 != 0 {
					vset(&r, i, 2, vget(s, i, 2))
				}
			}
		case 0x42: // MPSADBW
			do := imm >> 2 & 1 * 4
			so := imm & 3 * 4
			for i := uint(0); i < 8; i++ {
				var sum uint64
				for j := uint(0); j < 4; j++ {
					a, b := vget(d, do+i+j, 1), vget(s, so+j, 1)
					if a > b {
						sum += a - b
					} else {
						sum += b - a
					}
				}
				vset(&r, i, 2, sum)
			}
		}
		c.XMM[in.Reg] = r
		return
	}
	switch op {
	case 0x10, 0x14, 0x15: // PBLENDVB, BLENDVPS, BLENDVPD: mask in XMM0
		es := uint(1)
		if op == 0x14 {
			es = 4
		} else if op == 0x15 {
			es = 8
		}
		m := c.XMM[0]
		r = d
		for i := uint(0); i < 16/es; i++ {
			if vget(m, i, es)>>(8*es-1) != 0 {
				vset(&r, i, es, vget(s, i, es))
			}
		}
	case 0x17: // PTEST
		var f uint64
		if d[0]&s[0]|d[1]&s[1] == 0 {
			f |= FlagZF
		}
		if ^d[0]&s[0]|^d[1]&s[1] == 0 {
			f |= FlagCF
		}
		c.setArith(f)
		return
	case 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35:
		// PMOVSX/ZX BW BD BQ WD WQ DQ.
		ses := [6]uint{1, 1, 1, 2, 2, 4}[op&0xf]
		des := [6]uint{2, 4, 8, 4, 8, 8}[op&0xf]
		for i := uint(0); i < 16/des; i++ {
			v := vget(s, i, ses)
			if op < 0x30 {
				v = uint64(sext(v, ses))
			}
			vset(&r, i, des, v)
		}
	case 0x28: // PMULDQ
		for i := 0; i < 2; i++ {
			r[i] = uint64(int64(int32(d[i])) * int64(int32(s[i])))
		}
	case 0x29: // PCMPEQQ
		for i := 0; i < 2; i++ {
			r[i] = -b64(d[i] == s[i])
		}
	case 0x37: // PCMPGTQ
		for i := 0; i < 2; i++ {
			r[i] = -b64(int64(d[i]) > int64(s[i]))
		}
	case 0x2b: // PACKUSDW
		for i := uint(0); i < 4; i++ {
			vset(&r, i, 2, sat16u(sext(vget(d, i, 4), 4)))
			vset(&r, i+4, 2, sat16u(sext(vget(s, i, 4), 4)))
		}
	case 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f:
		// PMINSB PMINSD PMINUW PMINUD PMAXSB PMAXSD PMAXUW PMAXUD.
		es := [4]uint{1, 4, 2, 4}[op&3]
		signed := op&3 < 2
		isMax := op >= 0x3c
		for i := uint(0); i < 16/es; i++ {
			a, b := vget(d, i, es), vget(s, i, es)
			var lt bool
			if signed {
				lt = sext(a, es) < sext(b, es)
			} else {
				lt = a < b
			}
			if lt == isMax {
				a = b
			}
			vset(&r, i, es, a)
		}
	case 0x40: // PMULLD
		for i := uint(0); i < 4; i++ {
			vset(&r, i, 4, vget(d, i, 4)*vget(s, i, 4))
		}
	case 0x41: // PHMINPOSUW
		m, idx := vget(s, 0, 2), uint64(0)
		for i := uint(1); i < 8; i++ {
			if v := vget(s, i, 2); v < m {
				m, idx = v, uint64(i)
			}
		}
		r[0] = m | idx<<16
	}
	c.XMM[in.Reg] = r
}

// opMovntdqa: 66 0F 38 2A, an aligned 128-bit load.
func opMovntdqa(c *CPU, in *Inst) {
	c.sseAvail()
	c.XMM[in.Reg] = c.xmmRM(in, true)
}

// opInsExt: 66 0F 3A 14 PEXTRB, 15 PEXTRW, 16 PEXTRD/Q, 17 EXTRACTPS,
// 20 PINSRB, 21 INSERTPS, 22 PINSRD/Q.
func opInsExt(c *CPU, in *Inst) {
	c.sseAvail()
	op := uint8(in.Op)
	imm := uint(in.Imm & 0xff)
	w := in.Rex&RexW != 0
	es := uint(4)
	switch op {
	case 0x14, 0x20:
		es = 1
	case 0x15:
		es = 2
	case 0x16, 0x22:
		if w {
			es = 8
		}
	}
	switch op {
	case 0x14, 0x15, 0x16, 0x17:
		v := vget(c.XMM[in.Reg], imm&(16/es-1), es)
		if in.Mod == 3 {
			sz := uint8(4) // a register destination is zero-extended
			if w && (op == 0x16 || op == 0x17) {
				sz = 8
			}
			c.regSet(in, in.RM, sz, v)
			return
		}
		c.write(in.Seg, c.ea(in), int(es), v)
	case 0x20, 0x22:
		var v uint64
		if in.Mod == 3 {
			v = c.R[in.RM]
		} else {
			v = c.read(in.Seg, c.ea(in), int(es))
		}
		vset(&c.XMM[in.Reg], imm&(16/es-1), es, v)
	case 0x21: // INSERTPS
		var v uint64
		if in.Mod == 3 {
			v = vget(c.XMM[in.RM], imm>>6, 4)
		} else {
			v = c.read(in.Seg, c.ea(in), 4)
		}
		r := c.XMM[in.Reg]
		vset(&r, imm>>4&3, 4, v)
		for i := uint(0); i < 4; i++ {
			if imm>>i&1 != 0 {
				vset(&r, i, 4, 0)
			}
		}
		c.XMM[in.Reg] = r
	}
}

// opRound: 66 0F 3A 08 ROUNDPS, 09 ROUNDPD, 0A ROUNDSS, 0B ROUNDSD.
// imm8[2] selects MXCSR.RC, else imm8[1:0]; imm8[3] suppresses the
// precision exception. SNaN inputs signal IE and are quieted.
func opRound(c *CPU, in *Inst) {
	c.sseAvail()
	op := uint8(in.Op)
	double := op&1 != 0
	scalar := op >= 0x0a
	var src [2]uint64
	if scalar {
		n := 4
		if double {
			n = 8
		}
		src[0] = c.xmmRMLow(in, n)
	} else {
		src = c.xmmRM(in, true)
	}
	imm := uint8(in.Imm)
	rc := imm & 3
	if imm&4 != 0 {
		rc = uint8(c.MXCSR>>mxRCShift) & 3
	}
	n := 4
	if double {
		n = 2
	}
	if scalar {
		n = 1
	}
	res := src
	if scalar {
		res = c.XMM[in.Reg]
	}
	var flags uint16
	for i := 0; i < n; i++ {
		e := c.sseEnv(double)
		v := c.laneIn(laneGet(src, i, double), double, &e)
		var r uint64
		if laneNaN(v, double) {
			if laneSNaN(v, double) {
				e.flags |= fswIE
			}
			r = quiet(v, double)
		} else {
			x := e.f80Round(toF80(v, double, &e), rc)
			if imm&8 != 0 {
				e.flags &^= fswPE
			}
			r = c.packLane(x, double, &e)
		}
		flags |= e.flags
		laneSet(&res, i, double, r)
	}
	c.sseFinish(flags)
	c.XMM[in.Reg] = res
}

// opDpp: 66 0F 3A 40 DPPS, 41 DPPD. imm8[7:4] (DPPD: [5:4]) selects the
// products, imm8[3:0] ([1:0]) the lanes that receive the sum; the
// products are rounded, then summed pairwise ((p0+p1)+(p2+p3)).
func opDpp(c *CPU, in *Inst) {
	c.sseAvail()
	double := uint8(in.Op) == 0x41
	s := c.xmmRM(in, true)
	d := c.XMM[in.Reg]
	imm := uint(in.Imm & 0xff)
	n := 4
	if double {
		n = 2
	}
	var flags uint16
	var p [4]uint64
	op := func(o uint8, a, b uint64) uint64 {
		e := c.sseEnv(double)
		r := c.laneArith(o, a, b, double, &e)
		flags |= e.flags
		return r
	}
	for i := 0; i < n; i++ {
		if imm>>(4+uint(i))&1 != 0 {
			p[i] = op(fpMul, laneGet(d, i, double), laneGet(s, i, double))
		}
	}
	var sum uint64
	if double {
		sum = op(fpAdd, p[0], p[1])
	} else {
		sum = op(fpAdd, op(fpAdd, p[0], p[1]), op(fpAdd, p[2], p[3]))
	}
	var r [2]uint64
	for i := 0; i < n; i++ {
		if imm>>uint(i)&1 != 0 {
			laneSet(&r, i, double, sum)
		}
	}
	c.sseFinish(flags)
	c.XMM[in.Reg] = r
}
