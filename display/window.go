//go:build window

package display

import (
	"image"
	"math"
	"sync/atomic"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"fuji/chipset"
)

// Window shows a Screen in an ebiten window and sends the host keyboard
// and mouse to an Input queue. Hot keys (not passed to the guest):
// Ctrl+Alt+F toggles full screen, Ctrl+Alt+G grabs or releases the mouse
// (a click in the window also grabs it).
//
// ebiten runs the window on the process's main thread: call Run from the
// main goroutine and run the machine on another one. The window renders
// at most once per published frame (the machine publishes at most 60
// times a second) and only reads the Screen, so the guest runs at the
// same speed whether or not a window is open.
type Window struct {
	cfg     WindowConfig
	r       *Renderer
	f       Frame
	tex     *ebiten.Image
	op      ebiten.DrawImageOptions
	closing atomic.Bool

	keys     []ebiten.Key
	down     [ebiten.KeyMax + 1]bool // keys the guest was told are down
	swallow  [ebiten.KeyMax + 1]bool // hot key presses whose release the guest must not see
	grabbed  bool
	lastX    int
	lastY    int
	buttons  uint8
	ignore   uint8 // buttons pressed to grab, hidden until released
	wheel    float64
	title    string
	status   string
	titleFor bool // grab state the title was built for
	sized    image.Point

	// hook, when set (tests), runs at the end of every Update; drawn,
	// when set, gets the screen after every Draw.
	hook  func(w *Window)
	drawn func(screen *ebiten.Image)
}

// NewWindow returns a window for cfg; nothing opens before Run.
func NewWindow(cfg WindowConfig) *Window {
	if cfg.Title == "" {
		cfg.Title = "Fuji"
	}
	return &Window{cfg: cfg, r: NewRenderer(), keys: make([]ebiten.Key, 0, 16)}
}

// Run opens the window and returns when the user closes it or Close is
// called. It must run on the main goroutine.
func (w *Window) Run() error {
	ebiten.SetWindowTitle(w.cfg.Title)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetWindowSize(640, 480)
	ebiten.SetTPS(60)
	return ebiten.RunGameWithOptions(w, &ebiten.RunGameOptions{})
}

// Close asks the window to close; Run returns soon after. It may be
// called from any goroutine, also before Run.
func (w *Window) Close() { w.closing.Store(true) }

// Update implements ebiten.Game: input, then the newest frame.
func (w *Window) Update() error {
	if w.closing.Load() {
		return ebiten.Termination
	}
	if !ebiten.IsFocused() {
		w.releaseAll()
	}
	w.keys = inpututil.AppendJustReleasedKeys(w.keys[:0])
	for _, k := range w.keys {
		w.keyEdge(k, false)
	}
	w.keys = inpututil.AppendJustPressedKeys(w.keys[:0])
	for _, k := range w.keys {
		w.keyEdge(k, true)
	}
	w.pollMouse()
	if w.cfg.Screen != nil && w.cfg.Screen.Fetch(&w.f) {
		if img, changed := w.r.RenderFrame(&w.f); changed {
			w.upload(img)
		}
	}
	w.updateTitle()
	if w.hook != nil {
		w.hook(w)
	}
	return nil
}

// upload copies the rendered image into the texture, making a new one
// (and resizing the window to the mode) when the guest changed mode.
func (w *Window) upload(img *image.RGBA) {
	size := img.Rect.Size()
	if w.tex == nil || w.tex.Bounds().Size() != size {
		if w.tex != nil {
			w.tex.Deallocate()
		}
		w.tex = ebiten.NewImage(size.X, size.Y)
		if size != w.sized && !ebiten.IsFullscreen() && !ebiten.IsWindowMaximized() {
			ebiten.SetWindowSize(windowSize(size.X, size.Y, w.r.Aspect()))
			w.sized = size
		}
	}
	w.tex.WritePixels(img.Pix)
}

