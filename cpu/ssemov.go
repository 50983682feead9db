package cpu

// SSE/SSE2/SSE3 data movement and bitwise operations: MOVUPS/MOVAPS/
// MOVSS/MOVSD and the PD forms, MOVLPS/MOVHPS/MOVHLPS/MOVLHPS, MOVD/MOVQ,
// MOVDQA/MOVDQU, MOVMSKPS/PD, PMOVMSKB, MOVNT*, ANDPS/ANDNPS/ORPS/XORPS,
// UNPCKLPS/UNPCKHPS, SHUFPS/SHUFPD, MOVSLDUP/MOVSHDUP/MOVDDUP, LDDQU.

// opMovUA: 0F 10/11 (MOVUPS/MOVUPD/MOVSS/MOVSD), 0F 28/29 (MOVAPS/APD),
// 0F 6F/7F with 66 (MOVDQA) or F3 (MOVDQU), 0F 2B/E7 (MOVNTPS/NTDQ),
// F2 0F F0 (LDDQU).
func opMovUA(c *CPU, in *Inst) {
	c.sseAvail()
	op := uint8(in.Op)
	store := op == 0x11 || op == 0x29 || op == 0x7f || op == 0x2b || op == 0xe7
	align := op == 0x28 || op == 0x29 || op == 0x2b || op == 0xe7 ||
		(op == 0x6f || op == 0x7f) && in.Prefixes&PfxOpSize != 0
	scalar := (op == 0x10 || op == 0x11) && in.Prefixes&(PfxRep|PfxRepne) != 0
	if scalar {
		n := 4
		if in.Prefixes&PfxRepne != 0 {
			n = 8
		}
		m := uint64(1)<<(8*uint(n)) - 1
		if n == 8 {
			m = ^uint64(0)
		}
		switch {
		case store && in.Mod != 3:
			c.write(in.Seg, c.ea(in), n, c.XMM[in.Reg][0]&m)
		case store:
			c.XMM[in.RM][0] = c.XMM[in.RM][0]&^m | c.XMM[in.Reg][0]&m
		case in.Mod != 3:
			c.XMM[in.Reg] = [2]uint64{c.read(in.Seg, c.ea(in), n), 0}
		default:
			c.XMM[in.Reg][0] = c.XMM[in.Reg][0]&^m | c.XMM[in.RM][0]&m
		}
		return
	}
	if store {
		if in.Mod == 3 {
			c.XMM[in.RM] = c.XMM[in.Reg]
			return
		}
		c.writeXMMMem(in, c.XMM[in.Reg], align)
		return
	}
	c.XMM[in.Reg] = c.xmmRM(in, align)
}

// opMovLH: 0F 12/13 (MOVLPS/MOVLPD, MOVHLPS), 0F 16/17 (MOVHPS/MOVHPD,
// MOVLHPS); F3 12/16 MOVSLDUP/MOVSHDUP, F2 12 MOVDDUP.
func opMovLH(c *CPU, in *Inst) {
	c.sseAvail()
	op := uint8(in.Op)
	hi := op >= 0x16
	switch {
	case in.Prefixes&PfxRep != 0: // MOVSLDUP / MOVSHDUP
		s := c.xmmRM(in, true)
		sh := uint(0)
		if hi {
			sh = 32
		}
		var r [2]uint64
		for i := 0; i < 2; i++ {
			w := s[i] >> sh & 0xffffffff
			r[i] = w | w<<32
		}
		c.XMM[in.Reg] = r
		return
	case in.Prefixes&PfxRepne != 0: // MOVDDUP
		v := c.xmmRMLow(in, 8)
		c.XMM[in.Reg] = [2]uint64{v, v}
		return
	}
	idx := 0
	if hi {
		idx = 1
	}
	if op&1 != 0 { // store forms 13/17: memory only
		if in.Mod == 3 {
			c.raise(ExcUD, 0)
		}
		c.write(in.Seg, c.ea(in), 8, c.XMM[in.Reg][idx])
		return
	}
	if in.Mod == 3 {
		if in.Prefixes&PfxOpSize != 0 {
			c.raise(ExcUD, 0) // MOVLPD/MOVHPD have no register form
		}
		if hi { // MOVLHPS
			c.XMM[in.Reg][1] = c.XMM[in.RM][0]
		} else { // MOVHLPS
			c.XMM[in.Reg][0] = c.XMM[in.RM][1]
		}
		return
	}
	c.XMM[in.Reg][idx] = c.read(in.Seg, c.ea(in), 8)
}

