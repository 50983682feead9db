package cpu

// Group 15 (0F AE): FXSAVE FXRSTOR LDMXCSR STMXCSR XSAVE XRSTOR and the
// fences/CLFLUSH; XGETBV/XSETBV (0F 01 D0/D1) are exported to the group 7
// dispatcher as opXgetbv/opXsetbv.

const (
	mxcsrMask  = 0xffff // MXCSR_MASK: DAZ supported
	cr4OSXSAVE = 1 << 18
	xcr0Valid  = 3 // x87 and SSE components
)

func (c *CPU) grp15Bind(in *Inst) handler {
	f := &c.model.fp
	r := in.Reg & 7
	if in.Mod == 3 {
		if in.Prefixes&(PfxRep|PfxRepne|PfxOpSize) != 0 {
			return opUD // RDFSBASE etc. belong to the system side
		}
		switch {
		case r == 5 || r == 6:
			if f.sse2 {
				return opNop // LFENCE, MFENCE: accesses are in order here
			}
		case r == 7:
			if f.sse {
				return opNop // SFENCE
			}
		}
		return opUD
	}
	if in.Prefixes&(PfxRep|PfxRepne) != 0 {
		return opUD
	}
	switch r {
	case 0:
		if f.fxsr {
			return opFxsave
		}
	case 1:
		if f.fxsr {
			return opFxrstor
		}
	case 2:
		if f.sse {
			return opLdmxcsr
		}
	case 3:
		if f.sse {
			return opStmxcsr
		}
	case 4:
		if f.xsave {
			return opXsave
		}
	case 5:
		if f.xsave {
			return opXrstor
		}
	case 7:
		if f.sse2 {
			return opClflush
		}
	}
	return opUD
}

// opClflush: 0F AE /7. Caches are not modelled; the access is checked
// like a byte read.
func opClflush(c *CPU, in *Inst) {
	la := c.linear(in.Seg, c.ea(in), 1, false)
	c.probeRead(la)
}

// opLdmxcsr: 0F AE /2. Reserved bits set → #GP(0).
func opLdmxcsr(c *CPU, in *Inst) {
	c.sseAvail()
	v := uint32(c.read(in.Seg, c.ea(in), 4))
	if v&^mxcsrMask != 0 {
		c.raise(ExcGP, 0)
	}
	c.MXCSR = v
}

// opStmxcsr: 0F AE /3.
func opStmxcsr(c *CPU, in *Inst) {
	c.sseAvail()
	c.write(in.Seg, c.ea(in), 4, uint64(c.MXCSR))
}

// fxAvail: FXSAVE/FXRSTOR/XSAVE check CR0.EM and CR0.TS (#NM both).
func (c *CPU) fxAvail() {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		c.raise(ExcNM, 0)
	}
}

// fxArea checks and returns the linear address of an n-byte save area
// aligned to align bytes (#GP(0) otherwise), probing it for writing.
func (c *CPU) fxArea(in *Inst, n, align int, write bool) uint64 {
	off := c.ea(in)
	if off&uint64(align-1) != 0 {
		c.raise(ExcGP, 0)
	}
	la := c.linear(in.Seg, off, n, write)
	for p := la &^ 0xfff; p < la+uint64(n); p += 0x1000 {
		if write {
			c.probeWrite(max(p, la))
		} else {
			c.probeRead(max(p, la))
		}
	}
	return la
}

// saveX87 writes bytes 0-159 of the FXSAVE layout (SDM Vol. 1 Table
// 10-2; Table 10-3 with REX.W: 64-bit FIP/FDP without selectors).
func (c *CPU) saveX87(la uint64, w64 bool) {
	c.linWrite(la, 2, uint64(c.FCW))
	c.linWrite(la+2, 2, uint64(c.FSW))
	c.linWrite(la+4, 2, uint64(c.FTW))
	c.linWrite(la+6, 2, uint64(c.FOP))
	if w64 {
		c.linWrite(la+8, 8, c.FIP)
		c.linWrite(la+16, 8, c.FDP)
	} else {
		c.linWrite(la+8, 4, c.FIP&0xffffffff)
		c.linWrite(la+12, 4, uint64(c.FCS))
		c.linWrite(la+16, 4, c.FDP&0xffffffff)
		c.linWrite(la+20, 4, uint64(c.FDS))
	}
	for i := 0; i < 8; i++ {
		v := c.st(i)
		a := la + 32 + uint64(16*i)
		c.linWrite(a, 8, v.Mant)
		c.linWrite(a+8, 8, uint64(v.SExp))
	}
}

// loadX87 reads bytes 0-159 of the FXSAVE layout.
func (c *CPU) loadX87(la uint64, w64 bool) {
	c.FCW = uint16(c.linRead(la, 2))
	c.FSW = uint16(c.linRead(la+2, 2))
	c.FTW = uint8(c.linRead(la+4, 1))
	c.FOP = uint16(c.linRead(la+6, 2)) & 0x7ff
	if w64 {
		c.FIP = c.linRead(la+8, 8)
		c.FDP = c.linRead(la+16, 8)
		c.FCS, c.FDS = 0, 0
	} else {
		c.FIP = c.linRead(la+8, 4)
		c.FCS = uint16(c.linRead(la+12, 2))
		c.FDP = c.linRead(la+16, 4)
		c.FDS = uint16(c.linRead(la+20, 2))
	}
	for i := 0; i < 8; i++ {
		a := la + 32 + uint64(16*i)
		c.ST[c.phys(i)] = F80{Mant: c.linRead(a, 8), SExp: uint16(c.linRead(a+8, 2))}
	}
}

