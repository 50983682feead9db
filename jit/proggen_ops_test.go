package jit_test

import "fuji/cpu"

// The single instructions of the random programs. Each form emits one
// instruction (after the MOVs that load its address registers or
// operands) or returns false when it does not apply here (a register it
// writes is kept, a mode it does not exist in).

// form is one instruction generator; native marks the forms the JIT
// compiles (the others run as helper exits).
type form struct {
	name   string
	weight int
	native bool
	gen    func(g *pgen) bool
}

var forms = []form{
	{"alu", 14, true, func(g *pgen) bool { g.alu(); return true }},
	{"test", 3, true, (*pgen).test},
	{"unary", 4, true, (*pgen).unary},
	{"shift", 5, true, (*pgen).shift},
	{"imul", 3, true, (*pgen).imul},
	{"mov", 8, true, (*pgen).mov},
	{"movext", 3, true, (*pgen).movExt},
	{"lea", 3, true, (*pgen).lea},
	{"xchg", 2, true, (*pgen).xchg},
	{"cmov", 3, true, (*pgen).cmov},
	{"setcc", 3, true, (*pgen).setcc},
	{"cbw", 2, true, (*pgen).cbw},
	{"pushpop", 5, true, (*pgen).pushPop},
	{"nop", 1, true, (*pgen).nop},
	{"string", 3, false, (*pgen).stringOp},
	{"div", 2, false, (*pgen).div},
	{"mul", 2, false, (*pgen).mul},
	{"bt", 2, false, (*pgen).bt},
	{"flags", 3, false, (*pgen).flagsOp},
	{"shld", 1, false, (*pgen).shld},
	{"bsf", 1, false, (*pgen).bsf},
	{"bswap", 1, false, (*pgen).bswap},
	{"xadd", 1, false, (*pgen).xadd},
	{"cmpxchg", 1, false, (*pgen).cmpxchg},
	{"xlat", 1, false, (*pgen).xlat},
}

// straight emits one instruction of a random form.
func (g *pgen) straight() {
	total := 0
	for _, f := range forms {
		total += f.weight
	}
	for {
		k := g.r.Intn(total)
		for _, f := range forms {
			if k -= f.weight; k < 0 {
				if f.gen(g) {
					return
				}
				break
			}
		}
	}
}

// w1 is the opcode's width bit: 0 for byte operands.
func w1(sz int) byte {
	if sz == 1 {
		return 0
	}
	return 1
}

// immOf is an immediate of the operand size (at most 4 bytes).
func (g *pgen) immOf(sz int) []byte { return le(g.imm(sz), min(sz, 4)) }

// alu: ADD OR ADC SBB AND SUB XOR CMP in every form.
func (g *pgen) alu() {
	op := byte(g.r.Intn(8))
	sz := g.size(true)
	rx := g.rex(sz)
	w := op != 7
	switch g.r.Intn(4) {
	case 0: // r/m, reg
		rm := g.rmOperand(sz, rx, w)
		var pfx []byte
		if !rm.isReg && w && g.chance(6) {
			pfx = []byte{0xf0} // LOCK
		}
		g.enc(ins{pfx: pfx, osz: sz, rx: rx, op: []byte{op*8 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, false), rm: rm})
	case 1: // reg, r/m
		rm := g.rmOperand(sz, rx, false)
		g.enc(ins{osz: sz, rx: rx, op: []byte{op*8 + 2 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, w), rm: rm})
	case 2: // r/m, imm
		rm := g.rmOperand(sz, rx, w)
		switch {
		case sz == 1:
			opc := byte(0x80)
			if g.mode != modeLong && g.chance(4) {
				opc = 0x82
			}
			g.enc(ins{osz: sz, rx: rx, op: []byte{opc}, modrm: true, reg: op, rm: rm, imm: g.immOf(1)})
		case g.coin():
			g.enc(ins{osz: sz, rx: rx, op: []byte{0x83}, modrm: true, reg: op, rm: rm, imm: g.immOf(1)})
		default:
			g.enc(ins{osz: sz, rx: rx, op: []byte{0x81}, modrm: true, reg: op, rm: rm, imm: g.immOf(sz)})
		}
	default: // AL/eAX, imm
		if w && !g.canWrite(cpu.RAX) {
			op = 7
		}
		g.enc(ins{osz: sz, rx: rx, op: []byte{op*8 + 4 | w1(sz)}, imm: g.immOf(sz)})
	}
}

