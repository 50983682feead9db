package jit_test

import (
	"testing"

	"fuji/cpu"
)

// FuzzCompile runs arbitrary bytes as guest code on the interpreter and
// on the JIT (every block compiled) side by side, in the lock-step
// harness of lockstep_test.go, for a bounded number of instructions.
// Whatever the bytes, neither engine may panic or crash the process
// (generated code must never fault on the host), and both must end
// every slice in the same state. mode selects the guest mode (mode%3:
// real, 32-bit protected with paging, 64-bit) and the block size limit
// (mode/3%4).
func FuzzCompile(f *testing.F) {
	seeds := [][]byte{
		// mov ecx, 5; l: add eax, [ebx]; inc ebx; dec ecx; jnz l; hlt
		{0xb9, 5, 0, 0, 0, 0x03, 0x03, 0x43, 0x49, 0x75, 0xfa, 0xf4},
		// push eax; call +0; pop ebx; xchg [esp-4], ecx; ret (to garbage)
		{0x50, 0xe8, 0, 0, 0, 0, 0x5b, 0x87, 0x4c, 0x24, 0xfc, 0xc3},
		// xor edx, edx; div edx (#DE)
		{0x31, 0xd2, 0xf7, 0xf2},
		// mov esi, edi; mov ecx, 40; rep movsb; cmp al, [esi]; setz ah; cmovz eax, ebx
		{0x89, 0xfe, 0xb9, 40, 0, 0, 0, 0xf3, 0xa4, 0x3a, 0x06, 0x0f, 0x94, 0xc4, 0x0f, 0x44, 0xc3, 0xf4},
		// shl eax, cl; sar ebx, 1; rol byte [edi], 3; adc eax, ebx; sbb al, 7; imul ecx, eax, 9
		{0xd3, 0xe0, 0xd1, 0xfb, 0xc0, 0x07, 3, 0x11, 0xd8, 0x1c, 7, 0x6b, 0xc8, 9, 0xf4},
		// mov dword [eip-relative code], 0x90909090 (self-modifying), then run it
		{0xc7, 0x05, 0x0a, 0, 1, 0, 0x90, 0x90, 0x90, 0x90, 0xcc, 0xcc, 0xcc, 0xcc, 0xf4},
		// jmp [ebx]; lea eax, [eax+ecx*4+8]; movzx eax, byte [ebx+eax]
		{0xff, 0x23, 0x8d, 0x44, 0x88, 8, 0x0f, 0xb6, 0x04, 0x03, 0xf4},
	}
	for _, s := range seeds {
		for mode := byte(0); mode < 12; mode++ {
			f.Add(s, mode)
		}
	}
	// Whole random programs of every mode.
	for m := range numModes {
		for i := range 3 {
			f.Add(newPgen(int64(1000+i), m, i == 2).program(), byte(m+3*i))
		}
	}
	p := newPair(f)
	img := make([]byte, imageSize)
	f.Fuzz(func(t *testing.T, code []byte, mode byte) {
		m := int(mode % numModes)
		maxBlock := []int{0, 1, 2, 5}[mode/numModes%4]
		if len(code) > 4096 {
			code = code[:4096]
		}
		clear(img)
		buildImage(img, m, code)
		for i := dataAddr; i < stackTop; i++ {
			img[i] = byte(i * 7 >> 3)
		}
		// Registers point into the data area (and at odd places), so
		// that random memory operands often hit mapped memory.
		var regs [16]uint64
		for i := range regs {
			regs[i] = dataAddr + uint64(i)*0x731
		}
		regs[cpu.RCX] = 7
		regs[cpu.RBX] = ctrlAddr - 2
		regs[cpu.R8] = 0xffff_ffff_8000_0000
		if m == modeReal {
			for i := range regs {
				regs[i] &= 0xffff
			}
		}
		p.load(img, m, regs, 2|cpu.FlagCF|cpu.FlagZF, maxBlock)
		budget := func(slice int) int64 { return int64(1 + slice%7) }
		insts, _, _, diff := p.lockstep(budget, 1000)
		if diff == "" {
			diff = p.compareAll()
		}
		if diff != "" {
			t.Fatalf("%s, max block %d: the JIT and the interpreter differ at instruction %d\n%s\ncode:\n%s",
				modeNames[m], maxBlock, insts, diff, disasm(code[:min(len(code), 256)], m, p.sides[0].c.RIP))
		}
	})
}
