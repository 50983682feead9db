package jit_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"fuji/cpu"
	"fuji/jit"
	"fuji/mem"

	"golang.org/x/arch/x86/x86asm"
)

// The JIT-vs-interpreter lock-step harness: two CPUs on two copies of
// the same memory, one interpreter-only and one with the JIT attached at
// compile threshold 1 (every block is compiled the first time it runs),
// run with the same instruction budgets and compared after every slice:
// registers, RIP, RFLAGS, segments, control registers, x87/SSE state,
// instructions retired, every exception raised (vector, error code and
// the state the CPU raised it in), and the guest memory the programs
// use. Used by TestLockstepRandom and FuzzCompile.

// Guest physical memory layout, identity-mapped in the paging modes.
const (
	ramSize     = 1 << 20
	gdtAddr     = 0x1000
	idtAddr     = 0x2000 // 256 gates (64-bit gates fill the page)
	handlerAddr = 0x3000 // vector v's handler is a HLT at handlerAddr+v
	pageTables  = 0x4000 // 0x4000-0x7fff
	codeAddr    = 0x10000
	codeMax     = 0x8000
	dataAddr    = 0x20000 // random memory operands land here
	dataSize    = 0x8000
	ctrlAddr    = 0x28000 // loop counters and indirect-branch pointers
	stackLow    = 0x29000
	stackTop    = 0x30000
	stackInit   = stackTop - 0x100 // [esp+disp] reads above the top stay mapped
	holeAddr    = 0x30000          // not present in the paging modes
	roAddr      = 0x31000          // read-only in the paging modes (CR0.WP set)
	imageSize   = 0x40000          // what a program's image covers
	cmpLo       = dataAddr         // compared after every slice
	cmpHi       = stackTop
)

// Guest modes the harness sets up.
const (
	modeReal = iota // real mode, CS=1000h, DS=ES=SS=2000h
	modePM32        // flat 32-bit protected mode, 4 KiB paging
	modeLong        // 64-bit mode, 4-level paging
	numModes
)

var modeNames = [numModes]string{"real16", "pm32", "long64"}

// segBase is the base the harness gives segment s in mode m.
func segBase(m, s int) uint64 {
	switch m {
	case modeReal:
		switch s {
		case cpu.CS:
			return 0x10000
		case cpu.FS:
			return 0x1f000
		case cpu.GS:
			return 0x1c000
		}
		return 0x20000
	case modePM32:
		if s == cpu.FS {
			return 0x1000
		}
		return 0
	}
	if s == cpu.FS {
		return 0x1000
	}
	return 0
}

// gsLimit32 is GS's limit in 32-bit protected mode: the data area is in
// range, the unmapped hole is not (an access there raises #GP, not #PF).
const gsLimit32 = holeAddr - 1

