package cpu

// x87 loads and stores: FLD FST FSTP (m32/m64/m80/ST(i)), FILD FIST
// FISTP FISTTP (m16/m32/m64), FBLD FBSTP.

// readF80 reads an m80 operand.
func (c *CPU) readF80(s uint8, off uint64) F80 {
	la := c.linear(s, off, 10, false)
	m := c.linRead(la, 8)
	se := c.linRead(la+8, 2)
	return F80{Mant: m, SExp: uint16(se)}
}

// writeF80 writes an m80 operand (both pages checked first).
func (c *CPU) writeF80(s uint8, off uint64, v F80) {
	la := c.linear(s, off, 10, true)
	c.probeWrite(la)
	c.probeWrite(la + 9)
	c.linWrite(la, 8, v.Mant)
	c.linWrite(la+8, 2, uint64(v.SExp))
}

// opFldMem: D9 /0 m32, DD /0 m64, DB /5 m80, DB /0 m32int, DF /0 m16int,
// DF /5 m64int.
func opFldMem(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	e := x87Env(c.FCW)
	var v F80
	switch uint8(in.Op&7)<<3 | in.Reg&7 {
	case 1<<3 | 0:
		v = e.f80FromF32(uint32(c.read(in.Seg, off, 4)))
	case 5<<3 | 0:
		v = e.f80FromF64(c.read(in.Seg, off, 8))
	case 3<<3 | 5:
		v = c.readF80(in.Seg, off)
	case 3<<3 | 0:
		v = f80FromInt(int64(int32(c.read(in.Seg, off, 4))))
	case 7<<3 | 0:
		v = f80FromInt(int64(int16(c.read(in.Seg, off, 2))))
	default:
		v = f80FromInt(int64(c.read(in.Seg, off, 8)))
	}
	c.x87BeginMem(in)
	if !c.pushCheck() {
		return
	}
	if v.isNaN() && in.Op&7 != 3 {
		v = e.nan1(v) // FLD m32/m64 quiets an SNaN with IE
	}
	if e.bDen {
		e.flags |= fswDE
	}
	// An unmasked DE still loads the value (the oracle's behaviour);
	// an unmasked IE does not.
	if !c.x87Finish(&e) && e.flags&fswIE != 0 {
		return
	}
	c.fpush(v)
}

// opFldReg: D9 C0+i.
func opFldReg(c *CPU, in *Inst) {
	c.x87Begin(in)
	i := int(in.RM & 7)
	v := c.st(i)
	// An empty source is reported (underflow, C1=0) before a full
	// destination.
	if c.stEmpty(i) {
		if c.stackUnderflow() {
			c.fpush(f80Indefinite)
		}
		return
	}
	if !c.pushCheck() {
		return
	}
	c.FSW &^= fswC1
	c.fpush(v)
}

// opFstReg: DD D0+i FST, DD D8+i FSTP and the aliases D9 D8, DF D0/D8.
func opFstReg(c *CPU, in *Inst) {
	c.x87Begin(in)
	i := int(in.RM & 7)
	pop := in.Reg&7 == 3 || in.Op&7 != 5
	c.FSW &^= fswC1
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			c.setST(i, f80Indefinite)
			if pop {
				c.fpop()
			}
		}
		return
	}
	c.setST(i, c.st(0))
	if pop {
		c.fpop()
	}
}

// Integer indefinites stored by a masked invalid conversion.
func intIndefinite(n int) uint64 { return uint64(1) << (8*uint(n) - 1) }

