package cpu

// Exception vectors.
const (
	ExcDE  = 0
	ExcDB  = 1
	ExcNMI = 2
	ExcBP  = 3
	ExcOF  = 4
	ExcBR  = 5
	ExcUD  = 6
	ExcNM  = 7
	ExcDF  = 8
	ExcTS  = 10
	ExcNP  = 11
	ExcSS  = 12
	ExcGP  = 13
	ExcPF  = 14
	ExcMF  = 16
	ExcAC  = 17
	ExcMC  = 18
	ExcXM  = 19
)

// guestFault is the panic value that unwinds an instruction that raised a
// guest exception back to the run loop. It carries nothing: the details
// are in CPU.fault. Its conversion to an interface does not allocate.
type guestFault struct{}

// pendingFault is an exception raised and not yet delivered.
type pendingFault struct {
	pending bool
	vec     uint8
	code    uint32
	hasCode bool
	trap    bool // RIP already points past the instruction (traps)
}

// hasErrorCode reports whether an exception pushes an error code.
func hasErrorCode(vec uint8) bool {
	switch vec {
	case ExcDF, ExcTS, ExcNP, ExcSS, ExcGP, ExcPF, ExcAC:
		return true
	}
	return false
}

// raise signals a fault: the instruction is abandoned with RIP pointing to
// it, and the exception is delivered by the run loop.
func (c *CPU) raise(vec uint8, code uint32) {
	c.RIP = c.ip0
	c.fault = pendingFault{pending: true, vec: vec, code: code, hasCode: hasErrorCode(vec)}
	panic(guestFault{})
}

// raiseTrap signals a trap after an instruction completed: RIP stays at
// the next instruction.
func (c *CPU) raiseTrap(vec uint8) {
	c.fault = pendingFault{pending: true, vec: vec, trap: true}
	panic(guestFault{})
}

// Exception classes for the double-fault rules (SDM Vol. 3A, Table 6-5).
const (
	classBenign = iota
	classContributory
	classPageFault
)

func excClass(vec uint8) int {
	switch vec {
	case ExcDE, ExcTS, ExcNP, ExcSS, ExcGP:
		return classContributory
	case ExcPF:
		return classPageFault
	}
	return classBenign
}

// deliverPending delivers c.fault, turning a fault raised during the
// delivery into a double fault, or a shutdown (triple fault), by the
// manual's rules.
func (c *CPU) deliverPending() {
	f := c.fault
	c.fault.pending = false
	if c.Hooks != nil && c.Hooks.Exception != nil {
		c.Hooks.Exception(c, f.vec, f.code, f.hasCode)
	}
	// system: a fault raised while delivering must report the address
	// being returned to (the faulting instruction, or the one after a
	// trap), not the stale ip0 of the instruction that ran before.
	c.ip0 = c.RIP
	for {
		if !c.tryDeliver(f) {
			return
		}
		second := c.fault
		c.fault.pending = false
		if c.Hooks != nil && c.Hooks.Exception != nil {
			c.Hooks.Exception(c, second.vec, second.code, second.hasCode)
		}
		switch {
		case f.vec == ExcDF:
			c.ShutdownReason = "triple fault"
			return
		case excClass(f.vec) == classContributory && excClass(second.vec) == classContributory,
			excClass(f.vec) == classPageFault && excClass(second.vec) != classBenign:
			f = pendingFault{pending: true, vec: ExcDF, code: 0, hasCode: true}
		default:
			f = second
		}
	}
}

// tryDeliver delivers one exception and reports whether another was
// raised while delivering it (left in c.fault).
func (c *CPU) tryDeliver(f pendingFault) (nested bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(guestFault); !ok {
				panic(r)
			}
			nested = true
		}
	}()
	c.Halted = false
	c.interrupt(f.vec, intException, f.code, f.hasCode)
	return false
}

// Kinds of interrupt delivery.
const (
	intExternal  = iota // INTR/NMI: no privilege check against the gate DPL
	intException        // processor exception: no DPL check, may push a code
	intSoftware         // INT n, INT3, INTO: gate DPL must be >= CPL; v86 IOPL rules
	intICEBP            // INT1 (F1): like an exception without the DPL check
)

// interrupt transfers control through the IVT or IDT. For faults, RIP is
// the faulting instruction; for traps, software interrupts and external
// interrupts, it is the next instruction.
func (c *CPU) interrupt(vec uint8, kind int, code uint32, hasCode bool) {
	c.materialize()
	if c.inRealMode() {
		c.interruptReal(vec)
		return
	}
	c.interruptProtected(vec, kind, code, hasCode)
}

// interruptReal delivers through the real-mode interrupt vector table.
func (c *CPU) interruptReal(vec uint8) {
	off := uint64(vec) * 4
	if off+3 > uint64(c.IDTR.Limit) {
		c.raise(ExcGP, uint32(vec)*8+2)
	}
	ip := uint16(c.linRead(c.IDTR.Base+off, 2))
	cs := uint16(c.linRead(c.IDTR.Base+off+2, 2))
	sp := c.R[RSP]
	c.writeStack(sp-2, 2, c.Flags())
	c.writeStack(sp-4, 2, uint64(c.Seg[CS].Sel))
	c.writeStack(sp-6, 2, c.RIP)
	c.setSP(sp - 6)
	c.flags &^= FlagIF | FlagTF | FlagAC | FlagRF
	c.loadSegReal(CS, cs)
	c.RIP = uint64(ip)
	c.updateMode()
}
