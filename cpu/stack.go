package cpu

// Stack instructions: PUSH and POP of registers, segment registers,
// immediates and memory; PUSHA/POPA; ENTER/LEAVE; PUSHF/POPF.

// opPushReg: 50-57.
func opPushReg(c *CPU, in *Inst) {
	r := uint8(in.Op&7) | (in.Rex&RexB)<<3
	c.push(pushSize(in), c.R[r])
}

// opPopReg: 58-5F. POP SP loads the popped value (the increment is lost).
func opPopReg(c *CPU, in *Inst) {
	r := uint8(in.Op&7) | (in.Rex&RexB)<<3
	n := pushSize(in)
	v := c.readStack(c.R[RSP], n)
	c.setSP(c.R[RSP] + uint64(n))
	c.regSet(in, r, uint8(n), v)
}

// opPushImm: 68/6A.
func opPushImm(c *CPU, in *Inst) {
	n := pushSize(in)
	c.push(n, signExtImm(in, uint8(n)))
}

// opPushRM: FF /6.
func opPushRM(c *CPU, in *Inst) {
	n := pushSize(in)
	c.push(n, c.rmRead(in, uint8(n)))
}

// opPopRM: 8F /0. The stack pointer is incremented before the effective
// address is computed (SDM: POP with an ESP-based address).
func opPopRM(c *CPU, in *Inst) {
	n := pushSize(in)
	sp := c.R[RSP]
	v := c.readStack(sp, n)
	c.setSP(sp + uint64(n))
	defer func() {
		if r := recover(); r != nil {
			c.R[RSP] = sp
			panic(r)
		}
	}()
	c.rmWrite(in, uint8(n), v)
}

func segOfPushPop(in *Inst) int {
	switch in.Op {
	case 0x06, 0x07:
		return ES
	case 0x0e:
		return CS
	case 0x16, 0x17:
		return SS
	case 0x1e, 0x1f:
		return DS
	case Map0F | 0xa0, Map0F | 0xa1:
		return FS
	}
	return GS
}

// opPushSeg: 06 0E 16 1E 0F A0 0F A8. A 32-bit push writes the selector
// in the low word and leaves the upper word unchanged (P6 behaviour).
func opPushSeg(c *CPU, in *Inst) {
	n := pushSize(in)
	sel := uint64(c.Seg[segOfPushPop(in)].Sel)
	if n == 2 {
		c.push(2, sel)
		return
	}
	sp := c.R[RSP] - uint64(n)
	c.writeStack(sp, 2, sel)
	c.setSP(sp)
}

// opPopSeg: 07 17 1F 0F A1 0F A9.
func opPopSeg(c *CPU, in *Inst) {
	n := pushSize(in)
	v := c.readStack(c.R[RSP], n)
	c.loadSeg(segOfPushPop(in), uint16(v))
	c.setSP(c.R[RSP] + uint64(n))
}

// opPusha: 60.
func opPusha(c *CPU, in *Inst) {
	n := pushSize(in)
	sp := c.R[RSP]
	for i := 0; i < 8; i++ {
		v := c.R[i]
		if i == RSP {
			v = sp
		}
		c.writeStack(sp-uint64(n*(i+1)), n, v)
	}
	c.setSP(sp - uint64(8*n))
}

// opPopa: 61. The stored SP is skipped.
func opPopa(c *CPU, in *Inst) {
	n := pushSize(in)
	sp := c.R[RSP]
	var vals [8]uint64
	for i := 0; i < 8; i++ {
		vals[7-i] = c.readStack(sp+uint64(n*i), n)
	}
	for i := 0; i < 8; i++ {
		if i != RSP {
			c.regSetN(uint8(i), uint8(n), vals[i])
		}
	}
	c.setSP(sp + uint64(8*n))
}

// opEnter: C8 ENTER Iw, Ib.
func opEnter(c *CPU, in *Inst) {
	n := pushSize(in)
	size := in.Imm & 0xffff
	level := uint64(in.Imm2 & 0x1f)
	sp := c.R[RSP]
	bp := c.R[RBP]
	sp -= uint64(n)
	c.writeStack(sp, n, bp)
	frame := sp
	if level > 0 {
		for i := uint64(1); i < level; i++ {
			bp -= uint64(n)
			var v uint64
			if c.stackMask == 0xffff {
				v = c.readStack(bp&0xffff, n)
			} else {
				v = c.readStack(bp, n)
			}
			sp -= uint64(n)
			c.writeStack(sp, n, v)
		}
		sp -= uint64(n)
		c.writeStack(sp, n, frame)
	}
	sp -= size
	// The final stack pointer must be valid (SDM: #SS if it is not).
	c.linear(SS, sp&c.stackMask, 1, true)
	c.regSetN(RBP, uint8(stackOpSize(c, n)), frame)
	c.setSP(sp)
}

// stackOpSize returns the size in which ENTER/LEAVE update rBP: the stack
// address size for BP itself when it differs from the operand size.
func stackOpSize(c *CPU, n int) int {
	if c.stackMask == 0xffff {
		return 2
	}
	if c.stackMask == 0xffffffff && n == 8 {
		return 4
	}
	return n
}

// opLeave: C9.
func opLeave(c *CPU, in *Inst) {
	n := pushSize(in)
	bp := c.R[RBP] & c.stackMask
	v := c.readStack(bp, n)
	c.setSP(bp + uint64(n))
	c.regSetN(RBP, uint8(n), v)
}

// opPushf: 9C. In v86 mode with IOPL < 3 it faults (no VME).
func opPushf(c *CPU, in *Inst) {
	if c.inV86() && c.iopl() < 3 {
		c.raise(ExcGP, 0)
	}
	n := pushSize(in)
	// VM and RF are pushed as zero.
	c.push(n, c.Flags()&^(FlagVM|FlagRF))
}

func (c *CPU) iopl() uint8 { return uint8(c.flags>>12) & 3 }

// opPopf: 9D. Which bits change depends on mode, CPL and IOPL (SDM
// POPF): IOPL only at CPL 0, IF only when CPL <= IOPL; VM, RF, VIP, VIF
// never.
func opPopf(c *CPU, in *Inst) {
	n := pushSize(in)
	if c.inV86() && c.iopl() < 3 {
		c.raise(ExcGP, 0)
	}
	v := c.readStack(c.R[RSP], n)
	c.setSP(c.R[RSP] + uint64(n))
	c.popFlags(v, n)
}

// popFlags writes RFLAGS from a POPF/IRET image of n bytes with the
// privilege rules of POPF.
func (c *CPU) popFlags(v uint64, n int) {
	c.materialize()
	mask := uint64(FlagsArith | FlagTF | FlagDF | FlagNT | FlagAC | FlagID)
	if c.inRealMode() || c.CPL == 0 {
		mask |= FlagIOPL | FlagIF
	} else if c.CPL <= c.iopl() {
		mask |= FlagIF
	}
	if c.inV86() {
		mask |= FlagIF
		mask &^= FlagIOPL
	}
	if n == 2 {
		mask &= 0xffff
	}
	c.SetFlags(c.flags&^mask | v&mask)
	c.updateMode()
}
