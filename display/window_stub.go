//go:build !window

package display

// Window is the ebiten window. This build has none: Run returns
// ErrNoWindow (build with -tags window).
type Window struct{}

// NewWindow returns a window that cannot open in this build.
func NewWindow(cfg WindowConfig) *Window { return &Window{} }

// Run returns ErrNoWindow.
func (w *Window) Run() error { return ErrNoWindow }

// Close does nothing.
func (w *Window) Close() {}

// WindowAvailable reports whether this build can open a window: never,
// without the "window" build tag.
func WindowAvailable() bool { return false }
