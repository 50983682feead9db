package jit

import (
	"unsafe"

	"fuji/cpu"

	"github.com/twitchyliquid64/golang-asm/obj"
	"github.com/twitchyliquid64/golang-asm/obj/x86"
)

// Host registers. R15 holds the CPU pointer for the whole of generated
// code; the others are scratch within one guest instruction:
//
//	AX, CX  operands and results
//	DX      host address of the memory operand
//	SI      effective, then linear, address
//	DI, BX  address checks and flag spills
//	R8      stack offset of a push or pop
const (
	rAX = x86.REG_AX
	rCX = x86.REG_CX
	rDX = x86.REG_DX
	rBX = x86.REG_BX
	rSI = x86.REG_SI
	rDI = x86.REG_DI
	r8  = x86.REG_R8
	// rBudget holds the instructions the code may still run
	// (jitState.left) for the whole of generated code (enter_amd64.s).
	rBudget = x86.REG_BP
)

// arithFlags are the six status flags (CF PF AF ZF SF OF).
const arithFlags = 0x8d5

// Where the guest's arithmetic flags are at a point of generated code.
// At entry and at every exit they are in memory (cpu.State's flags, lazy
// flags materialised). After a native ALU instruction they are in the
// host's RFLAGS (the live bits; the others still in memory), until code
// that clobbers host flags needs them spilled.
const (
	flagsMem = iota
	flagsHost
)

// directSite is a chain slot whose link is a patched JG rel32: first is
// the jump's first opcode byte (its rel32 starts 2 bytes on).
type directSite struct {
	slot  int
	first *obj.Prog
}

// gen compiles one block.
type gen struct {
	j   *JIT
	a   *asm
	lay cpu.Layout
	src *cpu.BlockSource
	ipm uint64

	i         int    // instruction being compiled
	rip, next uint64 // its address and the next instruction's
	labels    []*obj.Prog
	resume    []*obj.Prog
	isNative  []bool
	native    int
	tails     []func()
	slotsUsed int
	slow      *obj.Prog // the current instruction's slow path, once made
	flat      uint16    // flat segments the code relies on (NativeCode.Flat)
	// The register cache (regcache.go): the host register of each
	// guest register (0: none), the cached set, and those written
	// since entry (an over-approximation after a resume).
	cache         [16]int16
	cached, dirty uint16
	// A block that ends by jumping back to its own start loops inside
	// its code: the jump goes to loopHead, after the prologue, without
	// writing the cache back (exits write back every cached register).
	selfLoop bool
	loopHead *obj.Prog
	directs  []directSite

	// Flag liveness (flaglive.go): the flags dead after each
	// instruction (nil: not used), those live at the block's start, the
	// flags left undefined while dead, and whether one reached a point
	// that reads it (the block is then compiled again without).
	deadAfter []uint64
	liveIn    uint64
	garbage   uint64
	bad       bool
	// Deferred flag spills (recipe.go): how to compute the host flags
	// again, and whether the current memory operand's probe runs with
	// the spill deferred to its slow path.
	recipe    recipe
	deferring bool

	// Compile-time state of the inline path.
	pending int // instructions retired since icount was last updated
	flags   int
	live    uint64 // with flagsHost: the bits the host RFLAGS holds
	zero    uint64 // with flagsHost: bits that are zero (not in host RFLAGS)
	ended   bool   // the inline path has left the block
}

func newGen(j *JIT, src *cpu.BlockSource) *gen {
	n := len(src.Insts)
	g := &gen{j: j, a: j.asm, lay: j.lay, src: src,
		labels: make([]*obj.Prog, n+1), resume: make([]*obj.Prog, n), isNative: make([]bool, n)}
	switch src.Mode {
	case cpu.Mode64:
		g.ipm = ^uint64(0)
	case cpu.Mode32:
		g.ipm = 0xffffffff
	default:
		g.ipm = 0xffff
	}
	return g
}

func (g *gen) mode64() bool { return g.src.Mode == cpu.Mode64 }

