package cpu

// Flag instructions, HLT, port I/O, the atomic exchange family, BOUND and
// the FPU escape when no FPU is present.

func opClcStc(c *CPU, in *Inst) { c.setCF(in.Op == 0xf9) }

func opCmc(c *CPU, in *Inst) { c.setCF(!c.cf()) }

func opCldStd(c *CPU, in *Inst) {
	if in.Op == 0xfd {
		c.flags |= FlagDF
	} else {
		c.flags &^= FlagDF
	}
}

// ifAllowed applies the IOPL rule of CLI/STI (no VME/PVI): in protected
// mode CPL must not exceed IOPL; in v86 mode IOPL must be 3.
func (c *CPU) ifAllowed() {
	if c.inRealMode() {
		return
	}
	if c.inV86() && c.iopl() < 3 || c.CPL > c.iopl() {
		c.raise(ExcGP, 0)
	}
}

func opCli(c *CPU, in *Inst) {
	c.ifAllowed()
	c.flags &^= FlagIF
}

// opSti: interrupts stay blocked for one more instruction when STI sets IF.
func opSti(c *CPU, in *Inst) {
	c.ifAllowed()
	if c.flags&FlagIF == 0 {
		c.IntShadow = true
	}
	c.flags |= FlagIF
}

// opSahf: 9E. In 64-bit mode it needs CPUID's LAHF-SAHF bit.
func opSahf(c *CPU, in *Inst) {
	if c.mode == Mode64 && !c.model.lahf64 {
		c.raise(ExcUD, 0)
	}
	ah := c.R[RAX] >> 8 & 0xff
	c.setArith(c.Flags()&FlagOF | ah&(FlagSF|FlagZF|FlagAF|FlagPF|FlagCF))
}

// opLahf: 9F.
func opLahf(c *CPU, in *Inst) {
	if c.mode == Mode64 && !c.model.lahf64 {
		c.raise(ExcUD, 0)
	}
	f := c.Flags() & 0xff
	c.R[RAX] = c.R[RAX]&^0xff00 | (f&0xd5|2)<<8
}

// opHlt: F4. Privileged outside real mode.
func opHlt(c *CPU, in *Inst) {
	if !c.inRealMode() && c.CPL != 0 {
		c.raise(ExcGP, 0)
	}
	c.Halted = true
	c.stop = true
}

func ioSize(in *Inst) int {
	if in.Op&1 == 0 {
		return 1
	}
	if in.OpSize == 2 {
		return 2
	}
	return 4
}

func ioPort(c *CPU, in *Inst) uint16 {
	if in.Op >= 0xec {
		return uint16(c.R[RDX])
	}
	return uint16(in.Imm)
}

// opIn: E4 E5 EC ED.
func opIn(c *CPU, in *Inst) {
	port, n := ioPort(c, in), ioSize(in)
	c.checkIO(port, n)
	if c.ioHook != nil {
		c.ioHook()
	}
	c.regSetN(RAX, uint8(n), uint64(c.ports.In(port, n)))
	c.stop = true
}

// opOut: E6 E7 EE EF.
func opOut(c *CPU, in *Inst) {
	port, n := ioPort(c, in), ioSize(in)
	c.checkIO(port, n)
	if c.ioHook != nil {
		c.ioHook()
	}
	c.ports.Out(port, n, uint32(c.R[RAX]))
	c.stop = true
}

// opXadd: 0F C0/C1.
func opXadd(c *CPU, in *Inst) {
	sz := opSize(in)
	src := c.regGet(in, in.Reg, sz)
	if in.Mod == 3 {
		d := c.regGet(in, in.RM, sz)
		r := c.alu(aluADD, sz, d, src)
		c.regSet(in, in.Reg, sz, d)
		c.regSet(in, in.RM, sz, r)
		return
	}
	c.rmw(in, sz, func(c *CPU, d uint64) (uint64, bool) {
		r := c.alu(aluADD, sz, d, src)
		c.regSet(in, in.Reg, sz, d)
		return r, true
	})
}

