package cpu

// Decimal arithmetic: DAA DAS AAA AAS AAM AAD (invalid in 64-bit mode).
// Undefined flags follow what P6-class processors produce where the
// manuals leave them open: AAA/AAS clear SF/ZF/PF/OF as computed from AL;
// AAM/AAD set CF/OF/AF from the underlying addition (AAD) or clear them
// (AAM).

func opDAA(c *CPU, in *Inst) {
	c.materialize()
	al := uint8(c.R[RAX])
	oldAL, oldCF := al, c.flags&FlagCF != 0
	cf, af := false, false
	if al&0xf > 9 || c.flags&FlagAF != 0 {
		cf = oldCF || al > 0xf9
		al += 6
		af = true
	}
	if oldAL > 0x99 || oldCF {
		al += 0x60
		cf = true
	}
	c.regSetN(RAX, 1, uint64(al))
	of := oldAL&0x80 == 0 && al&0x80 != 0
	c.setArith(szp(uint64(al), 1) | b2f(cf, FlagCF) | b2f(af, FlagAF) | b2f(of, FlagOF))
}

func opDAS(c *CPU, in *Inst) {
	c.materialize()
	al := uint8(c.R[RAX])
	oldAL, oldCF := al, c.flags&FlagCF != 0
	cf, af := false, false
	if al&0xf > 9 || c.flags&FlagAF != 0 {
		cf = oldCF || al < 6
		al -= 6
		af = true
	}
	if oldAL > 0x99 || oldCF {
		al -= 0x60
		cf = true
	}
	c.regSetN(RAX, 1, uint64(al))
	of := oldAL&0x80 != 0 && al&0x80 == 0
	c.setArith(szp(uint64(al), 1) | b2f(cf, FlagCF) | b2f(af, FlagAF) | b2f(of, FlagOF))
}

func opAAA(c *CPU, in *Inst) {
	c.materialize()
	ax := uint16(c.R[RAX])
	adj := uint8(ax)&0xf > 9 || c.flags&FlagAF != 0
	if adj {
		ax += 0x106
	}
	ax &= 0xff0f
	c.regSetN(RAX, 2, uint64(ax))
	c.setArith(szp(uint64(ax&0xff), 1) | b2f(adj, FlagCF|FlagAF))
}

func opAAS(c *CPU, in *Inst) {
	c.materialize()
	ax := uint16(c.R[RAX])
	adj := uint8(ax)&0xf > 9 || c.flags&FlagAF != 0
	if adj {
		ax -= 6
		ax -= 0x100
	}
	ax &= 0xff0f
	c.regSetN(RAX, 2, uint64(ax))
	c.setArith(szp(uint64(ax&0xff), 1) | b2f(adj, FlagCF|FlagAF))
}

func opAAM(c *CPU, in *Inst) {
	base := uint8(in.Imm)
	if base == 0 {
		c.raise(ExcDE, 0)
	}
	al := uint8(c.R[RAX])
	ah, al := al/base, al%base
	c.regSetN(RAX, 2, uint64(ah)<<8|uint64(al))
	c.setArith(szp(uint64(al), 1))
}

func opAAD(c *CPU, in *Inst) {
	base := uint8(in.Imm)
	ax := uint16(c.R[RAX])
	al := uint8(ax)
	prod := uint8(ax>>8) * base
	r := al + prod
	c.regSetN(RAX, 2, uint64(r))
	c.setLazy(lazyAdd, 1, uint64(al), uint64(prod), uint64(r), 0)
}

// opSalc: D6, the undocumented SALC (AL = CF ? FF : 00) that Intel
// processors execute outside 64-bit mode.
func opSalc(c *CPU, in *Inst) {
	var v uint64
	if c.cf() {
		v = 0xff
	}
	c.regSetN(RAX, 1, v)
}
