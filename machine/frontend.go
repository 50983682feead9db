package machine

import (
	"sync/atomic"
	"time"

	"fuji/display"
)

// The machine's side of a window: it publishes the VGA state to a
// display.Screen at most 60 times a second and feeds queued keyboard and
// mouse input to the PS/2 devices, all on the run loop's goroutine, so the
// guest never waits for the window.

const framePeriod = time.Second / 60

type frontend struct {
	screen    *display.Screen
	input     *display.Input
	lastFrame time.Time
}

// AttachDisplay connects a window's screen and input queue. Call it before
// Run.
func (m *Machine) AttachDisplay(s *display.Screen, in *display.Input) {
	m.front = &frontend{screen: s, input: in}
}

// Status names the guest's state for a window title; safe to call from any
// goroutine.
func (m *Machine) Status() string {
	switch m.status.Load() {
	case statusHalted:
		return "halted"
	case statusStopped:
		return "stopped"
	}
	return "running"
}

const (
	statusRunning int32 = iota
	statusHalted
	statusStopped
)

type machineStatus struct{ atomic.Int32 }

// frame publishes the display and drains input when a frame is due.
func (m *Machine) frame(force bool) {
	f := m.front
	if f == nil {
		return
	}
	if now := time.Now(); force || now.Sub(f.lastFrame) >= framePeriod {
		f.lastFrame = now
		if f.input != nil {
			f.input.Drain(m.KBC.Keyboard(), m.KBC.Mouse())
		}
		if f.screen != nil && m.VGA != nil {
			f.screen.Publish(m.VGA.VGA, time.Duration(m.Clock.Now()))
		}
	}
}

// inputReady is the channel a halted machine also waits on for window
// input (nil when there is no window).
func (m *Machine) inputReady() <-chan struct{} {
	if m.front == nil || m.front.input == nil {
		return nil
	}
	return m.front.input.Ready()
}