// opFstMem: FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FISTTP.
func opFstMem(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	op, r := in.Op&7, in.Reg&7
	// Destination size and kind.
	n := 4
	kind := 0 // 0 fp, 1 int, 2 int truncating
	switch {
	case op == 5 && r != 1, op == 7 && r == 7:
		n = 8
	case op == 3 && r == 7:
		n = 10
	case op == 7:
		n = 2
	}
	switch {
	case r == 1:
		kind = 2
		switch op {
		case 5:
			n = 8
		case 7:
			n = 2
		}
	case op == 3 || op == 7:
		kind = 1
		if r == 7 && op == 3 {
			kind = 0
		}
	}
	pop := r != 2
	// Check the destination is writable before any state changes.
	la := c.linear(in.Seg, off, n, true)
	c.probeWrite(la)
	c.probeWrite(la + uint64(n) - 1)
	c.x87BeginMem(in)
	c.FSW &^= fswC1
	if c.stEmpty(0) {
		if !c.stackUnderflow() {
			return
		}
		switch {
		case kind != 0:
			c.linWrite(la, n, intIndefinite(n))
		case n == 4:
			c.linWrite(la, 4, 0xffc00000)
		case n == 8:
			c.linWrite(la, 8, 0xfff8000000000000)
		default:
			c.linWrite(la, 8, f80Indefinite.Mant)
			c.linWrite(la+8, 2, uint64(f80Indefinite.SExp))
		}
		if pop {
			c.fpop()
		}
		return
	}
	v := c.st(0)
	e := x87Env(c.FCW)
	var bitsOut uint64
	switch {
	case kind != 0:
		rc := e.rc
		if kind == 2 {
			rc = rcZero
		}
		iv, ok := e.f80ToInt(v, uint(8*n), rc)
		if ok {
			bitsOut = uint64(iv)
		} else {
			bitsOut = intIndefinite(n)
		}
	case n == 4:
		bitsOut = uint64(e.f80ToF32(v))
	case n == 8:
		bitsOut = e.f80ToF64(v)
	}
	// Unmasked O/U on a memory destination also store nothing.
	if e.flags&^e.mask&(fswOE|fswUE) != 0 {
		e.flags &^= fswPE
		c.x87Finish(&e)
		return
	}
	if !c.x87Finish(&e) {
		return
	}
	if n == 10 {
		c.linWrite(la, 8, v.Mant)
		c.linWrite(la+8, 2, uint64(v.SExp))
	} else {
		c.linWrite(la, n, bitsOut)
	}
	if pop {
		c.fpop()
	}
}

// opFbld: DF /4, load an 18-digit packed BCD integer.
func opFbld(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	la := c.linear(in.Seg, off, 10, false)
	lo := c.linRead(la, 8)
	hi := c.linRead(la+8, 2)
	c.x87BeginMem(in)
	if !c.pushCheck() {
		return
	}
	var v uint64
	for i := 8; i >= 0; i-- {
		b := uint64(lo >> (8 * uint(i)) & 0xff)
		if i == 8 {
			b = hi & 0xff
		}
		v = v*100 + (b>>4)*10 + b&15
	}
	c.FSW &^= fswC1
	c.fpush(f80FromU64(hi&0x8000 != 0, v))
}

// opFbstp: DF /6, store as packed BCD and pop.
func opFbstp(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	la := c.linear(in.Seg, off, 10, true)
	c.probeWrite(la)
	c.probeWrite(la + 9)
	c.x87BeginMem(in)
	c.FSW &^= fswC1
	store := func(lo, hi uint64) {
		c.linWrite(la, 8, lo)
		c.linWrite(la+8, 2, hi)
	}
	if c.stEmpty(0) {
		if c.stackUnderflow() {
			store(0xc000000000000000, 0xffff)
			c.fpop()
		}
		return
	}
	v := c.st(0)
	e := x87Env(c.FCW)
	ok := true
	var mag uint64
	switch cl := v.class(); {
	case cl >= fcInf:
		e.flags |= fswIE
		ok = false
	case cl == fcZero:
	default:
		r := e.f80Round(v, e.rc)
		if r.class() != fcZero {
			_, x, m := r.unpack()
			x -= f80Bias
			if x >= 60 || m>>uint(63-x) > 999999999999999999 {
				e.flags = e.flags&^fswPE | fswIE
				ok = false
			} else {
				mag = m >> uint(63-x)
			}
		}
	}
	if !c.x87Finish(&e) {
		return
	}
	if !ok {
		store(0xc000000000000000, 0xffff)
		c.fpop()
		return
	}
	var lo, hi uint64
	for i := 0; i < 9; i++ {
		d := mag % 100
		mag /= 100
		b := (d/10)<<4 | d%10
		if i == 8 {
			hi = b
		} else {
			lo |= b << (8 * uint(i))
		}
	}
	if v.sign() {
		hi |= 0x8000
	}
	store(lo, hi)
	c.fpop()
}