// opCmpxchg: 0F B0/B1. The destination is written in both cases (with
// its own value when unequal), as the processor's locked cycle does.
func opCmpxchg(c *CPU, in *Inst) {
	sz := opSize(in)
	acc := c.regGet(in, RAX, sz)
	src := c.regGet(in, in.Reg, sz)
	var old uint64
	c.rmw(in, sz, func(c *CPU, d uint64) (uint64, bool) {
		old = d
		c.alu(aluCMP, sz, acc, d)
		if acc == d {
			return src, true
		}
		return d, in.Mod != 3
	})
	if acc != old {
		c.regSet(in, RAX, sz, old)
	}
}

// opCmpxchg8b: 0F C7 /1 (CMPXCHG16B with REX.W, which needs 16-byte
// alignment).
func opCmpxchg8b(c *CPU, in *Inst) {
	off := c.ea(in)
	if in.OpSize == 8 {
		if !c.model.cx16 {
			c.raise(ExcUD, 0)
		}
		if off&15 != 0 {
			c.raise(ExcGP, 0)
		}
		la := c.linear(in.Seg, off, 16, true)
		c.probeWrite(la)
		c.probeWrite(la + 15)
		lo, hi := c.linRead(la, 8), c.linRead(la+8, 8)
		if lo == c.R[RAX] && hi == c.R[RDX] {
			c.linWrite(la, 8, c.R[RBX])
			c.linWrite(la+8, 8, c.R[RCX])
			c.setZF(true)
		} else {
			c.linWrite(la, 8, lo)
			c.linWrite(la+8, 8, hi)
			c.R[RAX], c.R[RDX] = lo, hi
			c.setZF(false)
		}
		return
	}
	la := c.linear(in.Seg, off, 8, true)
	c.probeWrite(la)
	c.probeWrite(la + 7)
	v := c.linRead(la, 8)
	cmp := c.R[RDX]&0xffffffff<<32 | c.R[RAX]&0xffffffff
	if v == cmp {
		c.linWrite(la, 8, c.R[RCX]&0xffffffff<<32|c.R[RBX]&0xffffffff)
		c.setZF(true)
	} else {
		c.linWrite(la, 8, v)
		c.R[RAX], c.R[RDX] = v&0xffffffff, v>>32
		c.setZF(false)
	}
}

func (c *CPU) setZF(v bool) {
	c.materialize()
	if v {
		c.flags |= FlagZF
	} else {
		c.flags &^= FlagZF
	}
}

// opBound: 62. #BR if the signed index is outside [lower, upper].
func opBound(c *CPU, in *Inst) {
	sz := in.OpSize
	a := c.ea(in)
	lo := signExt(c.read(in.Seg, a, int(sz)), sz)
	hi := signExt(c.read(in.Seg, (a+uint64(sz))&addrMask(in), int(sz)), sz)
	idx := signExt(c.regGet(in, in.Reg, sz), sz)
	if idx < lo || idx > hi {
		c.raise(ExcBR, 0)
	}
}

// opFPU: D8-DF. Fuji's FPU comes with the floating-point work; until the
// model has one, ESC raises #NM when CR0.EM or CR0.TS asks for emulation
// and #UD otherwise, as a processor without an FPU would (CPUID.FPU=0).
func opFPU(c *CPU, in *Inst) {
	if c.CR0&(CR0EM|CR0TS) != 0 {
		c.raise(ExcNM, 0)
	}
	c.raise(ExcUD, 0)
}

// opFwait: 9B. With no FPU, WAIT only checks CR0.MP && CR0.TS.
func opFwait(c *CPU, in *Inst) {
	if c.CR0&(CR0MP|CR0TS) == CR0MP|CR0TS {
		c.raise(ExcNM, 0)
	}
}
