// Package chipset holds the PC's devices. Every device has the same shape:
// its register handlers (mem.PortHandler and/or mem.MMIOHandler), its IRQ
// line(s), Reset, and Save/Load of its state for snapshots. Devices never
// touch CPU state: they raise IRQ lines. Guest-controlled input never
// panics a device; a bad register write does what the real chip would do.
package chipset

// IRQLine is an interrupt request wire from a device to an interrupt
// controller (the PIC pair now, the IOAPIC later). Set(true) drives the
// line high, Set(false) low. Edge-triggered inputs see a rising edge as a
// request; level-triggered inputs see the level.
type IRQLine interface {
	Set(level bool)
}

// NoIRQ is an IRQLine connected to nothing.
type NoIRQ struct{}

// Set does nothing.
func (NoIRQ) Set(bool) {}

// Clock is the machine's virtual clock in nanoseconds since power-on. In
// real-time mode it follows the host clock; in deterministic mode it is
// derived from instructions retired, so that runs repeat bit for bit.
// Devices read time only through it.
type Clock interface {
	Now() int64
}

// Timed is implemented by devices that act at points in time (PIT, RTC,
// UART transmit pacing, ...). The machine's run loop runs the CPU no later
// than the earliest Deadline of all devices, then calls Advance with the
// current time; the device catches up on everything due up to now
// (raising IRQs) and computes its next deadline.
type Timed interface {
	// Deadline returns the virtual time (ns) of the next event, or
	// NoDeadline if none is scheduled.
	Deadline() int64
	// Advance processes all events due at or before now.
	Advance(now int64)
}

// NoDeadline is the Deadline of a device with nothing scheduled.
const NoDeadline = int64(^uint64(0) >> 1)