func (c *CPU) nXMM() int {
	if c.mode == Mode64 {
		return 16
	}
	return 8
}

func (c *CPU) saveXMM(la uint64) {
	for i := 0; i < c.nXMM(); i++ {
		c.linWrite(la+160+uint64(16*i), 8, c.XMM[i][0])
		c.linWrite(la+168+uint64(16*i), 8, c.XMM[i][1])
	}
}

func (c *CPU) loadXMM(la uint64) {
	for i := 0; i < c.nXMM(); i++ {
		c.XMM[i][0] = c.linRead(la+160+uint64(16*i), 8)
		c.XMM[i][1] = c.linRead(la+168+uint64(16*i), 8)
	}
}

// opFxsave: 0F AE /0 (REX.W: FXSAVE64).
func opFxsave(c *CPU, in *Inst) {
	c.fxAvail()
	la := c.fxArea(in, 512, 16, true)
	w64 := in.Rex&RexW != 0
	c.saveX87(la, w64)
	c.linWrite(la+24, 4, uint64(c.MXCSR))
	c.linWrite(la+28, 4, mxcsrMask)
	c.saveXMM(la)
}

// opFxrstor: 0F AE /1. MXCSR reserved bits → #GP(0) before any change.
func opFxrstor(c *CPU, in *Inst) {
	c.fxAvail()
	la := c.fxArea(in, 512, 16, false)
	mx := uint32(c.linRead(la+24, 4))
	if mx&^mxcsrMask != 0 {
		c.raise(ExcGP, 0)
	}
	c.loadX87(la, in.Rex&RexW != 0)
	c.MXCSR = mx
	c.loadXMM(la)
}

// XSAVE/XRSTOR with the standard (non-compacted) layout for the x87 and
// SSE components (SDM Vol. 1 ch. 13).

func (c *CPU) xsaveAvail() {
	if c.CR4&cr4OSXSAVE == 0 {
		c.raise(ExcUD, 0)
	}
	c.fxAvail()
}

// opXsave: 0F AE /4.
func opXsave(c *CPU, in *Inst) {
	c.xsaveAvail()
	la := c.fxArea(in, 576, 64, true)
	rfbm := c.XCR0 & (c.R[RDX]<<32 | c.R[RAX]&0xffffffff)
	w64 := in.Rex&RexW != 0
	if rfbm&1 != 0 {
		c.saveX87(la, w64)
	}
	if rfbm&2 != 0 {
		c.linWrite(la+24, 4, uint64(c.MXCSR))
		c.linWrite(la+28, 4, mxcsrMask)
		c.saveXMM(la)
	}
	bv := c.linRead(la+512, 8)
	c.linWrite(la+512, 8, bv&^rfbm|rfbm)
}

// opXrstor: 0F AE /5. Components with XSTATE_BV clear are initialised.
func opXrstor(c *CPU, in *Inst) {
	c.xsaveAvail()
	la := c.fxArea(in, 576, 64, false)
	rfbm := c.XCR0 & (c.R[RDX]<<32 | c.R[RAX]&0xffffffff)
	bv := c.linRead(la+512, 8)
	comp := c.linRead(la+520, 8)
	if bv&^c.XCR0 != 0 || comp != 0 || c.linRead(la+528, 8)|c.linRead(la+536, 8)|c.linRead(la+544, 8)|c.linRead(la+552, 8)|c.linRead(la+560, 8)|c.linRead(la+568, 8) != 0 {
		c.raise(ExcGP, 0)
	}
	var mx uint32
	if rfbm&2 != 0 {
		mx = uint32(c.linRead(la+24, 4))
		if mx&^mxcsrMask != 0 {
			c.raise(ExcGP, 0)
		}
	}
	w64 := in.Rex&RexW != 0
	if rfbm&1 != 0 {
		if bv&1 != 0 {
			c.loadX87(la, w64)
		} else {
			c.fpuInit()
			for i := range c.ST {
				c.ST[i] = F80{}
			}
		}
	}
	if rfbm&2 != 0 {
		c.MXCSR = mx
		if bv&2 != 0 {
			c.loadXMM(la)
		} else {
			for i := 0; i < c.nXMM(); i++ {
				c.XMM[i] = [2]uint64{}
			}
		}
	}
}

// opXgetbv: 0F 01 D0 (to be dispatched by group 7). CR4.OSXSAVE=0 →
// #UD; ECX other than 0 → #GP(0).
func opXgetbv(c *CPU, in *Inst) {
	if c.CR4&cr4OSXSAVE == 0 || !c.model.fp.xsave {
		c.raise(ExcUD, 0)
	}
	if uint32(c.R[RCX]) != 0 {
		c.raise(ExcGP, 0)
	}
	c.R[RAX] = c.XCR0 & 0xffffffff
	c.R[RDX] = c.XCR0 >> 32
}

// opXsetbv: 0F 01 D1. CPL 0 only; XCR0 must keep x87, and only the
// x87/SSE bits are supported.
func opXsetbv(c *CPU, in *Inst) {
	if c.CR4&cr4OSXSAVE == 0 || !c.model.fp.xsave {
		c.raise(ExcUD, 0)
	}
	v := c.R[RDX]<<32 | c.R[RAX]&0xffffffff
	if c.CPL != 0 && !c.inRealMode() || uint32(c.R[RCX]) != 0 || v&1 == 0 || v&^xcr0Valid != 0 {
		c.raise(ExcGP, 0)
	}
	c.XCR0 = v
}
