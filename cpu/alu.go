package cpu

import "unsafe"

// The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP), INC,
// DEC, NEG, NOT and TEST.

const (
	aluADD = iota
	aluOR
	aluADC
	aluSBB
	aluAND
	aluSUB
	aluXOR
	aluCMP
)

// alu computes a op b at size sz, records the flags, and returns the result.
func (c *CPU) alu(op uint8, sz uint8, a, b uint64) uint64 {
	m := sizeMask(sz)
	var r uint64
	switch op {
	case aluADD:
		r = (a + b) & m
		c.setLazy(lazyAdd, sz, a, b, r, 0)
	case aluOR:
		r = a | b
		c.setLazy(lazyLogic, sz, a, b, r, 0)
	case aluADC:
		var cin uint8
		if c.cf() {
			cin = 1
		}
		r = (a + b + uint64(cin)) & m
		c.setLazy(lazyAdd, sz, a, b, r, cin)
	case aluSBB:
		var cin uint8
		if c.cf() {
			cin = 1
		}
		r = (a - b - uint64(cin)) & m
		c.setLazy(lazySub, sz, a, b, r, cin)
	case aluAND:
		r = a & b
		c.setLazy(lazyLogic, sz, a, b, r, 0)
	case aluXOR:
		r = a ^ b
		c.setLazy(lazyLogic, sz, a, b, r, 0)
	default: // SUB, CMP
		r = (a - b) & m
		c.setLazy(lazySub, sz, a, b, r, 0)
	}
	return r
}

// opSize returns the operand size of an instruction whose opcode bit 0
// selects byte (0) or full size (1).
func opSize(in *Inst) uint8 {
	if in.Op&1 == 0 {
		return 1
	}
	return in.OpSize
}

// rmw performs a read-modify-write on the r/m operand: f receives the old
// value and returns the new one and whether to store it. For memory the
// destination is checked for writing before anything is computed, so a
// fault leaves flags and registers untouched.
func (c *CPU) rmw(in *Inst, sz uint8, f func(c *CPU, old uint64) (uint64, bool)) {
	if in.Mod == 3 {
		if v, st := f(c, c.regGet(in, in.RM, sz)); st {
			c.regSet(in, in.RM, sz, v)
		}
		return
	}
	la := c.linear(in.Seg, c.ea(in), int(sz), true)
	if p := c.writePtr(la, int(sz)); p != nil {
		if v, st := f(c, loadN(p, sz)); st {
			storeN(p, sz, v)
		}
		return
	}
	old := c.linRead(la, int(sz))
	if v, st := f(c, old); st {
		c.linWrite(la, int(sz), v)
	}
}

// writePtr translates la for a write of n bytes and returns a host
// pointer if the access can go straight to RAM, else nil (after raising
// any fault, so that the caller's later slow write cannot fault).
func (c *CPU) writePtr(la uint64, n int) unsafe.Pointer {
	if la&0xfff > uint64(0x1000-n) {
		c.probeWrite(la)
		c.probeWrite(la + uint64(n) - 1)
		return nil
	}
	e := &c.tlb.w[(la>>12)&(tlbSize-1)]
	if e.tag != c.tlbKey(la) {
		e, _ = c.fill(la, accWrite)
		if e.tag != c.tlbKey(la) {
			return nil
		}
	}
	return unsafe.Add(e.host, la&0xfff)
}