// compile translates the block; noLiveness turns the flag liveness
// analysis off.
func (g *gen) compile(noLiveness bool) ([]byte, error) {
	a := g.a
	a.reset()
	for i := range g.labels {
		g.labels[i] = a.label()
	}
	// No validity check: code is never entered once its block is
	// invalidated (Go unlinks every path into it first, JIT.Invalidate).
	// The prologue loads the cached registers.
	// The code assumes the whole of the state it was compiled in
	// (NativeCode.Flat), not only the parts it relies on: blocks compiled
	// in the same state then link to each other freely. In 64-bit mode
	// only the privilege counts (FS and GS bases come and go with
	// SWAPGS; the code adds them at run time).
	g.flat = g.src.FlatSegs
	if g.mode64() {
		g.flat &= cpu.FlatUser | cpu.FlatSuper
	}
	g.selfLoop = g.loopsToStart()
	g.liveIn = arithFlags
	if !noLiveness {
		g.deadAfter, g.liveIn = g.flagLiveness()
	}
	g.assignCache()
	g.loadCache()
	g.loopHead = a.label()
	a.place(g.loopHead)
	if g.selfLoop {
		// Any cached register may be dirty from an earlier turn.
		g.dirty = g.cached
		if g.liveIn == 0 {
			// The flags in memory may be stale on the way round
			// (chainTo): nothing may read them before they are
			// written.
			g.garbage = arithFlags
		}
	}
	rip := g.src.RIP
	for i := range g.src.Insts {
		in := &g.src.Insts[i]
		g.i, g.rip = i, rip
		g.next = (rip + uint64(in.Len)) & g.ipm
		a.place(g.labels[i])
		g.slow = nil
		// A private copy with ModRM's fields as decoded.
		ic := *in
		ic.Reg, ic.RM = in.ModRMRegs()
		in = &ic
		if !in.Faults() && g.emit(in) {
			g.isNative[i] = true
			g.native++
			if g.slow != nil && !g.ended {
				g.makeResume(i)
			}
		} else {
			g.helper()
		}
		rip = g.next
	}
	a.place(g.labels[len(g.src.Insts)])
	if !g.ended {
		g.chainTo(rip)
	}
	for k := 0; k < len(g.tails); k++ {
		g.tails[k]()
	}
	return a.assemble()
}

// retire counts the current instruction as retired on the inline path.
func (g *gen) retire() { g.pending++ }

// Flags.

// The flags image: how generated code keeps the guest's status flags in
// jitState.arith, as LAHF and SETO leave them in AX: bits 8-15 are what
// LAHF gives (SF ZF - AF - PF - CF, each 8 above its RFLAGS position) and
// bit 0 is OF. Both read the host's flags without PUSHFQ, which costs
// more than the rest of a typical block, and without changing them. Go
// converts at every entry and exit (cpu.flagsImage).
const (
	imgCF    = 8 // bit number
	imgArith = 0xd501
)

// imgMask is the image's bits for RFLAGS status bits m.
func imgMask(m uint64) int64 { return int64((m&0xd5)<<8 | (m&flagOF)>>11) }

// hostImage leaves the image of the host's flags in AX. It changes no
// host flag. AX must hold nothing: emitters spill before they load it
// (a lock-step test fails when one does not).
func (g *gen) hostImage() {
	a := g.a
	g.observe(arithFlags)
	a.op0(x86.ALAHF)
	a.op1(x86.ASETOS, reg(rAX))
}

// imageToRflags loads the image in memory into BX as RFLAGS status bits
// (DI: scratch): SF ZF AF PF CF from bits 8-15, OF from bit 0.
func (g *gen) imageToRflags() {
	a := g.a
	a.op(x86.AMOVWLZX, st(g.lay.Arith), reg(rBX))
	a.op(x86.AMOVL, reg(rBX), reg(rDI))
	a.op(x86.AANDL, imm(1), reg(rDI))
	a.op(x86.ASHLL, imm(11), reg(rDI))
	a.op(x86.ASHRL, imm(8), reg(rBX))
	a.op(x86.AANDL, imm(0xd5), reg(rBX))
	a.op(x86.AORL, reg(rDI), reg(rBX))
}

