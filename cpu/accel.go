package cpu

import (
	"time"
	"unsafe"
)

// The CPU's side of the block JIT (package jit). The interpreter's block
// cache stays the single source of blocks: a block that has run
// JITThreshold times is handed to the Accelerator, which translates it to
// host code. Generated code never calls Go. It leaves through an exit with
// a reason in CPU fields (the wazero pattern), and runNative below handles
// the exit in Go: it interprets one instruction the code could not run
// (a helper exit), links a chain slot to the next block, or returns to the
// interpreter loop when the budget is spent or an event is pending.
//
// Invariants the generated code relies on and keeps:
//   - On entry and at every exit the lazy flags are materialised
//     (lop == lazyNone) and the arithmetic flags are in jitState.arith
//     as an image: AX as LAHF and SETO leave it (flagsImage), which
//     generated code takes from the host's flags without PUSHFQ. runNative converts them in
//     and out of State.flags around every entry.
//   - Code runs only while the CPU's flat segments (flatSegs) fit the
//     assumptions it was compiled under (NativeCode.Flat).
//     A change of flatSegs moves chainGen, so every linked path is
//     rechecked; a direct link (patched jump) goes only to code that
//     assumes no more than its source.
//   - RIP in State is exact at every exit; inside a block it is a
//     compile-time constant (NativeCode.RIP is the block's entry RIP).
//   - icount is exact at every exit (each exit adds what retired).
//   - Generated code never faults: segment, page and alignment checks
//     that fail, TLB misses and MMIO go to a helper exit, where the
//     interpreter runs the instruction and raises the exception.

// JITThreshold is how many times a block runs in the interpreter before
// it is compiled. Compiling costs about as much as running a block some
// thousand times in the interpreter; on the Linux boot 300 beat 32 by a
// sixth (fewer blocks compiled that never run much) and 3000 lost again.
const JITThreshold = 300

// Accelerator compiles blocks and runs their code (package jit).
type Accelerator interface {
	// Compile translates a block, or returns nil (then the block stays
	// interpreted).
	Compile(c *CPU, src *BlockSource) *NativeCode
	// Enter runs generated code from entry until it exits.
	Enter(c *CPU, entry uintptr)
	// Link points chain slot slot at target's code, valid while the
	// CPU's chain generation equals gen; a nil target unlinks the slot.
	// A slot the compiler made a direct (unchecked) jump must not be
	// linked to code with CrossPage set.
	Link(slot uint32, target *NativeCode, gen uint64)
	// LinkIndirect records target as the code for an indirect branch to
	// rip, valid while the chain generation equals gen.
	LinkIndirect(rip uint64, target uintptr, gen uint64)
	// Invalidate unlinks every path into code (chain slots, direct
	// jumps, the jump cache): its block's code was overwritten, or the
	// block is recompiled. Generated code has no validity check of its
	// own.
	Invalidate(code *NativeCode)
	// Flush drops every translation.
	Flush()
}

// BlockSource is what the compiler translates: a decoded block.
type BlockSource struct {
	Insts []Inst
	RIP   uint64 // RIP of the first instruction
	Mode  Mode
	// ID names the block in exits (CPU.jitBlock).
	ID uint32
	// CSBase is CS's base: RIP plus CSBase is the linear address (the
	// compiler links directly only to code on the block's own page).
	CSBase uint64
	// FlatSegs is CPU.flatSegs at compile time (see flatBits).
	FlatSegs uint16
}

// NativeCode is a block's translation.
type NativeCode struct {
	Entry uintptr
	// Resume[i] is where the code continues after instruction i ran in Go
	// at a helper exit; 0 means return to the block loop.
	Resume []uintptr
	RIP    uint64
	// Flat lists the segments (flatBits) the code assumes flat: it
	// dropped their segment checks.
	Flat uint16
	// CrossPage: the block's instruction continues on the next page,
	// whose mapping only a chain generation check revalidates.
	CrossPage bool
}

// flagsImage converts RFLAGS' status flags to the image generated code
// keeps, as LAHF and SETO leave them in AX: SF ZF AF PF CF 8 bits above
// their RFLAGS positions, OF in bit 0.
func flagsImage(f uint64) uint64 { return (f&0xd5)<<8 | (f&FlagOF)>>11 }

// imageFlags converts an image back to RFLAGS' status flags.
func imageFlags(img uint64) uint64 { return (img>>8)&0xd5 | (img&1)<<11 }

// fits reports whether code may run in the CPU's present state.
func (nc *NativeCode) fits(c *CPU) bool { return c.flatSegs&nc.Flat == nc.Flat }

