package cpu

// handler executes one decoded instruction.
type handler func(c *CPU, in *Inst)

// CPU is one x86 processor.
type CPU struct{}
