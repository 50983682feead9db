package display

import "errors"

// ErrNoWindow is what Window.Run returns in a build without the ebiten
// window (built without the "window" tag).
var ErrNoWindow = errors.New("display: this build has no window (build with -tags window; it needs cgo and the X11/GL development headers)")

// WindowConfig configures a Window.
type WindowConfig struct {
	// Title starts the window title ("Fuji").
	Title string
	// Screen is where the machine publishes the display (required).
	Screen *Screen
	// Input receives the host's keyboard and mouse events for the guest;
	// nil discards them.
	Input *Input
	// Status, if set, names the guest's state for the title ("running",
	// "paused", "halted"). It is called on the window's goroutine up to
	// 60 times a second, so it must be cheap and safe to call
	// concurrently with the machine (read an atomic).
	Status func() string
}

// windowSize is the initial window size for a w x h picture shown at
// the given aspect ratio: the picture stretched to the aspect (VGA
// modes) and doubled while that is smaller than 640 pixels wide.
func windowSize(w, h int, aspect float64) (int, int) {
	if w <= 0 || h <= 0 {
		return 640, 480
	}
	dw, dh := float64(w), float64(h)
	if dw/dh < aspect {
		dw = dh * aspect
	} else {
		dh = dw / aspect
	}
	for dw < 640 {
		dw, dh = dw*2, dh*2
	}
	return int(dw + 0.5), int(dh + 0.5)
}

// fitRect places a picture of the given aspect ratio centred in a
// sw x sh surface, as large as fits (letterboxed).
func fitRect(sw, sh int, aspect float64) (x, y, w, h float64) {
	w, h = float64(sw), float64(sw)/aspect
	if h > float64(sh) {
		h = float64(sh)
		w = h * aspect
	}
	return (float64(sw) - w) / 2, (float64(sh) - h) / 2, w, h
}
