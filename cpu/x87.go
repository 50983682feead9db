package cpu

// The x87 unit: register stack, tags, exception bookkeeping and the
// escape-opcode dispatcher (SDM Vol. 1 ch. 8, Vol. 2 D8-DF, Vol. 2D
// Tables A-7..A-22). Handlers are chosen once per decode by x87Bind.

func (c *CPU) fTop() int { return int(c.FSW>>11) & 7 }

func (c *CPU) setTop(t int) { c.FSW = c.FSW&^fswTop | uint16(t&7)<<11 }

// phys returns the physical register number of ST(i).
func (c *CPU) phys(i int) int { return (c.fTop() + i) & 7 }

func (c *CPU) stEmpty(i int) bool { return c.FTW>>uint(c.phys(i))&1 == 0 }

func (c *CPU) st(i int) F80 { return c.ST[c.phys(i)] }

// setST writes ST(i) and tags it valid.
func (c *CPU) setST(i int, v F80) {
	p := c.phys(i)
	c.ST[p] = v
	c.FTW |= 1 << uint(p)
}

// fpush decrements TOP and writes ST(0).
func (c *CPU) fpush(v F80) {
	c.setTop(c.fTop() - 1)
	c.setST(0, v)
}

// fpop marks ST(0) empty and increments TOP.
func (c *CPU) fpop() {
	c.FTW &^= 1 << uint(c.fTop())
	c.setTop(c.fTop() + 1)
}

// fpuAvailable raises #NM for an x87 instruction when CR0.EM or CR0.TS
// is set (Vol. 3A 2.5, Table 2-2).
func (c *CPU) fpuAvailable() {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		c.raise(ExcNM, 0)
	}
}

// fwaitCheck delivers a pending unmasked x87 exception at a waiting
// instruction: #MF with CR0.NE = 1, else the FERR# line (IRQ 13 through
// the machine) and the instruction proceeds, as with IGNNE# asserted.
func (c *CPU) fwaitCheck() {
	if c.FSW&fswES == 0 {
		return
	}
	if c.CR0&CR0NE != 0 {
		c.raise(ExcMF, 0)
	}
	if c.fpuHooks.FERR != nil {
		c.fpuHooks.FERR(true)
	}
}

// x87Begin is the prologue of a waiting, non-control x87 instruction
// without a memory operand: #NM, pending #MF, and the instruction
// pointer/opcode registers.
func (c *CPU) x87Begin(in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	c.FIP = c.ip0
	c.FCS = c.Seg[CS].Sel
	c.FOP = uint16(in.Op&7)<<8 | uint16(in.ModRM)
}

// x87BeginMem is x87Begin for a memory operand: it also records the
// data pointer, and returns the operand offset.
func (c *CPU) x87BeginMem(in *Inst) uint64 {
	c.x87Begin(in)
	off := c.ea(in)
	c.FDP = off
	c.FDS = c.Seg[in.Seg].Sel
	return off
}

// x87Finish merges the exceptions of an operation into FSW and reports
// whether the destination may be written: unmasked invalid-operation,
// denormal and divide-by-zero exceptions suppress the result (Vol. 1
// 4.9.2); unmasked overflow/underflow deliver a bias-adjusted one.
func (c *CPU) x87Finish(e *fpEnv) bool {
	f := e.flags
	if f&fswIE != 0 {
		f &^= fswDE // invalid takes precedence over denormal
	}
	un := f &^ e.mask & fswExc
	ok := true
	switch {
	case un&fswIE != 0:
		f &= fswIE | fswSF
		ok = false
	case un&fswDE != 0:
		f = fswDE
		ok = false
	case un&fswZE != 0:
		f &= fswDE | fswZE
		ok = false
	}
	c.FSW |= f
	c.FSW &^= fswC1
	if ok && f&fswPE != 0 && e.up {
		c.FSW |= fswC1
	}
	if f&^e.mask&fswExc != 0 {
		c.FSW |= fswES | fswB
	}
	return ok
}

// stackUnderflow records an empty-register source: IE+SF with C1=0.
// It reports whether the masked response (store the indefinite) applies.
func (c *CPU) stackUnderflow() bool {
	c.FSW = c.FSW&^fswC1 | fswIE | fswSF
	if c.FCW&fswIE == 0 {
		c.FSW |= fswES | fswB
		return false
	}
	return true
}

// stackOverflow records a push onto a non-empty register: IE+SF, C1=1.
func (c *CPU) stackOverflow() bool {
	c.FSW |= fswC1 | fswIE | fswSF
	if c.FCW&fswIE == 0 {
		c.FSW |= fswES | fswB
		return false
	}
	return true
}

// pushCheck reports whether a push may proceed; on overflow with IE
// masked it pushes the indefinite and reports false.
func (c *CPU) pushCheck() bool {
	if c.FTW>>uint((c.fTop()-1)&7)&1 == 0 {
		return true
	}
	if c.stackOverflow() {
		c.fpush(f80Indefinite)
	}
	return false
}

