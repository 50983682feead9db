package cpu

// Far control transfers and software interrupts. Real and v86 mode are
// handled here; protected mode goes to the *PM functions (farpm.go), which
// implement the descriptor, gate and task-switch rules.

// farJump: JMP ptr16:16/32 and JMP m16:16/32/64.
func (c *CPU) farJump(sel uint16, off uint64, sz uint8) {
	if c.inRealMode() || c.inV86() {
		if sz == 2 {
			off &= 0xffff
		}
		if off > uint64(c.Seg[CS].Limit) && c.inRealMode() {
			c.raise(ExcGP, 0)
		}
		c.loadSegReal(CS, sel)
		c.RIP = off & 0xffffffff
		return
	}
	c.farJumpPM(sel, off, sz)
}

// farCall: CALL ptr16:16/32 and CALL m16:16/32/64.
func (c *CPU) farCall(sel uint16, off uint64, sz uint8) {
	if c.inRealMode() || c.inV86() {
		n := int(sz)
		if sz == 2 {
			off &= 0xffff
		}
		sp := c.R[RSP]
		c.writeStack(sp-uint64(n), n, uint64(c.Seg[CS].Sel))
		c.writeStack(sp-uint64(2*n), n, c.RIP)
		if off > uint64(c.Seg[CS].Limit) && c.inRealMode() {
			c.raise(ExcGP, 0)
		}
		c.loadSegReal(CS, sel)
		c.RIP = off & 0xffffffff
		c.setSP(sp - uint64(2*n))
		return
	}
	c.farCallPM(sel, off, sz)
}

// farReturn: RET far with pop bytes of parameters released.
func (c *CPU) farReturn(sz uint8, pop uint64) {
	if c.inRealMode() || c.inV86() {
		n := int(sz)
		sp := c.R[RSP]
		ip := c.readStack(sp, n)
		cs := uint16(c.readStack(sp+uint64(n), n))
		if sz == 2 {
			ip &= 0xffff
		}
		if ip > uint64(c.Seg[CS].Limit) && c.inRealMode() {
			c.raise(ExcGP, 0)
		}
		c.loadSegReal(CS, cs)
		c.RIP = ip
		c.setSP(sp + uint64(2*n) + pop)
		return
	}
	c.farReturnPM(sz, pop)
}

// opIret: CF.
func opIret(c *CPU, in *Inst) {
	sz := in.OpSize
	switch {
	case c.inRealMode():
		c.iretReal(sz)
	case c.inV86():
		if c.iopl() < 3 {
			c.raise(ExcGP, 0)
		}
		c.iretReal(sz)
	default:
		c.iretPM(sz)
	}
	c.NMIBlocked = false
}

// iretReal pops IP, CS and FLAGS (real mode, or v86 with IOPL 3, where
// IOPL itself cannot change).
func (c *CPU) iretReal(sz uint8) {
	n := int(sz)
	sp := c.R[RSP]
	ip := c.readStack(sp, n)
	cs := uint16(c.readStack(sp+uint64(n), n))
	fl := c.readStack(sp+uint64(2*n), n)
	if sz == 2 {
		ip &= 0xffff
	}
	if ip > uint64(c.Seg[CS].Limit) && c.inRealMode() {
		c.raise(ExcGP, 0)
	}
	c.loadSegReal(CS, cs)
	c.RIP = ip
	c.setSP(sp + uint64(3*n))
	if c.inV86() {
		c.popFlags(fl, n)
	} else {
		mask := uint64(0xffff)
		if n == 4 {
			// VM, VIP, VIF and RF keep their values in real mode.
			mask = 0x257fd5 | 0xffff
		}
		c.SetFlags(c.Flags()&^mask | fl&mask)
		c.updateMode()
	}
}

// softInt delivers INT n / INT3 / INTO. In v86 mode with IOPL < 3 they
// fault with #GP(0) (no VME).
func (c *CPU) softInt(vec uint8) {
	if c.inV86() && c.iopl() < 3 {
		c.raise(ExcGP, 0)
	}
	c.interrupt(vec, intSoftware, 0, false)
}

func opInt(c *CPU, in *Inst)  { c.softInt(uint8(in.Imm)) }
func opInt3(c *CPU, in *Inst) { c.interrupt(ExcBP, intSoftware, 0, false) }

func opInto(c *CPU, in *Inst) {
	if c.of() {
		c.interrupt(ExcOF, intSoftware, 0, false)
	}
}

// opInt1: F1 (ICEBP) raises #DB as a trap without the gate DPL check.
func opInt1(c *CPU, in *Inst) { c.interrupt(ExcDB, intICEBP, 0, false) }