// test: TEST r/m, reg; TEST r/m, imm (F6/F7 /0 and its alias /1);
// TEST AL/eAX, imm.
func (g *pgen) test() bool {
	sz := g.size(true)
	rx := g.rex(sz)
	switch g.r.Intn(3) {
	case 0:
		rm := g.rmOperand(sz, rx, false)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x84 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, false), rm: rm})
	case 1:
		rm := g.rmOperand(sz, rx, false)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xf6 | w1(sz)}, modrm: true, reg: byte(g.r.Intn(2)), rm: rm, imm: g.immOf(sz)})
	default:
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xa8 | w1(sz)}, imm: g.immOf(sz)})
	}
	return true
}

// unary: INC, DEC (FE/FF and 40-4F), NOT, NEG.
func (g *pgen) unary() bool {
	sz := g.size(true)
	rx := g.rex(sz)
	if g.mode != modeLong && sz != 1 && g.chance(3) {
		r := g.reg(sz, false, true)
		g.enc(ins{osz: sz, op: []byte{0x40 + 8*byte(g.r.Intn(2))}, opReg: int(r)})
		return true
	}
	rm := g.rmOperand(sz, rx, true)
	var pfx []byte
	if !rm.isReg && g.chance(8) {
		pfx = []byte{0xf0}
	}
	if g.coin() {
		g.enc(ins{pfx: pfx, osz: sz, rx: rx, op: []byte{0xfe | w1(sz)}, modrm: true, reg: byte(g.r.Intn(2)), rm: rm})
	} else {
		g.enc(ins{pfx: pfx, osz: sz, rx: rx, op: []byte{0xf6 | w1(sz)}, modrm: true, reg: 2 + byte(g.r.Intn(2)), rm: rm})
	}
	return true
}

// shift: ROL ROR RCL RCR SHL SHR SAL SAR by 1, by imm8, by CL.
func (g *pgen) shift() bool {
	sz := g.size(true)
	rx := g.rex(sz)
	kind := byte(g.r.Intn(8))
	switch g.r.Intn(3) {
	case 0:
		rm := g.rmOperand(sz, rx, true)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xd0 | w1(sz)}, modrm: true, reg: kind, rm: rm})
	case 1:
		rm := g.rmOperand(sz, rx, true)
		counts := []uint64{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0xff}
		n := counts[g.r.Intn(len(counts))]
		if g.coin() {
			n = uint64(g.r.Intn(256))
		}
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xc0 | w1(sz)}, modrm: true, reg: kind, rm: rm, imm: []byte{byte(n)}})
	default:
		if g.canWrite(cpu.RCX) && g.coin() {
			counts := []uint64{0, 1, 2, 7, 8, 9, 16, 31, 32, 33, 63, 64, 0xff, 0x1f20}
			g.setReg(cpu.RCX, counts[g.r.Intn(len(counts))], false)
		}
		rm := g.rmOperand(sz, rx, true)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xd2 | w1(sz)}, modrm: true, reg: kind, rm: rm})
	}
	return true
}

// imul: IMUL reg, r/m; IMUL reg, r/m, imm8/imm.
func (g *pgen) imul() bool {
	sz := g.size(false)
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, false)
	r := g.reg(sz, rx, true)
	switch g.r.Intn(3) {
	case 0:
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0xaf}, modrm: true, reg: r, rm: rm})
	case 1:
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x6b}, modrm: true, reg: r, rm: rm, imm: g.immOf(1)})
	default:
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x69}, modrm: true, reg: r, rm: rm, imm: g.immOf(sz)})
	}
	return true
}

// mov: MOV r/m, reg; MOV reg, r/m; MOV r/m, imm; MOV reg, imm (B0-BF,
// with a 64-bit immediate under REX.W).
func (g *pgen) mov() bool {
	sz := g.size(true)
	rx := g.rex(sz)
	switch g.r.Intn(4) {
	case 0:
		rm := g.rmOperand(sz, rx, true)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x88 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, false), rm: rm})
	case 1:
		rm := g.rmOperand(sz, rx, false)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x8a | w1(sz)}, modrm: true, reg: g.reg(sz, rx, true), rm: rm})
	case 2:
		rm := g.rmOperand(sz, rx, true)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xc6 | w1(sz)}, modrm: true, reg: 0, rm: rm, imm: g.immOf(sz)})
	default:
		r := g.reg(sz, rx, true)
		if sz == 1 {
			g.enc(ins{rx: rx, op: []byte{0xb0}, opReg: int(r), imm: le(g.imm(1), 1)})
		} else {
			g.enc(ins{osz: sz, rx: rx, op: []byte{0xb8}, opReg: int(r), imm: le(g.imm(sz), sz)})
		}
	}
	return true
}

