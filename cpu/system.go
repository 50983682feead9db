package cpu

// System instructions: group 6 (SLDT STR LLDT LTR VERR VERW), group 7
// (SGDT SIDT LGDT LIDT SMSW LMSW INVLPG, SWAPGS, RDTSCP), LAR, LSL, ARPL,
// CLTS, INVD and WBINVD.

// pmOnly raises #UD for the instructions that do not exist in real and
// virtual-8086 mode.
func (c *CPU) pmOnly() {
	if c.inRealMode() || c.inV86() {
		c.raise(ExcUD, 0)
	}
}

// needCPL0 raises #GP(0) outside ring 0 (v86 mode runs at CPL 3; real
// mode is ring 0).
func (c *CPU) needCPL0() {
	if !c.inRealMode() && (c.CPL != 0 || c.inV86()) {
		c.raise(ExcGP, 0)
	}
}

// storeSel stores a selector or MSW: 16 bits to memory, zero-extended to
// the operand size in a register.
func (c *CPU) storeSel(in *Inst, v uint64) {
	if in.Mod == 3 {
		c.regSet(in, in.RM, in.OpSize, v&sizeMask(in.OpSize))
		return
	}
	c.write(in.Seg, c.ea(in), 2, v&0xffff)
}

// opGrp6: 0F 00.
func opGrp6(c *CPU, in *Inst) {
	switch in.Reg & 7 {
	case 0: // SLDT
		c.pmOnly()
		c.storeSel(in, uint64(c.LDTR.Sel))
	case 1: // STR
		c.pmOnly()
		c.storeSel(in, uint64(c.TR.Sel))
	case 2:
		c.pmOnly()
		c.needCPL0()
		c.lldt(uint16(c.rmRead(in, 2)))
	case 3:
		c.pmOnly()
		c.needCPL0()
		c.ltr(uint16(c.rmRead(in, 2)))
	case 4, 5:
		c.pmOnly()
		c.verify(uint16(c.rmRead(in, 2)), in.Reg&7 == 5)
	default:
		c.raise(ExcUD, 0)
	}
}

// readSysDesc reads a GDT system descriptor for LLDT/LTR, with its upper
// 8 bytes in long mode (16-byte descriptors).
func (c *CPU) readSysDesc(sel uint16) (descriptor, uint64, uint64) {
	d, a := c.fetchDesc(sel, ExcGP, 0)
	var upper uint64
	if c.EFER&EFERLMA != 0 {
		if !c.descAddrOK(sel, 15) {
			c.raise(ExcGP, uint32(sel&^3))
		}
		upper = c.sysRead(a+8, 8)
		if upper>>40&0x1f != 0 {
			c.raise(ExcGP, uint32(sel&^3))
		}
	}
	return d, a, upper
}

func (c *CPU) lldt(sel uint16) {
	if sel&^3 == 0 {
		c.LDTR = Segment{Sel: sel}
		return
	}
	if sel&4 != 0 {
		c.raise(ExcGP, uint32(sel&^3))
	}
	d, _, upper := c.readSysDesc(sel)
	if !d.isSystem() || d.typ() != sysLDT {
		c.raise(ExcGP, uint32(sel&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3))
	}
	s := d.segment(sel)
	s.Base |= (upper & 0xffffffff) << 32
	if !canonical(s.Base) {
		c.raise(ExcGP, uint32(sel&^3)) // longmode: 64-bit LDT base
	}
	c.LDTR = s
}

func (c *CPU) ltr(sel uint16) {
	if sel&^3 == 0 {
		c.raise(ExcGP, 0)
	}
	if sel&4 != 0 {
		c.raise(ExcGP, uint32(sel&^3))
	}
	d, a, upper := c.readSysDesc(sel)
	typ := d.typ()
	ok := typ == sysTSS32Avail || typ == sysTSS16Avail && c.EFER&EFERLMA == 0
	if !d.isSystem() || !ok {
		c.raise(ExcGP, uint32(sel&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3))
	}
	s := d.segment(sel)
	s.Base |= (upper & 0xffffffff) << 32
	if !canonical(s.Base) {
		c.raise(ExcGP, uint32(sel&^3)) // longmode: 64-bit TSS base
	}
	d.hi |= descTypeBusy << 8
	c.sysWrite(a+4, 4, uint64(d.hi))
	s.Attr |= descTypeBusy
	c.TR = s
}

// verify is VERR (write false) and VERW: ZF reports whether the segment
// is readable/writable at CPL and the selector's RPL. Presence is not
// checked.
func (c *CPU) verify(sel uint16, write bool) {
	ok := false
	if a, in := c.descAddr(sel); sel&^3 != 0 && in {
		d := descriptor{uint32(c.sysRead(a, 4)), uint32(c.sysRead(a+4, 4))}
		priv := d.dpl() >= c.CPL && d.dpl() >= uint8(sel&3)
		switch {
		case d.isSystem():
		case write:
			ok = d.isWritableData() && priv
		case d.isCode():
			ok = d.hi&(1<<9) != 0 && (d.isConforming() || priv)
		default:
			ok = priv
		}
	}
	c.setZF(ok)
}

