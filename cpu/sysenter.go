package cpu

// SYSENTER and SYSEXIT (SDM Vol. 2B): fast transitions to ring 0 and back
// to ring 3 through flat segments derived from IA32_SYSENTER_CS.
// SYSCALL/SYSRET are in syscall.go.

// flatSeg builds the segment caches SYSENTER/SYSEXIT load (the
// descriptors in the GDT are not read).
func flatSeg(sel uint16, dpl uint8, code, long bool) Segment {
	attr := uint16(AttrP|AttrS|AttrRW|AttrAccessed|AttrG) | uint16(dpl)<<AttrDPLShift
	if code {
		attr |= AttrCode
		if long {
			attr |= AttrL
		} else {
			attr |= AttrDB
		}
	} else {
		attr |= AttrDB
	}
	return Segment{Sel: sel, Attr: attr, Limit: 0xffffffff}
}

// opSysenter: 0F 34.
func opSysenter(c *CPU, in *Inst) {
	if c.inRealMode() {
		c.raise(ExcGP, 0)
	}
	cs := uint16(c.MSR.SysenterCS) &^ 3
	if cs == 0 {
		c.raise(ExcGP, 0)
	}
	long := c.EFER&EFERLMA != 0
	c.materialize()
	c.flags &^= FlagVM | FlagIF | FlagRF
	c.CPL = 0
	c.setSeg(SS, flatSeg(cs+8, 0, false, false))
	c.setSeg(CS, flatSeg(cs, 0, true, long))
	if long {
		c.R[RSP], c.RIP = c.MSR.SysenterESP, c.MSR.SysenterEIP
	} else {
		c.R[RSP], c.RIP = c.MSR.SysenterESP&0xffffffff, c.MSR.SysenterEIP&0xffffffff
	}
	c.recompute()
}

// opSysexit: 0F 35 (REX.W returns to 64-bit mode).
func opSysexit(c *CPU, in *Inst) {
	if c.inRealMode() || c.inV86() || c.CPL != 0 {
		c.raise(ExcGP, 0)
	}
	cs := uint16(c.MSR.SysenterCS) &^ 3
	if cs == 0 {
		c.raise(ExcGP, 0)
	}
	long := in.Rex&RexW != 0
	if long && (!canonical(c.R[RCX]) || !canonical(c.R[RDX])) {
		c.raise(ExcGP, 0)
	}
	c.materialize()
	c.flags &^= FlagRF
	if long {
		c.setSeg(SS, flatSeg(cs+40|3, 3, false, false))
		c.CPL = 3
		c.setSeg(CS, flatSeg(cs+32|3, 3, true, true))
		c.R[RSP], c.RIP = c.R[RCX], c.R[RDX]
	} else {
		c.setSeg(SS, flatSeg(cs+24|3, 3, false, false))
		c.CPL = 3
		c.setSeg(CS, flatSeg(cs+16|3, 3, true, false))
		c.R[RSP], c.RIP = c.R[RCX]&0xffffffff, c.R[RDX]&0xffffffff
	}
	c.recompute()
}
