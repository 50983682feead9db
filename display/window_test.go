//go:build window

package display

import (
	"fmt"
	"image"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"fuji/chipset"
)

// windowTagged says this test binary has the window (see
// TestWindowUnderX, which runs it as a child process).
const windowTagged = true

// The window must own the main thread, so the window test is this
// binary run again with windowChildEnv set: then TestMain opens the
// window on the main goroutine instead of running tests.
func TestMain(m *testing.M) {
	if out := os.Getenv(windowChildEnv); out != "" {
		os.Exit(windowChild(out))
	}
	os.Exit(m.Run())
}

// guestLog records, on the "machine" goroutine, what the guest devices
// receive from the Input queue.
type guestLog struct{ lines []string }

func (g *guestLog) KeyDown(k chipset.Key) { g.lines = append(g.lines, fmt.Sprintf("down %d", k)) }
func (g *guestLog) KeyUp(k chipset.Key)   { g.lines = append(g.lines, fmt.Sprintf("up %d", k)) }
func (g *guestLog) Move(dx, dy, dz int, b uint8) {
	g.lines = append(g.lines, fmt.Sprintf("mouse %d %d %d %d", dx, dy, dz, b))
}

// windowChild shows mode 3 with a blue screen and one bright red block,
// plays keys and mouse through the window's input path, and saves what
// the window drew to out.
func windowChild(out string) int {
	v := chipset.NewVGA()
	setModeRegs(v, mode03)
	block := make([]byte, 16)
	for i := range block {
		block[i] = 0xff
	}
	loadFont(v, 0, map[byte][]byte{0xdb: block})
	for r := 0; r < 25; r++ {
		putText(v, 80, r, 0, strings.Repeat(" ", 80), 0x10)
	}
	putText(v, 80, 10, 30, strings.Repeat("\xdb", 20), 0x1c)

	screen, input := NewScreen(), NewInput()
	var status atomic.Value
	status.Store("running")
	w := NewWindow(WindowConfig{Title: "Fuji test", Screen: screen, Input: input,
		Status: func() string { return status.Load().(string) }})

	// The machine: publishes at 60 Hz and drains input, on its own goroutine.
	stop := make(chan struct{})
	done := make(chan *guestLog)
	go func() {
		g := &guestLog{}
		start := time.Now()
		tick := time.NewTicker(time.Second / 60)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				input.Drain(g, g)
				done <- g
				return
			case <-tick.C:
				screen.Publish(v, time.Since(start))
				input.Drain(g, g)
			}
		}
	}()

	var ticks int
	var grabbedAfterHotkey, capture bool
	var capErr error
	captured := false
	w.hook = func(w *Window) {
		ticks++
		switch ticks {
		case 30:
			w.keyEdge(ebiten.KeyA, true)
			w.keyEdge(ebiten.KeyA, true) // host auto-repeat: not an edge
			w.keyEdge(ebiten.KeyA, false)
			w.keyEdge(ebiten.KeyControlLeft, true)
			w.keyEdge(ebiten.KeyAltLeft, true)
			w.keyEdge(ebiten.KeyG, true) // hot key: grab, not for the guest
			grabbedAfterHotkey = w.grabbed
			w.keyEdge(ebiten.KeyG, false)
			w.mouse(5, -3, 1, chipset.MouseLeft)
			w.mouse(0, 0, 0, 0)
			w.keyEdge(ebiten.KeyG, true) // release the grab
			w.keyEdge(ebiten.KeyG, false)
			w.keyEdge(ebiten.KeyAltLeft, false)
			w.keyEdge(ebiten.KeyControlLeft, false)
			status.Store("paused")
		case 45:
			capture = true
		case 600:
			capErr = fmt.Errorf("no frame captured after %d ticks", ticks)
			w.Close()
		}
	}
	w.drawn = func(scr *ebiten.Image) {
		if !capture || captured || w.tex == nil {
			return
		}
		b := scr.Bounds()
		img := image.NewRGBA(b)
		scr.ReadPixels(img.Pix)
		f, err := os.Create(out)
		if err == nil {
			err = WritePNG(f, img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		capErr = err
		captured = true
		w.Close()
	}
	err := w.Run()
	close(stop)
	g := <-done
	if err != nil {
		fmt.Println("run:", err)
		return 1
	}
	if capErr != nil {
		fmt.Println("capture:", capErr)
		return 1
	}
	fmt.Println("grabbed", grabbedAfterHotkey, "after", w.grabbed)
	fmt.Println("title", w.title)
	for _, l := range g.lines {
		fmt.Println("guest", l)
	}
	return 0
}