// opGrp7: 0F 01.
func opGrp7(c *CPU, in *Inst) {
	r := in.Reg & 7
	if in.Mod == 3 {
		switch {
		case r == 4:
			c.storeMSW(in)
		case r == 6:
			c.needCPL0()
			c.lmsw(uint16(c.regGet(in, in.RM, 2)))
		case in.ModRM == 0xf8 && c.mode == Mode64: // SWAPGS
			c.needCPL0()
			// longmode: the live GS base is the segment cache (the
			// GS_BASE MSR reads it), not MSR.GSBase.
			s := c.Seg[GS]
			s.Base, c.MSR.KernelGSBase = c.MSR.KernelGSBase, s.Base
			c.setSeg(GS, s)
		case in.ModRM == 0xf9 && c.model.rdtscp: // RDTSCP
			c.rdtsc()
			c.R[RCX] = c.MSR.TSCAux & 0xffffffff
		default:
			c.raise(ExcUD, 0)
		}
		return
	}
	switch r {
	case 0, 1: // SGDT, SIDT
		t := c.GDTR
		if r == 1 {
			t = c.IDTR
		}
		off := c.ea(in)
		n := 4
		if c.mode == Mode64 {
			n = 8
		}
		c.linear(in.Seg, off, 2+n, true)
		c.write(in.Seg, off, 2, uint64(t.Limit))
		c.write(in.Seg, (off+2)&addrMask(in), n, t.Base)
	case 2, 3: // LGDT, LIDT
		c.needCPL0()
		off := c.ea(in)
		limit := c.read(in.Seg, off, 2)
		var base uint64
		switch {
		case c.mode == Mode64:
			base = c.read(in.Seg, (off+2)&addrMask(in), 8)
			if uint64(int64(base<<16)>>16) != base {
				c.raise(ExcGP, 0)
			}
		case in.OpSize == 2:
			base = c.read(in.Seg, (off+2)&addrMask(in), 4) & 0xffffff
		default:
			base = c.read(in.Seg, (off+2)&addrMask(in), 4)
		}
		t := TableReg{Base: base, Limit: uint32(limit)}
		if r == 2 {
			c.GDTR = t
		} else {
			c.IDTR = t
		}
	case 4:
		c.storeMSW(in)
	case 6:
		c.needCPL0()
		c.lmsw(uint16(c.rmRead(in, 2)))
	case 7: // INVLPG: no segment limit check, as Bochs and QEMU.
		c.needCPL0()
		la := c.seg[in.Seg].base + c.ea(in)
		if c.mode != Mode64 {
			la &= 0xffffffff
		}
		c.tlb.invlpg(la)
	default:
		c.raise(ExcUD, 0)
	}
}

// storeMSW is SMSW: the low 16 bits of CR0 to memory, the operand size to
// a register (the upper half of a 32-bit register gets CR0's, as on P6).
func (c *CPU) storeMSW(in *Inst) {
	if in.Mod == 3 {
		c.regSet(in, in.RM, in.OpSize, c.CR0&sizeMask(in.OpSize))
		return
	}
	c.write(in.Seg, c.ea(in), 2, c.CR0&0xffff)
}

// lmsw loads PE, MP, EM and TS; it can set PE but never clear it.
func (c *CPU) lmsw(v uint16) {
	nv := c.CR0&^0xe | uint64(v)&0xf | c.CR0&CR0PE
	c.setCR0(nv)
}

// opLar: 0F 02. opLsl: 0F 03.
func opLar(c *CPU, in *Inst) { c.larLsl(in, false) }
func opLsl(c *CPU, in *Inst) { c.larLsl(in, true) }

func (c *CPU) larLsl(in *Inst, lsl bool) {
	c.pmOnly()
	sel := uint16(c.rmRead(in, 2))
	a, ok := c.descAddr(sel)
	if sel&^3 == 0 || !ok {
		c.setZF(false)
		return
	}
	d := descriptor{uint32(c.sysRead(a, 4)), uint32(c.sysRead(a+4, 4))}
	valid := true
	if d.isSystem() {
		long := c.EFER&EFERLMA != 0
		switch d.typ() {
		case sysLDT, sysTSS32Avail, sysTSS32Busy:
		case sysTSS16Avail, sysTSS16Busy:
			valid = !long
		case sysCallGate32:
			valid = !lsl
		case sysCallGate16, sysTaskGate:
			valid = !lsl && !long
		default:
			valid = false
		}
	}
	if valid && !d.isConforming() && (d.dpl() < c.CPL || d.dpl() < uint8(sel&3)) {
		valid = false
	}
	if !valid {
		c.setZF(false)
		return
	}
	var v uint64
	if lsl {
		v = uint64(d.limit())
	} else {
		v = uint64(d.hi & 0x00f0ff00)
	}
	c.regSet(in, in.Reg, in.OpSize, v&sizeMask(in.OpSize))
	c.setZF(true)
}

// opArpl: 63 outside 64-bit mode.
func opArpl(c *CPU, in *Inst) {
	c.pmOnly()
	src := c.regGet(in, in.Reg, 2)
	if in.Mod == 3 {
		d := c.regGet(in, in.RM, 2)
		if d&3 < src&3 {
			c.regSet(in, in.RM, 2, d&^3|src&3)
			c.setZF(true)
		} else {
			c.setZF(false)
		}
		return
	}
	la := c.rmLinear(in, 2)
	d := c.linRead(la, 2)
	if d&3 < src&3 {
		c.linWrite(la, 2, d&^3|src&3)
		c.setZF(true)
	} else {
		c.setZF(false)
	}
}

// opClts: 0F 06.
func opClts(c *CPU, in *Inst) {
	c.needCPL0()
	c.CR0 &^= CR0TS
}

// opInvd: 0F 08 INVD, 0F 09 WBINVD: no caches to act on.
func opInvd(c *CPU, in *Inst) { c.needCPL0() }
