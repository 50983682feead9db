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
	if f := p.jit.Stats().Failed; f != 0 {
		t.Fatalf("the compiler gave up on %d blocks", f)
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

// TestVectorNative runs the vector instructions the JIT compiles
// natively (SSE moves, integer SSE2/SSSE3 operations, MOVD/MOVQ,
// PMOVMSKB) on both engines, ending with the faults their checks must
// reproduce: a misaligned MOVDQA (#GP) and, with CR0.TS set, #NM.
func TestVectorNative(t *testing.T) {
	setup := []byte{
		0x0f, 0x20, 0xe0, // mov eax, cr4
		0x0d, 0x00, 0x06, 0x00, 0x00, // or eax, OSFXSR|OSXMMEXCPT
		0x0f, 0x22, 0xe0, // mov cr4, eax
		0xbb, 0x00, 0x00, 0x02, 0x00, // mov ebx, dataAddr
	}
	body := []byte{
		0x66, 0x0f, 0x6f, 0x03, // movdqa xmm0, [ebx]
		0x66, 0x0f, 0xfe, 0x43, 0x10, // paddd xmm0, [ebx+16]
		0x66, 0x0f, 0x70, 0xc8, 0x1b, // pshufd xmm1, xmm0, 1bh
		0x66, 0x0f, 0xef, 0xc8, // pxor xmm1, xmm0
		0x66, 0x0f, 0x38, 0x00, 0xc8, // pshufb xmm1, xmm0
		0xf3, 0x0f, 0x7f, 0x4b, 0x21, // movdqu [ebx+33], xmm1
		0x66, 0x0f, 0xd7, 0xc9, // pmovmskb ecx, xmm1
		0x66, 0x0f, 0x7e, 0xca, // movd edx, xmm1
		0xf3, 0x0f, 0x7e, 0x53, 0x28, // movq xmm2, [ebx+40]
		0x66, 0x0f, 0x73, 0xd2, 0x03, // psrlq xmm2, 3
		0x0f, 0x29, 0x53, 0x30, // movaps [ebx+48], xmm2
		0x66, 0x0f, 0xd6, 0x53, 0x44, // movq [ebx+68], xmm2
		0x0f, 0x57, 0xd1, // xorps xmm2, xmm1
		0x66, 0x0f, 0x6e, 0xdb, // movd xmm3, ebx
	}
	misaligned := []byte{0x66, 0x0f, 0x6f, 0x5b, 0x08} // movdqa xmm3, [ebx+8]
	ts := []byte{
		0x0f, 0x20, 0xc0, // mov eax, cr0
		0x83, 0xc8, 0x08, // or eax, TS
		0x0f, 0x22, 0xc0, // mov cr0, eax
		0x66, 0x0f, 0xef, 0xc0, // pxor xmm0, xmm0
	}
	for _, m := range []int{modePM32, modeLong} {
		for _, tail := range [][]byte{nil, misaligned, ts} {
			code := append(append(append([]byte{}, setup...), body...), tail...)
			runFixed(t, m, code, [16]uint64{}, 2, 0)
		}
	}
}

// TestMulDivNative: MUL, IMUL, DIV and IDIV of F7 run natively at 32 and
// 64 bits; a division that faults must raise #DE from the interpreter
// (the host never divides then), with the state of the instruction.
func TestMulDivNative(t *testing.T) {
	const (
		rax = cpu.RAX
		rcx = cpu.RCX
		rdx = cpu.RDX
	)
	cases := []struct {
		name string
		code []byte
		regs [16]uint64
	}{
		{"mul", []byte{0x48, 0xf7, 0xe1}, [16]uint64{rax: 0xfedcba9876543210, rcx: 0x123456789}},
		{"mul32", []byte{0xf7, 0xe1}, [16]uint64{rax: 0x76543210, rcx: 3}},
		{"imul", []byte{0x48, 0xf7, 0xe9}, [16]uint64{rax: 0xfffffffffffffff0, rcx: 7}},
		{"div", []byte{0x48, 0xf7, 0xf1}, [16]uint64{rax: 12345678901234, rdx: 5, rcx: 1000003}},
		{"div by zero", []byte{0xf7, 0xf1}, [16]uint64{rax: 10, rdx: 0, rcx: 0}},
		{"div overflow", []byte{0x48, 0xf7, 0xf1}, [16]uint64{rax: 1, rdx: 9, rcx: 9}},
		{"idiv", []byte{0x48, 0x99, 0x48, 0xf7, 0xf9}, [16]uint64{rax: 0xffffffffffff0000, rcx: 3}},
		{"idiv min/-1", []byte{0x99, 0xf7, 0xf9}, [16]uint64{rax: 0x80000000, rcx: 0xffffffff}},
		{"idiv wide dividend", []byte{0xf7, 0xf9}, [16]uint64{rax: 0x10, rdx: 1, rcx: 0x1000}},
		{"idiv wide overflow", []byte{0xf7, 0xf9}, [16]uint64{rax: 0x10, rdx: 0x4000, rcx: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A flag-setting instruction first, so that the flags DIV
			// must keep are the host's at the division.
			code := append([]byte{0x85, 0xc0}, c.code...) // test eax, eax
			runFixed(t, modeLong, code, c.regs, 2, 0)
			if c.code[0] != 0x48 {
				runFixed(t, modePM32, code, c.regs, 2, 0)
			}
		})
	}
}

// TestCmovAfterPartialFlags: a CMOV whose condition the host's flags do
// not hold (after ROL, which writes only CF and OF) reads it from memory,
// spilling the host's flags first; the spill uses AX, so it must come
// before the CMOV loads its operand there.
func TestCmovAfterPartialFlags(t *testing.T) {
	regs := [16]uint64{cpu.RCX: 0x1111, cpu.RBX: 0x2222, cpu.RDX: 0x80000001}
	for _, m := range []int{modePM32, modeLong} {
		for _, code := range [][]byte{
			{0xd1, 0xc2, 0x0f, 0x44, 0xcb}, // rol edx, 1; cmovz ecx, ebx
			{0xd1, 0xc2, 0x0f, 0x45, 0xcb}, // rol edx, 1; cmovnz ecx, ebx
		} {
			runFixed(t, m, code, regs, 0x40, 0)
			runFixed(t, m, code, regs, 0, 0)
		}
	}
}

// TestBitsAndSystemNative runs the bit tests, MOV from a segment
// register, PUSHF and CLI, which the JIT compiles natively, on both
// engines, and checks that no helper exit was left but the final HLT.
func TestBitsAndSystemNative(t *testing.T) {
	code32 := []byte{
		0x85, 0xc0, // test eax, eax: host flags live
		0x0f, 0xba, 0xe0, 0x03, // bt eax, 3
		0x0f, 0xba, 0xe8, 0x23, // bts eax, 35 (masked to 3)
		0x0f, 0xb3, 0xd1, // btr ecx, edx
		0x0f, 0xbb, 0xc8, // btc eax, ecx
		0x66, 0x0f, 0xba, 0xf0, 0x0f, // btr ax, 15
		0x0f, 0xa3, 0xd3, // bt ebx, edx
		0x50,                         // push eax
		0x0f, 0xba, 0x2c, 0x24, 0x07, // bts dword [esp], 7
		0x0f, 0xba, 0x3c, 0x24, 0x1f, // btc dword [esp], 31
		0x0f, 0xba, 0x24, 0x24, 0x1e, // bt dword [esp], 30
		0x5b,       // pop ebx
		0x8c, 0xd8, // mov eax, ds
		0x66, 0x8c, 0xd1, // mov cx, ss
		0x8c, 0x54, 0x24, 0xfc, // mov [esp-4], ss
		0x8b, 0x74, 0x24, 0xfc, // mov esi, [esp-4]
		0xb8, 0xff, 0xff, 0xff, 0x7f, // mov eax, 0x7fffffff
		0x83, 0xc0, 0x01, // add eax, 1: OF, SF, AF, PF
		0x9c,       // pushf
		0x5e,       // pop esi
		0xf9,       // stc
		0xf5,       // cmc
		0xf9,       // stc
		0x9c,       // pushf
		0x5f,       // pop edi
		0x31, 0xd2, // xor edx, edx
		0x66, 0x9c, // pushf (16-bit)
		0x66, 0x5d, // pop bp
		0xfa, // cli
		0x9c, // pushf
		0x5a, // pop edx
	}
	code64 := []byte{
		0x48, 0x85, 0xc0, // test rax, rax
		0x48, 0x0f, 0xba, 0xe8, 0x3f, // bts rax, 63
		0x48, 0x0f, 0xbb, 0xc8, // btc rax, rcx
		0x8c, 0xd3, // mov ebx, ss
		0xf8, // clc
		0xf5, // cmc
		0x9c, // pushfq
		0x5e, // pop rsi
		0xfa, // cli
		0x9c, // pushfq
		0x5f, // pop rdi
	}
	regs := [16]uint64{cpu.RAX: 0x12345678, cpu.RCX: 0xffff0000ffff, cpu.RDX: 0x21, cpu.RBX: 0x80000002}
	for _, c := range []struct {
		name string
		mode int
		code []byte
	}{{"pm32", modePM32, code32}, {"long", modeLong, code64}} {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t)
			p.jit.CountHelpers()
			img := make([]byte, imageSize)
			buildImage(img, c.mode, append(c.code, 0xf4))
			p.load(img, c.mode, regs, 0x202, 0)
			insts, _, ended, diff := p.lockstep(func(int) int64 { return 1 }, 1000)
			if diff != "" {
				t.Fatalf("the JIT and the interpreter differ at instruction %d:\n%s", insts, diff)
			}
			if !ended {
				t.Fatalf("did not reach HLT")
			}
			if h := p.jit.Stats().HelperInsts; h > 1 {
				t.Errorf("%d instructions compiled as helper exits; want only the HLT: %x", h, p.jit.Stats().HelperByOp)
			}
		})
	}
}

