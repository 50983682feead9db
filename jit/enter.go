package jit

// enter runs generated code (enter_amd64.s).
//
//go:noescape
func enter(entry, cpu uintptr)
