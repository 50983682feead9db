// Package cpu models an x86 processor: architectural state, the decoder,
// the interpreter with its decoded-block cache and lazy flags, the MMU with
// a software TLB, and exceptions and interrupts.
package cpu

import (
	"fmt"

	"fuji/mem"
)

// handler executes one decoded instruction. On entry c.RIP already points
// to the next instruction and c.ip0 to this one.
type handler func(c *CPU, in *Inst)

// InterruptController is the CPU's view of its external interrupt source
// (the 8259A pair now, the local APIC later): Acknowledge performs the
// INTA cycle and returns the vector.
type InterruptController interface {
	Acknowledge() uint8
}

// Exit reasons returned by Run.
type Exit int

// Run exit reasons.
const (
	ExitBudget   Exit = iota // the instruction budget ran out
	ExitHalt                 // HLT with no interrupt deliverable
	ExitShutdown             // triple fault
	ExitStop                 // RequestStop was called
	ExitBreak                // a debug hook asked to stop
)

// Config selects the processor model.
type Config struct {
	// Model names the CPUID model; "" is the default P6-class model.
	Model string
}

// CPU is one x86 processor attached to a physical address space and an
// I/O port space.
type CPU struct {
	State

	bus   *mem.Bus
	ports *mem.PortBus
	intc  InterruptController
	model *cpuModel

	// Derived state, recomputed when the registers it depends on change.
	mode      Mode   // decoding mode of CS
	ipm       uint64 // instruction pointer mask of the mode
	userTag   uint64 // 1 at CPL 3, for TLB tags
	stackMask uint64 // 0xffff, 0xffffffff or all ones by SS.B / 64-bit mode
	seg       [6]segLimits
	flatSegs  uint16    // segments whose checks pass every 32-bit offset (flatBits)
	pdpte     [4]uint64 // PAE PDPT entries loaded at CR3 write
	busGen    uint64    // mem.Bus.Generation the TLB was filled under

	tlb tlb

	// Per-instruction bookkeeping.
	ip0        uint64 // RIP of the instruction executing
	stop       bool   // end the current block after this instruction
	blockStart uint64 // RIP at which the current block started
	inBlock    bool   // a block is executing (for fault accounting)
	// chainGen changes whenever a cached block successor may no longer
	// be valid: TLB flushes, CS or mode changes, map changes.
	chainGen     uint64
	lastChainKey chainKey

	// Pending events checked at block boundaries.
	intr       bool // INTR line level
	nmiPending bool
	stopReq    bool

	fault       pendingFault
	extraChecks bool   // alignment checking or data breakpoints are active
	icount      uint64 // instructions retired
	blocks      blockCache
	debugHit    bool // a data breakpoint matched in this instruction

	lapic     LocalAPIC
	tscSource func() uint64
	ioHook    func()

	// Hooks, when set, observe execution (traces, debuggers). Setting
	// Hooks.Instr makes the CPU run one instruction at a time.
	Hooks *Hooks

	// ResetRequest is set on a triple fault or a reset the guest asked for
	// through the CPU (the machine decides what reset means).
	ShutdownReason string

	fpuHooks FPUHooks // FERR# for the legacy x87 error path (fpustate.go)

	jit jitState // the block JIT's side (accel.go)
}

// chainKey is what block chaining depends on besides the TLB.
type chainKey struct {
	mode Mode
	cpl  uint8
	base uint64
	lim  uint32
}

// New returns a CPU in the reset state.
func New(bus *mem.Bus, ports *mem.PortBus, cfg Config) (*CPU, error) {
	m, err := lookupModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	c := &CPU{bus: bus, ports: ports, model: m}
	c.blocks.init()
	c.tlb.init()
	bus.SetCodeWriteHook(c.codeWritten)
	c.Reset()
	return c, nil
}

// SetInterruptController connects the CPU's INTA cycle.
func (c *CPU) SetInterruptController(ic InterruptController) { c.intc = ic }

// Set drives the CPU's INTR pin (it satisfies chipset.IRQLine).
func (c *CPU) Set(level bool) { c.intr = level }

// CPUID returns what the CPUID instruction reports for a leaf and
// subleaf (the machine reads the model's features through it, e.g. the
// APIC bit to decide whether to build the APIC platform).
func (c *CPU) CPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32) { return c.model.cpuid(leaf, sub) }

// NMI raises a non-maskable interrupt.
func (c *CPU) NMI() { c.nmiPending = true }

// RequestStop makes Run return ExitStop at the next block boundary.
func (c *CPU) RequestStop() { c.stopReq = true }