// movExt: MOVZX, MOVSX, MOVSXD (with and without REX.W).
func (g *pgen) movExt() bool {
	var op []byte
	var src, dst int
	switch g.r.Intn(5) {
	case 0, 1:
		op, src = []byte{0x0f, 0xb6 + 8*byte(g.r.Intn(2))}, 1
		dst = g.size(false)
	case 2, 3:
		op, src = []byte{0x0f, 0xb7 + 8*byte(g.r.Intn(2))}, 2
		dst = g.size(false)
	default:
		if g.mode != modeLong {
			return false
		}
		op, src = []byte{0x63}, 4
		dst = 8
		if g.chance(4) {
			dst = 4
		}
	}
	rx := g.rex(dst)
	rm := g.rmOperand(src, rx, false)
	g.enc(ins{osz: dst, rx: rx, op: op, modrm: true, reg: g.reg(dst, rx, true), rm: rm})
	return true
}

// randomAddr is an arbitrary address operand for LEA and long NOPs
// (nothing is accessed): any base and index, RSP and RBP included, every
// mod, RIP-relative, and the other address size.
func (g *pgen) randomAddr(rx bool) rmOp {
	op := rmOp{sib: -1}
	op.mod = byte(g.r.Intn(3))
	if g.mode == modeReal && !g.chance(4) {
		op.rm = byte(g.r.Intn(8))
		switch {
		case op.mod == 0 && op.rm == 6, op.mod == 2:
			op.disp = le(g.imm(2), 2)
		case op.mod == 1:
			op.disp = le(g.imm(1), 1)
		}
		return op
	}
	op.a67 = g.mode == modeReal || g.mode == modeLong && g.chance(4)
	n := 8
	if rx {
		n = 16
	}
	base := g.r.Intn(n)
	if g.coin() {
		index := g.r.Intn(n)
		op.rm = 4
		op.sib = g.r.Intn(4)<<6 | (index&7)<<3 | base&7
		op.rexB, op.rexX = base >= 8, index >= 8
		if op.mod == 0 && base&7 == 5 {
			op.disp = le(g.imm(4), 4)
		}
	} else {
		op.rm = byte(base & 7)
		op.rexB = base >= 8
		if op.rm == 4 {
			op.sib = 0x24
		}
		if op.mod == 0 && op.rm == 5 {
			op.disp = le(g.imm(4), 4)
		}
	}
	switch op.mod {
	case 1:
		op.disp = le(g.imm(1), 1)
	case 2:
		op.disp = le(g.imm(4), 4)
	}
	return op
}

// lea: LEA reg, [anything] at every operand and address size.
func (g *pgen) lea() bool {
	sz := g.size(false)
	rx := g.rex(sz)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x8d}, modrm: true, reg: g.reg(sz, rx, true), rm: g.randomAddr(rx)})
	return true
}

// xchg: XCHG r/m, reg; XCHG eAX, reg (91-97, and 90 with REX.B).
func (g *pgen) xchg() bool {
	sz := g.size(true)
	rx := g.rex(sz)
	if sz != 1 && g.coin() {
		if !g.canWrite(cpu.RAX) {
			return false
		}
		r := g.reg(sz, rx, true)
		if r == 0 {
			if !rx {
				return false
			}
			r = 8 // 90 with REX.B: XCHG r8, rAX
		}
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x90}, opReg: int(r)})
		return true
	}
	rm := g.rmOperand(sz, rx, true)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x86 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, true), rm: rm})
	return true
}

// cmov: CMOVcc reg, r/m, often right after a flag producer.
func (g *pgen) cmov() bool {
	if g.coin() {
		g.alu()
	}
	sz := g.size(false)
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, false)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0x40 | byte(g.r.Intn(16))}, modrm: true, reg: g.reg(sz, rx, true), rm: rm})
	return true
}

// setcc: SETcc r/m8, often right after a flag producer.
func (g *pgen) setcc() bool {
	if g.coin() {
		g.alu()
	}
	rx := g.rex(1)
	rm := g.rmOperand(1, rx, true)
	g.enc(ins{rx: rx, op: []byte{0x0f, 0x90 | byte(g.r.Intn(16))}, modrm: true, reg: 0, rm: rm})
	return true
}

