package main

import (
	"os"
	"time"

	"fuji/display"
	"fuji/machine"
)

// defaultDisplay is "window" when this build has the ebiten window and the
// process has an X display, else "none".
func defaultDisplay() string {
	if display.WindowAvailable() && (os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "") {
		return "window"
	}
	return "none"
}

// runWindow runs the machine on its own goroutine and the window on this
// one (ebiten needs the main thread). Closing the window stops the
// machine; the machine ending closes the window.
func runWindow(m *machine.Machine, limit time.Duration) machine.Result {
	screen := display.NewScreen()
	input := display.NewInput()
	m.AttachDisplay(screen, input)
	w := display.NewWindow(display.WindowConfig{Title: "Fuji", Screen: screen, Input: input, Status: m.Status})
	done := make(chan machine.Result, 1)
	go func() {
		r := m.Run(limit)
		done <- r
		w.Close()
	}()
	if err := w.Run(); err != nil {
		m.Inject(m.Stop)
		r := <-done
		if r.Kind == machine.ExitStopped {
			r = machine.Result{Kind: machine.ExitInternalError, Reason: "window: " + err.Error()}
		}
		return r
	}
	select {
	case r := <-done:
		return r
	default:
	}
	// The user closed the window: stop the guest.
	m.Inject(m.Stop)
	return <-done
}