// Instructions returns the number of instructions retired since reset.
// Inside a block (a device reading the clock during an I/O instruction)
// it counts the block's instructions before the current one, so that the
// interpreter and the JIT, whose helper exits keep the count exact, see
// the same time.
func (c *CPU) Instructions() uint64 {
	if c.inBlock {
		return c.icount + c.retiredInBlock()
	}
	return c.icount
}

// Bus returns the physical address space.
func (c *CPU) Bus() *mem.Bus { return c.bus }

// Mode returns the current decoding mode.
func (c *CPU) Mode() Mode { return c.mode }

// Reset puts the processor in its power-on state: real mode at
// F000:FFF0 with CS base FFFF0000.
func (c *CPU) Reset() {
	c.State = State{}
	c.flags = 2
	c.CR0 = CR0ET | CR0CD | CR0NW
	c.R[RDX] = uint64(c.model.resetEDX)
	for i := range c.Seg {
		c.Seg[i] = Segment{Attr: AttrP | AttrS | AttrRW | AttrAccessed, Limit: 0xffff}
	}
	c.Seg[CS] = Segment{Sel: 0xf000, Base: 0xffff0000, Limit: 0xffff, Attr: AttrP | AttrS | AttrCode | AttrRW | AttrAccessed}
	c.RIP = 0xfff0
	c.GDTR.Limit, c.IDTR.Limit = 0xffff, 0xffff
	c.LDTR = Segment{Limit: 0xffff, Attr: AttrP | 2}
	c.TR = Segment{Limit: 0xffff, Attr: AttrP | 3}
	c.DR[6] = 0xffff0ff0
	c.DR[7] = 0x400
	c.MSR.APICBase = 0xfee00900
	c.MSR.PAT = 0x0007040600070406
	c.MSR.MTRRCap = 0x508
	c.fpuPowerOn() // x87/SSE reset values (fpustate.go)
	c.fault = pendingFault{}
	c.intr, c.nmiPending = false, false
	c.ShutdownReason = ""
	c.recompute()
	c.tlb.flush(false)
	c.blocks.flushAll(c)
}

// recompute refreshes every derived field from the state.
func (c *CPU) recompute() {
	for i := range c.Seg {
		c.segLoaded(i)
	}
	c.updateMode()
}

// updateMode refreshes the decoding mode, the TLB privilege tag and the
// stack mask from CS, SS, CR0, EFER and RFLAGS.VM.
func (c *CPU) updateMode() {
	switch {
	case c.CR0&CR0PE == 0 || c.flags&FlagVM != 0:
		c.mode = Mode16
	case c.EFER&EFERLMA != 0 && c.Seg[CS].Attr&AttrL != 0:
		c.mode = Mode64
	case c.Seg[CS].Attr&AttrDB != 0:
		c.mode = Mode32
	default:
		c.mode = Mode16
	}
	c.ipm = c.ipMask()
	// Chained successors depend on how RIP maps to code: the mode, CS
	// and the privilege of the fetch. POPF, SS loads and the like come
	// through here too and must not break every chain.
	if k := (chainKey{c.mode, c.CPL, c.Seg[CS].Base, c.Seg[CS].Limit}); k != c.lastChainKey {
		c.lastChainKey = k
		c.chainGen++
	}
	f := c.flatSegs&^(FlatUser|FlatSuper) | FlatSuper
	c.userTag = 0
	if c.CPL == 3 {
		c.userTag = 1
		f ^= FlatUser | FlatSuper
	}
	if f != c.flatSegs {
		c.flatSegs = f
		c.chainGen++
	}
	switch {
	case c.mode == Mode64:
		c.stackMask = ^uint64(0)
	case c.Seg[SS].Attr&AttrDB != 0 && c.CR0&CR0PE != 0 && c.flags&FlagVM == 0:
		c.stackMask = 0xffffffff
	default:
		c.stackMask = 0xffff
	}
	// system: CPL, CR0.AM and EFLAGS.AC changes all pass through here.
	c.updateExtraChecks()
}

// inRealMode reports CR0.PE clear.
func (c *CPU) inRealMode() bool { return c.CR0&CR0PE == 0 }

// inV86 reports virtual-8086 mode.
func (c *CPU) inV86() bool { return c.flags&FlagVM != 0 }

// inLong64 reports 64-bit mode.
func (c *CPU) inLong64() bool { return c.mode == Mode64 }

// ipMask is the mask of the instruction pointer for the code size.
func (c *CPU) ipMask() uint64 {
	switch c.mode {
	case Mode64:
		return ^uint64(0)
	case Mode32:
		return 0xffffffff
	}
	return 0xffff
}

