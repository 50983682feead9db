package cpu

// MOV to and from the control and debug registers, with the reserved-bit
// checks and the TLB flushes the manuals require.

// cr0Defined are the CR0 bits a P6 implements; writes to the others are
// ignored (SDM 2.5), ET is hardwired to 1.
const cr0Defined = CR0PE | CR0MP | CR0EM | CR0TS | CR0ET | CR0NE | CR0WP | CR0AM | CR0NW | CR0CD | CR0PG

// crSize is the operand size of MOV CR/DR: 64-bit in 64-bit mode, else 32.
func (c *CPU) crSize() uint8 {
	if c.mode == Mode64 {
		return 8
	}
	return 4
}

// opMovFromCR: 0F 20.
func opMovFromCR(c *CPU, in *Inst) {
	c.needCPL0()
	var v uint64
	switch in.Reg {
	case 0:
		v = c.CR0
	case 2:
		v = c.CR2
	case 3:
		v = c.CR3
	case 4:
		v = c.CR4
	case 8:
		if c.mode != Mode64 {
			c.raise(ExcUD, 0)
		}
		v = c.CR8
		if c.lapic != nil {
			v = uint64(c.lapic.TPR() >> 4)
		}
	default:
		c.raise(ExcUD, 0)
	}
	sz := c.crSize()
	c.regSet(in, in.RM, sz, v&sizeMask(sz))
}

// opMovToCR: 0F 22.
func opMovToCR(c *CPU, in *Inst) {
	if in.Reg != 0 && in.Reg != 2 && in.Reg != 3 && in.Reg != 4 && !(in.Reg == 8 && c.mode == Mode64) {
		c.raise(ExcUD, 0)
	}
	c.needCPL0()
	sz := c.crSize()
	v := c.regGet(in, in.RM, sz)
	switch in.Reg {
	case 0:
		if v>>32 != 0 {
			c.raise(ExcGP, 0)
		}
		c.setCR0(v)
	case 2:
		c.CR2 = v
	case 3:
		c.setCR3(v)
	case 4:
		c.setCR4(v)
	case 8:
		if v&^0xf != 0 {
			c.raise(ExcGP, 0)
		}
		c.CR8 = v
		if c.lapic != nil {
			c.lapic.SetTPR(uint8(v << 4))
		}
	}
	c.stop = true
}

// setCR0 writes CR0 with its consistency checks; paging-mode changes
// flush the TLB and PE/PG changes refresh the mode and segment limits.
func (c *CPU) setCR0(v uint64) {
	v = v&cr0Defined | CR0ET
	if v&CR0PG != 0 && v&CR0PE == 0 || v&CR0NW != 0 && v&CR0CD == 0 {
		c.raise(ExcGP, 0)
	}
	old := c.CR0
	lma := c.EFER&EFERLMA != 0
	if v&CR0PG != 0 && old&CR0PG == 0 {
		if c.EFER&EFERLME != 0 {
			// Activating long mode needs PAE and a 32-bit (not
			// 64-bit) code segment.
			if c.CR4&CR4PAE == 0 || c.Seg[CS].Attr&AttrL != 0 {
				c.raise(ExcGP, 0)
			}
			lma = true
		} else if c.CR4&CR4PAE != 0 {
			c.loadPDPTEsFrom(c.CR3)
		}
	}
	if v&CR0PG == 0 && old&CR0PG != 0 && lma {
		if c.mode == Mode64 {
			c.raise(ExcGP, 0)
		}
		lma = false
	}
	c.CR0 = v
	if lma {
		c.EFER |= EFERLMA
	} else {
		c.EFER &^= EFERLMA
	}
	if (old^v)&(CR0PG|CR0WP|CR0PE) != 0 {
		c.tlb.flush(false)
	}
	if (old^v)&(CR0PE|CR0PG|CR0AM) != 0 {
		c.recompute()
	}
}

