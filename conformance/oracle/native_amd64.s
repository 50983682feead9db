#include "textflag.h"

// func callNative(st, code uintptr)
//
// Calls the generated code at code with st in DI. The generated prologue
// saves the host x87/SSE state, loads the guest registers from st, runs
// the instruction under test, stores the guest registers back and
// restores the host state (native.go builds it). All general registers
// but SP and BP are clobbered, which ABI0 allows; BP is saved here.
TEXT ·callNative(SB), NOSPLIT, $0-16
	MOVQ st+0(FP), DI
	MOVQ code+8(FP), AX
	PUSHQ BP
	CALL AX
	POPQ BP
	RET