// buildImage writes the descriptor tables, exception handlers and page
// tables of mode m into img (imageSize bytes), and code at codeAddr.
func buildImage(img []byte, m int, code []byte) {
	le := binary.LittleEndian
	for v := 0; v < 256; v++ {
		img[handlerAddr+v] = 0xf4 // HLT
	}
	switch m {
	case modeReal:
		for v := 0; v < 256; v++ {
			le.PutUint16(img[v*4:], uint16(handlerAddr+v))
			le.PutUint16(img[v*4+2:], 0)
		}
	case modePM32:
		le.PutUint64(img[gdtAddr+8:], 0x00cf9b000000ffff)  // code32
		le.PutUint64(img[gdtAddr+16:], 0x00cf93000000ffff) // data
		for v := 0; v < 256; v++ {
			off := uint64(handlerAddr + v)
			le.PutUint64(img[idtAddr+v*8:], off&0xffff|8<<16|0x8e00<<32|(off>>16)<<48)
		}
		// Page directory at 0x4000, one page table at 0x5000 for 0-4 MiB.
		le.PutUint32(img[pageTables:], pageTables+0x1000|3)
		for p := 0; p < 1024; p++ {
			le.PutUint32(img[pageTables+0x1000+p*4:], uint32(p<<12|3))
		}
		le.PutUint32(img[pageTables+0x1000+(holeAddr>>12)*4:], 0)
		le.PutUint32(img[pageTables+0x1000+(roAddr>>12)*4:], roAddr|1)
	case modeLong:
		le.PutUint64(img[gdtAddr+8:], 0x00af9b000000ffff)  // code64
		le.PutUint64(img[gdtAddr+16:], 0x00cf93000000ffff) // data
		for v := 0; v < 256; v++ {
			off := uint64(handlerAddr + v)
			le.PutUint64(img[idtAddr+v*16:], off&0xffff|8<<16|0x8e00<<32|(off>>16)<<48)
			le.PutUint64(img[idtAddr+v*16+8:], off>>32)
		}
		// PML4 0x4000 -> PDPT 0x5000 -> PD 0x6000 -> PT 0x7000 (0-2 MiB).
		le.PutUint64(img[pageTables:], pageTables+0x1000|3)
		le.PutUint64(img[pageTables+0x1000:], pageTables+0x2000|3)
		le.PutUint64(img[pageTables+0x2000:], pageTables+0x3000|3)
		for p := 0; p < 512; p++ {
			le.PutUint64(img[pageTables+0x3000+p*8:], uint64(p<<12|3))
		}
		le.PutUint64(img[pageTables+0x3000+(holeAddr>>12)*8:], 0)
		le.PutUint64(img[pageTables+0x3000+(roAddr>>12)*8:], roAddr|1)
	}
	copy(img[codeAddr:codeAddr+codeMax], code)
}

// setMode puts c in mode m with the harness's segments and tables.
func setMode(c *cpu.CPU, m int) {
	c.Reset()
	switch m {
	case modeReal:
		for s := cpu.ES; s <= cpu.GS; s++ {
			c.SetSegReal(s, uint16(segBase(m, s)>>4))
		}
		c.RIP = 0
	case modePM32:
		c.GDTR = cpu.TableReg{Base: gdtAddr, Limit: 0x17}
		c.IDTR = cpu.TableReg{Base: idtAddr, Limit: 0x7ff}
		c.SetControl(cpu.CR0PE|cpu.CR0ET|cpu.CR0PG|cpu.CR0WP, pageTables, 0, 0)
		c.SetSegment(cpu.CS, cpu.Segment{Sel: 8, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrCode | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG})
		for _, s := range []int{cpu.SS, cpu.DS, cpu.ES, cpu.FS, cpu.GS} {
			seg := cpu.Segment{Sel: 16, Base: segBase(m, s), Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG}
			if s == cpu.GS {
				seg.Limit = gsLimit32
			}
			c.SetSegment(s, seg)
		}
		c.RIP = codeAddr
	default:
		c.GDTR = cpu.TableReg{Base: gdtAddr, Limit: 0x17}
		c.IDTR = cpu.TableReg{Base: idtAddr, Limit: 0xfff}
		c.SetControl(cpu.CR0PE|cpu.CR0ET|cpu.CR0PG|cpu.CR0WP, pageTables, cpu.CR4PAE, cpu.EFERLME|cpu.EFERLMA|cpu.EFERSCE)
		c.SetSegment(cpu.CS, cpu.Segment{Sel: 8, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrCode | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrL | cpu.AttrG})
		for _, s := range []int{cpu.SS, cpu.DS, cpu.ES, cpu.FS, cpu.GS} {
			c.SetSegment(s, cpu.Segment{Sel: 16, Base: segBase(m, s), Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG})
		}
		c.RIP = codeAddr
	}
}

// excEvent is an exception as the CPU raised it: the vector, the error
// code and the state at that moment (RIP is the faulting instruction's).
type excEvent struct {
	Vec   uint8
	Code  uint32
	RIP   uint64
	Flags uint64
	R     [16]uint64
}