// checkBus drops cached translations when the physical map changed (A20,
// ROM shadowing, a new MMIO region, dirty logging).
func (c *CPU) checkBus() {
	if g := c.bus.Generation; g != c.busGen {
		c.busGen = g
		c.tlb.flush(false)
		c.chainGen++
	}
}

// Run executes up to budget instructions (a block may overshoot by its
// length) and returns why it stopped.
func (c *CPU) Run(budget int64) Exit {
	start := c.icount
	// delivered counts exceptions delivered against the budget, so that
	// an exception storm that retires nothing (a handler whose fetch
	// faults) still returns to the caller.
	var delivered int64
	for int64(c.icount-start)+delivered < budget {
		if c.stopReq {
			c.stopReq = false
			return ExitStop
		}
		if c.ShutdownReason != "" {
			return ExitShutdown
		}
		if c.checkEvents() {
			continue
		}
		if c.Halted {
			return ExitHalt
		}
		c.runGuarded(budget - int64(c.icount-start) - delivered)
		if c.fault.pending {
			c.deliverPending()
			delivered++
		}
	}
	return ExitBudget
}

// Step executes exactly one instruction (or delivers one pending
// interrupt/exception). It is the single-step path of tests and debuggers.
func (c *CPU) Step() Exit {
	if c.ShutdownReason != "" {
		return ExitShutdown
	}
	if c.checkEvents() {
		return ExitBudget
	}
	if c.Halted {
		return ExitHalt
	}
	c.checkBus()
	c.stepGuarded()
	if c.fault.pending {
		c.deliverPending()
	}
	if c.ShutdownReason != "" {
		return ExitShutdown
	}
	return ExitBudget
}

// checkEvents delivers a pending NMI or external interrupt if the
// processor can take it now. It reports whether one was delivered.
func (c *CPU) checkEvents() bool {
	if c.IntShadow {
		return false
	}
	if c.nmiPending && !c.NMIBlocked {
		c.nmiPending = false
		c.NMIBlocked = true
		c.Halted = false
		c.deliverExternal(2)
		return true
	}
	if c.intr && c.flags&FlagIF != 0 && c.intc != nil {
		c.Halted = false
		vec := c.intc.Acknowledge()
		c.deliverExternal(vec)
		return true
	}
	return false
}

// deliverExternal delivers an NMI or INTR vector. system: a fault raised
// during delivery (a bad IDT entry, a stack fault) is caught here and
// delivered as an exception with RIP at the interrupted instruction,
// instead of escaping Run as a Go panic.
func (c *CPU) deliverExternal(vec uint8) {
	c.ip0 = c.RIP
	func() {
		defer c.catchFault()
		c.interrupt(vec, intExternal, 0, false)
	}()
	if c.fault.pending {
		c.deliverPending()
	}
}

// runGuarded runs blocks until the budget is spent or an event needs the
// outer loop; a guest exception unwinds to here as a panic of type
// guestFault and is left pending in c.fault.
func (c *CPU) runGuarded(budget int64) {
	defer c.catchFault()
	c.runBlocks(budget)
}

func (c *CPU) stepGuarded() {
	defer c.catchFault()
	c.stepOne()
}

func (c *CPU) catchFault() {
	if r := recover(); r != nil {
		if _, ok := r.(guestFault); !ok {
			panic(r)
		}
		c.accountPartialBlock()
	}
}

// runBlocks is the interpreter's inner loop. Instructions retired are
// counted per block; a fault inside a block is accounted by
// accountPartialBlock.
func (c *CPU) runBlocks(budget int64) {
	var done int64
	var prev *block
	for done < budget {
		c.checkBus()
		if c.IntShadow || c.flags&FlagTF != 0 || c.DR[7]&0xff != 0 || c.Hooks != nil && c.Hooks.Instr != nil {
			// One instruction at a time: the interrupt shadow ends
			// after it, TF traps after it, breakpoints are checked.
			c.stepOne()
			done++
			prev = nil
			if c.intr && c.flags&FlagIF != 0 || c.nmiPending || c.Halted || c.stopReq {
				return
			}
			continue
		}
		b := c.chained(prev)
		if c.jit.accel != nil && b.valid {
			if b.native == nil && b.hits != ^uint32(0) {
				if b.hits++; b.hits >= c.jitThreshold() && c.nativeOK() {
					c.compileBlock(b)
				}
			}
			if b.native != nil && !b.native.fits(c) {
				// Compiled for other segments: compile it again when
				// it is hot again.
				c.invalidateNative(b)
				b.hits = 0
			}
			if b.native != nil && b.native.RIP == c.RIP && c.nativeOK() {
				last, n := c.runNative(b, c.icount+uint64(budget-done))
				done += int64(n)
				prev = last
				if c.eventPending() {
					return
				}
				continue
			}
		}
		c.stop = false
		insts := b.insts
		c.blockStart = c.RIP
		c.inBlock = true
		n := len(insts)
		for i := range insts {
			in := &insts[i]
			c.ip0 = c.RIP
			c.RIP = (c.RIP + uint64(in.Len)) & c.ipm
			in.fn(c, in)
			if c.stop {
				n = i + 1
				break
			}
		}
		c.inBlock = false
		c.icount += uint64(n)
		done += int64(n)
		prev = b
		if c.intr && c.flags&FlagIF != 0 || c.nmiPending || c.Halted || c.stopReq || c.ShutdownReason != "" {
			return
		}
	}
}

