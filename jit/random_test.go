package jit_test

import (
	"fmt"
	"math/rand"
	"testing"

	"fuji/cpu"
)

// randomPrograms is how many programs TestLockstepRandom runs per mode
// (a quarter of them end in an exception).
const randomPrograms = 1000

// TestLockstepRandom runs random programs (proggen_test.go) in real
// mode, 32-bit protected mode with paging and 64-bit mode on the
// interpreter and on the JIT (every block compiled) in lock-step, with
// small random slice budgets, and requires the same state after every
// slice. Programs that do not fault must end at their final HLT without
// an exception (so that the generator keeps producing programs that run
// to the end); fault programs must end in an exception's handler (or a
// triple-fault shutdown), with the same exception state on both sides.
func TestLockstepRandom(t *testing.T) {
	n := randomPrograms
	if testing.Short() {
		n /= 4
	}
	p := newPair(t)
	img := make([]byte, imageSize)
	for m := range numModes {
		t.Run(modeNames[m], func(t *testing.T) {
			var insts uint64
			var slices, faults, shutdowns int
			js0 := p.sides[1].c.JITStats()
			for i := range n {
				seed := int64(m)<<32 | int64(i)
				res := runRandom(t, p, img, m, seed, i%4 == 3)
				if t.Failed() {
					return
				}
				insts += res.insts
				slices += res.slices
				if res.vec >= 0 {
					faults++
				}
				if res.shutdown {
					shutdowns++
				}
			}
			js := p.sides[1].c.JITStats()
			t.Logf("%d programs, %d instructions compared over %d slices; %d ended in an exception, %d in a shutdown; jit: %d entries, %d helper exits, %d chain links",
				n, insts, slices, faults, shutdowns, js.Entries-js0.Entries, js.Helpers-js0.Helpers, js.Links-js0.Links)
		})
	}
	s := p.jit.Stats()
	t.Logf("jit: %d blocks compiled (%d failed), %d instructions compiled natively, %d as helper exits",
		s.Compiled, s.Failed, s.NativeInsts, s.HelperInsts)
	if s.Failed != 0 {
		// A block the assembler rejects silently stays interpreted:
		// the lock-step would not see the code it should test.
		t.Errorf("the compiler gave up on %d blocks", s.Failed)
	}
}

// randomResult is how a random program ended.
type randomResult struct {
	insts    uint64
	slices   int
	vec      int // the first exception's vector, -1 if none
	shutdown bool
}

// runRandom generates the program of seed in mode m and runs it on both
// engines in lock-step.
func runRandom(t *testing.T, p *pair, img []byte, m int, seed int64, fault bool) randomResult {
	t.Helper()
	g := newPgen(seed, m, fault)
	code := g.program()
	r := rand.New(rand.NewSource(^seed))
	clear(img)
	buildImage(img, m, code)
	r.Read(img[dataAddr : dataAddr+dataSize])
	r.Read(img[stackLow:stackTop])
	var regs [16]uint64
	for i := range regs {
		regs[i] = r.Uint64()
		if r.Intn(4) == 0 {
			regs[i] &= 0xffffffff
		}
	}
	flags := r.Uint64()&cpu.FlagsArith | 2
	maxBlock := []int{0, 0, 0, 1, 2, 3, 7}[r.Intn(7)]
	p.load(img, m, regs, flags, maxBlock)
	budget := func(int) int64 {
		if r.Intn(30) == 0 {
			return 1000
		}
		return 1 + int64(r.Intn(12))
	}
	insts, slices, ended, diff := p.lockstep(budget, 1_000_000)
	if diff == "" {
		diff = p.compareAll()
	}
	where := fmt.Sprintf("%s program seed %#x (fault=%v, %d bytes of code, max block %d)", modeNames[m], seed, fault, len(code), maxBlock)
	if diff != "" {
		rip := p.sides[0].c.RIP
		// Narrow it down: the same program in one-instruction blocks,
		// one instruction per slice.
		p.load(img, m, regs, flags, 1)
		n, _, _, d1 := p.lockstep(func(int) int64 { return 1 }, insts+1)
		narrow := "not reproduced with one-instruction blocks"
		if d1 != "" {
			narrow = fmt.Sprintf("with one-instruction blocks, instruction %d differs:\n%s", n, d1)
		}
		t.Fatalf("%s: the JIT and the interpreter differ at instruction %d\n%s\n%s\ncode:\n%s", where, insts, diff, narrow, disasm(code, m, rip))
	}
	if !ended {
		t.Fatalf("%s: did not end within %d instructions (RIP %#x)\ncode:\n%s", where, insts, p.sides[0].c.RIP, disasm(code, m, p.sides[0].c.RIP))
	}
	c := p.sides[0].c
	res := randomResult{insts: insts, slices: slices, vec: -1, shutdown: c.ShutdownReason != ""}
	// A program that took an exception or INT n halts in the vector's
	// handler, just after its HLT.
	if c.RIP > handlerAddr && c.RIP <= handlerAddr+256 {
		res.vec = int(c.RIP - handlerAddr - 1)
	}
	end := g.ipOf(len(code))
	switch {
	case !fault && (len(p.sides[0].excs) > 0 || c.RIP != end):
		t.Fatalf("%s: want the final HLT at %#x without an exception, got RIP %#x, exceptions %+v\ncode:\n%s",
			where, end-1, c.RIP, p.sides[0].excs, disasm(code, m, c.RIP))
	case fault && res.vec < 0 && !res.shutdown:
		t.Fatalf("%s: the fault program did not end in a handler (RIP %#x)\ncode:\n%s", where, c.RIP, disasm(code, m, c.RIP))
	}
	return res
}