// rflagsToImage turns the RFLAGS value in BX into an image (DI: scratch).
func (g *gen) rflagsToImage() {
	a := g.a
	a.op(x86.AMOVL, reg(rBX), reg(rDI))
	a.op(x86.ASHRL, imm(11), reg(rDI))
	a.op(x86.AANDL, imm(1), reg(rDI))
	a.op(x86.AANDL, imm(0xd5), reg(rBX))
	a.op(x86.ASHLL, imm(8), reg(rBX))
	a.op(x86.AORL, reg(rDI), reg(rBX))
}

// spill writes live host flags to memory (the image in jitState.arith),
// and clears there the bits the interpreter defines as zero where the
// manuals leave them undefined (so that both engines compute the same
// RFLAGS whatever the host does). When the host holds every status flag,
// as after most ALU instructions, the spill is LAHF, SETO and one 16-bit
// store: no read-modify-write of memory, so no chain of store-forwarding
// latency from one spill to the next.
func (g *gen) spill() {
	if g.flags != flagsHost {
		return
	}
	live, zero := g.live, g.zero
	g.imageToAX()
	g.storeImage(rAX, live, zero)
}

// imageToAX takes the live host flags' image into AX, with the bits the
// interpreter defines as zero cleared; the flags are then in neither
// place until storeImage.
func (g *gen) imageToAX() {
	g.hostImage()
	// The host flags are no longer needed: AND may change them.
	if z := g.zero & arithFlags; z != 0 {
		g.a.op(x86.AANDL, imm(^imgMask(z)&0xffff), reg(rAX))
	}
	g.flags = flagsMem
	g.live, g.zero = 0, 0
}

// storeImage writes the image in h (RFLAGS bits live valid, zero known
// zero) to memory: a plain 16-bit store when it holds every status flag.
func (g *gen) storeImage(h int16, live, zero uint64) {
	a := g.a
	if (live|zero)&arithFlags == arithFlags {
		a.op(x86.AMOVW, reg(h), st(g.lay.Arith))
		return
	}
	m := imgMask(live)
	a.op(x86.AANDL, imm(m), reg(h))
	a.op(x86.AANDW, imm(^(m|imgMask(zero))&0xffff), st(g.lay.Arith))
	a.op(x86.AORW, reg(h), st(g.lay.Arith))
}

// loadCF puts the guest's CF into the host's when the flags are in
// memory, so that an instruction that keeps CF (INC, DEC) leaves every
// status flag in the host. The caller has spilled.
func (g *gen) loadCF() {
	g.a.op(x86.ABTQ, imm(imgCF), st(g.lay.Arith))
	g.flags, g.live, g.zero = flagsHost, 1, 0
}

// clobber is called before emitting host code that changes host flags
// for its own purposes.
func (g *gen) clobber() { g.spill() }

// wrote records that the native instruction just emitted set the flags
// in mask (the host instruction computes exactly the guest's) and that
// the flags in zero, undefined by the manuals, are zero (the
// interpreter's choice).
func (g *gen) wrote(mask, zero uint64) {
	g.garbage &^= mask
	if g.flags == flagsHost {
		g.live = (g.live | mask) &^ zero
		g.zero = g.zero&^mask | zero
	} else {
		g.flags = flagsHost
		g.live, g.zero = mask&^zero, zero
	}
}

// hostHas reports whether host RFLAGS holds every flag in mask.
func (g *gen) hostHas(mask uint64) bool {
	return g.flags == flagsHost && g.live&mask == mask
}

// condMask is the flags a condition code reads.
func condMask(cc uint8) uint64 {
	switch cc >> 1 {
	case 0:
		return 0x800
	case 1:
		return 1
	case 2:
		return 0x40
	case 3:
		return 0x41
	case 4:
		return 0x80
	case 5:
		return 4
	case 6:
		return 0x880
	}
	return 0x8c0
}

// Host condition jumps by guest condition code.
var hostJcc = [16]obj.As{x86.AJOS, x86.AJOC, x86.AJCS, x86.AJCC, x86.AJEQ, x86.AJNE, x86.AJLS, x86.AJHI,
	x86.AJMI, x86.AJPL, x86.AJPS, x86.AJPC, x86.AJLT, x86.AJGE, x86.AJLE, x86.AJGT}

