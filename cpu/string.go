package cpu

// String instructions MOVS CMPS STOS LODS SCAS INS OUTS, with REP, REPE
// and REPNE. The source segment may be overridden; the destination is
// always ES. A repeated instruction runs at most repChunk iterations per
// execution and then restarts itself, so that interrupts are taken
// between iterations as on hardware; a fault leaves the registers at the
// failing iteration, restartable.

const repChunk = 4096

func (c *CPU) strDelta(sz uint8) uint64 {
	if c.flags&FlagDF != 0 {
		return -uint64(sz)
	}
	return uint64(sz)
}

// advance adds d to index register r at the address size.
func advance(c *CPU, in *Inst, r uint8, d uint64) {
	m := addrMask(in)
	if m == 0xffffffff {
		c.R[r] = (c.R[r] + d) & m
		return
	}
	c.R[r] = c.R[r]&^m | (c.R[r]+d)&m
}

// repeat runs one iteration function under the instruction's REP prefix.
// cmp says the instruction is CMPS/SCAS (REPE/REPNE test ZF).
func (c *CPU) repeat(in *Inst, cmp bool, iter func(c *CPU, in *Inst), bulk func(c *CPU, in *Inst, max uint64) uint64) {
	rep := in.Prefixes & (PfxRep | PfxRepne)
	if rep == 0 {
		iter(c, in)
		return
	}
	for i := 0; i < repChunk; i++ {
		if counter(c, in) == 0 {
			return
		}
		if bulk != nil {
			// A bulk run counts as the iterations it does, so
			// that instructions retire as they always have.
			if n := bulk(c, in, uint64(repChunk-i)); n > 0 {
				i += int(n) - 1
				continue
			}
		}
		iter(c, in)
		setCounter(c, in, counter(c, in)-1)
		if cmp {
			z := c.zf()
			if rep&PfxRepne != 0 && z || rep&PfxRep != 0 && !z {
				return
			}
		}
	}
	if counter(c, in) != 0 {
		// Not done: run this instruction again after checking events.
		c.RIP = c.ip0
		c.stop = true
	}
}

func movsIter(c *CPU, in *Inst) {
	sz := opSize(in)
	m := addrMask(in)
	v := c.read(in.Seg, c.R[RSI]&m, int(sz))
	c.write(ES, c.R[RDI]&m, int(sz), v)
	d := c.strDelta(sz)
	advance(c, in, RSI, d)
	advance(c, in, RDI, d)
}

func opMovs(c *CPU, in *Inst) { c.repeat(in, false, movsIter, (*CPU).movsBulk) }

func cmpsIter(c *CPU, in *Inst) {
	sz := opSize(in)
	m := addrMask(in)
	a := c.read(in.Seg, c.R[RSI]&m, int(sz))
	b := c.read(ES, c.R[RDI]&m, int(sz))
	c.alu(aluCMP, sz, a, b)
	d := c.strDelta(sz)
	advance(c, in, RSI, d)
	advance(c, in, RDI, d)
}

func opCmps(c *CPU, in *Inst) { c.repeat(in, true, cmpsIter, nil) }

func stosIter(c *CPU, in *Inst) {
	sz := opSize(in)
	c.write(ES, c.R[RDI]&addrMask(in), int(sz), c.R[RAX])
	advance(c, in, RDI, c.strDelta(sz))
}

func opStos(c *CPU, in *Inst) { c.repeat(in, false, stosIter, (*CPU).stosBulk) }

func lodsIter(c *CPU, in *Inst) {
	sz := opSize(in)
	v := c.read(in.Seg, c.R[RSI]&addrMask(in), int(sz))
	c.regSetN(RAX, sz, v)
	advance(c, in, RSI, c.strDelta(sz))
}

func opLods(c *CPU, in *Inst) { c.repeat(in, false, lodsIter, nil) }

func scasIter(c *CPU, in *Inst) {
	sz := opSize(in)
	b := c.read(ES, c.R[RDI]&addrMask(in), int(sz))
	c.alu(aluCMP, sz, c.R[RAX]&sizeMask(sz), b)
	advance(c, in, RDI, c.strDelta(sz))
}

func opScas(c *CPU, in *Inst) { c.repeat(in, true, scasIter, nil) }

func insIter(c *CPU, in *Inst) {
	sz := opSize(in)
	port := uint16(c.R[RDX])
	la := c.linear(ES, c.R[RDI]&addrMask(in), int(sz), true)
	c.probeWrite(la)
	c.probeWrite(la + uint64(sz) - 1)
	if c.ioHook != nil {
		c.ioHook()
	}
	v := c.ports.In(port, int(sz))
	c.linWrite(la, int(sz), uint64(v))
	advance(c, in, RDI, c.strDelta(sz))
}

func opIns(c *CPU, in *Inst) {
	c.checkIO(uint16(c.R[RDX]), int(opSize(in)))
	c.repeat(in, false, insIter, nil)
	c.stop = true
}

func outsIter(c *CPU, in *Inst) {
	sz := opSize(in)
	v := c.read(in.Seg, c.R[RSI]&addrMask(in), int(sz))
	if c.ioHook != nil {
		c.ioHook()
	}
	c.ports.Out(uint16(c.R[RDX]), int(sz), uint32(v))
	advance(c, in, RSI, c.strDelta(sz))
}

func opOuts(c *CPU, in *Inst) {
	c.checkIO(uint16(c.R[RDX]), int(opSize(in)))
	c.repeat(in, false, outsIter, nil)
	c.stop = true
}
