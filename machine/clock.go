package machine

import (
	"time"

	"fuji/cpu"
)

// Clock is the machine's virtual clock (chipset.Clock). In deterministic
// mode, time is derived from the instructions the CPU retired, at a fixed
// NsPerInstr, plus the time skipped while the CPU was halted; the same
// inputs then give the same run. In real-time mode it follows the host's
// monotonic clock.
type Clock struct {
	realTime bool
	start    time.Time
	cpu      *cpu.CPU
	skipped  int64 // ns added while halted (deterministic mode)
}

// NsPerInstr is the deterministic clock's rate: one instruction per
// nanosecond, a 1 GHz processor executing one instruction per cycle.
const NsPerInstr = 1

func newClock(realTime bool) *Clock {
	return &Clock{realTime: realTime, start: time.Now()}
}

// Now returns the virtual time in ns since power-on.
func (c *Clock) Now() int64 {
	if c.realTime {
		return int64(time.Since(c.start))
	}
	return int64(c.cpu.Instructions())*NsPerInstr + c.skipped
}

// IOCycleNs is the virtual time a port access takes in deterministic mode:
// an ISA/LPC I/O cycle lasts about a microsecond on a PC, and guests time
// hardware with that in mind (Linux's fast PIT calibration reads the PIT
// just after loading it, counting on the load's 838 ns having passed).
const IOCycleNs = 1000

// ioCycle charges one port access to a deterministic clock.
func (c *Clock) ioCycle() {
	if !c.realTime {
		c.skipped += IOCycleNs
	}
}

// RealTime reports the clock's mode.
func (c *Clock) RealTime() bool { return c.realTime }

// skipTo advances a deterministic clock to t (used while halted).
func (c *Clock) skipTo(t int64) {
	if now := c.Now(); t > now {
		c.skipped += t - now
	}
}