// cbw: CBW/CWDE/CDQE and CWD/CDQ/CQO.
func (g *pgen) cbw() bool {
	sz := g.size(false)
	if g.coin() {
		if !g.canWrite(cpu.RAX) {
			return false
		}
		g.enc(ins{osz: sz, rx: sz == 8, op: []byte{0x98}})
	} else {
		if !g.canWrite(cpu.RDX) {
			return false
		}
		g.enc(ins{osz: sz, rx: sz == 8, op: []byte{0x99}})
	}
	return true
}

// pushPop: PUSH reg/imm/r/m (at the default size or with 66) and POP
// reg/r/m of what this region pushed.
func (g *pgen) pushPop() bool {
	sz := g.stackSize()
	if len(g.pushed) > g.base && g.coin() {
		n := g.pushed[len(g.pushed)-1]
		if n != sz && !(n == 2 && sz != 2) {
			return false
		}
		var pfx []byte
		if n != sz {
			pfx = []byte{0x66}
		}
		rx := g.rex(4)
		if g.coin() {
			g.enc(ins{pfx: pfx, rx: rx, op: []byte{0x58}, opReg: int(g.reg(n, rx, true))})
		} else {
			g.enc(ins{pfx: pfx, rx: rx, op: []byte{0x8f}, modrm: true, reg: 0, rm: g.memOperand(n, rx, true)})
		}
		g.pushed = g.pushed[:len(g.pushed)-1]
		return true
	}
	if g.depth() > 0x400 {
		return false
	}
	n := sz
	var pfx []byte
	if g.chance(5) {
		pfx = []byte{0x66}
		n = 2
		if g.mode == modeReal {
			n = 4
		}
	}
	rx := g.rex(4)
	switch g.r.Intn(3) {
	case 0:
		g.enc(ins{pfx: pfx, rx: rx, op: []byte{0x50}, opReg: int(g.reg(n, rx, false))})
	case 1:
		if g.coin() {
			g.enc(ins{pfx: pfx, op: []byte{0x6a}, imm: le(g.imm(1), 1)})
		} else {
			g.enc(ins{pfx: pfx, op: []byte{0x68}, imm: le(g.imm(4), min(n, 4))})
		}
	default:
		g.enc(ins{pfx: pfx, rx: rx, op: []byte{0xff}, modrm: true, reg: 6, rm: g.memOperand(n, rx, false)})
	}
	g.push(n)
	return true
}

// nop: 90, 66 90, F3 90 (PAUSE) and 0F 1F /0 with any address.
func (g *pgen) nop() bool {
	switch g.r.Intn(4) {
	case 0:
		g.b(0x90)
	case 1:
		g.b(0x66, 0x90)
	case 2:
		g.b(0xf3, 0x90)
	default:
		sz := g.size(false)
		rx := g.rex(sz)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0x1f}, modrm: true, reg: 0, rm: g.randomAddr(rx)})
	}
	return true
}

// Forms the JIT runs as helper exits.

// stringOp: MOVS STOS LODS CMPS SCAS, with and without REP/REPE/REPNE,
// forwards or backwards (CLD/STD), inside the data area.
func (g *pgen) stringOp() bool {
	if !g.canWrite(cpu.RSI, cpu.RDI, cpu.RCX, cpu.RAX) {
		return false
	}
	sz := g.size(true)
	ops := []byte{0xa4, 0xaa, 0xac, 0xa6, 0xae} // MOVS STOS LODS CMPS SCAS
	op := ops[g.r.Intn(len(ops))]
	n := uint64(g.r.Intn(12))
	down := g.coin()
	span := uint64(12 * 8)
	lo := dataAddr + 0x100 + uint64(g.r.Intn(dataSize-0x200-int(span)))
	lo2 := dataAddr + 0x100 + uint64(g.r.Intn(dataSize-0x200-int(span)))
	if down {
		lo += span
		lo2 += span
	}
	base := segBase(g.mode, cpu.DS)
	if g.mode == modeLong {
		base = 0
	}
	g.setReg(cpu.RSI, lo-base, false)
	g.setReg(cpu.RDI, lo2-base, false)
	g.setReg(cpu.RCX, n, false)
	if down {
		g.b(0xfd) // STD
	} else {
		g.b(0xfc) // CLD
	}
	if op == 0xac || op == 0xae {
		g.setReg(cpu.RAX, g.imm(4)&0xffff, false)
	}
	var pfx []byte
	switch g.r.Intn(3) {
	case 0:
		pfx = []byte{0xf3}
	case 1:
		if op == 0xa6 || op == 0xae {
			pfx = []byte{0xf2}
		} else {
			pfx = []byte{0xf3}
		}
	}
	g.enc(ins{pfx: pfx, osz: sz, rx: sz == 8, op: []byte{op | w1(sz)}})
	return true
}

