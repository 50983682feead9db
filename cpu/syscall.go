package cpu

// SYSCALL and SYSRET (SDM Vol. 2B; AMD APM Vol. 2 6.1.1): the fast
// system-call pair of long mode, with flat segments derived from
// IA32_STAR and the entry point from IA32_LSTAR. The model is Intel's:
// both are #UD outside 64-bit mode. A model with syscallCompat (AMD)
// also takes SYSCALL from compatibility mode through IA32_CSTAR.

// canonical reports whether a 64-bit address is canonical (48-bit).
func canonical(a uint64) bool { return uint64(int64(a<<16)>>16) == a }

// opSyscall: 0F 05.
func opSyscall(c *CPU, in *Inst) {
	if c.EFER&EFERSCE == 0 || c.EFER&EFERLMA == 0 || c.mode != Mode64 && !c.model.syscallCompat {
		c.raise(ExcUD, 0)
	}
	target := c.MSR.LStar
	if c.mode != Mode64 {
		target = c.MSR.CStar
	}
	fl := c.Flags()
	c.R[RCX] = c.RIP
	c.R[R11] = fl &^ FlagRF
	sel := uint16(c.MSR.Star>>32) &^ 3
	c.CPL = 0
	c.SetFlags(fl &^ (c.MSR.SFMask | FlagRF | FlagVM))
	c.setSeg(SS, flatSeg(sel+8, 0, false, false))
	c.setSeg(CS, flatSeg(sel, 0, true, true))
	c.RIP = target
}

// opSysret: 0F 07. REX.W returns to 64-bit mode at STAR[63:48]+16,
// otherwise to compatibility mode at STAR[63:48]; SS is STAR[63:48]+8.
// Intel raises #GP(0) at CPL 0 for a non-canonical RCX (AMD does not).
func opSysret(c *CPU, in *Inst) {
	if c.EFER&EFERSCE == 0 || c.mode != Mode64 {
		c.raise(ExcUD, 0)
	}
	if c.CPL != 0 {
		c.raise(ExcGP, 0)
	}
	long := in.Rex&RexW != 0
	if long && !canonical(c.R[RCX]) {
		c.raise(ExcGP, 0)
	}
	base := uint16(c.MSR.Star >> 48)
	c.SetFlags(c.R[R11]&0x3c7fd7 | 2)
	c.CPL = 3
	c.setSeg(SS, flatSeg((base+8)|3, 3, false, false))
	if long {
		c.setSeg(CS, flatSeg((base+16)|3, 3, true, true))
		c.RIP = c.R[RCX]
	} else {
		c.setSeg(CS, flatSeg(base|3, 3, true, false))
		c.RIP = c.R[RCX] & 0xffffffff
	}
}
