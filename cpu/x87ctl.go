package cpu

// x87 control instructions: FNINIT FNCLEX FLDCW FNSTCW FNSTSW FNSTENV
// FLDENV FNSAVE FRSTOR. They do not update FIP/FDP/FOP (Vol. 1 8.1.8).

// opFninit: DB E3.
func opFninit(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fpuInit()
	c.ferrClear()
}

// opFnclex: DB E2.
func opFnclex(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.FSW &^= fswExc | fswSF | fswES | fswB
	c.ferrClear()
}

func (c *CPU) ferrClear() {
	if c.fpuHooks.FERR != nil {
		c.fpuHooks.FERR(false)
	}
}

// updateES recomputes ES and B after FSW or FCW changed by a load: an
// exception flag unmasked by the new control word becomes pending.
func (c *CPU) updateES() {
	if c.FSW&^c.FCW&fswExc != 0 {
		c.FSW |= fswES | fswB
	} else {
		c.FSW &^= fswES | fswB
	}
}

// opFldcw: D9 /5.
func opFldcw(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	v := uint16(c.read(in.Seg, c.ea(in), 2))
	c.FCW = fcwLoad(v)
	c.updateES()
}

// fcwLoad keeps the implemented control-word bits: masks, PC, RC and
// the 287 infinity bit; bit 6 reads as one.
func fcwLoad(v uint16) uint16 { return v&0x1f3f | 0x40 }

// opFnstcw: D9 /7.
func opFnstcw(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.write(in.Seg, c.ea(in), 2, uint64(c.FCW))
}

// opFnstswMem: DD /7.
func opFnstswMem(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.write(in.Seg, c.ea(in), 2, uint64(c.FSW))
}

// opFnstswAX: DF E0.
func opFnstswAX(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.R[RAX] = c.R[RAX]&^0xffff | uint64(c.FSW)
}

// fullTag returns the two-bit tag word computed from the registers.
func (c *CPU) fullTag() uint16 {
	var t uint16
	for i := 0; i < 8; i++ {
		var v uint16
		switch {
		case c.FTW>>uint(i)&1 == 0:
			v = 3
		default:
			switch c.ST[i].class() {
			case fcZero:
				v = 1
			case fcNormal:
				v = 0
			default:
				v = 2
			}
		}
		t |= v << (2 * uint(i))
	}
	return t
}

// abridgedTag converts a full tag word to the FXSAVE form.
func abridgedTag(t uint16) uint8 {
	var a uint8
	for i := 0; i < 8; i++ {
		if t>>(2*uint(i))&3 != 3 {
			a |= 1 << uint(i)
		}
	}
	return a
}

// envLayout: the operand size and mode decide the FSTENV format (Vol. 1
// Figures 8-9..8-12): 14 or 28 bytes, real-mode or protected-mode form.
func (c *CPU) envSize(in *Inst) int {
	if in.OpSize == 2 {
		return 14
	}
	return 28
}

// storeEnv writes the environment at seg:off.
func (c *CPU) storeEnv(in *Inst, off uint64) {
	n := c.envSize(in)
	la := c.linear(in.Seg, off, n, true)
	c.probeWrite(la)
	c.probeWrite(la + uint64(n) - 1)
	tag := c.fullTag()
	real := c.inRealMode() || c.inV86()
	w := func(i int, v uint64) {
		if n == 14 {
			c.linWrite(la+uint64(2*i), 2, v)
		} else {
			c.linWrite(la+uint64(4*i), 4, v)
		}
	}
	hi := uint64(0xffff0000)
	if n == 14 {
		hi = 0
	}
	w(0, hi|uint64(c.FCW))
	w(1, hi|uint64(c.FSW))
	w(2, hi|uint64(tag))
	if real {
		// Real-address forms hold 20/32-bit linear pointers.
		ip := c.FIP + uint64(c.FCS)<<4
		dp := c.FDP + uint64(c.FDS)<<4
		if n == 14 {
			w(3, ip&0xffff)
			w(4, ip>>16&0xf<<12|uint64(c.FOP&0x7ff))
			w(5, dp&0xffff)
			w(6, dp>>16&0xf<<12)
		} else {
			w(3, hi|ip&0xffff)
			w(4, ip>>16&0xffff<<12|uint64(c.FOP&0x7ff))
			w(5, hi|dp&0xffff)
			w(6, dp>>16&0xffff<<12)
		}
		return
	}
	if n == 14 {
		w(3, c.FIP&0xffff)
		w(4, uint64(c.FCS))
		w(5, c.FDP&0xffff)
		w(6, uint64(c.FDS))
		return
	}
	w(3, c.FIP&0xffffffff)
	w(4, uint64(c.FCS)|uint64(c.FOP&0x7ff)<<16)
	w(5, c.FDP&0xffffffff)
	w(6, hi|uint64(c.FDS))
}