// mayLink reports whether a direct link from code nc to code to is
// sound: whenever nc may run, so may to.
func (nc *NativeCode) mayLink(to *NativeCode) bool { return to.Flat&^nc.Flat == 0 }

// noChainSlot in jitSlot: the code was not entered through a chain slot.
const noChainSlot = 0xffffffff

// Exit reasons generated code leaves in CPU.jitExit.
const (
	JITExitHelper = 1 // run Insts[jitIndex] of block jitBlock in Go, then resume
	JITExitChain  = 2 // block end: RIP set; jitSlot names the chain slot to link
	JITExitBranch = 3 // block end through an indirect branch (no slot)
)

// JITStats counts what the JIT did.
type JITStats struct {
	Entries, Helpers, ChainExits, Invalidated, Indirect, Links uint64
	// NativeNanos is the wall time spent in generated code and in the
	// handling of its exits (measured only after EnableJITTiming).
	NativeNanos int64
	// HelperOps counts helper exits by opcode (only after
	// EnableJITTiming, for -jit-stats).
	HelperOps map[uint16]uint64
	// TLBEpoch counts TLB flushes and INVLPGs, ChainGen the changes of
	// what chained code assumes (mode, CS, privilege, flat segments):
	// either breaks every link through a chain slot.
	TLBEpoch, ChainGen uint64
}

// Layout gives the byte offsets from a *CPU of the fields generated code
// reads and writes.
type Layout struct {
	R, RIP, Arith, Lop                      uintptr
	SegBase, SegRLo, SegRHi, SegWLo, SegWHi uintptr // of c.seg[0]; stride SegStride
	SegStride                               uintptr
	CSLimit                                 uintptr // State.Seg[CS].Limit (uint32)
	TLBRead, TLBWrite                       uintptr // tlb.r[0], tlb.w[0]
	TLBEntrySize, TLBTag, TLBAddend         uintptr
	TLBBits                                 uint
	UserTag, StackMask                      uintptr
	Sites, SiteList, SiteN                  uintptr // tlb.sites[0] ({tag, addend}), tlb.siteList[0] (uint16), tlb.siteN (uint32)
	Left                                    uintptr // jitState.left (int64)
	ChainGen, Epoch                         uintptr
	Exit, Index, Block, Slot                uintptr
	XMM, CR0, CR4                           uintptr // State.XMM[0], State.CR0, State.CR4
	Flags, CPL                              uintptr // State.flags (uint64: the arithmetic bits are stale), State.CPL (uint8)
	SegSel, SegSelStride                    uintptr // State.Seg[0].Sel (uint16); stride
}

// JITLayout returns the offsets of the CPU fields generated code uses.
func JITLayout() Layout {
	var c CPU
	base := uintptr(unsafe.Pointer(&c))
	off := func(p unsafe.Pointer) uintptr { return uintptr(p) - base }
	return Layout{
		R:            off(unsafe.Pointer(&c.R[0])),
		RIP:          off(unsafe.Pointer(&c.RIP)),
		Arith:        off(unsafe.Pointer(&c.jit.arith)),
		Lop:          off(unsafe.Pointer(&c.lop)),
		SegBase:      off(unsafe.Pointer(&c.seg[0].base)),
		SegRLo:       off(unsafe.Pointer(&c.seg[0].rlo)),
		SegRHi:       off(unsafe.Pointer(&c.seg[0].rhi)),
		SegWLo:       off(unsafe.Pointer(&c.seg[0].wlo)),
		SegWHi:       off(unsafe.Pointer(&c.seg[0].whi)),
		SegStride:    unsafe.Sizeof(c.seg[0]),
		CSLimit:      off(unsafe.Pointer(&c.Seg[CS].Limit)),
		TLBRead:      off(unsafe.Pointer(&c.tlb.r[0])),
		TLBWrite:     off(unsafe.Pointer(&c.tlb.w[0])),
		TLBEntrySize: unsafe.Sizeof(c.tlb.r[0]),
		TLBTag:       unsafe.Offsetof(c.tlb.r[0].tag),
		TLBAddend:    unsafe.Offsetof(c.tlb.r[0].addend),
		TLBBits:      tlbBits,
		UserTag:      off(unsafe.Pointer(&c.userTag)),
		StackMask:    off(unsafe.Pointer(&c.stackMask)),
		Sites:        off(unsafe.Pointer(&c.tlb.sites[0])),
		SiteList:     off(unsafe.Pointer(&c.tlb.siteList[0])),
		SiteN:        off(unsafe.Pointer(&c.tlb.siteN)),
		Left:         off(unsafe.Pointer(&c.jit.left)),
		ChainGen:     off(unsafe.Pointer(&c.chainGen)),
		Epoch:        off(unsafe.Pointer(&c.tlb.epoch)),
		Exit:         off(unsafe.Pointer(&c.jit.jitExit)),
		Index:        off(unsafe.Pointer(&c.jit.jitIndex)),
		Block:        off(unsafe.Pointer(&c.jit.jitBlock)),
		Slot:         off(unsafe.Pointer(&c.jit.jitSlot)),
		XMM:          off(unsafe.Pointer(&c.XMM[0])),
		CR0:          off(unsafe.Pointer(&c.CR0)),
		CR4:          off(unsafe.Pointer(&c.CR4)),
		Flags:        off(unsafe.Pointer(&c.flags)),
		CPL:          off(unsafe.Pointer(&c.CPL)),
		SegSel:       off(unsafe.Pointer(&c.Seg[0].Sel)),
		SegSelStride: unsafe.Sizeof(c.Seg[0]),
	}
}