// loadPDPTEsFrom loads the PAE PDPTEs for a new CR3 value, leaving CR3
// unchanged if they are invalid (#GP(0)).
func (c *CPU) loadPDPTEsFrom(cr3 uint64) {
	old := c.CR3
	c.CR3 = cr3
	defer func() { c.CR3 = old }()
	c.loadPDPTEs()
}

// setCR3 loads the page-directory base: non-global TLB entries go; in
// legacy PAE paging the PDPTEs are loaded now.
func (c *CPU) setCR3(v uint64) {
	if c.EFER&EFERLMA != 0 && v&^uint64(physAddrMask) != 0 {
		c.raise(ExcGP, 0)
	}
	if c.CR0&CR0PG != 0 && c.CR4&CR4PAE != 0 && c.EFER&EFERLMA == 0 {
		c.loadPDPTEsFrom(v)
	}
	c.CR3 = v
	c.tlb.flush(true)
}

// cr4Allowed returns the CR4 bits the model implements.
func (c *CPU) cr4Allowed() uint64 {
	v := uint64(CR4TSD | CR4DE | CR4PSE | CR4PAE | CR4PGE | CR4PCE)
	if c.model.fpuSIMD {
		v |= CR4OSFXSR | CR4OSXMMEXCPT
	}
	if c.model.leaf1EDX&featMCE != 0 {
		v |= CR4MCE
	}
	return v
}

func (c *CPU) setCR4(v uint64) {
	if v&^c.cr4Allowed() != 0 {
		c.raise(ExcGP, 0)
	}
	old := c.CR4
	if c.EFER&EFERLMA != 0 && v&CR4PAE == 0 {
		c.raise(ExcGP, 0)
	}
	if v&CR4PAE != 0 && old&CR4PAE == 0 && c.CR0&CR0PG != 0 && c.EFER&EFERLMA == 0 {
		c.loadPDPTEsFrom(c.CR3)
	}
	c.CR4 = v
	if (old^v)&(CR4PGE|CR4PAE|CR4PSE) != 0 {
		c.tlb.flush(false)
	}
}

// drIndex maps a debug register number: DR4/DR5 alias DR6/DR7 unless
// CR4.DE, which makes them #UD; DR8-15 do not exist.
func (c *CPU) drIndex(r uint8) int {
	switch {
	case r == 4 || r == 5:
		if c.CR4&CR4DE != 0 {
			c.raise(ExcUD, 0)
		}
		return int(r) + 2
	case r > 7:
		c.raise(ExcUD, 0)
	}
	return int(r)
}

// drAccess applies the common checks of MOV DR: privilege, then general
// detect (#DB fault with DR6.BD, GD cleared for the handler).
func (c *CPU) drAccess(in *Inst) int {
	c.needCPL0()
	i := c.drIndex(in.Reg)
	if c.DR[7]&dr7GD != 0 {
		c.DR[6] |= dr6BD
		c.DR[7] &^= dr7GD
		c.raise(ExcDB, 0)
	}
	return i
}

// opMovFromDR: 0F 21.
func opMovFromDR(c *CPU, in *Inst) {
	i := c.drAccess(in)
	sz := c.crSize()
	c.regSet(in, in.RM, sz, c.DR[i]&sizeMask(sz))
}

// opMovToDR: 0F 23.
func opMovToDR(c *CPU, in *Inst) {
	i := c.drAccess(in)
	v := c.regGet(in, in.RM, c.crSize())
	switch i {
	case 6:
		if v>>32 != 0 {
			c.raise(ExcGP, 0)
		}
		// Bits 4-11 and 16-31 read as 1, bit 12 as 0 (P6).
		c.DR[6] = v&0xe00f | 0xffff0ff0
	case 7:
		if v>>32 != 0 {
			c.raise(ExcGP, 0)
		}
		c.DR[7] = v&0xffff2bff | 0x400
		c.updateExtraChecks()
	default:
		if c.mode == Mode64 && uint64(int64(v<<16)>>16) != v {
			c.raise(ExcGP, 0)
		}
		c.DR[i] = v
	}
	c.stop = true
}