// side is one engine: a CPU and its memory.
type side struct {
	bus  *mem.Bus
	c    *cpu.CPU
	excs []excEvent
}

// pair is the two engines: sides[0] interprets, sides[1] has the JIT.
type pair struct {
	sides [2]*side
	jit   *jit.JIT
}

func newPair(tb testing.TB) *pair {
	p := &pair{}
	for i := range p.sides {
		bus, err := mem.New(ramSize)
		if err != nil {
			tb.Fatal(err)
		}
		c, err := cpu.New(bus, mem.NewPortBus(), cpu.Config{Model: "max"})
		if err != nil {
			tb.Fatal(err)
		}
		s := &side{bus: bus, c: c}
		c.Hooks = &cpu.Hooks{Exception: func(c *cpu.CPU, vec uint8, code uint32, _ bool) {
			s.excs = append(s.excs, excEvent{Vec: vec, Code: code, RIP: c.RIP, Flags: c.Flags(), R: c.R})
		}}
		p.sides[i] = s
	}
	j, err := jit.New(p.sides[1].c)
	if err != nil {
		tb.Fatal(err)
	}
	p.jit = j
	p.sides[1].c.SetJITThreshold(1)
	return p
}

// load gives both sides the same image, mode, registers and flags, with
// blocks limited to maxBlock instructions (0: the default).
func (p *pair) load(img []byte, m int, regs [16]uint64, flags uint64, maxBlock int) {
	for _, s := range p.sides {
		ram := s.bus.RAM()
		clear(ram)
		copy(ram, img)
		setMode(s.c, m)
		s.c.SetMaxBlockInsts(maxBlock) // also drops every block and translation
		s.c.R = regs
		switch m {
		case modeReal:
			// A 16-bit stack uses SP only: keep junk above it.
			s.c.R[cpu.RSP] = regs[cpu.RSP]&^0xffff | (stackInit - segBase(m, cpu.SS))
		default:
			s.c.R[cpu.RSP] = stackInit
		}
		s.c.SetFlags(flags)
		s.excs = s.excs[:0]
	}
}

// snapshot is the architectural state compared after every slice.
type snapshot struct {
	Exit                     cpu.Exit
	R                        [16]uint64
	RIP, Flags               uint64
	Insts                    uint64
	Seg                      [6]cpu.Segment
	CR0, CR2, CR3, CR4, EFER uint64
	GDTR, IDTR               cpu.TableReg
	Mode                     cpu.Mode
	Halted                   bool
	Shutdown                 string
	FPU                      cpu.FPUState
	Excs                     int
}

func (s *side) snap(exit cpu.Exit, icount0 uint64) snapshot {
	c := s.c
	return snapshot{Exit: exit, R: c.R, RIP: c.RIP, Flags: c.Flags(), Insts: c.Instructions() - icount0,
		Seg: c.Seg, CR0: c.CR0, CR2: c.CR2, CR3: c.CR3, CR4: c.CR4, EFER: c.EFER, GDTR: c.GDTR, IDTR: c.IDTR,
		Mode: c.Mode(), Halted: c.Halted, Shutdown: c.ShutdownReason, FPU: c.FPUState, Excs: len(s.excs)}
}

// stepper gives the budget of each slice (deterministic).
type stepper func(slice int) int64