var hostSetcc = [16]obj.As{x86.ASETOS, x86.ASETOC, x86.ASETCS, x86.ASETCC, x86.ASETEQ, x86.ASETNE, x86.ASETLS, x86.ASETHI,
	x86.ASETMI, x86.ASETPL, x86.ASETPS, x86.ASETPC, x86.ASETLT, x86.ASETGE, x86.ASETLE, x86.ASETGT}

// condition makes host flags decide guest condition cc and returns the
// host condition code (an index into hostJcc/hostSetcc) that is true
// when cc is. It uses the host flags when they hold what cc reads;
// otherwise it evaluates cc from the flags in memory into ZF.
func (g *gen) condition(cc uint8) uint8 {
	g.observe(condMask(cc))
	if g.hostHas(condMask(cc)) {
		return cc
	}
	g.spill()
	a := g.a
	a.op(x86.AMOVL, st(g.lay.Arith), reg(rBX))
	// In the image SF is bit 15, OF bit 0, ZF bit 14.
	switch cc >> 1 {
	case 6: // SF != OF
		a.op(x86.AMOVL, reg(rBX), reg(rDI))
		a.op(x86.ASHRL, imm(15), reg(rDI))
		a.op(x86.AXORL, reg(rDI), reg(rBX))
		a.op(x86.AANDL, imm(1), reg(rBX))
	case 7: // ZF || SF != OF
		a.op(x86.AMOVL, reg(rBX), reg(rDI))
		a.op(x86.ASHRL, imm(15), reg(rDI))
		a.op(x86.AXORL, reg(rBX), reg(rDI))
		a.op(x86.AANDL, imm(1), reg(rDI))
		a.op(x86.AANDL, imm(0x4000), reg(rBX))
		a.op(x86.AORL, reg(rDI), reg(rBX))
	default:
		a.op(x86.AANDL, imm(imgMask(condMask(cc))), reg(rBX))
	}
	// Now ZF is clear exactly when the even condition (cc&^1) holds.
	if cc&1 == 0 {
		return 5 // NE
	}
	return 4 // EQ
}

// Exits.

// storeRIP sets State.RIP to a constant.
func (g *gen) storeRIP(v uint64) {
	if int64(v) == int64(int32(v)) {
		g.a.op(x86.AMOVQ, imm(int64(v)), st(g.lay.RIP))
		return
	}
	g.a.op(x86.AMOVQ, imm(int64(v)), reg(rCX))
	g.a.op(x86.AMOVQ, reg(rCX), st(g.lay.RIP))
}

// account counts the pending instructions as retired: generated code
// counts down the instructions it may still run (rBudget, jitState.left while Go runs; Go turns
// that back into icount at every exit).
func (g *gen) account() {
	if g.pending > 0 {
		g.a.op(x86.ASUBQ, imm(int64(g.pending)), reg(rBudget))
	}
}

// exitWith leaves generated code with a reason.
func (g *gen) exitWith(reason, index uint32) {
	a := g.a
	a.op(x86.AMOVL, imm(int64(index)), st(g.lay.Index))
	a.op(x86.AMOVL, imm(int64(g.src.ID)), st(g.lay.Block))
	a.op(x86.AMOVL, imm(int64(reason)), st(g.lay.Exit))
	a.op0(obj.ARET)
}

// helper compiles the current instruction as a helper exit: the
// interpreter runs it, and the code resumes at the next instruction.
func (g *gen) helper() {
	g.observe(arithFlags)
	g.spill()
	g.writeBack(g.dirty)
	g.account()
	g.storeRIP(g.rip)
	g.exitWith(cpu.JITExitHelper, uint32(g.i))
	g.pending, g.flags, g.live, g.zero = 0, flagsMem, 0, 0
	if g.i+1 < len(g.src.Insts) {
		// Resume: reload the cache (Go ran the instruction), then on
		// to the next instruction.
		l := g.a.label()
		g.a.place(l)
		g.loadCache()
		g.resume[g.i] = l
	}
	g.ended = g.i+1 == len(g.src.Insts)
}