// loadEnv reads the environment at seg:off.
func (c *CPU) loadEnv(in *Inst, off uint64) {
	n := c.envSize(in)
	la := c.linear(in.Seg, off, n, false)
	c.probeRead(la)
	c.probeRead(la + uint64(n) - 1)
	r := func(i int) uint64 {
		if n == 14 {
			return c.linRead(la+uint64(2*i), 2)
		}
		return c.linRead(la+uint64(4*i), 4)
	}
	fcw, fsw, tag := uint16(r(0)), uint16(r(1)), uint16(r(2))
	real := c.inRealMode() || c.inV86()
	if real {
		ip, opw, dp, dh := r(3), r(4), r(5), r(6)
		if n == 14 {
			c.FIP = ip&0xffff | opw>>12&0xf<<16
			c.FDP = dp&0xffff | dh>>12&0xf<<16
		} else {
			c.FIP = ip&0xffff | opw>>12&0xffff<<16
			c.FDP = dp&0xffff | dh>>12&0xffff<<16
		}
		c.FOP = uint16(opw & 0x7ff)
		c.FCS, c.FDS = 0, 0
	} else {
		c.FIP = r(3)
		cs := r(4)
		c.FCS = uint16(cs)
		if n == 28 {
			c.FOP = uint16(cs>>16) & 0x7ff
		}
		c.FDP = r(5)
		c.FDS = uint16(r(6))
	}
	c.FCW = fcwLoad(fcw)
	c.FSW = fsw
	c.FTW = abridgedTag(tag)
	c.updateES()
}

// opFldenv: D9 /4.
func opFldenv(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	c.loadEnv(in, c.ea(in))
}

// opFnstenv: D9 /6. All exceptions are masked afterwards.
func opFnstenv(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.storeEnv(in, c.ea(in))
	c.FCW |= fswExc
}

// opFnsave: DD /6. The environment, then ST(0)..ST(7); then FNINIT.
func opFnsave(c *CPU, in *Inst) {
	c.fpuAvailable()
	off := c.ea(in)
	n := c.envSize(in)
	la := c.linear(in.Seg, off, n+80, true)
	c.probeWrite(la)
	c.probeWrite(la + uint64(n) + 79)
	c.storeEnv(in, off)
	for i := 0; i < 8; i++ {
		v := c.st(i)
		a := la + uint64(n+10*i)
		c.linWrite(a, 8, v.Mant)
		c.linWrite(a+8, 2, uint64(v.SExp))
	}
	c.fpuInit()
}

// opFrstor: DD /4.
func opFrstor(c *CPU, in *Inst) {
	c.fpuAvailable()
	c.fwaitCheck()
	off := c.ea(in)
	n := c.envSize(in)
	la := c.linear(in.Seg, off, n+80, false)
	c.probeRead(la)
	c.probeRead(la + uint64(n) + 79)
	var regs [8]F80
	for i := range regs {
		a := la + uint64(n+10*i)
		regs[i] = F80{Mant: c.linRead(a, 8), SExp: uint16(c.linRead(a+8, 2))}
	}
	c.loadEnv(in, off)
	for i := range regs {
		c.ST[c.phys(i)] = regs[i]
	}
}
