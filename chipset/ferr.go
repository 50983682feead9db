package chipset

import "fuji/mem"

// FERR is the PC's legacy x87 error path (CR0.NE = 0): the processor's
// FERR# output drives IRQ 13, and a write to port 0xF0 (the coprocessor
// "clear busy" port of the PC/AT) lowers it, as on real boards and QEMU.
type FERR struct {
	irq      IRQLine
	asserted bool
}

// FERRPort is the port whose write clears FERR#.
const FERRPort uint16 = 0xf0

// NewFERR returns the FERR#/IRQ 13 latch.
func NewFERR(irq IRQLine) *FERR { return &FERR{irq: irq} }

// Register claims port 0xF0.
func (f *FERR) Register(b *mem.PortBus) { b.Register(FERRPort, FERRPort, f) }

// Set follows the processor's FERR# output (the CPU's FPU hook).
func (f *FERR) Set(asserted bool) {
	if asserted && !f.asserted {
		f.asserted = true
		f.irq.Set(true)
	}
}

// In reads port 0xF0: nothing is there (all ones).
func (f *FERR) In(port uint16, size int) uint32 { return 0xffffffff }

// Out clears FERR# and IRQ 13.
func (f *FERR) Out(port uint16, size int, v uint32) {
	f.asserted = false
	f.irq.Set(false)
}

// Reset lowers the line.
func (f *FERR) Reset() { f.Out(FERRPort, 1, 0) }