// lockstep runs both sides slice by slice until they halt, shut down, or
// run past limit instructions, comparing them after every slice. It
// returns the instructions retired and a description of the first
// difference ("" if none). ended reports a halt or shutdown.
func (p *pair) lockstep(budget stepper, limit uint64) (insts uint64, slices int, ended bool, diff string) {
	var icount0 [2]uint64
	for i, s := range p.sides {
		icount0[i] = s.c.Instructions()
	}
	var prev snapshot
	for slices = 0; ; slices++ {
		n := budget(slices)
		var st [2]snapshot
		for i, s := range p.sides {
			st[i] = s.snap(s.c.Run(n), icount0[i])
		}
		if d := p.compare(&st[0], &st[1]); d != "" {
			return st[0].Insts, slices + 1, false, fmt.Sprintf("slice %d (budget %d): %s\nstate before the slice:\n%s", slices, n, d, fmtSnap(&prev))
		}
		prev = st[0]
		if st[0].Exit == cpu.ExitHalt || st[0].Exit == cpu.ExitShutdown {
			return st[0].Insts, slices + 1, true, ""
		}
		// Each slice retires an instruction or delivers an event, but
		// an exception storm may retire none: bound the slices too.
		if st[0].Insts >= limit || uint64(slices) >= 2*limit {
			return st[0].Insts, slices + 1, false, ""
		}
	}
}

// compare describes how the two sides differ, or returns "".
func (p *pair) compare(a, b *snapshot) string {
	var d []string
	if *a != *b {
		d = append(d, "interpreter:\n"+fmtSnap(a)+"\njit:\n"+fmtSnap(b))
	}
	ia, ib := p.sides[0].excs, p.sides[1].excs
	for k := range min(len(ia), len(ib)) {
		if ia[k] != ib[k] {
			d = append(d, fmt.Sprintf("exception %d: interpreter %+v, jit %+v", k, ia[k], ib[k]))
			break
		}
	}
	ra, rb := p.sides[0].bus.RAM(), p.sides[1].bus.RAM()
	if !bytes.Equal(ra[cmpLo:cmpHi], rb[cmpLo:cmpHi]) {
		for x := cmpLo; x < cmpHi; x++ {
			if ra[x] != rb[x] {
				d = append(d, fmt.Sprintf("memory differs first at %#x: interpreter %#x, jit %#x", x, ra[x], rb[x]))
				break
			}
		}
	}
	return strings.Join(d, "\n")
}

// compareAll compares the whole of both memories (done once at the end
// of a program: code and tables too).
func (p *pair) compareAll() string {
	ra, rb := p.sides[0].bus.RAM(), p.sides[1].bus.RAM()
	if bytes.Equal(ra, rb) {
		return ""
	}
	for x := range ra {
		if ra[x] != rb[x] {
			return fmt.Sprintf("memory differs first at %#x: interpreter %#x, jit %#x", x, ra[x], rb[x])
		}
	}
	return ""
}

func fmtSnap(s *snapshot) string {
	r := s.R
	return fmt.Sprintf("  exit=%d insts=%d rip=%#x flags=%#x mode=%d halted=%v shutdown=%q excs=%d cr2=%#x\n"+
		"  rax=%#x rcx=%#x rdx=%#x rbx=%#x rsp=%#x rbp=%#x rsi=%#x rdi=%#x\n"+
		"  r8=%#x r9=%#x r10=%#x r11=%#x r12=%#x r13=%#x r14=%#x r15=%#x",
		s.Exit, s.Insts, s.RIP, s.Flags, s.Mode, s.Halted, s.Shutdown, s.Excs, s.CR2,
		r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15])
}

// disasm lists the program, marking the instruction at rip (an IP in
// CS) when it is the start of one.
func disasm(code []byte, m int, rip uint64) string {
	bits := []int{16, 32, 64}[m]
	var sb strings.Builder
	ip := func(pos int) uint64 {
		if m == modeReal {
			return uint64(pos)
		}
		return codeAddr + uint64(pos)
	}
	for pos := 0; pos < len(code); {
		inst, err := x86asm.Decode(code[pos:], bits)
		n := inst.Len
		text := inst.String()
		if err != nil || n == 0 {
			n, text = 1, fmt.Sprintf(".byte %#02x", code[pos])
		}
		mark := "  "
		if ip(pos) == rip {
			mark = "=>"
		}
		fmt.Fprintf(&sb, "%s %#06x  % -24x %s\n", mark, ip(pos), code[pos:pos+n], text)
		pos += n
	}
	return sb.String()
}
