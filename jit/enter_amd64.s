#include "textflag.h"

// func enter(entry, cpu, left uintptr)
//
// enter calls generated code at entry with R15 holding the CPU pointer
// and BP the instruction budget (the int64 at cpu+left, jitState.left),
// which generated code counts down in a register rather than in memory
// (a read-modify-write of memory at every block end makes a chain of
// store-forwarding latency through the whole run). The budget goes back
// to memory when the code returns. Generated code returns with RET once
// it has left its exit reason in the CPU. It may clobber every general
// register but SP, and no vector register; the registers Go expects
// preserved (BP, the frame pointer; R14, g under the register ABI; BX
// and R12-R15 for good measure) are saved here. No Go code runs while BP
// holds the budget: generated code never calls Go, and a signal handler
// does not unwind frames from a PC outside Go.
TEXT ·enter(SB), NOSPLIT, $56-24
	MOVQ BX, 0(SP)
	MOVQ R12, 8(SP)
	MOVQ R13, 16(SP)
	MOVQ R14, 24(SP)
	MOVQ R15, 32(SP)
	MOVQ BP, 40(SP)
	MOVQ entry+0(FP), AX
	MOVQ cpu+8(FP), R15
	MOVQ left+16(FP), DI
	MOVQ (R15)(DI*1), BP
	CALL AX
	MOVQ left+16(FP), DI
	MOVQ BP, (R15)(DI*1)
	MOVQ 0(SP), BX
	MOVQ 8(SP), R12
	MOVQ 16(SP), R13
	MOVQ 24(SP), R14
	MOVQ 32(SP), R15
	MOVQ 40(SP), BP
	RET
