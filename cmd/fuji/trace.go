package main

import (
	"bufio"
	"fmt"
	"io"

	"golang.org/x/arch/x86/x86asm"

	"fuji/cpu"
)

// Execution traces for the research sandbox: -trace writes every
// instruction (CS:RIP, disassembly, registers) to a file; -trace-exceptions
// writes every exception raised, with the error code and the state.

var excNames = [32]string{"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "", "#TS", "#NP", "#SS", "#GP", "#PF", "", "#MF", "#AC", "#MC", "#XM"}

func traceInstr(w *bufio.Writer) func(c *cpu.CPU) {
	return func(c *cpu.CPU) {
		b := c.CodeBytes()
		bits := 16
		switch c.Mode() {
		case cpu.Mode32:
			bits = 32
		case cpu.Mode64:
			bits = 64
		}
		text := "(bad)"
		if in, err := x86asm.Decode(b, bits); err == nil {
			text = x86asm.IntelSyntax(in, c.RIP, nil)
		}
		fmt.Fprintf(w, "%04x:%016x %-44s rax=%x rbx=%x rcx=%x rdx=%x rsi=%x rdi=%x rbp=%x rsp=%x fl=%x\n",
			c.Seg[cpu.CS].Sel, c.RIP, text, c.R[cpu.RAX], c.R[cpu.RBX], c.R[cpu.RCX], c.R[cpu.RDX],
			c.R[cpu.RSI], c.R[cpu.RDI], c.R[cpu.RBP], c.R[cpu.RSP], c.Flags())
	}
}

func traceExceptions(w io.Writer) func(c *cpu.CPU, vec uint8, code uint32, hasCode bool) {
	return func(c *cpu.CPU, vec uint8, code uint32, hasCode bool) {
		name := fmt.Sprintf("vector %d", vec)
		if int(vec) < len(excNames) && excNames[vec] != "" {
			name = excNames[vec]
		}
		ec := ""
		if hasCode {
			ec = fmt.Sprintf(" error code %#x", code)
		}
		fmt.Fprintf(w, "fuji: exception %s%s at %04x:%x (CR2=%x) after %d instructions\n", name, ec, c.Seg[cpu.CS].Sel, c.RIP, c.CR2, c.Instructions())
	}
}
