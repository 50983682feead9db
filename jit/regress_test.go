package jit_test

import (
	"runtime"
	"testing"

	"fuji/cpu"
)

// Regression tests for differences between the JIT and the interpreter
// that TestLockstepRandom found. Each runs a short program on both
// engines in lock-step.

// runFixed runs code in mode m on both engines, with blocks of at most
// maxBlock instructions (0: the default), and fails on any difference.
func runFixed(t *testing.T, m int, code []byte, regs [16]uint64, flags uint64, maxBlock int) {
	t.Helper()
	p := newPair(t)
	img := make([]byte, imageSize)
	buildImage(img, m, append(code, 0xf4))
	p.load(img, m, regs, flags, maxBlock)
	insts, _, ended, diff := p.lockstep(func(int) int64 { return 1 }, 1000)
	if diff != "" {
		t.Fatalf("the JIT and the interpreter differ at instruction %d:\n%s\ncode:\n%s", insts, diff, disasm(code, m, p.sides[0].c.RIP))
	}
	if !ended {
		t.Fatalf("did not reach HLT")
	}
}

// TestCmovFalseUpperHalf: outside 64-bit mode a CMOV r32 whose
// condition is false leaves the register's upper half alone, as the
// interpreter does; the JIT zero-extended it (found as real16 seed 0x17
// and pm32 seed 0x10000006f).
func TestCmovFalseUpperHalf(t *testing.T) {
	regs := [16]uint64{cpu.RCX: 0xbb17e852714a0e91, cpu.RBX: 0x1234}
	for _, m := range []int{modeReal, modePM32} {
		code := []byte{0x0f, 0x42, 0xcb} // CMOVB ECX, EBX (CF clear)
		if m == modeReal {
			code = append([]byte{0x66}, code...)
		}
		runFixed(t, m, code, regs, 2, 0)
	}
}

// TestCloseThenCollect: a JIT closed with Close and then collected must
// not unmap its code cache a second time, since by then the address
// range may hold another JIT's code cache (found by TestSST80286JIT,
// which closes a JIT per form: the next form's compiler crashed).
func TestCloseThenCollect(t *testing.T) {
	for range 4 {
		a := newPair(t)
		a.sides[1].c.SetAccelerator(nil)
		a.jit.Close()
		// a's mapping is free: b's code cache may take its place.
		b := newPair(t)
		a = nil
		// Let a's cleanup run.
		for range 10 {
			runtime.GC()
			runtime.Gosched()
		}
		img := make([]byte, imageSize)
		// l: add eax, ecx; dec ecx; jnz l; hlt
		buildImage(img, modePM32, []byte{0xb9, 50, 0, 0, 0, 0x01, 0xc8, 0x49, 0x75, 0xfb, 0xf4})
		b.load(img, modePM32, [16]uint64{}, 2, 0)
		if _, _, ended, diff := b.lockstep(func(int) int64 { return 3 }, 1000); diff != "" || !ended {
			t.Fatalf("ended=%v %s", ended, diff)
		}
	}
}
