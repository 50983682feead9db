package jit

// enter runs generated code (enter_amd64.s); left is the offset of
// jitState.left in the CPU (cpu.Layout.Left).
//
//go:noescape
func enter(entry, cpu, left uintptr)
