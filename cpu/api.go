package cpu

// Small exported helpers for loaders, tests and debuggers.

// SetSegReal loads segment register i the way real mode does (base =
// selector × 16, the cached limit and attributes kept).
func (c *CPU) SetSegReal(i int, sel uint16) { c.loadSegReal(i, sel) }

// SetSegment loads segment register i with an explicit descriptor cache
// (for loaders that start a guest in protected or long mode).
func (c *CPU) SetSegment(i int, s Segment) { c.setSeg(i, s) }

// SetCPL sets the current privilege level (loaders and tests).
func (c *CPU) SetCPL(cpl uint8) { c.CPL = cpl & 3; c.updateMode() }

// SetControl writes CR0, CR3, CR4 and EFER as a loader would, with the
// derived state refreshed and the TLB flushed.
func (c *CPU) SetControl(cr0, cr3, cr4, efer uint64) {
	c.CR0, c.CR3, c.CR4, c.EFER = cr0, cr3, cr4, efer
	c.tlb.flush(false)
	c.recompute()
	if c.CR0&CR0PG != 0 && c.CR4&CR4PAE != 0 && c.EFER&EFERLMA == 0 {
		c.loadPDPTEsNoFault()
	}
}

// loadPDPTEsNoFault reads the PAE PDPTEs without reserved-bit checks.
func (c *CPU) loadPDPTEsNoFault() {
	base := c.CR3 & 0xffffffe0
	for i := range c.pdpte {
		c.pdpte[i] = c.readPhys64(base + uint64(i)*8)
	}
}

// WouldUD reports whether the instruction at CS:RIP decodes to a form the
// CPU rejects with #UD (an undefined opcode, or LOCK where it is not
// allowed). It does not execute anything.
func (c *CPU) WouldUD() (ud bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(guestFault); !ok {
				panic(r)
			}
			c.fault.pending = false
			ud = false
		}
	}()
	var in Inst
	c.decodeAt(c.RIP, &in)
	c.RIP = c.ip0
	return isUD(in.fn)
}

// Hooks observe execution. They run on the CPU's goroutine.
type Hooks struct {
	// Instr is called before each instruction (the CPU then runs one
	// instruction at a time, without the block cache's speed).
	Instr func(c *CPU)
	// Exception is called when an exception is raised, before delivery
	// (also for exceptions raised while delivering another).
	Exception func(c *CPU, vec uint8, code uint32, hasCode bool)
}

// CodeBytes returns the bytes at CS:RIP for a trace (up to 15).
func (c *CPU) CodeBytes() []byte {
	var b [15]byte
	la := c.codeLinear(c.RIP)
	for i := range b {
		phys, ok := c.probeTranslate(la+uint64(i), accExec)
		if !ok {
			return b[:i]
		}
		b[i] = byte(c.bus.Read(phys, 1))
	}
	return b[:]
}

// probeTranslate translates without faulting or touching A/D bits'
// caller-visible state beyond what a walk does; ok=false if it would fault.
func (c *CPU) probeTranslate(la uint64, kind int) (phys uint64, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, g := r.(guestFault); !g {
				panic(r)
			}
			c.fault.pending = false
			ok = false
		}
	}()
	saved := c.ip0
	savedRIP := c.RIP
	savedCR2 := c.CR2
	phys, _, _, _ = c.translate(la, kind, c.userTag != 0)
	c.ip0, c.RIP, c.CR2 = saved, savedRIP, savedCR2
	return phys & c.bus.A20Mask(), true
}

// INTR reports the level of the CPU's INTR pin (what its interrupt
// controller drives), for run loops deciding whether a halted CPU can
// wake.
func (c *CPU) INTR() bool { return c.intr }

// SetIOHook installs a function called for each port access an IN, OUT,
// INS or OUTS instruction makes (the machine charges the bus time of an
// I/O cycle to its virtual clock).
func (c *CPU) SetIOHook(f func()) { c.ioHook = f }
