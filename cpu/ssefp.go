package cpu

// SSE/SSE2/SSE3 floating point: packed and scalar single and double
// arithmetic, MIN/MAX, CMP, COMIS/UCOMIS, conversions, under MXCSR
// (rounding control, DAZ, FTZ, flags and masks). Values are computed
// exactly and rounded once to the destination format by the software
// rounder of f80.go, so every rounding mode, flag and NaN rule is
// explicit rather than inherited from the host.

// sseKind: the lane format of an instruction.
const (
	lanePS = iota // packed single (no prefix)
	lanePD        // packed double (66)
	laneSS        // scalar single (F3)
	laneSD        // scalar double (F2)
)

func laneKind(in *Inst) int {
	switch {
	case in.Prefixes&PfxRep != 0:
		return laneSS
	case in.Prefixes&PfxRepne != 0:
		return laneSD
	case in.Prefixes&PfxOpSize != 0:
		return lanePD
	}
	return lanePS
}

// sseEnv starts an SSE operation: MXCSR rounding, all exceptions masked
// for computing (the unmasked ones are checked once for all lanes).
func (c *CPU) sseEnv(double bool) fpEnv {
	e := fpEnv{rc: uint8(c.MXCSR>>mxRCShift) & 3, prec: 64, mask: fswExc, spec: specF32}
	if double {
		e.spec = specF64
	}
	return e
}

// sseFinish merges flags into MXCSR and raises #XM (or #UD without
// CR4.OSXMMEXCPT) for an unmasked exception; the destination is then not
// written (the caller writes only after sseFinish returns).
func (c *CPU) sseFinish(flags uint16) {
	f := uint32(flags) & 0x3f
	c.MXCSR |= f
	if f&^(c.MXCSR>>mxMaskShift) != 0 {
		if c.CR4&CR4OSXMMEXCPT == 0 {
			c.raise(ExcUD, 0)
		}
		c.raise(ExcXM, 0)
	}
}

// Lane unpacking with DAZ.

func isDen32(v uint32) bool  { return v&0x7f800000 == 0 && v&0x7fffff != 0 }
func isDen64(v uint64) bool  { return v&0x7ff0000000000000 == 0 && v&(1<<52-1) != 0 }
func isNaN32(v uint32) bool  { return v&0x7fffffff > 0x7f800000 }
func isNaN64(v uint64) bool  { return v&(1<<63-1) > 0x7ff0000000000000 }
func isSNaN32(v uint32) bool { return isNaN32(v) && v&0x400000 == 0 }
func isSNaN64(v uint64) bool { return isNaN64(v) && v&(1<<51) == 0 }

// laneIn applies DAZ (denormal inputs become signed zeros, without DE)
// and raises DE for a denormal input otherwise.
func (c *CPU) laneIn(v uint64, double bool, e *fpEnv) uint64 {
	if double {
		if isDen64(v) {
			if c.MXCSR&mxDAZ != 0 {
				return v & (1 << 63)
			}
			e.bDen = true
		}
		return v
	}
	if isDen32(uint32(v)) {
		if c.MXCSR&mxDAZ != 0 {
			return v & (1 << 31)
		}
		e.bDen = true
	}
	return v
}

func toF80(v uint64, double bool, e *fpEnv) F80 {
	if double {
		return e.f80FromF64(v)
	}
	return e.f80FromF32(uint32(v))
}

// packLane stores an F80 already representable in the lane format (as
// roundPack leaves it), applying FTZ to tiny results.
func (c *CPU) packLane(r F80, double bool, e *fpEnv) uint64 {
	if e.tiny && c.MXCSR&mxFTZ != 0 && r.exp() != f80ExpMax {
		// Flush to zero: underflow masked, the result tiny.
		e.flags |= fswUE | fswPE
		if double {
			return uint64(r.SExp>>15) << 63
		}
		return uint64(r.SExp>>15) << 31
	}
	if double {
		return packF64(r)
	}
	return uint64(packF32(r))
}

