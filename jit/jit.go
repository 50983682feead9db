// Package jit compiles the interpreter's hot decoded blocks to host
// x86-64 code with golang-asm and runs them.
//
// Generated code keeps guest state in cpu.CPU (R15 holds the CPU pointer)
// and never calls Go: it leaves through exits (cpu/accel.go) that the CPU's
// Go loop handles. See docs/ARCHITECTURE.md, "The block JIT".
package jit

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sort"
	"time"
	"unsafe"

	"fuji/cpu"

	"golang.org/x/arch/x86/x86asm"
)

// Sizes of the code cache and of the chain-slot table.
const (
	defaultCacheSize = 64 << 20
	maxSlots         = 1 << 18
)

// chainSlot is where a block's direct exit jumps when linked: the target
// code, valid while the CPU's chain generation equals gen.
type chainSlot struct {
	target uintptr
	gen    uint64
}

// jumpCacheSize is the number of entries of the indirect-branch cache.
const jumpCacheSize = 4096

// noSlot in CPU.jitSlot means the code was entered without a chain slot.
const noSlot = 0xffffffff

// jumpEntry maps a guest RIP to code, valid while the chain generation
// equals gen (32 bytes: generated code indexes the table by shifting).
type jumpEntry struct {
	rip, gen uint64
	code     uintptr
	_        uint64
}

// JIT is one CPU's block compiler and code cache.
type JIT struct {
	jumpCache []jumpEntry // fixed length, like slots
	cache     *codeCache
	slots     []chainSlot // fixed length: generated code holds their addresses
	sites     []int32     // by slot: offset in the cache of a direct slot's rel32, or 0
	// incoming lists, by code entry, the slots linked to it (some may
	// have been relinked elsewhere since: Invalidate checks).
	incoming map[uintptr][]uint32
	nslots   int
	// nextSite numbers memory accesses for the access-site cache
	// (cpu.NumSites slots, shared round-robin).
	nextSite int
	asm      *asm
	lay      cpu.Layout
	stats    Stats
	dump     io.Writer // with SetDump: every translation, disassembled
	perfMap  io.Writer // with SetPerfMap: perf's map of generated code
}

// Stats counts the JIT's work.
type Stats struct {
	Compiled    uint64        // blocks translated
	Failed      uint64        // blocks the compiler gave up on
	Flushes     uint64        // code cache flushes
	CodeBytes   uint64        // bytes of code generated
	CompileTime time.Duration // time spent compiling
	NativeTime  time.Duration // time in generated code and its exits' handling
	NativeInsts uint64        // instructions compiled natively
	HelperInsts uint64        // instructions compiled as helper exits
	// LivenessRetries counts blocks compiled again without the flag
	// liveness analysis (an exit it did not foresee read a dead flag).
	LivenessRetries uint64
	HelperByOp      map[uint16]uint64
	reportHelpers   bool
}

// New builds a JIT and attaches it to c.
func New(c *cpu.CPU) (*JIT, error) {
	if lay := cpu.JITLayout(); lay.TLBEntrySize != 32 {
		// probe indexes the TLB by shifting.
		return nil, fmt.Errorf("jit: TLB entries of %d bytes, not 32", lay.TLBEntrySize)
	}
	cc, err := newCodeCache(defaultCacheSize)
	if err != nil {
		return nil, err
	}
	j := &JIT{cache: cc, slots: make([]chainSlot, maxSlots), sites: make([]int32, maxSlots), incoming: make(map[uintptr][]uint32), jumpCache: make([]jumpEntry, jumpCacheSize), asm: newAsm(), lay: cpu.JITLayout()}
	j.resetSlots()
	// The mapping outlives nothing that uses it: unmap it when the JIT
	// (referenced by its CPU) is collected, unless Close did already (the
	// range may belong to another mapping by then).
	runtime.AddCleanup(j, func(cc *codeCache) { cc.free() }, cc)
	c.SetAccelerator(j)
	return j, nil
}

// SetDump makes the JIT write every translation to w: the guest block's
// address and length, then the host code disassembled (-jit-dump).
func (j *JIT) SetDump(w io.Writer) { j.dump = w }

// SetPerfMap makes the JIT write a line per translation in the format of
// perf's /tmp/perf-PID.map ("START SIZE NAME"), so that `perf report`
// names the guest block that generated code samples fall in.
func (j *JIT) SetPerfMap(w io.Writer) { j.perfMap = w }

// Close releases the code cache. The CPU must not run generated code
// afterwards (detach it first with c.SetAccelerator(nil)).
func (j *JIT) Close() { j.cache.free() }