// Draw implements ebiten.Game: the picture letterboxed at its aspect.
func (w *Window) Draw(screen *ebiten.Image) {
	screen.Fill(image.Black)
	if w.tex != nil {
		b := screen.Bounds()
		x, y, dw, dh := fitRect(b.Dx(), b.Dy(), w.r.Aspect())
		tw, th := w.tex.Bounds().Dx(), w.tex.Bounds().Dy()
		sx, sy := dw/float64(tw), dh/float64(th)
		w.op.GeoM.Reset()
		w.op.GeoM.Scale(sx, sy)
		w.op.GeoM.Translate(x, y)
		// Whole-number scales stay sharp; others are smoothed so that
		// rows and columns do not come out unevenly thick.
		w.op.Filter = ebiten.FilterLinear
		if sx == math.Trunc(sx) && sy == math.Trunc(sy) {
			w.op.Filter = ebiten.FilterNearest
		}
		screen.DrawImage(w.tex, &w.op)
	}
	if w.drawn != nil {
		w.drawn(screen)
	}
}

// Layout implements ebiten.Game: the screen is the window, in device
// pixels so that a HiDPI monitor gets a sharp picture.
func (w *Window) Layout(outsideWidth, outsideHeight int) (int, int) {
	s := ebiten.Monitor().DeviceScaleFactor()
	return int(float64(outsideWidth) * s), int(float64(outsideHeight) * s)
}

func (w *Window) ctrlAlt() bool {
	return (w.down[ebiten.KeyControlLeft] || w.down[ebiten.KeyControlRight]) &&
		(w.down[ebiten.KeyAltLeft] || w.down[ebiten.KeyAltRight])
}

// keyEdge handles a host key press or release: hot keys act here, every
// other key becomes a press/release edge for the guest (its typematic
// repeat is the keyboard model's, so host auto-repeat is not passed on).
func (w *Window) keyEdge(k ebiten.Key, pressed bool) {
	if k < 0 || int(k) >= len(w.down) {
		return
	}
	if !pressed {
		if w.swallow[k] {
			w.swallow[k] = false
			return
		}
		if w.down[k] {
			w.down[k] = false
			w.send(k, false)
		}
		return
	}
	if w.ctrlAlt() {
		switch k {
		case ebiten.KeyF:
			w.swallow[k] = true
			ebiten.SetFullscreen(!ebiten.IsFullscreen())
			return
		case ebiten.KeyG:
			w.swallow[k] = true
			w.setGrab(!w.grabbed)
			return
		}
	}
	if !w.down[k] {
		w.down[k] = true
		w.send(k, true)
	}
}

func (w *Window) send(k ebiten.Key, pressed bool) {
	ck := keyMap[k]
	if ck == chipset.KeyNone || w.cfg.Input == nil {
		return
	}
	if pressed {
		w.cfg.Input.KeyDown(ck)
	} else {
		w.cfg.Input.KeyUp(ck)
	}
}

// releaseAll tells the guest every key it thinks is held is up, and
// lets the mouse go: a window that loses focus never sees the releases.
func (w *Window) releaseAll() {
	for k := range w.down {
		if w.down[k] {
			w.down[k] = false
			w.send(ebiten.Key(k), false)
		}
	}
	if w.grabbed {
		w.setGrab(false)
	}
}

func (w *Window) setGrab(on bool) {
	w.grabbed = on
	if on {
		ebiten.SetCursorMode(ebiten.CursorModeCaptured)
		w.lastX, w.lastY = ebiten.CursorPosition()
		w.wheel = 0
	} else {
		ebiten.SetCursorMode(ebiten.CursorModeVisible)
		if w.buttons != 0 && w.cfg.Input != nil {
			w.cfg.Input.Mouse(0, 0, 0, 0) // no button stays held in the guest
		}
		w.buttons = 0
	}
}

var mouseButtons = [...]struct {
	b   ebiten.MouseButton
	bit uint8
}{
	{ebiten.MouseButtonLeft, chipset.MouseLeft},
	{ebiten.MouseButtonRight, chipset.MouseRight},
	{ebiten.MouseButtonMiddle, chipset.MouseMiddle},
	{ebiten.MouseButton3, chipset.MouseButton4},
	{ebiten.MouseButton4, chipset.MouseButton5},
}

