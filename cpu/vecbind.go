package cpu

// vecBind selects the handler of an MMX/SSE form by opcode and mandatory
// prefix (SDM Vol. 2D Table A-3: 66, F3 and F2 select the form; a prefix
// the form does not define is #UD). Forms not implemented yet are #UD.
func (c *CPU) vecBind(in *Inst) handler {
	f := &c.model.fp
	op := in.Op
	p66 := in.Prefixes&PfxOpSize != 0
	pF3 := in.Prefixes&PfxRep != 0
	pF2 := in.Prefixes&PfxRepne != 0
	none := !p66 && !pF3 && !pF2
	sse := f.sse
	sse2 := f.sse2
	// need reports whether the prefix/feature combination is defined:
	// ps (no prefix, SSE), pd/ss/sd as given.
	fp := func(ps, pd, ss, sd bool) bool {
		switch {
		case pF3:
			return ss && sse
		case pF2:
			return sd && sse2
		case p66:
			return pd && sse2
		}
		return ps && sse
	}
	mmxOr66 := func() handler {
		// An MMX form without prefix, an SSE2 form with 66.
		switch {
		case pF3 || pF2:
			return opUD
		case p66 && sse2, !p66 && f.mmx:
			return opVecInt
		}
		return opUD
	}
	if op>>8 == 1 {
		o := uint8(op)
		switch {
		case o == 0x10 || o == 0x11:
			if fp(true, true, true, true) {
				return opMovUA
			}
		case o == 0x12 || o == 0x13 || o == 0x16 || o == 0x17:
			if o&1 == 0 && (pF3 && f.sse3 || pF2 && o == 0x12 && f.sse3) {
				return opMovLH
			}
			// Stores (13/17) and MOVLPD/MOVHPD take memory only.
			if fp(true, true, false, false) && (in.Mod != 3 || o&1 == 0 && !p66) {
				return opMovLH
			}
		case o == 0x14 || o == 0x15:
			if fp(true, true, false, false) {
				return opUnpckPS
			}
		case o == 0x28 || o == 0x29 || o == 0x2b:
			if fp(true, true, false, false) {
				if o == 0x2b && in.Mod == 3 {
					return opUD
				}
				return opMovUA
			}
		case o == 0x2e || o == 0x2f:
			if fp(true, true, false, false) {
				return opComis
			}
		case o == 0x2a || o == 0x2c || o == 0x2d:
			if fp(false, false, true, true) {
				return opCvtScalarInt
			}
			if fp(true, true, false, false) {
				return opCvtPI
			}
		case o == 0x52 || o == 0x53:
			if fp(true, false, true, false) {
				return opRcp
			}
		case o == 0x50:
			if fp(true, true, false, false) && in.Mod == 3 {
				return opMovmsk
			}
		case o == 0x51 || o == 0x58 || o == 0x59 || o >= 0x5c && o <= 0x5f:
			if fp(true, true, true, true) {
				return opSSEArith
			}
		case o >= 0x54 && o <= 0x57:
			if fp(true, true, false, false) {
				return opSSELogic
			}
		case o == 0x5a || o == 0x5b:
			if o == 0x5a && fp(true, true, true, true) || o == 0x5b && (none && sse2 || p66 && sse2 || pF3 && sse2) {
				return opCvtPacked
			}
		case o == 0xe6:
			if (p66 || pF3 || pF2) && sse2 {
				return opCvtPacked
			}
		case o == 0xc2:
			if fp(true, true, true, true) {
				return opSSECmp
			}
		case o == 0xc6:
			if fp(true, true, false, false) {
				return opShufPS
			}
		case o == 0xc3:
			if none && sse2 && in.Mod != 3 {
				return opMovnti
			}
		case o == 0x6e || o == 0x7e:
			switch {
			case o == 0x7e && pF3 && sse2:
				return opMovdq
			case p66 && sse2:
				return opMovdq
			case none && f.mmx:
				return opMmxMov
			}
		case o == 0x6f || o == 0x7f:
			switch {
			case (p66 || pF3) && sse2:
				return opMovUA
			case none && f.mmx:
				return opMmxMov
			}
		case o == 0xe7:
			switch {
			case p66 && sse2 && in.Mod != 3:
				return opMovUA
			case none && sse && in.Mod != 3:
				return opMmxMov
			}
		case o == 0xd6:
			if p66 && sse2 {
				return opMovdq
			}
			if (pF3 || pF2) && sse2 && in.Mod == 3 {
				return opMovq2dq
			}
		case o == 0xf7:
			if in.Mod == 3 && (none && sse || p66 && sse2) {
				return opMaskmov
			}
		case o == 0xd7:
			switch {
			case p66 && sse2 && in.Mod == 3:
				return opMovmsk
			case none && sse && in.Mod == 3:
				return opPmovmskbMMX
			}
		case o == 0x70:
			switch {
			case (pF3 || pF2) && sse2:
				return opPshufLH
			case p66 && sse2, none && sse:
				return opVecInt
			}
		case o >= 0x71 && o <= 0x73:
			r := in.Reg & 7
			okReg := r == 2 || r == 6 || r == 4 && o != 0x73 || (r == 3 || r == 7) && o == 0x73 && p66
			if okReg && in.Mod == 3 && !pF3 && !pF2 && (p66 && sse2 || !p66 && f.mmx) {
				return opVecShiftImm
			}
		case o == 0x77:
			if none && f.mmx {
				return opEmms
			}
		case o == 0xc4 || o == 0xc5:
			if !pF3 && !pF2 && (p66 && sse2 || !p66 && sse) {
				if o == 0xc4 {
					return opPinsrw
				}
				return opPextrw
			}
		case o == 0xd4 || o == 0xf4 || o == 0xfb:
			// PADDQ, PMULUDQ, PSUBQ: SSE2 in MMX form too.
			if none && sse2 || p66 && sse2 {
				return opVecInt
			}
		case o == 0xda || o == 0xde || o == 0xe0 || o == 0xe3 || o == 0xe4 || o == 0xea || o == 0xee || o == 0xf6:
			// SSE integer additions to MMX.
			if none && sse || p66 && sse2 {
				return opVecInt
			}
		case o == 0x6c || o == 0x6d:
			if p66 && sse2 {
				return opVecInt
			}
		case o >= 0x60 && o <= 0x6b, o >= 0x74 && o <= 0x76,
			o >= 0xd1 && o <= 0xd3, o == 0xd5, o >= 0xd8 && o <= 0xd9, o >= 0xdb && o <= 0xdd, o == 0xdf,
			o >= 0xe1 && o <= 0xe2, o == 0xe5, o >= 0xe8 && o <= 0xe9, o >= 0xeb && o <= 0xed, o == 0xef,
			o >= 0xf1 && o <= 0xf3, o == 0xf5, o >= 0xf8 && o <= 0xfa, o >= 0xfc && o <= 0xfe:
			return mmxOr66()
		case o == 0x7c || o == 0x7d || o == 0xd0:
			if (p66 || pF2) && f.sse3 {
				return opHaddsub
			}
		case o == 0xf0:
			if pF2 && f.sse3 && in.Mod != 3 {
				return opMovUA // LDDQU
			}
		}
		return opUD
	}
	if pF3 || pF2 {
		return opUD
	}
	switch op >> 8 {
	case 2:
		return c.bind0F38(in, uint8(op), p66)
	case 3:
		return c.bind0F3A(in, uint8(op), p66)
	}
	return opUD
}

