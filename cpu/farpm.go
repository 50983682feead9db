package cpu

// Far JMP, CALL, RET and IRET in protected mode (SDM Vol. 2 pseudo-code):
// conforming and nonconforming code, call gates with the inner-stack
// switch and parameter copy, task gates and TSS targets, returns to the
// same and outer levels, IRET's task return and return to v86 mode.
// Checks and memory writes come first; registers are committed last.

// truncOff masks a far-transfer offset to the operand size.
func truncOff(off uint64, sz uint8) uint64 {
	switch sz {
	case 2:
		return off & 0xffff
	case 4:
		return off & 0xffffffff
	}
	return off
}

// checkTarget checks a new instruction pointer against the target code
// segment's limit (or canonical form for a 64-bit target): #GP(0).
func (c *CPU) checkTarget(d descriptor, off uint64) {
	if c.EFER&EFERLMA != 0 && d.long() {
		if uint64(int64(off<<16)>>16) != off {
			c.raise(ExcGP, 0)
		}
		return
	}
	if off > uint64(d.limit()) {
		c.raise(ExcGP, 0)
	}
}

// checkLD rejects a code segment with both L and D set in IA-32e mode
// (#GP(selector)): that combination is reserved.
func (c *CPU) checkLD(sel uint16, d descriptor) {
	if c.EFER&EFERLMA != 0 && d.long() && d.big() {
		c.raise(ExcGP, uint32(sel&^3))
	}
}

// checkDirectCode applies the privilege rules of a JMP or CALL straight to
// a code segment.
func (c *CPU) checkDirectCode(sel uint16, d descriptor) {
	if !d.isCode() {
		c.raise(ExcGP, uint32(sel&^3))
	}
	c.checkLD(sel, d)
	if d.isConforming() {
		if d.dpl() > c.CPL {
			c.raise(ExcGP, uint32(sel&^3))
		}
	} else if uint8(sel&3) > c.CPL || d.dpl() != c.CPL {
		c.raise(ExcGP, uint32(sel&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3))
	}
}

// checkGateDPL applies the gate/TSS privilege rule (DPL >= CPL and RPL)
// and the present check of JMP and CALL through a system descriptor.
func (c *CPU) checkGateDPL(sel uint16, d descriptor) {
	if d.dpl() < c.CPL || d.dpl() < uint8(sel&3) {
		c.raise(ExcGP, uint32(sel&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3))
	}
}

// gateTarget fetches and checks the code segment a call gate names.
func (c *CPU) gateTarget(g descriptor) (uint16, descriptor, uint64) {
	tsel := g.gateSel()
	if tsel&^3 == 0 {
		c.raise(ExcGP, 0)
	}
	td, ta := c.fetchDesc(tsel, ExcGP, 0)
	if !td.isCode() || td.dpl() > c.CPL {
		c.raise(ExcGP, uint32(tsel&^3))
	}
	c.checkLD(tsel, td)
	if !td.present() {
		c.raise(ExcNP, uint32(tsel&^3))
	}
	return tsel, td, ta
}