// jitState is the CPU's JIT bookkeeping.
type jitState struct {
	accel    Accelerator
	jitLimit uint64 // generated code exits at a block end once icount reaches it
	// left is jitLimit - icount while generated code runs: the code
	// counts it down (one SUB per block) and exits at a block end once
	// it is <= 0; runNative turns it back into icount at every exit.
	left     int64
	jitExit  uint32
	jitIndex uint32
	jitBlock uint32
	jitSlot  uint32
	// arith holds the arithmetic flags while generated code runs, as an
	// image (flagsImage).
	arith uint64
	// native lists the compiled blocks by ID (exits name blocks by ID),
	// codes their translations (a block may be recompiled).
	native []*block
	codes  []*NativeCode
	stats  JITStats
	timing bool
	// Test knobs: compile after this many runs (0: JITThreshold) and
	// end blocks after this many instructions (0: maxBlockInsts).
	threshold uint32
	maxBlock  int
}

// SetJITThreshold makes blocks compile after n runs (n >= 1; tests use
// 1 to put every block through the compiler).
func (c *CPU) SetJITThreshold(n uint32) { c.jit.threshold = max(n, 1) }

// SetMaxBlockInsts limits blocks to n instructions (tests use 1 to run
// single-instruction suites through the JIT). It drops existing blocks.
func (c *CPU) SetMaxBlockInsts(n int) {
	c.jit.maxBlock = n
	c.FlushBlocks()
}

// EnableJITTiming makes the CPU measure the time spent in generated code
// (JITStats.NativeNanos); it costs two clock reads per entry.
func (c *CPU) EnableJITTiming() {
	c.jit.timing = true
	c.jit.stats.HelperOps = make(map[uint16]uint64)
}

// SetAccelerator attaches a block compiler (nil: interpreter only).
func (c *CPU) SetAccelerator(a Accelerator) {
	c.jit.accel = a
	c.FlushBlocks()
}

// JITStats returns the JIT's counters (blocks compiled, exits by reason).
func (c *CPU) JITStats() JITStats {
	s := c.jit.stats
	s.TLBEpoch, s.ChainGen = c.tlb.epoch, c.chainGen
	return s
}

// nativeOK reports whether generated code may run now: nothing asks for
// one instruction at a time, and no per-access checks are active.
func (c *CPU) nativeOK() bool {
	return c.jit.accel != nil && !c.IntShadow && c.flags&FlagTF == 0 && c.DR[7]&0xff == 0 &&
		(c.Hooks == nil || c.Hooks.Instr == nil) && !c.extraChecks
}

// compileBlock hands a hot block to the accelerator.
func (c *CPU) compileBlock(b *block) {
	id := uint32(len(c.jit.native))
	src := BlockSource{Insts: b.insts, RIP: c.RIP, Mode: c.mode, ID: id,
		CSBase: c.Seg[CS].Base, FlatSegs: c.flatSegs}
	nc := c.jit.accel.Compile(c, &src)
	if nc == nil {
		b.hits = ^uint32(0)
		return
	}
	// A block whose instruction straddles a page is entered from Go
	// (blockAt checks the second page) or through links that check the
	// chain generation, which moves with every TLB flush.
	nc.CrossPage = b.page2 != noPage
	b.native = nc
	c.jit.native = append(c.jit.native, b)
	c.jit.codes = append(c.jit.codes, nc)
}

// invalidateNative makes b's code unreachable and forgets it.
func (c *CPU) invalidateNative(b *block) {
	if b.native != nil {
		c.jit.stats.Invalidated++
		c.jit.accel.Invalidate(b.native)
		b.native = nil
	}
}