// pollMouse sends relative motion, wheel and buttons while the mouse is
// grabbed; a click grabs it.
func (w *Window) pollMouse() {
	if !w.grabbed {
		if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) && ebiten.IsFocused() {
			w.setGrab(true)
			w.ignore = chipset.MouseLeft
		}
		return
	}
	var buttons uint8
	for _, m := range mouseButtons {
		if ebiten.IsMouseButtonPressed(m.b) {
			buttons |= m.bit
		}
	}
	w.ignore &= buttons // a hidden button counts again once released
	buttons &^= w.ignore
	x, y := ebiten.CursorPosition()
	dx, dy := x-w.lastX, y-w.lastY
	w.lastX, w.lastY = x, y
	_, wy := ebiten.Wheel()
	w.wheel -= wy // ebiten: positive is away from the user; PS/2: towards
	dz := int(w.wheel)
	w.wheel -= float64(dz)
	w.mouse(dx, dy, dz, buttons)
}

func (w *Window) mouse(dx, dy, dz int, buttons uint8) {
	if (dx != 0 || dy != 0 || dz != 0 || buttons != w.buttons) && w.cfg.Input != nil {
		w.cfg.Input.Mouse(dx, dy, dz, buttons)
	}
	w.buttons = buttons
}

func (w *Window) updateTitle() {
	var st string
	if w.cfg.Status != nil {
		st = w.cfg.Status()
	}
	if w.title != "" && st == w.status && w.grabbed == w.titleFor {
		return
	}
	w.status, w.titleFor = st, w.grabbed
	t := w.cfg.Title
	if st != "" {
		t += " — " + st
	}
	if w.grabbed {
		t += " — Ctrl+Alt+G releases the mouse"
	} else {
		t += " — click or Ctrl+Alt+G grabs the mouse"
	}
	w.title = t
	ebiten.SetWindowTitle(t)
}