// div: DIV and IDIV with a dividend and divisor that cannot fault.
func (g *pgen) div() bool {
	if !g.canWrite(cpu.RAX, cpu.RDX) {
		return false
	}
	sz := g.size(true)
	signed := g.coin()
	bits := uint(8 * sz)
	mask := uint64(1)<<bits - 1
	if sz == 8 {
		mask = ^uint64(0)
	}
	// The divisor: at least 2 in magnitude, within imm32 for MOV.
	d := uint64(2 + g.r.Intn(1000))
	if g.coin() {
		d = uint64(g.r.Uint32()>>1) | 2
	}
	d &= mask >> 1
	if d < 2 {
		d = 2
	}
	if signed && g.coin() {
		d = -d & mask
	}
	lo := g.imm(sz)
	// High half: zero (unsigned) or the sign extension of lo (signed),
	// so the quotient fits.
	var hi uint64
	if signed && lo>>(bits-1)&1 == 1 {
		hi = mask
	}
	if sz == 1 {
		g.setReg(cpu.RAX, hi<<8|lo, false)
	} else {
		g.setReg(cpu.RAX, lo, g.mode == modeReal && sz == 4)
		g.setReg(cpu.RDX, hi, g.mode == modeReal && sz == 4)
	}
	keep := g.keep
	g.keep |= 1<<cpu.RAX | 1<<cpu.RDX
	defer func() { g.keep = keep }()
	rx := g.rex(sz)
	var rm rmOp
	if g.coin() {
		r := g.reg(sz, rx, true)
		if gpr(r, sz, rx) == cpu.RAX || gpr(r, sz, rx) == cpu.RDX || !g.writable(r, sz, rx) {
			return true // (the dividend is set: harmless)
		}
		if sz == 1 {
			g.enc(ins{rx: rx, op: []byte{0xb0}, opReg: int(r), imm: le(d, 1)})
		} else {
			g.enc(ins{osz: sz, rx: rx, op: []byte{0xc7}, modrm: true, reg: 0, rm: rmOp{isReg: true, r: r}, imm: le(d, min(sz, 4))})
		}
		rm = rmOp{isReg: true, r: r}
	} else {
		rm = g.memOperand(sz, rx, true)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0xc6 | w1(sz)}, modrm: true, reg: 0, rm: rm, imm: le(d, min(sz, 4))})
		// The same operand again: its registers are unchanged and a
		// RIP-relative displacement is recomputed by enc.
	}
	op := byte(6)
	if signed {
		op = 7
	}
	g.enc(ins{osz: sz, rx: rx, op: []byte{0xf6 | w1(sz)}, modrm: true, reg: op, rm: rm})
	return true
}

// mul: MUL and one-operand IMUL.
func (g *pgen) mul() bool {
	sz := g.size(true)
	if !g.canWrite(cpu.RAX) || sz > 1 && !g.canWrite(cpu.RDX) {
		return false
	}
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, false)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0xf6 | w1(sz)}, modrm: true, reg: 4 + byte(g.r.Intn(2)), rm: rm})
	return true
}

// bt: BT BTS BTR BTC with a register bit offset (which may point outside
// the operand in memory) or an immediate.
func (g *pgen) bt() bool {
	sz := g.size(false)
	rx := g.rex(sz)
	kind := byte(g.r.Intn(4))
	if g.coin() {
		rm := g.rmOperand(sz, rx, kind != 0)
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0xba}, modrm: true, reg: 4 + kind, rm: rm, imm: []byte{byte(g.r.Intn(256))}})
		return true
	}
	// The bit offset register first, kept while the address is built.
	r := g.reg(sz, rx, true)
	off := uint64(g.r.Intn(1024)) - 512
	if sz == 2 {
		off &= 0xffff
	}
	g.setReg(r, off, sz == 4)
	keep := g.keep
	g.keep |= 1 << r
	defer func() { g.keep = keep }()
	var rm rmOp
	if g.coin() {
		rm = rmOp{isReg: true, r: g.reg(sz, rx, kind != 0)}
	} else {
		lin := dataAddr + 0x200 + uint64(g.r.Intn(dataSize-0x400))
		rm = g.mem(lin, sz, rx, kind != 0)
	}
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0xa3 + 8*kind}, modrm: true, reg: r, rm: rm})
	return true
}