// x87Bind returns the handler of an escape instruction D8-DF.
func (c *CPU) x87Bind(in *Inst) handler {
	op := in.Op & 7
	r := in.Reg & 7
	if in.Mod != 3 {
		switch op {
		case 0: // D8: arithmetic with m32fp
			if r == 2 || r == 3 {
				return opFcomMem
			}
			return opFarithMem
		case 1:
			switch r {
			case 0:
				return opFldMem
			case 1:
				return opUD
			case 2, 3:
				return opFstMem
			case 4:
				return opFldenv
			case 5:
				return opFldcw
			case 6:
				return opFnstenv
			}
			return opFnstcw
		case 2, 6: // DA/DE: arithmetic with m32int/m16int
			if r == 2 || r == 3 {
				return opFcomMem
			}
			return opFarithMem
		case 3:
			switch r {
			case 0, 5:
				return opFldMem
			case 1:
				return c.fisttpBind()
			case 2, 3, 7:
				return opFstMem
			}
			return opUD
		case 4:
			if r == 2 || r == 3 {
				return opFcomMem
			}
			return opFarithMem
		case 5:
			switch r {
			case 0:
				return opFldMem
			case 1:
				return c.fisttpBind()
			case 2, 3:
				return opFstMem
			case 4:
				return opFrstor
			case 5:
				return opUD
			case 6:
				return opFnsave
			}
			return opFnstswMem
		case 7:
			switch r {
			case 0, 5:
				return opFldMem
			case 1:
				return c.fisttpBind()
			case 2, 3, 7:
				return opFstMem
			case 4:
				return opFbld
			}
			return opFbstp
		}
	}
	m := in.ModRM
	switch op {
	case 0:
		if r == 2 || r == 3 {
			return opFcomReg
		}
		return opFarithReg
	case 1:
		switch {
		case r == 0:
			return opFldReg
		case r == 1:
			return opFxch
		case m == 0xd0:
			return opFnop
		case r == 3: // D9 D8+i: FSTP1, an alias of FSTP ST(i)
			return opFstReg
		case m == 0xe0, m == 0xe1:
			return opFchsAbs
		case m == 0xe4:
			return opFtst
		case m == 0xe5:
			return opFxam
		case m >= 0xe8 && m <= 0xee:
			return opFldConst
		case m == 0xf0:
			return opF2xm1
		case m == 0xf1:
			return opFyl2x
		case m == 0xf2:
			return opFptan
		case m == 0xf3:
			return opFpatan
		case m == 0xf4:
			return opFxtract
		case m == 0xf5, m == 0xf8:
			return opFprem
		case m == 0xf6, m == 0xf7:
			return opFincdecstp
		case m == 0xf9:
			return opFyl2xp1
		case m == 0xfa:
			return opFsqrt
		case m == 0xfb:
			return opFsincos
		case m == 0xfc:
			return opFrndint
		case m == 0xfd:
			return opFscale
		case m == 0xfe, m == 0xff:
			return opFsinCos
		}
		return opUD
	case 2:
		switch {
		case r < 4:
			return opFcmov
		case m == 0xe9:
			return opFucompp
		}
		return opUD
	case 3:
		switch {
		case r < 4:
			return opFcmov
		case m == 0xe2:
			return opFnclex
		case m == 0xe3:
			return opFninit
		case m == 0xe0, m == 0xe1, m == 0xe4:
			return opFnopCtl // FENI/FDISI/FSETPM: no-ops on a 387 and later
		case r == 5, r == 6:
			return opFcomi
		}
		return opUD
	case 4:
		if r == 2 || r == 3 { // FCOM2/FCOMP3 aliases
			return opFcomReg
		}
		return opFarithReg
	case 5:
		switch r {
		case 0:
			return opFfree
		case 1:
			return opFxch // FXCH4 alias
		case 2, 3:
			return opFstReg
		case 4, 5:
			return opFcomReg // FUCOM/FUCOMP
		}
		return opUD
	case 6:
		switch {
		case r == 2: // FCOMP5 alias
			return opFcomReg
		case r == 3:
			if m == 0xd9 {
				return opFcompp
			}
			return opUD
		}
		return opFarithReg
	case 7:
		switch {
		case r == 0:
			return opFfree // FFREEP
		case r == 1:
			return opFxch // FXCH7 alias
		case r == 2, r == 3:
			return opFstReg // FSTP8/FSTP9 aliases
		case m == 0xe0:
			return opFnstswAX
		case r == 5, r == 6:
			return opFcomi
		}
		return opUD
	}
	return opUD
}

func (c *CPU) fisttpBind() handler {
	if !c.model.fp.sse3 {
		return opUD
	}
	return opFstMem
}