// slowPath returns the label of the current instruction's slow path: a
// helper exit with the state of the instruction's start. Callers spill
// flags before the first jump to it.
func (g *gen) slowPath() *obj.Prog {
	if g.slow != nil {
		return g.slow
	}
	if g.flags == flagsHost && !g.deferring {
		panic("jit: slow path with live host flags")
	}
	g.observe(arithFlags)
	l := g.a.label()
	g.slow = l
	pending, rip, i, dirty := g.pending, g.rip, g.i, g.dirty
	deferred, rec := g.deferring, g.recipe
	g.tails = append(g.tails, func() {
		g.a.place(l)
		if deferred {
			// The flags the probe clobbered, computed again.
			flags, live, zero, garbage := g.flags, g.live, g.zero, g.garbage
			g.garbage = 0
			g.recompute(rec)
			g.flags, g.live, g.zero, g.garbage = flags, live, zero, garbage
		}
		g.writeBack(dirty)
		if pending > 0 {
			g.a.op(x86.ASUBQ, imm(int64(pending)), reg(rBudget))
		}
		g.storeRIP(rip)
		g.exitWith(cpu.JITExitHelper, uint32(i))
	})
	return l
}

// makeResume builds where the code continues after instruction i ran in
// Go at its slow path: it recreates the inline path's state at the next
// instruction (pending count, host flags) and jumps there.
func (g *gen) makeResume(i int) {
	l := g.a.label()
	g.resume[i] = l
	pending, flags, target := g.pending, g.flags, g.labels[i+1]
	g.tails = append(g.tails, func() {
		a := g.a
		a.place(l)
		if pending > 0 {
			a.op(x86.AADDQ, imm(int64(pending)), reg(rBudget))
		}
		if flags == flagsHost {
			// The image back into the host's RFLAGS.
			g.imageToRflags()
			a.op(x86.AORL, imm(2), reg(rBX))
			a.op(x86.APUSHQ, reg(rBX), obj.Addr{})
			a.op0(x86.APOPFQ)
		}
		g.loadCache()
		a.jmp(obj.AJMP, target)
	})
}

// chainTo ends the inline path with a jump to the block at a constant
// RIP. A target on the block's own page is linked by patching a JMP
// rel32 (a direct jump, as QEMU's goto_tb): code runs only while the
// mapping of the page it was entered on holds (Go leaves generated code
// when the chain generation moves), so it needs no check. Other targets
// go through a chain slot {code, generation} that Go fills.
func (g *gen) chainTo(target uint64) {
	a := g.a
	g.observe(arithFlags)
	if g.selfLoop && target == g.src.RIP {
		// Back to the top of this block, registers cached, while the
		// budget lasts. When the block overwrites the flags before it
		// reads them, they go to memory only on the way out.
		live, zero, host := g.live, g.zero, g.flags == flagsHost
		if host && g.liveIn == 0 {
			g.imageToAX()
		} else {
			g.spill()
			host = false
		}
		a.op(x86.ASUBQ, imm(int64(g.pending)), reg(rBudget))
		a.jmp(x86.AJGT, g.loopHead)
		if host {
			g.storeImage(rAX, live, zero)
		}
		g.writeBack(g.dirty)
		g.storeRIP(target)
		g.exitWith(cpu.JITExitChain, uint32(g.i)) // no slot: Go has nothing to link
		g.ended = true
		return
	}
	g.spill()
	g.writeBack(g.dirty)
	slot := g.j.nslots + g.slotsUsed
	g.slotsUsed++
	// The budget: SUB sets ZF/SF for the JLE (left <= 0: exit).
	exit := a.label()
	a.op(x86.ASUBQ, imm(int64(g.pending)), reg(rBudget))
	// An instruction at the last 15 bytes of the page may straddle it:
	// such a target goes through a checked slot (see Link).
	if g.linearPage(target) == g.linearPage(g.src.RIP) && g.codeLinear(target)&0xfff <= 0x1000-15 {
		// JG rel32 while budget is left (the SUB's flags), its rel32
		// 0 while unlinked: either way on to the exit below.
		first := a.op(x86.ABYTE, imm(0x0f), obj.Addr{})
		a.op(x86.ABYTE, imm(0x8f), obj.Addr{})
		for range 4 {
			a.op(x86.ABYTE, imm(0), obj.Addr{})
		}
		g.directs = append(g.directs, directSite{slot, first})
	} else {
		a.jmp(x86.AJLE, exit)
		a.op(x86.AMOVQ, st(g.lay.ChainGen), reg(rAX))
		a.op(x86.AADDQ, st(g.lay.Epoch), reg(rAX))
		a.op(x86.AMOVQ, imm(int64(uintptr(unsafe.Pointer(&g.j.slots[slot])))), reg(rCX))
		a.op(x86.ACMPQ, reg(rAX), mem(rCX, 8))
		a.jmp(x86.AJNE, exit)
		a.op1(obj.AJMP, mem(rCX, 0))
	}
	a.place(exit)
	g.storeRIP(target)
	a.op(x86.AMOVL, imm(int64(slot)), st(g.lay.Slot)) // Go links it
	g.exitWith(cpu.JITExitChain, uint32(g.i))
	g.ended = true
}

