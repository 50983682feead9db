#include "textflag.h"

// func enter(entry, cpu uintptr)
//
// enter calls generated code at entry with R15 holding the CPU pointer.
// Generated code returns with RET once it has left its exit reason in the
// CPU. It may clobber every general register but SP and BP, and no vector
// register; the registers Go expects preserved (R14 is g under the
// register ABI, BX and R12-R15 for good measure) are saved here.
TEXT ·enter(SB), NOSPLIT, $48-16
	MOVQ BX, 0(SP)
	MOVQ R12, 8(SP)
	MOVQ R13, 16(SP)
	MOVQ R14, 24(SP)
	MOVQ R15, 32(SP)
	MOVQ entry+0(FP), AX
	MOVQ cpu+8(FP), R15
	CALL AX
	MOVQ 0(SP), BX
	MOVQ 8(SP), R12
	MOVQ 16(SP), R13
	MOVQ 24(SP), R14
	MOVQ 32(SP), R15
	RET