// flushNative forgets every translation (the blocks stay).
func (c *CPU) flushNative() {
	for _, b := range c.jit.native {
		b.native = nil
		b.hits = 0
	}
	clear(c.jit.native)
	c.jit.native = c.jit.native[:0]
	clear(c.jit.codes)
	c.jit.codes = c.jit.codes[:0]
	if c.jit.accel != nil {
		c.jit.accel.Flush()
	}
}

// eventPending reports whether the interpreter loop must look at events
// before running on.
func (c *CPU) eventPending() bool {
	return c.intr && c.flags&FlagIF != 0 || c.nmiPending || c.Halted || c.stopReq || c.ShutdownReason != ""
}

// runNative runs block b's code and handles its exits until control
// returns to the block loop. It returns the last block that ran (for
// chaining) and the instructions retired.
func (c *CPU) runNative(b *block, limit uint64) (last *block, retired uint64) {
	start := c.icount
	if c.jit.timing {
		t0 := time.Now()
		defer func() { c.jit.stats.NativeNanos += int64(time.Since(t0)) }()
	}
	c.materialize()
	c.jit.arith = flagsImage(c.flags)
	c.jit.jitLimit = limit
	entry := b.native.Entry
	for {
		c.jit.stats.Entries++
		c.jit.jitSlot = noChainSlot
		c.jit.left = int64(c.jit.jitLimit - c.icount)
		c.jit.accel.Enter(c, entry)
		c.icount = c.jit.jitLimit - uint64(c.jit.left)
		c.flags = c.flags&^FlagsArith | imageFlags(c.jit.arith)
		last = c.jit.native[c.jit.jitBlock]
		code := c.jit.codes[c.jit.jitBlock]
		switch c.jit.jitExit {
		case JITExitHelper:
			c.jit.stats.Helpers++
			k := c.jit.jitIndex
			in := &last.insts[k]
			if c.jit.timing {
				c.jit.stats.HelperOps[in.Op]++
			}
			c.blocks.cur = last
			c.inBlock = false // icount is exact: a fault adds nothing
			c.stop = false
			c.ip0 = c.RIP
			c.RIP = (c.RIP + uint64(in.Len)) & c.ipm
			gen := c.chainGen + c.tlb.epoch
			in.fn(c, in)
			c.icount++
			// Resume only in the state the code was entered in: direct
			// links to the rest rely on it (accel invariants).
			if c.stop || !c.nativeOK() || last.native != code || !last.valid || c.chainGen+c.tlb.epoch != gen {
				return last, c.icount - start
			}
			entry = code.Resume[k]
			if entry == 0 {
				return last, c.icount - start
			}
			c.materialize()
			c.jit.arith = flagsImage(c.flags)
			if c.eventPending() {
				// Finish the block, as the interpreter would, then stop.
				c.jit.jitLimit = 0
			}
		case JITExitChain:
			c.jit.stats.ChainExits++
			if c.icount >= c.jit.jitLimit || c.eventPending() {
				return last, c.icount - start
			}
			c.checkBus()
			next := c.chained(last)
			if next.native == nil || next.native.RIP != c.RIP || !next.valid || !next.native.fits(c) {
				return last, c.icount - start
			}
			if code.mayLink(next.native) {
				c.jit.stats.Links++
				c.jit.accel.Link(c.jit.jitSlot, next.native, c.chainGen+c.tlb.epoch)
			}
			entry = next.native.Entry
		default: // JITExitBranch: RIP is the indirect target
			c.jit.stats.Indirect++
			if c.icount >= c.jit.jitLimit || c.eventPending() {
				return last, c.icount - start
			}
			c.checkBus()
			next := c.chained(last)
			if next.native == nil || next.native.RIP != c.RIP || !next.valid || !next.native.fits(c) {
				return last, c.icount - start
			}
			// The jump cache serves every block: its entries rely on
			// the chain generation alone, which flatSegs changes move.
			c.jit.accel.LinkIndirect(c.RIP, next.native.Entry, c.chainGen+c.tlb.epoch)
			entry = next.native.Entry
		}
	}
}

// Nop reports whether the instruction, as bound, does nothing (NOP forms,
// prefetch hints, fences).
func (in *Inst) Nop() bool { return in.fn != nil && funcID(in.fn) == funcID(opNop) }

// Faults reports whether the instruction, as decoded, only raises an
// exception (#UD, a CS limit or length #GP): the JIT leaves it to the
// interpreter.
func (in *Inst) Faults() bool {
	return in.fn == nil || isUD(in.fn) || funcID(in.fn) == funcID(opCSLimit) || funcID(in.fn) == funcID(opTooLong)
}

func (c *CPU) jitThreshold() uint32 {
	if c.jit.threshold > 0 {
		return c.jit.threshold
	}
	return JITThreshold
}