// keyMap maps ebiten's physical keys to the guest keyboard's.
var keyMap = [ebiten.KeyMax + 1]chipset.Key{
	ebiten.KeyEscape: chipset.KeyEscape,
	ebiten.KeyF1:     chipset.KeyF1, ebiten.KeyF2: chipset.KeyF2, ebiten.KeyF3: chipset.KeyF3,
	ebiten.KeyF4: chipset.KeyF4, ebiten.KeyF5: chipset.KeyF5, ebiten.KeyF6: chipset.KeyF6,
	ebiten.KeyF7: chipset.KeyF7, ebiten.KeyF8: chipset.KeyF8, ebiten.KeyF9: chipset.KeyF9,
	ebiten.KeyF10: chipset.KeyF10, ebiten.KeyF11: chipset.KeyF11, ebiten.KeyF12: chipset.KeyF12,
	ebiten.KeyPrintScreen: chipset.KeyPrintScreen,
	ebiten.KeyScrollLock:  chipset.KeyScrollLock,
	ebiten.KeyPause:       chipset.KeyPause,

	ebiten.KeyBackquote: chipset.KeyGrave,
	ebiten.KeyDigit1:    chipset.Key1, ebiten.KeyDigit2: chipset.Key2, ebiten.KeyDigit3: chipset.Key3,
	ebiten.KeyDigit4: chipset.Key4, ebiten.KeyDigit5: chipset.Key5, ebiten.KeyDigit6: chipset.Key6,
	ebiten.KeyDigit7: chipset.Key7, ebiten.KeyDigit8: chipset.Key8, ebiten.KeyDigit9: chipset.Key9,
	ebiten.KeyDigit0: chipset.Key0,
	ebiten.KeyMinus:  chipset.KeyMinus, ebiten.KeyEqual: chipset.KeyEqual,
	ebiten.KeyBackspace: chipset.KeyBackspace,

	ebiten.KeyTab: chipset.KeyTab,
	ebiten.KeyQ:   chipset.KeyQ, ebiten.KeyW: chipset.KeyW, ebiten.KeyE: chipset.KeyE, ebiten.KeyR: chipset.KeyR,
	ebiten.KeyT: chipset.KeyT, ebiten.KeyY: chipset.KeyY, ebiten.KeyU: chipset.KeyU, ebiten.KeyI: chipset.KeyI,
	ebiten.KeyO: chipset.KeyO, ebiten.KeyP: chipset.KeyP,
	ebiten.KeyBracketLeft: chipset.KeyLeftBracket, ebiten.KeyBracketRight: chipset.KeyRightBracket,
	ebiten.KeyBackslash: chipset.KeyBackslash,

	ebiten.KeyCapsLock: chipset.KeyCapsLock,
	ebiten.KeyA:        chipset.KeyA, ebiten.KeyS: chipset.KeyS, ebiten.KeyD: chipset.KeyD, ebiten.KeyF: chipset.KeyF,
	ebiten.KeyG: chipset.KeyG, ebiten.KeyH: chipset.KeyH, ebiten.KeyJ: chipset.KeyJ, ebiten.KeyK: chipset.KeyK,
	ebiten.KeyL: chipset.KeyL, ebiten.KeySemicolon: chipset.KeySemicolon, ebiten.KeyQuote: chipset.KeyApostrophe,
	ebiten.KeyEnter: chipset.KeyEnter,

	ebiten.KeyShiftLeft: chipset.KeyLeftShift, ebiten.KeyIntlBackslash: chipset.KeyNonUSBackslash,
	ebiten.KeyZ: chipset.KeyZ, ebiten.KeyX: chipset.KeyX, ebiten.KeyC: chipset.KeyC, ebiten.KeyV: chipset.KeyV,
	ebiten.KeyB: chipset.KeyB, ebiten.KeyN: chipset.KeyN, ebiten.KeyM: chipset.KeyM,
	ebiten.KeyComma: chipset.KeyComma, ebiten.KeyPeriod: chipset.KeyPeriod, ebiten.KeySlash: chipset.KeySlash,
	ebiten.KeyShiftRight: chipset.KeyRightShift,

	ebiten.KeyControlLeft: chipset.KeyLeftCtrl, ebiten.KeyMetaLeft: chipset.KeyLeftMeta,
	ebiten.KeyAltLeft: chipset.KeyLeftAlt, ebiten.KeySpace: chipset.KeySpace,
	ebiten.KeyAltRight: chipset.KeyRightAlt, ebiten.KeyMetaRight: chipset.KeyRightMeta,
	ebiten.KeyContextMenu: chipset.KeyMenu, ebiten.KeyControlRight: chipset.KeyRightCtrl,

	ebiten.KeyInsert: chipset.KeyInsert, ebiten.KeyHome: chipset.KeyHome, ebiten.KeyPageUp: chipset.KeyPageUp,
	ebiten.KeyDelete: chipset.KeyDelete, ebiten.KeyEnd: chipset.KeyEnd, ebiten.KeyPageDown: chipset.KeyPageDown,
	ebiten.KeyArrowUp: chipset.KeyUp, ebiten.KeyArrowLeft: chipset.KeyLeft,
	ebiten.KeyArrowDown: chipset.KeyDown, ebiten.KeyArrowRight: chipset.KeyRight,

	ebiten.KeyNumLock: chipset.KeyNumLock, ebiten.KeyNumpadDivide: chipset.KeyKPSlash,
	ebiten.KeyNumpadMultiply: chipset.KeyKPAsterisk, ebiten.KeyNumpadSubtract: chipset.KeyKPMinus,
	ebiten.KeyNumpad7: chipset.KeyKP7, ebiten.KeyNumpad8: chipset.KeyKP8, ebiten.KeyNumpad9: chipset.KeyKP9,
	ebiten.KeyNumpadAdd: chipset.KeyKPPlus,
	ebiten.KeyNumpad4:   chipset.KeyKP4, ebiten.KeyNumpad5: chipset.KeyKP5, ebiten.KeyNumpad6: chipset.KeyKP6,
	ebiten.KeyNumpad1: chipset.KeyKP1, ebiten.KeyNumpad2: chipset.KeyKP2, ebiten.KeyNumpad3: chipset.KeyKP3,
	ebiten.KeyNumpadEnter: chipset.KeyKPEnter,
	ebiten.KeyNumpad0:     chipset.KeyKP0, ebiten.KeyNumpadDecimal: chipset.KeyKPPeriod,
}

// WindowAvailable reports whether a window can be opened: this build has
// one, and the process reached main, so the X display opened.
func WindowAvailable() bool { return true }
