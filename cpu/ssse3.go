package cpu

// SSSE3 (0F 38 00-0B, 1C-1E; 0F 3A 0F): horizontal add/subtract,
// PMADDUBSW, PMULHRSW, PSIGN, PABS and PALIGNR, each in an MMX form (no
// prefix, 64-bit operands) and an XMM form (66, 128-bit operands, memory
// aligned to 16). PSHUFB is in vecint.go.

// vget returns element i of size es bytes of a 128-bit value.
func vget(v [2]uint64, i, es uint) uint64 {
	per := 8 / es
	return elem(v[i/per], i%per, es)
}

// vset sets element i of size es bytes.
func vset(v *[2]uint64, i, es uint, x uint64) {
	per := 8 / es
	if es == 8 {
		v[i] = x
		return
	}
	sh := 8 * es * (i % per)
	m := uint64(1)<<(8*es) - 1
	v[i/per] = v[i/per]&^(m<<sh) | (x&m)<<sh
}

// vecOperands reads the destination and source of an MMX (no 66) or XMM
// (66) integer form; nb is the operand width in bytes.
func (c *CPU) vecOperands(in *Inst) (d, s [2]uint64, nb uint, xmm bool) {
	if in.Prefixes&PfxOpSize != 0 {
		c.sseAvail()
		return c.XMM[in.Reg], c.xmmRM(in, true), 16, true
	}
	c.mmxAvail()
	s[0] = c.mmRM(in)
	d[0] = c.mmGet(in.Reg)
	return d, s, 8, false
}

func (c *CPU) vecStore(in *Inst, r [2]uint64, xmm bool) {
	if xmm {
		c.XMM[in.Reg] = r
		return
	}
	c.mmSet(in.Reg, r[0])
}

// opSsse3: 0F 38 01-0B, 1C-1E.
func opSsse3(c *CPU, in *Inst) {
	d, s, nb, xmm := c.vecOperands(in)
	op := uint8(in.Op)
	var r [2]uint64
	switch op {
	case 0x01, 0x02, 0x03, 0x05, 0x06, 0x07:
		// PHADDW/D/SW, PHSUBW/D/SW: pairs of the destination, then of
		// the source.
		es := uint(2)
		if op == 0x02 || op == 0x06 {
			es = 4
		}
		ne := nb / es
		for i := uint(0); i < ne; i++ {
			v, k := d, i
			if i >= ne/2 {
				v, k = s, i-ne/2
			}
			a, b := sext(vget(v, 2*k, es), es), sext(vget(v, 2*k+1, es), es)
			var x int64
			if op >= 0x05 {
				x = a - b
			} else {
				x = a + b
			}
			if op&3 == 3 { // PHADDSW, PHSUBSW
				vset(&r, i, es, sat16s(x))
			} else {
				vset(&r, i, es, uint64(x))
			}
		}
	case 0x04: // PMADDUBSW: unsigned bytes of dst × signed bytes of src
		for i := uint(0); i < nb/2; i++ {
			x := int64(vget(d, 2*i, 1))*sext(vget(s, 2*i, 1), 1) +
				int64(vget(d, 2*i+1, 1))*sext(vget(s, 2*i+1, 1), 1)
			vset(&r, i, 2, sat16s(x))
		}
	case 0x0b: // PMULHRSW
		for i := uint(0); i < nb/2; i++ {
			x := sext(vget(d, i, 2), 2) * sext(vget(s, i, 2), 2)
			vset(&r, i, 2, uint64((x>>14+1)>>1))
		}
	case 0x08, 0x09, 0x0a: // PSIGNB/W/D
		es := uint(1) << (op - 0x08)
		for i := uint(0); i < nb/es; i++ {
			a, b := sext(vget(d, i, es), es), sext(vget(s, i, es), es)
			switch {
			case b < 0:
				a = -a
			case b == 0:
				a = 0
			}
			vset(&r, i, es, uint64(a))
		}
	case 0x1c, 0x1d, 0x1e: // PABSB/W/D of the source
		es := uint(1) << (op - 0x1c)
		for i := uint(0); i < nb/es; i++ {
			a := sext(vget(s, i, es), es)
			if a < 0 {
				a = -a
			}
			vset(&r, i, es, uint64(a))
		}
	}
	c.vecStore(in, r, xmm)
}

// opPalignr: 0F 3A 0F ib. dst:src shifted right by imm8 bytes.
func opPalignr(c *CPU, in *Inst) {
	d, s, nb, xmm := c.vecOperands(in)
	sh := uint(in.Imm & 0xff)
	var r [2]uint64
	for i := uint(0); i < nb; i++ {
		k := i + sh
		var b uint64
		switch {
		case k < nb:
			b = vget(s, k, 1)
		case k < 2*nb:
			b = vget(d, k-nb, 1)
		}
		vset(&r, i, 1, b)
	}
	c.vecStore(in, r, xmm)
}