func packF32(r F80) uint32 {
	s := uint32(r.SExp>>15) << 31
	switch {
	case r.Mant == 0:
		return s
	case r.exp() == f80ExpMax:
		return s | 0x7f800000 | uint32(r.Mant>>40)&0x7fffff
	}
	ex := int32(r.SExp&0x7fff) - f80Bias + 127
	if ex <= 0 {
		return s | uint32(r.Mant>>40)
	}
	return s | uint32(ex)<<23 | uint32(r.Mant>>40)&0x7fffff
}

func packF64(r F80) uint64 {
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

func quiet(v uint64, double bool) uint64 {
	if double {
		return v | 1<<51
	}
	return v | 1<<22
}

func laneNaN(v uint64, double bool) bool {
	if double {
		return isNaN64(v)
	}
	return isNaN32(uint32(v))
}

func laneSNaN(v uint64, double bool) bool {
	if double {
		return isSNaN64(v)
	}
	return isSNaN32(uint32(v))
}

func defaultNaN(double bool) uint64 {
	if double {
		return 0xfff8000000000000
	}
	return 0xffc00000
}

// Arithmetic operation codes (the 0F 5x opcode low bits).
const (
	fpAdd  = 0x58
	fpMul  = 0x59
	fpSub  = 0x5c
	fpMin  = 0x5d
	fpDiv  = 0x5e
	fpMax  = 0x5f
	fpSqrt = 0x51
)

// laneArith computes one lane of a op b.
func (c *CPU) laneArith(op uint8, a, b uint64, double bool, e *fpEnv) uint64 {
	if op != fpSqrt { // SQRT ignores its first operand
		a = c.laneIn(a, double, e)
	}
	b = c.laneIn(b, double, e)
	if op == fpMin || op == fpMax {
		// Any NaN (quiet too) is invalid; a NaN or two zeros give the
		// second operand unchanged (SDM MINPS/MAXPS).
		if laneNaN(a, double) || laneNaN(b, double) {
			e.flags |= fswIE
			return b
		}
		if e.bDen {
			e.flags |= fswDE
		}
		fa, fb := toF80(a, double, e), toF80(b, double, e)
		r := e.compare(fa, fb, true)
		if op == fpMin && r < 0 || op == fpMax && r > 0 {
			return a
		}
		return b
	}
	if op == fpSqrt {
		if laneNaN(b, double) {
			if laneSNaN(b, double) {
				e.flags |= fswIE
			}
			return quiet(b, double)
		}
		fb := toF80(b, double, e)
		r := e.f80Sqrt(fb)
		if e.bDen && e.flags&fswIE == 0 {
			e.flags |= fswDE // √(negative denormal) is IE alone
		}
		if e.flags&fswIE != 0 && r == f80Indefinite {
			return defaultNaN(double)
		}
		return c.packLane(r, double, e)
	}
	if laneNaN(a, double) || laneNaN(b, double) {
		if laneSNaN(a, double) || laneSNaN(b, double) {
			e.flags |= fswIE
		}
		if laneNaN(a, double) {
			return quiet(a, double) // the first source NaN wins
		}
		return quiet(b, double)
	}
	// DE comes from the operations (e.bDen): x/0 reports ZE alone.
	fa, fb := toF80(a, double, e), toF80(b, double, e)
	var r F80
	switch op {
	case fpAdd:
		r = e.f80Add(fa, fb, false)
	case fpSub:
		r = e.f80Add(fa, fb, true)
	case fpMul:
		r = e.f80Mul(fa, fb)
	default:
		r = e.f80Div(fa, fb)
	}
	if e.flags&fswIE != 0 && r == f80Indefinite {
		return defaultNaN(double)
	}
	return c.packLane(r, double, e)
}

// lanes applies f to each lane of the 128-bit operands.
func laneGet(v [2]uint64, i int, double bool) uint64 {
	if double {
		return v[i]
	}
	return v[i>>1] >> (32 * uint(i&1)) & 0xffffffff
}

func laneSet(v *[2]uint64, i int, double bool, x uint64) {
	if double {
		v[i] = x
		return
	}
	sh := 32 * uint(i&1)
	v[i>>1] = v[i>>1]&^(0xffffffff<<sh) | (x&0xffffffff)<<sh
}

// sseSrc reads the source of a packed or scalar operation.
func (c *CPU) sseSrc(in *Inst, kind int) [2]uint64 {
	switch kind {
	case laneSS:
		return [2]uint64{c.xmmRMLow(in, 4), 0}
	case laneSD:
		return [2]uint64{c.xmmRMLow(in, 8), 0}
	}
	return c.xmmRM(in, true)
}

// opSSEArith: 0F 51 58 59 5C 5D 5E 5F in the four lane kinds.
func opSSEArith(c *CPU, in *Inst) {
	c.sseAvail()
	kind := laneKind(in)
	double := kind == lanePD || kind == laneSD
	src := c.sseSrc(in, kind)
	dst := c.XMM[in.Reg]
	n := 4
	if double {
		n = 2
	}
	if kind >= laneSS {
		n = 1
	}
	var flags uint16
	res := dst
	op := uint8(in.Op)
	for i := 0; i < n; i++ {
		e := c.sseEnv(double)
		r := c.laneArith(op, laneGet(dst, i, double), laneGet(src, i, double), double, &e)
		flags |= e.flags
		laneSet(&res, i, double, r)
	}
	c.sseFinish(flags)
	c.XMM[in.Reg] = res
}

// laneCmp evaluates CMPPS predicate p (0-7) on one lane.
func (c *CPU) laneCmp(p uint8, a, b uint64, double bool, e *fpEnv) bool {
	a = c.laneIn(a, double, e)
	b = c.laneIn(b, double, e)
	if laneNaN(a, double) || laneNaN(b, double) {
		// LT, LE, NLT, NLE signal on QNaN as well.
		if laneSNaN(a, double) || laneSNaN(b, double) || p&3 == 1 || p&3 == 2 {
			e.flags |= fswIE
		}
		return p >= 3 && p <= 6 // UNORD NEQ NLT NLE hold for unordered
	}
	if e.bDen {
		e.flags |= fswDE
	}
	r := e.compare(toF80(a, double, e), toF80(b, double, e), true)
	var t bool
	switch p & 3 {
	case 0:
		t = r == 0
	case 1:
		t = r < 0
	case 2:
		t = r <= 0
	case 3:
		t = false // UNORD is false for ordered operands (ORD, 7, true)
	}
	if p&4 != 0 {
		t = !t
	}
	return t
}

// opSSECmp: 0F C2 ib.
func opSSECmp(c *CPU, in *Inst) {
	c.sseAvail()
	kind := laneKind(in)
	double := kind == lanePD || kind == laneSD
	src := c.sseSrc(in, kind)
	dst := c.XMM[in.Reg]
	n := 4
	if double {
		n = 2
	}
	if kind >= laneSS {
		n = 1
	}
	var flags uint16
	res := dst
	p := uint8(in.Imm) & 7
	for i := 0; i < n; i++ {
		e := c.sseEnv(double)
		var v uint64
		if c.laneCmp(p, laneGet(dst, i, double), laneGet(src, i, double), double, &e) {
			v = ^uint64(0)
		}
		flags |= e.flags
		laneSet(&res, i, double, v)
	}
	c.sseFinish(flags)
	c.XMM[in.Reg] = res
}

// opComis: 0F 2E UCOMISS/UCOMISD, 0F 2F COMISS/COMISD.
func opComis(c *CPU, in *Inst) {
	c.sseAvail()
	double := in.Prefixes&PfxOpSize != 0
	n := 4
	if double {
		n = 8
	}
	b := c.xmmRMLow(in, n)
	a := c.XMM[in.Reg][0]
	if !double {
		a &= 0xffffffff
	}
	e := c.sseEnv(double)
	a = c.laneIn(a, double, &e)
	b = c.laneIn(b, double, &e)
	var f uint64
	if laneNaN(a, double) || laneNaN(b, double) {
		if in.Op == Map0F|0x2f || laneSNaN(a, double) || laneSNaN(b, double) {
			e.flags |= fswIE
		}
		f = FlagZF | FlagPF | FlagCF
	} else {
		if e.bDen {
			e.flags |= fswDE
		}
		switch e.compare(toF80(a, double, &e), toF80(b, double, &e), true) {
		case -1:
			f = FlagCF
		case 0:
			f = FlagZF
		}
	}
	c.sseFinish(e.flags)
	c.setArith(f)
}