// opMovmsk: 0F 50 MOVMSKPS/PD, 66 0F D7 PMOVMSKB (XMM); the MMX PMOVMSKB
// is in mmx.go.
func opMovmsk(c *CPU, in *Inst) {
	c.sseAvail()
	if in.Mod != 3 {
		c.raise(ExcUD, 0)
	}
	v := c.XMM[in.RM]
	var m uint64
	switch {
	case uint8(in.Op) == 0xd7:
		for i := 0; i < 16; i++ {
			m |= (v[i>>3] >> (8*uint(i&7) + 7) & 1) << uint(i)
		}
	case in.Prefixes&PfxOpSize != 0:
		m = v[0]>>63 | v[1]>>63<<1
	default:
		m = v[0]>>31&1 | v[0]>>63<<1 | (v[1]>>31&1)<<2 | v[1]>>63<<3
	}
	c.regSet(in, in.Reg, 8, m)
}

// opSSELogic: 0F 54 ANDPS, 55 ANDNPS, 56 ORPS, 57 XORPS (and PD).
func opSSELogic(c *CPU, in *Inst) {
	c.sseAvail()
	s := c.xmmRM(in, true)
	d := &c.XMM[in.Reg]
	for i := range d {
		switch uint8(in.Op) {
		case 0x54:
			d[i] &= s[i]
		case 0x55:
			d[i] = ^d[i] & s[i]
		case 0x56:
			d[i] |= s[i]
		default:
			d[i] ^= s[i]
		}
	}
}

// opUnpckPS: 0F 14/15 UNPCKLPS/UNPCKHPS (PD with 66).
func opUnpckPS(c *CPU, in *Inst) {
	c.sseAvail()
	s := c.xmmRM(in, true)
	d := c.XMM[in.Reg]
	hi := in.Op&1 != 0
	if in.Prefixes&PfxOpSize != 0 {
		if hi {
			c.XMM[in.Reg] = [2]uint64{d[1], s[1]}
		} else {
			c.XMM[in.Reg] = [2]uint64{d[0], s[0]}
		}
		return
	}
	k := 0
	if hi {
		k = 1
	}
	a, b := d[k], s[k]
	c.XMM[in.Reg] = [2]uint64{a&0xffffffff | b<<32, a>>32 | b>>32<<32}
}

// opShufPS: 0F C6 ib SHUFPS / SHUFPD.
func opShufPS(c *CPU, in *Inst) {
	c.sseAvail()
	s := c.xmmRM(in, true)
	d := c.XMM[in.Reg]
	imm := in.Imm
	if in.Prefixes&PfxOpSize != 0 {
		c.XMM[in.Reg] = [2]uint64{d[imm&1], s[imm>>1&1]}
		return
	}
	g := func(v [2]uint64, i uint64) uint64 { return laneGet(v, int(i&3), false) }
	c.XMM[in.Reg] = [2]uint64{g(d, imm) | g(d, imm>>2)<<32, g(s, imm>>4) | g(s, imm>>6)<<32}
}

// opMovdq: 0F 6E/7E MOVD/MOVQ between XMM (66) and r/m; F3 0F 7E MOVQ
// xmm, xmm/m64; 66 0F D6 MOVQ xmm/m64, xmm.
func opMovdq(c *CPU, in *Inst) {
	c.sseAvail()
	op := uint8(in.Op)
	switch {
	case op == 0x7e && in.Prefixes&PfxRep != 0:
		c.XMM[in.Reg] = [2]uint64{c.xmmRMLow(in, 8), 0}
	case op == 0xd6:
		if in.Mod == 3 {
			c.XMM[in.RM] = [2]uint64{c.XMM[in.Reg][0], 0}
		} else {
			c.write(in.Seg, c.ea(in), 8, c.XMM[in.Reg][0])
		}
	case op == 0x6e:
		sz := uint8(4)
		if in.Rex&RexW != 0 {
			sz = 8
		}
		c.XMM[in.Reg] = [2]uint64{c.rmRead(in, sz), 0}
	default: // 7E
		sz := uint8(4)
		if in.Rex&RexW != 0 {
			sz = 8
		}
		v := c.XMM[in.Reg][0]
		if sz == 4 {
			v &= 0xffffffff
		}
		c.rmWrite(in, sz, v)
	}
}

// opMovnti: 0F C3 MOVNTI m32/m64, r.
func opMovnti(c *CPU, in *Inst) {
	if in.Mod == 3 {
		c.raise(ExcUD, 0)
	}
	sz := uint8(4)
	if in.Rex&RexW != 0 {
		sz = 8
	}
	c.write(in.Seg, c.ea(in), int(sz), c.regGet(in, in.Reg, sz))
}