// CountHelpers makes the JIT count helper exits by opcode (for -jit-stats).
func (j *JIT) CountHelpers() {
	j.stats.reportHelpers = true
	j.stats.HelperByOp = make(map[uint16]uint64)
}

func (j *JIT) resetSlots() {
	clear(j.incoming)
	for i := range j.jumpCache {
		j.jumpCache[i] = jumpEntry{gen: ^uint64(0)}
	}
	for i := range j.slots[:max(j.nslots, 1)] {
		j.slots[i] = chainSlot{gen: ^uint64(0)}
		j.sites[i] = 0
	}
	j.nslots = 0
}

// Flush drops every translation (cpu.Accelerator).
func (j *JIT) Flush() {
	j.cache.reset()
	j.resetSlots()
}

// Link points a chain slot at a target (cpu.Accelerator); nil unlinks
// it. A direct slot is a JMP rel32 in the code: linking patches its
// displacement (0, the unlinked state, falls through to the exit). It
// never jumps to code that straddles a page: that code is entered only
// where the chain generation is checked.
func (j *JIT) Link(slot uint32, target *cpu.NativeCode, gen uint64) {
	if slot == noSlot {
		return
	}
	if target != nil && j.sites[slot] != 0 && target.CrossPage {
		target = nil
	}
	// A slot relinked to the code it held (a new chain generation) is
	// listed once.
	fresh := target != nil && j.slotTarget(slot) != target.Entry
	j.setSlot(slot, target, gen)
	if fresh {
		j.incoming[target.Entry] = append(j.incoming[target.Entry], slot)
	}
}

// setSlot links (target non-nil) or unlinks a slot.
func (j *JIT) setSlot(slot uint32, target *cpu.NativeCode, gen uint64) {
	if site := j.sites[slot]; site != 0 {
		var rel int64
		if target != nil {
			rel = int64(target.Entry) - int64(j.cache.base()+uintptr(site)+4)
		}
		binary.LittleEndian.PutUint32(j.cache.mem[site:], uint32(int32(rel)))
		return
	}
	if target == nil {
		j.slots[slot] = chainSlot{gen: ^uint64(0)}
		return
	}
	j.slots[slot] = chainSlot{target: target.Entry, gen: gen}
}

// slotTarget is the code a slot jumps to, or 0.
func (j *JIT) slotTarget(slot uint32) uintptr {
	if site := j.sites[slot]; site != 0 {
		rel := int32(binary.LittleEndian.Uint32(j.cache.mem[site:]))
		if rel == 0 {
			return 0
		}
		return j.cache.base() + uintptr(site) + 4 + uintptr(int64(rel))
	}
	if j.slots[slot].gen == ^uint64(0) {
		return 0
	}
	return j.slots[slot].target
}

// Invalidate unlinks every path into code (cpu.Accelerator): the slots
// linked to it and its jump-cache entries.
func (j *JIT) Invalidate(code *cpu.NativeCode) {
	for _, s := range j.incoming[code.Entry] {
		if j.slotTarget(s) == code.Entry {
			j.setSlot(s, nil, ^uint64(0))
		}
	}
	delete(j.incoming, code.Entry)
	for i := range j.jumpCache {
		if j.jumpCache[i].code == code.Entry {
			j.jumpCache[i] = jumpEntry{gen: ^uint64(0)}
		}
	}
}

// LinkIndirect enters target as the code for rip in the jump cache
// (cpu.Accelerator).
func (j *JIT) LinkIndirect(rip uint64, target uintptr, gen uint64) {
	j.jumpCache[rip&(jumpCacheSize-1)] = jumpEntry{rip: rip, gen: gen, code: target}
}

// Enter runs generated code (cpu.Accelerator).
func (j *JIT) Enter(c *cpu.CPU, entry uintptr) {
	enter(entry, uintptr(unsafe.Pointer(c)), j.lay.Left)
}

