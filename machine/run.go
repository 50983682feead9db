package machine

import (
	"fmt"
	"time"

	"fuji/chipset"
	"fuji/cpu"
)

// The run loop. One goroutine runs the CPU and every device; other
// goroutines (terminal input, the window) hand work to it through Inject.
// Between CPU slices the loop advances the timed devices to the virtual
// clock and takes device requests (reset, power-off, debug-exit).

// realTimeSlice is how many instructions the CPU runs between checks of
// the host clock in real-time mode.
const realTimeSlice = 20000

// maxSlice bounds one CPU run in deterministic mode so that injected input
// and the wall-clock limit are seen promptly.
const maxSlice = 1 << 20

// Inject queues f to run on the run loop's goroutine. It may be called from
// any goroutine; it blocks only when the queue is full.
func (m *Machine) Inject(f func()) { m.inject <- f }

// SerialInput queues bytes typed for COM1. Bytes the UART cannot take yet
// wait, so that nothing is lost (call it through Inject, or before Run).
func (m *Machine) SerialInput(b []byte) { m.serialIn = append(m.serialIn, b...) }

func (m *Machine) feedSerial() {
	u := m.COM[0]
	for len(m.serialIn) > 0 && u.Receive(m.serialIn[0]) {
		m.serialIn = m.serialIn[1:]
	}
}

func (m *Machine) drainInjected() {
	for {
		select {
		case f := <-m.inject:
			f()
		default:
			return
		}
	}
}

// advance runs every timed device up to now and returns the earliest
// deadline.
func (m *Machine) advance(now int64) int64 {
	next := chipset.NoDeadline
	for _, d := range m.timed {
		if d.Deadline() <= now {
			d.Advance(now)
		}
		if dl := d.Deadline(); dl < next {
			next = dl
		}
	}
	return next
}

// Run runs the machine until it powers off, exits through isa-debug-exit,
// stops, or the wall-clock limit (0 = none) passes.
func (m *Machine) Run(limit time.Duration) (res Result) {
	var wallEnd time.Time
	if limit > 0 {
		wallEnd = time.Now().Add(limit)
	}
	defer func() {
		if m.jit != nil && m.cfg.JITStats != nil {
			m.jit.Report(m.cfg.JITStats, m.CPU)
		}
		if r := recover(); r != nil {
			// A genuine emulator bug: report it with the CPU state
			// instead of a Go stack trace.
			res = Result{Kind: ExitInternalError, Status: 0, Reason: fmt.Sprintf("internal error: %v\n%v", r, m.CPU)}
		}
	}()
	for {
		m.drainInjected()
		m.feedSerial()
		m.frame(false)
		if !wallEnd.IsZero() && time.Now().After(wallEnd) {
			return Result{Kind: ExitTimeout, Reason: fmt.Sprintf("timeout after %v", limit)}
		}
		now := m.Clock.Now()
		next := m.advance(now)
		var budget int64
		if m.Clock.realTime {
			budget = realTimeSlice
		} else {
			budget = (next - now) / NsPerInstr
			if budget < 1 {
				budget = 1
			}
			if budget > maxSlice {
				budget = maxSlice
			}
		}
		exit := m.CPU.Run(budget)
		if m.afterSlice != nil {
			m.afterSlice()
		}
		switch exit {
		case cpu.ExitHalt:
			// The deadline computed before the slice is stale when the
			// guest reprogrammed a device during it (a new PIT count
			// just before STI; HLT): recompute it, or the CPU sleeps
			// until the old deadline. An event due now may already
			// have raised an interrupt the CPU can take, and queued
			// serial input may fit the UART now: run again then,
			// instead of skipping time or blocking for input. (Found
			// by conformance/multiboot irq_pit_pic and uart_loopback.)
			next = m.advance(m.Clock.Now())
			if m.CPU.INTR() && m.CPU.Flags()&cpu.FlagIF != 0 {
				continue
			}
			if len(m.serialIn) > 0 && m.COM[0].RxSpace() > 0 {
				continue
			}
			if r, done := m.idle(next, wallEnd); done {
				return r
			}
		case cpu.ExitShutdown:
			if m.cfg.NoReboot {
				return Result{Kind: ExitTripleFault, Reason: m.CPU.ShutdownReason}
			}
			m.Reset()
		case cpu.ExitStop:
		}
		if r, done := m.takeRequests(); done {
			return r
		}
	}
}

// ExitInternalError is an emulator bug caught by the run loop.
const ExitInternalError ExitKind = 100

// takeRequests handles what devices asked for during the last slice.
func (m *Machine) takeRequests() (Result, bool) {
	switch {
	case m.haveDebug:
		m.haveDebug = false
		return Result{Kind: ExitDebugExit, Status: m.debugExit}, true
	case m.powerOffReq:
		m.powerOffReq = false
		return Result{Kind: ExitPowerOff}, true
	case m.stopReq:
		m.stopReq = false
		return Result{Kind: ExitStopped}, true
	case m.resetReq:
		m.resetReq = false
		if m.cfg.NoReboot {
			return Result{Kind: ExitReset, Reason: "guest reset"}, true
		}
		m.Reset()
	}
	return Result{}, false
}

// idle waits while the CPU is halted: until the next device deadline, or
// injected input. In deterministic mode time jumps to the deadline.
func (m *Machine) idle(next int64, wallEnd time.Time) (Result, bool) {
	if !m.Clock.realTime {
		if next != chipset.NoDeadline {
			m.Clock.skipTo(next)
			return Result{}, false
		}
		// Nothing will ever wake the CPU but input from outside.
		return m.waitInput(wallEnd, time.Time{})
	}
	var until time.Time
	if next != chipset.NoDeadline {
		until = m.Clock.start.Add(time.Duration(next))
	}
	return m.waitInput(wallEnd, until)
}

// waitInput blocks until injected work arrives, until (if set), or the
// wall-clock end.
func (m *Machine) waitInput(wallEnd, until time.Time) (Result, bool) {
	var timer <-chan time.Time
	end := until
	if !wallEnd.IsZero() && (end.IsZero() || wallEnd.Before(end)) {
		end = wallEnd
	}
	if !end.IsZero() {
		d := time.Until(end)
		if d <= 0 {
			if end.Equal(wallEnd) {
				return Result{Kind: ExitTimeout, Reason: "timeout"}, true
			}
			return Result{}, false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	m.status.Store(statusHalted)
	defer m.status.Store(statusRunning)
	m.frame(true)
	select {
	case f := <-m.inject:
		f()
	case <-m.inputReady():
		m.frame(true)
	case <-timer:
	}
	return Result{}, false
}