func loadN(p unsafe.Pointer, sz uint8) uint64 {
	switch sz {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

func storeN(p unsafe.Pointer, sz uint8, v uint64) {
	switch sz {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
}

// opAluRM: 00-3B forms 0-3: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev.
func opAluRM(c *CPU, in *Inst) {
	sz := opSize(in)
	op := uint8(in.Op>>3) & 7
	if in.Op&2 != 0 {
		// Register destination.
		a := c.regGet(in, in.Reg, sz)
		b := c.rmRead(in, sz)
		r := c.alu(op, sz, a, b)
		if op != aluCMP {
			c.regSet(in, in.Reg, sz, r)
		}
		return
	}
	c.aluToRM(in, op, sz, c.regGet(in, in.Reg, sz))
}

// aluToRM computes r/m = r/m op b (CMP only compares). For memory the
// destination is translated for writing first (writePtr), so a fault
// leaves flags and memory untouched.
func (c *CPU) aluToRM(in *Inst, op, sz uint8, b uint64) {
	if op == aluCMP {
		c.alu(op, sz, c.rmRead(in, sz), b)
		return
	}
	if in.Mod == 3 {
		c.regSet(in, in.RM, sz, c.alu(op, sz, c.regGet(in, in.RM, sz), b))
		return
	}
	la := c.linear(in.Seg, c.ea(in), int(sz), true)
	if p := c.writePtr(la, int(sz)); p != nil {
		storeN(p, sz, c.alu(op, sz, loadN(p, sz), b))
		return
	}
	old := c.linRead(la, int(sz))
	c.linWrite(la, int(sz), c.alu(op, sz, old, b))
}

// opAluAccImm: 04/05 forms: AL,Ib / eAX,Iz.
func opAluAccImm(c *CPU, in *Inst) {
	sz := opSize(in)
	op := uint8(in.Op>>3) & 7
	imm := signExtImm(in, sz)
	r := c.alu(op, sz, c.regGet(in, RAX, sz), imm)
	if op != aluCMP {
		c.regSet(in, RAX, sz, r)
	}
}

// signExtImm returns the immediate sign-extended from its encoded size and
// masked to sz bytes.
func signExtImm(in *Inst, sz uint8) uint64 {
	v := in.Imm
	switch in.ImmSize {
	case 1:
		v = uint64(int64(int8(v)))
	case 2:
		v = uint64(int64(int16(v)))
	case 4:
		v = uint64(int64(int32(v)))
	}
	return v & sizeMask(sz)
}

// opAluRMImm: 80/81/82/83 group 1.
func opAluRMImm(c *CPU, in *Inst) {
	sz := opSize(in)
	if in.Op == 0x82 {
		sz = 1
	}
	c.aluToRM(in, in.Reg&7, sz, signExtImm(in, sz))
}

// opTestRM: 84/85.
func opTestRM(c *CPU, in *Inst) {
	sz := opSize(in)
	c.alu(aluAND, sz, c.rmRead(in, sz), c.regGet(in, in.Reg, sz))
}

// opTestAccImm: A8/A9.
func opTestAccImm(c *CPU, in *Inst) {
	sz := opSize(in)
	c.alu(aluAND, sz, c.regGet(in, RAX, sz), signExtImm(in, sz))
}

func (c *CPU) incdec(sz uint8, v uint64, dec bool) uint64 {
	var cin uint8
	if c.cf() {
		cin = 1
	}
	m := sizeMask(sz)
	if dec {
		r := (v - 1) & m
		c.setLazy(lazyDec, sz, v, 1, r, cin)
		return r
	}
	r := (v + 1) & m
	c.setLazy(lazyInc, sz, v, 1, r, cin)
	return r
}

// opIncDecReg: 40-4F (not in 64-bit mode, where they are REX).
func opIncDecReg(c *CPU, in *Inst) {
	r := uint8(in.Op & 7)
	sz := in.OpSize
	c.regSet(in, r, sz, c.incdec(sz, c.regGet(in, r, sz), in.Op >= 0x48))
}

// opIncDecRM: FE/FF /0 /1.
func opIncDecRM(c *CPU, in *Inst) {
	sz := opSize(in)
	dec := in.Reg&7 == 1
	c.rmw(in, sz, func(c *CPU, v uint64) (uint64, bool) { return c.incdec(sz, v, dec), true })
}

// opGrp3: F6/F7: TEST Ib/Iz, NOT, NEG, MUL, IMUL, DIV, IDIV.
func opGrp3(c *CPU, in *Inst) {
	sz := opSize(in)
	switch in.Reg & 7 {
	case 0, 1:
		c.alu(aluAND, sz, c.rmRead(in, sz), signExtImm(in, sz))
	case 2:
		c.rmw(in, sz, func(c *CPU, v uint64) (uint64, bool) { return ^v & sizeMask(sz), true })
	case 3:
		c.rmw(in, sz, func(c *CPU, v uint64) (uint64, bool) {
			r := (0 - v) & sizeMask(sz)
			c.setLazy(lazySub, sz, 0, v, r, 0)
			return r, true
		})
	case 4:
		c.mul(sz, c.rmRead(in, sz))
	case 5:
		c.imul1(sz, c.rmRead(in, sz))
	case 6:
		c.div(in, sz, c.rmRead(in, sz))
	case 7:
		c.idiv(in, sz, c.rmRead(in, sz))
	}
}