// Compile translates a block (cpu.Accelerator).
func (j *JIT) Compile(c *cpu.CPU, src *cpu.BlockSource) *cpu.NativeCode {
	t0 := time.Now()
	defer func() { j.stats.CompileTime += time.Since(t0) }()
	if j.nslots+2*len(src.Insts)+2 > len(j.slots) {
		j.stats.Flushes++
		c.FlushBlocks()
		return nil
	}
	g := newGen(j, src)
	code, err := g.compile(false)
	if err == nil && g.bad {
		// An undefined flag reached a read (flaglive.go): again,
		// without the liveness analysis.
		j.stats.LivenessRetries++
		g = newGen(j, src)
		code, err = g.compile(true)
	}
	if err != nil {
		j.stats.Failed++
		return nil
	}
	entry := j.cache.put(code)
	if entry == 0 {
		j.stats.Flushes++
		c.FlushBlocks()
		return nil
	}
	base := int(entry - j.cache.base())
	for _, d := range g.directs {
		j.sites[d.slot] = int32(base + int(d.first.Pc) + 2)
	}
	j.nslots += g.slotsUsed
	j.stats.Compiled++
	j.stats.CodeBytes += uint64(len(code))
	j.stats.NativeInsts += uint64(g.native)
	j.stats.HelperInsts += uint64(len(src.Insts) - g.native)
	nc := &cpu.NativeCode{Entry: entry, RIP: src.RIP, Resume: make([]uintptr, len(src.Insts)), Flat: g.flat}
	for i, p := range g.resume {
		if p != nil {
			nc.Resume[i] = entry + uintptr(p.Pc)
		}
	}
	if j.dump != nil {
		j.dumpCode(src, entry, code)
	}
	if j.perfMap != nil {
		fmt.Fprintf(j.perfMap, "%x %x guest_%x_block_%d\n", entry, len(code), src.RIP, src.ID)
	}
	if j.stats.reportHelpers {
		for i := range src.Insts {
			if !g.isNative[i] {
				j.stats.HelperByOp[src.Insts[i].Op]++
			}
		}
	}
	return nc
}

// dumpCode writes one translation in Intel syntax.
func (j *JIT) dumpCode(src *cpu.BlockSource, entry uintptr, code []byte) {
	fmt.Fprintf(j.dump, "block %d: guest %#x, %d instructions, mode %v; host %#x, %d bytes\n",
		src.ID, src.RIP, len(src.Insts), src.Mode, entry, len(code))
	for off := 0; off < len(code); {
		in, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			fmt.Fprintf(j.dump, "  %5x: .byte %#x\n", off, code[off])
			off++
			continue
		}
		fmt.Fprintf(j.dump, "  %5x: %s\n", off, x86asm.IntelSyntax(in, uint64(entry)+uint64(off), nil))
		off += in.Len
	}
}

// Stats returns the compiler's counters.
func (j *JIT) Stats() Stats { return j.stats }

// Report writes the statistics of the JIT and of the CPU's exits.
func (j *JIT) Report(w io.Writer, c *cpu.CPU) {
	s := j.stats
	cs := c.JITStats()
	fmt.Fprintf(w, "jit: %d blocks compiled (%d failed), %d cache flushes, %d KiB of code, compile time %v\n",
		s.Compiled, s.Failed, s.Flushes, s.CodeBytes>>10, s.CompileTime.Round(time.Millisecond))
	fmt.Fprintf(w, "jit: instructions compiled: %d native, %d through helper exits; %d blocks compiled again without flag liveness\n",
		s.NativeInsts, s.HelperInsts, s.LivenessRetries)
	fmt.Fprintf(w, "jit: entries %d; exits: helper %d, chain %d (linked %d), indirect %d; translations invalidated %d\n",
		cs.Entries, cs.Helpers, cs.ChainExits, cs.Links, cs.Indirect, cs.Invalidated)
	fmt.Fprintf(w, "jit: link generations: %d TLB flushes and INVLPGs, %d chain key changes\n", cs.TLBEpoch, cs.ChainGen)
	if cs.NativeNanos > 0 {
		fmt.Fprintf(w, "jit: time in compiled code and its exits: %v\n", time.Duration(cs.NativeNanos).Round(time.Millisecond))
	}
	if len(cs.HelperOps) > 0 {
		type opCount struct {
			op uint16
			n  uint64
		}
		var ops []opCount
		for op, n := range cs.HelperOps {
			ops = append(ops, opCount{op, n})
		}
		sort.Slice(ops, func(i, k int) bool { return ops[i].n > ops[k].n })
		fmt.Fprintf(w, "jit: helper exits by opcode (most frequent):")
		for _, o := range ops[:min(len(ops), 20)] {
			fmt.Fprintf(w, " %03x:%d", o.op, o.n)
		}
		fmt.Fprintln(w)
	}
	if s.HelperByOp != nil {
		fmt.Fprintf(w, "jit: helper instructions by opcode (compiled blocks):")
		for op, n := range s.HelperByOp {
			if n >= 16 {
				fmt.Fprintf(w, " %03x:%d", op, n)
			}
		}
		fmt.Fprintln(w)
	}
}