// flagsOp: PUSHF/POPF, LAHF/SAHF, CLC/STC/CMC, CLD/STD.
func (g *pgen) flagsOp() bool {
	switch g.r.Intn(5) {
	case 0: // PUSHF; POP reg
		if g.depth() > 0x400 {
			return false
		}
		rx := g.rex(4)
		r := g.reg(g.stackSize(), rx, true)
		g.b(0x9c)
		g.enc(ins{rx: rx, op: []byte{0x58}, opReg: int(r)})
	case 1: // MOV reg, flags; PUSH reg; POPF
		rx := g.rex(4)
		r := g.reg(4, rx, true)
		v := g.r.Uint64()&(cpu.FlagsArith|cpu.FlagDF|cpu.FlagIF) | 2
		g.setReg(r, v, false)
		g.enc(ins{rx: rx, op: []byte{0x50}, opReg: int(r)})
		g.b(0x9d)
	case 2:
		if !g.canWrite(cpu.RAX) {
			return false
		}
		g.b(0x9f) // LAHF
	case 3:
		g.b(0x9e) // SAHF
	default:
		ops := []byte{0xf8, 0xf9, 0xf5, 0xfc, 0xfd}
		g.b(ops[g.r.Intn(len(ops))])
	}
	return true
}

// shld: SHLD/SHRD by imm8 and by CL.
func (g *pgen) shld() bool {
	sz := g.size(false)
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, true)
	op := 0xa4 + 8*byte(g.r.Intn(2))
	if g.coin() {
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, op}, modrm: true, reg: g.reg(sz, rx, false), rm: rm, imm: []byte{byte(g.r.Intn(70))}})
	} else {
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, op + 1}, modrm: true, reg: g.reg(sz, rx, false), rm: rm})
	}
	return true
}

// bsf: BSF, BSR, TZCNT, LZCNT, POPCNT.
func (g *pgen) bsf() bool {
	sz := g.size(false)
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, false)
	var pfx []byte
	op := []byte{0x0f, 0xbc + byte(g.r.Intn(2))}
	switch g.r.Intn(3) {
	case 0:
		pfx = []byte{0xf3} // TZCNT / LZCNT
	case 1:
		pfx, op = []byte{0xf3}, []byte{0x0f, 0xb8} // POPCNT
	}
	g.enc(ins{pfx: pfx, osz: sz, rx: rx, op: op, modrm: true, reg: g.reg(sz, rx, true), rm: rm})
	return true
}

// bswap: BSWAP r32/r64.
func (g *pgen) bswap() bool {
	sz := 4
	if g.mode == modeLong && g.coin() {
		sz = 8
	}
	rx := g.rex(sz)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0xc8}, opReg: int(g.reg(sz, rx, true))})
	return true
}

// xadd: XADD r/m, reg.
func (g *pgen) xadd() bool {
	sz := g.size(true)
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, true)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0xc0 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, true), rm: rm})
	return true
}

// cmpxchg: CMPXCHG r/m, reg.
func (g *pgen) cmpxchg() bool {
	if !g.canWrite(cpu.RAX) {
		return false
	}
	sz := g.size(true)
	rx := g.rex(sz)
	rm := g.rmOperand(sz, rx, true)
	g.enc(ins{osz: sz, rx: rx, op: []byte{0x0f, 0xb0 | w1(sz)}, modrm: true, reg: g.reg(sz, rx, false), rm: rm})
	return true
}

// xlat: XLAT with rBX at a data-area table.
func (g *pgen) xlat() bool {
	if !g.canWrite(cpu.RAX, cpu.RBX) {
		return false
	}
	base := segBase(g.mode, cpu.DS)
	if g.mode == modeLong {
		base = 0
	}
	g.setReg(cpu.RBX, dataAddr+uint64(g.r.Intn(dataSize-256))-base, false)
	g.b(0xd7)
	return true
}