// bind0F38 binds the 0F 38 vector forms (no prefix: MMX, 66: XMM; F3/F2
// were rejected by the caller).
func (c *CPU) bind0F38(in *Inst, o uint8, p66 bool) handler {
	f := &c.model.fp
	switch {
	case o == 0x00:
		if f.ssse3 {
			return opPshufb
		}
	case o <= 0x0b || o >= 0x1c && o <= 0x1e:
		if f.ssse3 {
			return opSsse3
		}
	case !p66:
	case o == 0x37:
		if f.sse42 {
			return opSse41
		}
	case o == 0x2a:
		if f.sse41 && in.Mod != 3 {
			return opMovntdqa
		}
	case o == 0x10 || o == 0x14 || o == 0x15 || o == 0x17 || o >= 0x20 && o <= 0x25 ||
		o >= 0x28 && o <= 0x29 || o == 0x2b || o >= 0x30 && o <= 0x35 || o >= 0x38 && o <= 0x41:
		if f.sse41 {
			return opSse41
		}
	}
	return opUD
}

// bind0F3A binds the 0F 3A vector forms.
func (c *CPU) bind0F3A(in *Inst, o uint8, p66 bool) handler {
	f := &c.model.fp
	switch {
	case o == 0x0f:
		if f.ssse3 {
			return opPalignr
		}
	case !p66:
	case o >= 0x08 && o <= 0x0b:
		if f.sse41 {
			return opRound
		}
	case o >= 0x0c && o <= 0x0e || o == 0x42:
		if f.sse41 {
			return opSse41
		}
	case o >= 0x14 && o <= 0x17 || o >= 0x20 && o <= 0x22:
		if f.sse41 {
			return opInsExt
		}
	case o == 0x40 || o == 0x41:
		if f.sse41 {
			return opDpp
		}
	case o >= 0x60 && o <= 0x63:
		if f.sse42 {
			return opPcmpstr
		}
	}
	return opUD
}