// chained returns the block at CS:RIP, taking it from prev's successor
// cache when nothing that affects translation changed since it was linked.
func (c *CPU) chained(prev *block) *block {
	if prev != nil {
		for j := range prev.succ {
			if s := prev.succ[j]; s != nil && prev.succRIP[j] == c.RIP && prev.succGen == c.chainGen+c.tlb.epoch && s.valid {
				c.blocks.cur = s
				return s
			}
		}
	}
	b := c.blockAt()
	if prev != nil && b.valid {
		if g := c.chainGen + c.tlb.epoch; prev.succGen != g {
			prev.succ = [2]*block{}
			prev.succGen = g
		}
		j := 0
		if prev.succ[0] != nil {
			j = 1
		}
		prev.succ[j], prev.succRIP[j] = b, c.RIP
	}
	return b
}

// accountPartialBlock counts the instructions of the current block that
// retired before the one at ip0 faulted.
func (c *CPU) accountPartialBlock() {
	if !c.inBlock {
		return
	}
	c.icount += c.retiredInBlock()
	c.inBlock = false
}

// retiredInBlock is the number of instructions of the current block that
// retired before the one at ip0.
func (c *CPU) retiredInBlock() uint64 {
	b := c.blocks.cur
	if b == nil {
		return 0
	}
	var n uint64
	rip := c.blockStart
	for i := range b.insts {
		if rip == c.ip0 {
			break
		}
		n++
		rip = (rip + uint64(b.insts[i].Len)) & c.ipm
	}
	return n
}

// stepOne executes one instruction without the block cache's help beyond
// decoding, with the single-instruction side effects (interrupt shadow,
// TF trap, instruction breakpoints).
func (c *CPU) stepOne() {
	shadow := c.IntShadow
	tf := c.flags&FlagTF != 0
	if c.Hooks != nil && c.Hooks.Instr != nil {
		c.Hooks.Instr(c)
	}
	c.checkInstrBreakpoint()
	var in Inst
	c.decodeAt(c.RIP, &in)
	c.ip0 = c.RIP
	c.RIP = (c.RIP + uint64(in.Len)) & c.ipMask()
	c.stop = false
	c.debugHit = false
	in.fn(c, &in)
	c.icount++
	if shadow {
		c.IntShadow = false
	}
	c.flags &^= FlagRF
	if tf && c.ShutdownReason == "" {
		// Single-step trap after the instruction (BS in DR6).
		c.DR[6] |= 1 << 14
		c.raiseTrap(ExcDB)
	}
	if c.debugHit {
		c.raiseTrap(ExcDB)
	}
}

// String describes the CPU state for error messages and dumps.
func (c *CPU) String() string {
	return fmt.Sprintf("RAX=%016x RBX=%016x RCX=%016x RDX=%016x\nRSI=%016x RDI=%016x RBP=%016x RSP=%016x\n"+
		"RIP=%016x RFLAGS=%08x CPL=%d CR0=%08x CR3=%08x CR4=%08x EFER=%x\n"+
		"CS=%04x(%08x) SS=%04x(%08x) DS=%04x(%08x) ES=%04x(%08x)",
		c.R[RAX], c.R[RBX], c.R[RCX], c.R[RDX], c.R[RSI], c.R[RDI], c.R[RBP], c.R[RSP],
		c.RIP, c.Flags(), c.CPL, c.CR0, c.CR3, c.CR4, c.EFER,
		c.Seg[CS].Sel, c.Seg[CS].Base, c.Seg[SS].Sel, c.Seg[SS].Base, c.Seg[DS].Sel, c.Seg[DS].Base, c.Seg[ES].Sel, c.Seg[ES].Base)
}