// opFwaitFPU: 9B with an FPU. #NM only when CR0.MP and CR0.TS are both
// set; then a pending unmasked exception is delivered.
func opFwaitFPU(c *CPU, in *Inst) {
	if c.CR0&(CR0MP|CR0TS) == CR0MP|CR0TS {
		c.raise(ExcNM, 0)
	}
	c.fwaitCheck()
}

// opFnop: D9 D0, a non-control instruction (it updates FIP/FOP).
func opFnop(c *CPU, in *Inst) { c.x87Begin(in) }

// opFnopCtl: DB E0/E1/E4, legacy 8087/287 controls ignored by the 387+.
func opFnopCtl(c *CPU, in *Inst) { c.fpuAvailable() }

// opFincdecstp: D9 F6 FDECSTP, D9 F7 FINCSTP.
func opFincdecstp(c *CPU, in *Inst) {
	c.x87Begin(in)
	if in.ModRM == 0xf6 {
		c.setTop(c.fTop() - 1)
	} else {
		c.setTop(c.fTop() + 1)
	}
	c.FSW &^= fswC1
}

// opFfree: DD C0+i FFREE, DF C0+i FFREEP (free, then pop).
func opFfree(c *CPU, in *Inst) {
	c.x87Begin(in)
	c.FSW &^= fswC1 // C1 is undefined; the oracle clears it
	c.FTW &^= 1 << uint(c.phys(int(in.RM&7)))
	if in.Op&7 == 7 {
		c.fpop()
	}
}

// opFxch: D9 C8+i and its aliases.
func opFxch(c *CPU, in *Inst) {
	c.x87Begin(in)
	i := int(in.RM & 7)
	c.FSW &^= fswC1
	a, b := c.st(0), c.st(i)
	if c.stEmpty(0) || c.stEmpty(i) {
		if !c.stackUnderflow() {
			return
		}
		if c.stEmpty(0) {
			a = f80Indefinite
		}
		if c.stEmpty(i) {
			b = f80Indefinite
		}
	}
	c.setST(0, b)
	c.setST(i, a)
}

// opFcmov: DA/DB C0-DF.
func opFcmov(c *CPU, in *Inst) {
	c.x87Begin(in)
	i := int(in.RM & 7)
	var cond bool
	switch in.Reg & 3 {
	case 0:
		cond = c.cf()
	case 1:
		cond = c.zf()
	case 2:
		cond = c.cf() || c.zf()
	case 3:
		cond = c.pf()
	}
	if in.Op&7 == 3 {
		cond = !cond
	}
	if c.stEmpty(0) || c.stEmpty(i) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	if cond {
		c.setST(0, c.st(i))
	}
}

// opFchsAbs: D9 E0 FCHS, D9 E1 FABS.
func opFchsAbs(c *CPU, in *Inst) {
	c.x87Begin(in)
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(0, f80Indefinite)
		}
		return
	}
	c.FSW &^= fswC1
	v := c.st(0)
	if in.ModRM == 0xe0 {
		v = v.neg()
	} else {
		v = v.abs()
	}
	c.setST(0, v)
}

// opFldConst: D9 E8-EE. The constants are held with more precision than
// 64 bits; under round-down/toward-zero (and up for L2T) the hardware
// delivers the neighbour of the nearest value (SDM Vol. 1 8.3.8).
func opFldConst(c *CPU, in *Inst) {
	c.x87Begin(in)
	if !c.pushCheck() {
		return
	}
	rc := uint8(c.FCW>>10) & 3
	var v F80
	switch in.ModRM {
	case 0xe8:
		v = f80One
	case 0xe9: // log2(10): the nearest value is below the true one
		v = F80{Mant: 0xd49a784bcd1b8afe, SExp: 0x4000}
		if rc == rcUp {
			v.Mant++
		}
	case 0xea, 0xeb, 0xec, 0xed:
		// log2(e), pi, log10(2), ln(2): nearest is above the true value.
		switch in.ModRM {
		case 0xea:
			v = F80{Mant: 0xb8aa3b295c17f0bc, SExp: 0x3fff}
		case 0xeb:
			v = F80{Mant: 0xc90fdaa22168c235, SExp: 0x4000}
		case 0xec:
			v = F80{Mant: 0x9a209a84fbcff799, SExp: 0x3ffd}
		default:
			v = F80{Mant: 0xb17217f7d1cf79ac, SExp: 0x3ffe}
		}
		if rc == rcDown || rc == rcZero {
			v.Mant--
		}
	case 0xee:
		v = F80{}
	}
	c.FSW &^= fswC1
	c.fpush(v)
}

// fregOperand returns ST(i) or reports a stack underflow (with the
// masked response left to the caller).
func (c *CPU) fregPair(i int) (a, b F80, ok bool) {
	if c.stEmpty(0) || c.stEmpty(i) {
		return F80{}, F80{}, false
	}
	return c.st(0), c.st(i), true
}