// taskGateTSS checks a task gate's TSS (JMP/CALL through a task gate).
func (c *CPU) taskGateTSS(g descriptor) (uint16, descriptor) {
	tss := g.gateSel()
	if tss&4 != 0 {
		c.raise(ExcGP, uint32(tss&^3))
	}
	d, _ := c.fetchDesc(tss, ExcGP, 0)
	if !d.isSystem() || (d.typ() != sysTSS16Avail && d.typ() != sysTSS32Avail) {
		c.raise(ExcGP, uint32(tss&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(tss&^3))
	}
	return tss, d
}

// systemTarget handles JMP/CALL to a task gate or TSS descriptor; it
// reports false for a call gate (the caller handles those).
func (c *CPU) systemTarget(sel uint16, d descriptor, reason int) bool {
	if c.EFER&EFERLMA != 0 && d.typ() != sysCallGate32 {
		// Long mode has no task switching and only 64-bit call gates.
		c.raise(ExcGP, uint32(sel&^3))
	}
	switch d.typ() {
	case sysCallGate16, sysCallGate32:
		c.checkGateDPL(sel, d)
		return false
	case sysTaskGate:
		c.checkGateDPL(sel, d)
		tss, td := c.taskGateTSS(d)
		c.taskSwitchTail(c.taskSwitch(tss, td, reason, 0))
	case sysTSS16Avail, sysTSS32Avail:
		if sel&4 != 0 {
			c.raise(ExcGP, uint32(sel&^3))
		}
		c.checkGateDPL(sel, d)
		c.taskSwitchTail(c.taskSwitch(sel, d, reason, 0))
	default:
		c.raise(ExcGP, uint32(sel&^3))
	}
	return true
}

// callGate64Off reads the upper half of a 16-byte long-mode call gate
// and returns the full target offset.
func (c *CPU) callGate64Off(sel uint16, g descriptor) uint64 {
	a, ok := c.descAddr(sel)
	if !ok || !c.descAddrOK(sel, 15) {
		c.raise(ExcGP, uint32(sel&^3))
	}
	hi := c.sysRead(a+8, 8)
	if hi>>40&0x1f != 0 {
		c.raise(ExcGP, uint32(sel&^3)) // the upper type field must be 0
	}
	return g.gateOff() | (hi&0xffffffff)<<32
}

// descAddrOK reports whether n+1 bytes of sel's descriptor lie within the
// table limit.
func (c *CPU) descAddrOK(sel uint16, n uint64) bool {
	idx := uint64(sel &^ 7)
	if sel&4 != 0 {
		return idx+n <= uint64(c.LDTR.Limit)
	}
	return idx+n <= uint64(c.GDTR.Limit)
}

func (c *CPU) farJumpPM(sel uint16, off uint64, sz uint8) {
	if sel&^3 == 0 {
		c.raise(ExcGP, 0)
	}
	d, a := c.fetchDesc(sel, ExcGP, 0)
	if !d.isSystem() {
		c.checkDirectCode(sel, d)
		off = truncOff(off, sz)
		c.checkTarget(d, off)
		c.setAccessed(&d, a)
		c.loadCSDesc(d, sel, c.CPL)
		c.RIP = off
		return
	}
	if c.systemTarget(sel, d, taskJump) {
		return
	}
	// JMP through a call gate: no privilege change; nonconforming
	// targets must be at CPL.
	tsel, td, ta := c.gateTarget(d)
	if !td.isConforming() && td.dpl() != c.CPL {
		c.raise(ExcGP, uint32(tsel&^3))
	}
	eip := d.gateOff()
	if c.EFER&EFERLMA != 0 {
		eip = c.callGate64Off(sel, d)
	}
	c.checkTarget(td, eip)
	c.setAccessed(&td, ta)
	c.loadCSDesc(td, tsel, c.CPL)
	c.RIP = eip
}

func (c *CPU) farCallPM(sel uint16, off uint64, sz uint8) {
	if sel&^3 == 0 {
		c.raise(ExcGP, 0)
	}
	d, a := c.fetchDesc(sel, ExcGP, 0)
	n := int(sz)
	if !d.isSystem() {
		c.checkDirectCode(sel, d)
		off = truncOff(off, sz)
		w := c.curStack(0)
		c.swPush(&w, n, uint64(c.Seg[CS].Sel))
		c.swPush(&w, n, c.RIP)
		c.checkTarget(d, off)
		c.setAccessed(&d, a)
		c.setSP(w.sp)
		c.loadCSDesc(d, sel, c.CPL)
		c.RIP = off
		return
	}
	if c.systemTarget(sel, d, taskCall) {
		return
	}
	tsel, td, ta := c.gateTarget(d)
	long := c.EFER&EFERLMA != 0
	eip := d.gateOff()
	n = 2
	if d.typ()&8 != 0 {
		n = 4
	}
	if long {
		eip = c.callGate64Off(sel, d)
		n = 8
		if !td.long() || td.big() {
			c.raise(ExcGP, uint32(tsel&^3))
		}
	}
	if !td.isConforming() && td.dpl() < c.CPL {
		// Inner privilege: stack switch and parameter copy.
		pl := td.dpl()
		var w stackWriter
		var newSS Segment
		var ss uint16
		var esp uint64
		if long {
			toff := 4 + uint64(pl)*8
			if toff+7 > uint64(c.TR.Limit) {
				c.raise(ExcTS, uint32(c.TR.Sel&^3))
			}
			esp = c.sysRead(c.TR.Base+toff, 8)
			ss = uint16(pl)
			newSS = Segment{Sel: ss, Attr: uint16(pl) << AttrDPLShift}
			w = stackWriter{mask: ^uint64(0), sp: esp, user: pl == 3, long: true}
		} else {
			ss, esp = c.tssStack(pl, 0)
			newSS = c.checkInnerSS(ss, pl, 0)
			w = newStack(newSS, esp, uint32(ss&^3), pl)
		}
		c.checkTarget(td, eip)
		oldSP := c.R[RSP]
		c.swPush(&w, n, uint64(c.Seg[SS].Sel))
		c.swPush(&w, n, oldSP&c.stackMask)
		if !long {
			for i := int(d.hi & 0x1f); i > 0; i-- {
				c.swPush(&w, n, c.readStack(oldSP+uint64((i-1)*n), n))
			}
		}
		c.swPush(&w, n, uint64(c.Seg[CS].Sel))
		c.swPush(&w, n, c.RIP)
		c.setAccessed(&td, ta)
		c.CPL = pl
		c.setSeg(SS, newSS)
		if long {
			c.R[RSP] = w.sp
		} else {
			c.R[RSP] = esp
			c.setSP(w.sp)
		}
		c.loadCSDesc(td, tsel, pl)
		c.RIP = eip
		return
	}
	w := c.curStack(0)
	if long {
		// longmode: the gate's target is 64-bit code, so the return
		// address goes to the full RSP even from compatibility mode.
		w.mask, w.sp, w.long = ^uint64(0), c.R[RSP], true
	}
	c.swPush(&w, n, uint64(c.Seg[CS].Sel))
	c.swPush(&w, n, c.RIP)
	c.checkTarget(td, eip)
	c.setAccessed(&td, ta)
	if long {
		c.R[RSP] = w.sp
	} else {
		c.setSP(w.sp)
	}
	c.loadCSDesc(td, tsel, c.CPL)
	c.RIP = eip
}

// checkReturnCS applies the RET/IRET checks to the popped CS.
func (c *CPU) checkReturnCS(cs uint16) (descriptor, uint64) {
	if cs&^3 == 0 {
		c.raise(ExcGP, 0)
	}
	rpl := uint8(cs & 3)
	if rpl < c.CPL {
		c.raise(ExcGP, uint32(cs&^3))
	}
	d, a := c.fetchDesc(cs, ExcGP, 0)
	if !d.isCode() {
		c.raise(ExcGP, uint32(cs&^3))
	}
	c.checkLD(cs, d)
	if d.isConforming() {
		if d.dpl() > rpl {
			c.raise(ExcGP, uint32(cs&^3))
		}
	} else if d.dpl() != rpl {
		c.raise(ExcGP, uint32(cs&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(cs&^3))
	}
	return d, a
}

// checkReturnSS applies the checks of the SS popped by a return to an
// outer level (rpl is the new CPL).
func (c *CPU) checkReturnSS(ss uint16, rpl uint8, cs descriptor) Segment {
	if ss&^3 == 0 {
		// 64-bit mode allows a null SS when returning to a 64-bit
		// segment at CPL < 3.
		if c.mode == Mode64 && rpl != 3 && cs.long() {
			return Segment{Sel: ss, Attr: uint16(rpl) << AttrDPLShift}
		}
		c.raise(ExcGP, 0)
	}
	if uint8(ss&3) != rpl {
		c.raise(ExcGP, uint32(ss&^3))
	}
	d, a := c.fetchDesc(ss, ExcGP, 0)
	if !d.isWritableData() || d.dpl() != rpl {
		c.raise(ExcGP, uint32(ss&^3))
	}
	if !d.present() {
		c.raise(ExcSS, uint32(ss&^3))
	}
	c.setAccessed(&d, a)
	return d.segment(ss)
}

func (c *CPU) farReturnPM(sz uint8, pop uint64) {
	n := uint64(sz)
	sp := c.R[RSP]
	ip := truncOff(c.readStack(sp, int(n)), sz)
	cs := uint16(c.readStack(sp+n, int(n)))
	d, a := c.checkReturnCS(cs)
	rpl := uint8(cs & 3)
	if rpl == c.CPL {
		c.checkTarget(d, ip)
		c.setAccessed(&d, a)
		c.loadCSDesc(d, cs, rpl)
		c.RIP = ip
		c.setSP(sp + 2*n + pop)
		return
	}
	esp := c.readStack(sp+2*n+pop, int(n))
	ss := uint16(c.readStack(sp+3*n+pop, int(n)))
	newSS := c.checkReturnSS(ss, rpl, d)
	c.checkTarget(d, ip)
	c.setAccessed(&d, a)
	c.CPL = rpl
	c.setSeg(SS, newSS)
	c.loadCSDesc(d, cs, rpl)
	c.RIP = ip
	c.setSP(esp + pop)
	c.checkSegsOnCPLChange()
}

func (c *CPU) iretPM(sz uint8) {
	long := c.EFER&EFERLMA != 0
	if c.flags&FlagNT != 0 {
		if long {
			c.raise(ExcGP, 0)
		}
		c.iretTask()
		return
	}
	n := uint64(sz)
	sp := c.R[RSP]
	ip := truncOff(c.readStack(sp, int(n)), sz)
	cs := uint16(c.readStack(sp+n, int(n)))
	fl := c.readStack(sp+2*n, int(n))
	if sz == 4 && fl&FlagVM != 0 && c.CPL == 0 && !long {
		c.iretToV86(sp, ip, cs, fl)
		return
	}
	d, a := c.checkReturnCS(cs)
	rpl := uint8(cs & 3)
	oldCPL := c.CPL
	from64 := c.mode == Mode64
	if rpl == c.CPL && !from64 {
		c.checkTarget(d, ip)
		c.setAccessed(&d, a)
		c.loadCSDesc(d, cs, rpl)
		c.RIP = ip
		c.setSP(sp + 3*n)
		c.iretFlags(fl, sz, oldCPL)
		return
	}
	esp := c.readStack(sp+3*n, int(n))
	ss := uint16(c.readStack(sp+4*n, int(n)))
	newSS := c.checkReturnSS(ss, rpl, d)
	c.checkTarget(d, ip)
	c.setAccessed(&d, a)
	c.iretFlags(fl, sz, oldCPL)
	c.CPL = rpl
	c.setSeg(SS, newSS)
	c.loadCSDesc(d, cs, rpl)
	c.RIP = ip
	if from64 {
		// longmode: IRET in 64-bit mode loads the popped RSP whole
		// (zero-extended for IRETD), whatever mode it returns to.
		c.R[RSP] = esp
	} else {
		c.setSP(esp)
	}
	if rpl != oldCPL {
		c.checkSegsOnCPLChange()
	}
}

// iretFlags loads the EFLAGS image of a protected-mode IRET: IF only when
// CPL <= IOPL, IOPL, VIF and VIP only at CPL 0, never VM.
func (c *CPU) iretFlags(fl uint64, sz uint8, cpl uint8) {
	c.materialize()
	mask := uint64(FlagsArith | FlagTF | FlagDF | FlagNT | FlagRF | FlagAC | FlagID)
	if cpl <= c.iopl() {
		mask |= FlagIF
	}
	if cpl == 0 {
		mask |= FlagIOPL | FlagVIF | FlagVIP
	}
	if sz == 2 {
		mask &= 0xffff
	}
	c.SetFlags(c.flags&^mask | fl&mask)
	c.updateMode()
}

// iretToV86 is IRET at CPL 0 with VM in the popped EFLAGS: the v86 frame
// holds ESP, SS, ES, DS, FS and GS after EFLAGS.
func (c *CPU) iretToV86(sp, ip uint64, cs uint16, fl uint64) {
	esp := c.readStack(sp+12, 4)
	ss := uint16(c.readStack(sp+16, 4))
	es := uint16(c.readStack(sp+20, 4))
	ds := uint16(c.readStack(sp+24, 4))
	fs := uint16(c.readStack(sp+28, 4))
	gs := uint16(c.readStack(sp+32, 4))
	if ip > 0xffff {
		c.raise(ExcGP, 0)
	}
	c.SetFlags(fl)
	c.CPL = 3
	c.updateMode()
	for i, sel := range [6]uint16{es, cs, ss, ds, fs, gs} {
		c.loadSegReal(i, sel)
	}
	c.R[RSP] = esp & 0xffffffff
	c.RIP = ip
	c.recompute()
}

// iretTask returns to the task named by the current TSS's back link.
func (c *CPU) iretTask() {
	link := uint16(c.sysRead(c.TR.Base, 2))
	if link&4 != 0 {
		c.raise(ExcTS, uint32(link&^3))
	}
	d, _ := c.fetchDesc(link, ExcTS, 0)
	if !d.isSystem() || (d.typ() != sysTSS16Busy && d.typ() != sysTSS32Busy) {
		c.raise(ExcTS, uint32(link&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(link&^3))
	}
	c.taskSwitchTail(c.taskSwitch(link, d, taskIret, 0))
}