// loopsToStart reports whether the block's last instruction is a relative
// JMP or Jcc back to the block's first.
func (g *gen) loopsToStart() bool {
	rip := g.src.RIP
	n := len(g.src.Insts)
	for i := range n - 1 {
		rip = (rip + uint64(g.src.Insts[i].Len)) & g.ipm
	}
	in := &g.src.Insts[n-1]
	op := in.Op
	if !(op >= 0x70 && op <= 0x7f || op >= cpu.Map0F|0x80 && op <= cpu.Map0F|0x8f || op == 0xe9 || op == 0xeb) {
		return false
	}
	saved := g.next
	g.next = (rip + uint64(in.Len)) & g.ipm
	t := g.relTarget(in)
	g.next = saved
	return t == g.src.RIP
}

// linearPage is the linear page of the code at rip.
func (g *gen) linearPage(rip uint64) uint64 { return g.codeLinear(rip) >> 12 }

// codeLinear is the linear address of the code at rip.
func (g *gen) codeLinear(rip uint64) uint64 {
	if g.mode64() {
		return rip
	}
	return (g.src.CSBase + rip) & 0xffffffff
}

// exitIndirect ends the inline path at a RIP held in host register r
// (not CX, DX or DI). It looks the target up in the jump cache, a table
// from RIP to code that Go fills at indirect exits, valid under the same
// chain generation as chain slots, and exits to Go on a miss.
func (g *gen) exitIndirect(r int16) {
	a := g.a
	g.observe(arithFlags)
	g.spill()
	g.writeBack(g.dirty)
	a.op(x86.AMOVQ, reg(r), st(g.lay.RIP))
	exit := a.label()
	a.op(x86.ASUBQ, imm(int64(g.pending)), reg(rBudget))
	a.jmp(x86.AJLE, exit)
	a.op(x86.AMOVQ, st(g.lay.ChainGen), reg(rCX))
	a.op(x86.AADDQ, st(g.lay.Epoch), reg(rCX))
	a.op(x86.AMOVQ, reg(r), reg(rDX))
	a.op(x86.AANDL, imm(jumpCacheSize-1), reg(rDX))
	a.op(x86.ASHLQ, imm(5), reg(rDX))
	a.op(x86.AMOVQ, imm(int64(uintptr(unsafe.Pointer(&g.j.jumpCache[0])))), reg(rDI))
	a.op(x86.AADDQ, reg(rDX), reg(rDI))
	a.op(x86.ACMPQ, reg(r), mem(rDI, 0))
	a.jmp(x86.AJNE, exit)
	a.op(x86.ACMPQ, reg(rCX), mem(rDI, 8))
	a.jmp(x86.AJNE, exit)
	a.op1(obj.AJMP, mem(rDI, 16))
	a.place(exit)
	g.exitWith(cpu.JITExitBranch, uint32(g.i))
	g.ended = true
}