// TestDeferredSpillFault: after an ALU operation or TEST, a memory access
// defers the flag spill to its slow path, which computes the flags again
// from the operands (recipe.go). Each case makes the access fault (#PF,
// not present or read-only) right after the operation, so the flags the
// exception sees are the recomputed ones; the operation runs twice so
// that its registers are cached.
func TestDeferredSpillFault(t *testing.T) {
	ops := []struct {
		name string
		op   []byte
	}{
		{"add", []byte{0x01, 0xd8}},
		{"sub", []byte{0x29, 0xd8}},
		{"xor", []byte{0x31, 0xd8}},
		{"and", []byte{0x21, 0xd8}},
		{"or", []byte{0x09, 0xd8}},
		{"cmp", []byte{0x39, 0xd8}},
		{"test", []byte{0x85, 0xd8}},
		{"add imm", []byte{0x83, 0xc0, 0x7f}},
		{"sub imm", []byte{0x2d, 0x01, 0x00, 0x00, 0x80}},
		{"cmp imm8", []byte{0x80, 0xf8, 0x90}},
		{"add16", []byte{0x66, 0x01, 0xd8}},
		{"sub8", []byte{0x28, 0xd8}},
		{"add ah", []byte{0x00, 0xfc}},
		{"add self", []byte{0x01, 0xc0}},
		{"xor self", []byte{0x31, 0xc0}},
	}
	accesses := []struct {
		name string
		code []byte
	}{
		{"load", []byte{0x8b, 0x15, 0x00, 0x00, 0x03, 0x00}},        // mov edx, [holeAddr]
		{"alu load", []byte{0x03, 0x15, 0x00, 0x00, 0x03, 0x00}},    // add edx, [holeAddr]
		{"store ro", []byte{0x88, 0x15, 0x00, 0x10, 0x03, 0x00}},    // mov [roAddr], dl
		{"movzx", []byte{0x0f, 0xb6, 0x15, 0x00, 0x00, 0x03, 0x00}}, // movzx edx, byte [holeAddr]
		{"ok load", []byte{0x8b, 0x15, 0x00, 0x00, 0x02, 0x00}},     // mov edx, [0x20000]: no fault
	}
	regs := [16]uint64{cpu.RAX: 0x7fffffff, cpu.RBX: 0x80000001, cpu.RCX: 3}
	for _, o := range ops {
		for _, m := range accesses {
			t.Run(o.name+"/"+m.name, func(t *testing.T) {
				code := append(append(append([]byte{}, o.op...), o.op...), m.code...)
				// Then something that overwrites the flags, so that the
				// access's flags are dead after it.
				code = append(code, 0x31, 0xc9) // xor ecx, ecx
				runFixed(t, modePM32, code, regs, 0x202, 0)
				long := append([]byte{0x48}, o.op...)
				if o.op[0] == 0x66 || o.op[0] == 0x83 || o.op[0] == 0x2d || o.op[0] == 0x80 || o.op[0] == 0x00 || o.op[0] == 0x28 {
					long = o.op
				}
				lcode := append(append(append([]byte{}, long...), long...), m.code[:len(m.code)-4]...)
				// 64-bit mode: disp32 is RIP-relative without a SIB; use one.
				lcode = lcode[:len(lcode)-1]
				lcode = append(lcode, m.code[len(m.code)-5]&^7|4, 0x25)
				lcode = append(lcode, m.code[len(m.code)-4:]...)
				lcode = append(lcode, 0x31, 0xc9)
				runFixed(t, modeLong, lcode, regs, 0x202, 0)
			})
		}
	}
}
