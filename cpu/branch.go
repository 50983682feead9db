package cpu

// Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JrCXZ, and
// the memory-indirect far forms' operand fetch (the far transfer itself
// is in far.go).

// branchTo sets RIP to a near target of operand size sz, checking the CS
// limit (or canonical form in 64-bit mode) as the manual requires.
func (c *CPU) branchTo(target uint64, sz uint8) {
	switch sz {
	case 2:
		target &= 0xffff
	case 4:
		target &= 0xffffffff
	}
	if c.mode == Mode64 {
		if uint64(int64(target<<16)>>16) != target {
			c.raise(ExcGP, 0)
		}
	} else if target > uint64(c.Seg[CS].Limit) {
		c.raise(ExcGP, 0)
	}
	c.RIP = target
}

// relTarget is the target of a relative branch.
func relTarget(c *CPU, in *Inst) uint64 {
	return c.RIP + uint64(signExt(in.Imm, in.ImmSize))
}

// opJcc: 70-7F, 0F 80-8F.
func opJcc(c *CPU, in *Inst) {
	if c.cond(uint8(in.Op & 0xf)) {
		c.branchTo(relTarget(c, in), in.OpSize)
	}
}

// opJmpRel: E9, EB.
func opJmpRel(c *CPU, in *Inst) {
	c.branchTo(relTarget(c, in), in.OpSize)
}

// opCallRel: E8.
func opCallRel(c *CPU, in *Inst) {
	t := relTarget(c, in)
	n := pushSize(in)
	sp := c.R[RSP] - uint64(n)
	c.writeStack(sp, n, c.RIP)
	c.branchTo(t, in.OpSize)
	c.setSP(sp)
}

// opJmpInd: FF /4.
func opJmpInd(c *CPU, in *Inst) {
	c.branchTo(c.rmRead(in, in.OpSize), in.OpSize)
}

// opCallInd: FF /2.
func opCallInd(c *CPU, in *Inst) {
	t := c.rmRead(in, in.OpSize)
	n := pushSize(in)
	sp := c.R[RSP] - uint64(n)
	c.writeStack(sp, n, c.RIP)
	c.branchTo(t, in.OpSize)
	c.setSP(sp)
}

// opRetNear: C2 Iw, C3.
func opRetNear(c *CPU, in *Inst) {
	n := pushSize(in)
	t := c.readStack(c.R[RSP], n)
	c.branchTo(t, in.OpSize)
	c.setSP(c.R[RSP] + uint64(n) + in.Imm&0xffff)
}

// counter returns rCX at the address size (the LOOP/JrCXZ/REP counter).
func counter(c *CPU, in *Inst) uint64 {
	return c.R[RCX] & addrMask(in)
}

func setCounter(c *CPU, in *Inst, v uint64) {
	m := addrMask(in)
	if m == 0xffffffff {
		c.R[RCX] = v & m
		return
	}
	c.R[RCX] = c.R[RCX]&^m | v&m
}

// opLoop: E0 LOOPNE, E1 LOOPE, E2 LOOP.
func opLoop(c *CPU, in *Inst) {
	n := (counter(c, in) - 1) & addrMask(in)
	take := n != 0
	switch in.Op {
	case 0xe0:
		take = take && !c.zf()
	case 0xe1:
		take = take && c.zf()
	}
	if take {
		c.branchTo(relTarget(c, in), in.OpSize)
	}
	setCounter(c, in, n)
}

// opJcxz: E3.
func opJcxz(c *CPU, in *Inst) {
	if counter(c, in) == 0 {
		c.branchTo(relTarget(c, in), in.OpSize)
	}
}

// farPtrOperand reads a far pointer (offset then selector) from memory.
func farPtrOperand(c *CPU, in *Inst) (sel uint16, off uint64) {
	sz := in.OpSize
	a := c.ea(in)
	off = c.read(in.Seg, a, int(sz))
	sel = uint16(c.read(in.Seg, (a+uint64(sz))&addrMask(in), 2))
	return
}

// opJmpFarInd: FF /5.
func opJmpFarInd(c *CPU, in *Inst) {
	sel, off := farPtrOperand(c, in)
	c.farJump(sel, off, in.OpSize)
}

// opCallFarInd: FF /3.
func opCallFarInd(c *CPU, in *Inst) {
	sel, off := farPtrOperand(c, in)
	c.farCall(sel, off, in.OpSize)
}

// opFarJmpAp: EA.
func opFarJmpAp(c *CPU, in *Inst) { c.farJump(in.Imm2, in.Imm, in.OpSize) }

// opFarCallAp: 9A.
func opFarCallAp(c *CPU, in *Inst) { c.farCall(in.Imm2, in.Imm, in.OpSize) }

// opRetFar: CA Iw, CB.
func opRetFar(c *CPU, in *Inst) {
	var pop uint64
	if in.Op == 0xca {
		pop = in.Imm & 0xffff
	}
	c.farReturn(in.OpSize, pop)
}
