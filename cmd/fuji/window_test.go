package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"fuji/display"
)

// windowHangGuard bounds the whole window test in wall-clock time so that
// a hang fails instead of blocking the suite; nothing asserts on elapsed
// time.
const windowHangGuard = 4 * time.Minute

// windowShowGuard bounds the wait for the window to show what the guest
// has drawn (some 1800 frames at 60 Hz), so that a window that draws it
// wrongly fails with its picture instead of at the hang guard.
const windowShowGuard = 30 * time.Second

// Text mode 3 as the kbdecho kernel sets it up.
const (
	textW, textH   = 720, 400 // 80x25 cells of 9x16 dots
	cellW, cellH   = 9, 16
	promptRow      = 2
	promptCol      = 6 // len("fuji> ")
	typed          = "fuji"
	windowAspect   = 4.0 / 3
	wantWindowW    = 720 // the window sizes itself to the mode shown at 4:3:
	wantWindowH    = 540 // 720 wide, 720 * 3/4 high
	pixelTolerance = 48  // per colour channel, for linear filtering's rounding
)

// TestWindowTypesIntoGuest runs fuji with its real window on a private
// Xvfb server, boots the kbdecho kernel (conformance/multiboot), types
// "fuji" on the window through XTEST key events, and checks that the
// guest got the keys (its debug console and its text screen) and that
// the window shows the guest's screen: scaled from 720x400 to 4:3, the
// typed characters' glyph cells where the guest drew them, and every
// pixel as the renderer draws the guest's final VGA state (fuji's
// -screenshot), up to the smoothing of the vertical scaling.
//
// It needs an X display (it skips without DISPLAY, so a plain go test
// passes anywhere; make test runs it under xvfb-run), Xvfb, nasm, and
// the cgo/X11/GL headers to build fuji with -tags window.
func TestWindowTypesIntoGuest(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("DISPLAY is unset: the window test needs an X server (run it under xvfb-run, as make test does)")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (make test installs it: apt-get install xvfb)")
	}
	k := kernel(t, "kbdecho")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), windowHangGuard)
	defer cancel()

	bin := filepath.Join(dir, "fuji")
	build := exec.CommandContext(ctx, "go", "build", "-tags", "window", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building fuji with -tags window (needs cgo and the X11/GL headers: "+
			"libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev): %v\n%s", err, b)
	}

	disp := startXvfb(t, ctx, xvfb)
	x, err := dialX(disp)
	if err != nil {
		t.Fatalf("connecting to Xvfb %s: %v", disp, err)
	}
	defer x.Close()

	debugPath := filepath.Join(dir, "debugcon.txt")
	refPath := filepath.Join(dir, "guest.png")
	cmd := exec.CommandContext(ctx, bin, "run", "-m", "32", "-display", "window", "-kernel", k,
		"-serial", "none", "-debugcon", "file:"+debugPath, "-no-reboot",
		"-screenshot", refPath, "-dump-screen", "-timeout", windowHangGuard.String())
	cmd.Env = append(os.Environ(), "DISPLAY="+disp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	debugcon := func() string {
		b, _ := os.ReadFile(debugPath)
		return string(b)
	}
	// waitUntil polls cond until it holds and reports whether it did:
	// false when the hang guard limit passed first. It fails the test if
	// fuji exits first or the whole test's hang guard expires.
	waitUntil := func(what string, limit time.Duration, cond func() (bool, error)) bool {
		t.Helper()
		guard := time.NewTimer(limit)
		defer guard.Stop()
		for {
			ok, err := cond()
			if err != nil {
				t.Fatalf("waiting for %s: %v", what, err)
			}
			if ok {
				return true
			}
			select {
			case <-exited:
				t.Fatalf("fuji exited (%v) while waiting for %s\nstderr:\n%s\ndebug console:\n%s", waitErr, what, stderr.String(), debugcon())
			case <-ctx.Done():
				t.Fatalf("hang guard: no %s after %v\nstderr:\n%s\ndebug console:\n%s", what, windowHangGuard, stderr.String(), debugcon())
			case <-guard.C:
				return false
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitFor := func(what string, cond func() (bool, error)) {
		t.Helper()
		waitUntil(what, windowHangGuard, cond)
	}

	var win xproto.Window
	waitFor("fuji's window", func() (bool, error) {
		w, err := x.findWindow(cmd.Process.Pid)
		win = w
		return w != 0, err
	})
	waitFor("the kernel's prompt", func() (bool, error) {
		return strings.Contains(debugcon(), "ready\n"), nil
	})
	// The window resizes itself when the first frame of the text mode
	// arrives.
	var size image.Point
	waitFor("the window to take the text mode's size", func() (bool, error) {
		s, err := x.size(win)
		size = s
		return s == image.Pt(wantWindowW, wantWindowH), err
	})
	if err := x.focus(win); err != nil {
		t.Fatal(err)
	}
	t.Logf("window %#x %q, %v", win, x.title(win), size)

	// Type: each key is held until the guest has echoed it. The window
	// polls the keyboard once per tick (ebiten reads the key state, it
	// does not queue key events), so a press and release within one
	// tick would be lost, as for any ebiten game. The kernel ignores
	// typematic repeats, which a long hold on a loaded machine may cause,
	// and counts them.
	var held time.Duration
	for i, c := range typed {
		kc, err := x.keycode(xproto.Keysym(c))
		if err != nil {
			t.Fatal(err)
		}
		if err := x.key(kc, true); err != nil {
			t.Fatal(err)
		}
		pressed := time.Now()
		waitFor(fmt.Sprintf("the guest's echo of %q", c), func() (bool, error) {
			return strings.Count(debugcon(), "echo ") > i, nil
		})
		if err := x.key(kc, false); err != nil {
			t.Fatal(err)
		}
		held += time.Since(pressed)
	}

	// The window shows the typed text once a frame with it has been
	// published and drawn: wait for bright glyph dots in each typed cell
	// where a 4:3 picture has them. The guest has drawn them already, so
	// a window that never shows them fails after a hang guard of many
	// frames, and the checks below say what it shows instead.
	var shot *image.RGBA
	if !waitUntil("the typed text in the window", windowShowGuard, func() (bool, error) {
		img, err := x.capture(win)
		if err != nil {
			return false, err
		}
		shot = img
		pic := pictureRect(img.Bounds().Size())
		for i := range typed {
			if brightDots(img, pic, promptRow, promptCol+i) < 8 {
				return false, nil
			}
		}
		return true, nil
	}) {
		t.Errorf("the window did not show the typed text within %v of the guest drawing it", windowShowGuard)
	}
	writePNG(t, filepath.Join(dir, "window.png"), shot)

	// Enter ends the kernel: it prints the line and exits through
	// isa-debug-exit (status 1); fuji then writes the screenshot of the
	// guest's final screen and dumps its text.
	enter, err := x.keycode(0xff0d) // XK_Return
	if err != nil {
		t.Fatal(err)
	}
	if err := x.key(enter, true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-ctx.Done():
		t.Fatalf("hang guard: fuji did not exit after Enter\nstderr:\n%s\ndebug console:\n%s", stderr.String(), debugcon())
	}
	x.key(enter, false)
	if ee, ok := waitErr.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("fuji exited with %v, want status 1 (the kernel's isa-debug-exit 0)\nstderr:\n%s\ndebug console:\n%s",
			waitErr, stderr.String(), debugcon())
	}

	// The guest received the keys.
	dbg := debugcon()
	var echoes []string
	repeats := -1
	for _, l := range strings.Split(dbg, "\n") {
		switch {
		case strings.HasPrefix(l, "FAIL"):
			t.Errorf("kernel: %s", l)
		case strings.HasPrefix(l, "echo "):
			echoes = append(echoes, strings.TrimPrefix(l, "echo "))
		case strings.HasPrefix(l, "info repeats "):
			fmt.Sscanf(l, "info repeats %d", &repeats)
		}
	}
	// Typematic repeats are the keyboard's, timed by the machine's
	// clock, which follows the host's with a window: a key held for h
	// repeats at most h / 33 ms times (30/s is the fastest typematic
	// rate). The hold time only bounds the count; nothing waits on it.
	t.Logf("keys held %v in all, %d typematic repeats", held, repeats)
	if limit := int(held / (33 * time.Millisecond)); repeats < 0 || repeats > limit {
		t.Errorf("the guest saw %d typematic repeats while the keys were held for %v in all (at most %d possible in real time)",
			repeats, held, limit)
	}
	if got, want := strings.Join(echoes, ""), typed; got != want {
		t.Errorf("guest echoed %q, want %q\ndebug console:\n%s", got, want, dbg)
	}
	if !strings.Contains(dbg, "\nline "+typed+"\n") || !strings.HasSuffix(dbg, "done\n") {
		t.Errorf("debug console lacks %q or the final done:\n%s", "line "+typed, dbg)
	}
	lines := strings.Split(stdout.String(), "\n")
	if len(lines) <= promptRow || lines[promptRow] != "fuji> "+typed {
		t.Errorf("guest's text screen (fuji -dump-screen):\n%s\nwant row %d = %q", stdout.String(), promptRow, "fuji> "+typed)
	}

	// The window: its size and the picture's aspect.
	ref := readPNG(t, refPath)
	if ref.Bounds().Size() != image.Pt(textW, textH) {
		t.Fatalf("guest screenshot is %v, want %dx%d (text mode 3)", ref.Bounds().Size(), textW, textH)
	}
	ws := shot.Bounds().Size()
	if ws != image.Pt(wantWindowW, wantWindowH) {
		t.Errorf("window is %v, want %dx%d (720x400 shown at 4:3)", ws, wantWindowW, wantWindowH)
	}
	pic := pictureRect(ws)
	lit := litRect(shot)
	t.Logf("window %v, picture %v, non-black %v", ws, pic, lit)
	if lit != pic {
		t.Errorf("the picture covers %v of the window, want %v", lit, pic)
	}
	if a := float64(lit.Dx()) / float64(lit.Dy()); math.Abs(a-windowAspect) > 0.01 {
		t.Errorf("picture aspect %.4f (%v), want 4:3", a, lit.Size())
	}

	// The typed characters' cells. On the guest's screen each is the
	// kernel's glyph for the character, dot for dot, bright white on
	// blue (attribute 0x1F); in the window, every pixel of the cell's
	// scaled rectangle is that cell scaled (bilinear, as the window
	// smooths the 1.35x vertical scale).
	font := kernelFont(t)
	white, blue := [3]uint8{0xff, 0xff, 0xff}, [3]uint8{0x00, 0x00, 0xaa}
	for i := range typed {
		col := promptCol + i
		glyph := font[typed[i]]
		bad := 0
		for dy := 0; dy < cellH; dy++ {
			for dx := 0; dx < cellW; dx++ {
				want := blue
				if dx < 8 && glyph[dy]&(0x80>>dx) != 0 {
					want = white
				}
				got := ref.RGBAAt(col*cellW+dx, promptRow*cellH+dy)
				if [3]uint8{got.R, got.G, got.B} != want {
					bad++
				}
			}
		}
		if bad > 0 {
			t.Errorf("guest's screen: cell for %q (row %d, column %d) differs from the kernel's glyph in %d of %d dots",
				typed[i], promptRow, col, bad, cellW*cellH)
		}
		cell := image.Rect(col*cellW, promptRow*cellH, (col+1)*cellW, (promptRow+1)*cellH)
		if n, total := windowDiff(shot, pic, ref, cell); n > 0 {
			t.Errorf("window: cell for %q (row %d, column %d): %d of %d pixels differ from the guest's screen",
				typed[i], promptRow, col, n, total)
		}
	}

	// Every pixel of the picture against the guest's screen scaled the
	// same way, but for the blinking cursor's cell (the window and the
	// screenshot show different moments). Only rounding may differ.
	cursor := image.Rect((promptCol+len(typed))*cellW, promptRow*cellH, (promptCol+len(typed)+1)*cellW, (promptRow+1)*cellH)
	bad, total := 0, 0
	for row := 0; row < textH/cellH; row++ {
		for col := 0; col < textW/cellW; col++ {
			cell := image.Rect(col*cellW, row*cellH, (col+1)*cellW, (row+1)*cellH)
			if cell == cursor {
				continue
			}
			n, m := windowDiff(shot, pic, ref, cell)
			bad += n
			total += m
		}
	}
	t.Logf("%d of %d picture pixels differ from the guest's screen by more than %d", bad, total, pixelTolerance)
	if bad > total/1000 {
		t.Errorf("%d of %d window pixels differ from the guest's screen (window.png vs guest.png)", bad, total)
	}
	if t.Failed() {
		keep := filepath.Join(os.TempDir(), "fuji-window-test")
		os.MkdirAll(keep, 0o755)
		for _, f := range []string{"window.png", "guest.png", "debugcon.txt"} {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				os.WriteFile(filepath.Join(keep, f), b, 0o644)
			}
		}
		t.Logf("kept window.png, guest.png and debugcon.txt in %s", keep)
	}
}

// pictureRect is where the window draws a 4:3 picture in a window of
// size s: as large as fits, centred (as display.Window's Draw).
func pictureRect(s image.Point) image.Rectangle {
	w, h := float64(s.X), float64(s.X)/windowAspect
	if h > float64(s.Y) {
		h = float64(s.Y)
		w = h * windowAspect
	}
	x0, y0 := (float64(s.X)-w)/2, (float64(s.Y)-h)/2
	return image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x0+w)), int(math.Round(y0+h)))
}

// windowDiff compares the window pixels whose centres fall in the
// guest-screen rectangle cell (picture pic in the window) with the guest's
// screen ref sampled bilinearly there; it returns how many differ by more
// than pixelTolerance in a channel, and how many it compared.
func windowDiff(shot *image.RGBA, pic image.Rectangle, ref *image.RGBA, cell image.Rectangle) (bad, total int) {
	sxs, sys := float64(pic.Dx())/textW, float64(pic.Dy())/textH
	x0 := pic.Min.X + int(math.Ceil(float64(cell.Min.X)*sxs-0.5))
	x1 := pic.Min.X + int(math.Ceil(float64(cell.Max.X)*sxs-0.5))
	y0 := pic.Min.Y + int(math.Ceil(float64(cell.Min.Y)*sys-0.5))
	y1 := pic.Min.Y + int(math.Ceil(float64(cell.Max.Y)*sys-0.5))
	for y := y0; y < y1; y++ {
		fy := (float64(y-pic.Min.Y)+0.5)/sys - 0.5
		for x := x0; x < x1; x++ {
			fx := (float64(x-pic.Min.X)+0.5)/sxs - 0.5
			want := bilinear(ref, fx, fy)
			got := shot.RGBAAt(x, y)
			total++
			if math.Abs(float64(got.R)-want[0]) > pixelTolerance || math.Abs(float64(got.G)-want[1]) > pixelTolerance ||
				math.Abs(float64(got.B)-want[2]) > pixelTolerance {
				bad++
			}
		}
	}
	return bad, total
}

// kernelFont reads the kbdecho kernel's font (font8x16.inc: one "db" line
// of 16 scan lines per character from 0x20).
func kernelFont(t *testing.T) map[byte][16]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mbDir, "font8x16.inc"))
	if err != nil {
		t.Fatal(err)
	}
	font := map[byte][16]byte{}
	c := byte(0x20)
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "db ") {
			continue
		}
		l, _, _ = strings.Cut(strings.TrimPrefix(l, "db "), ";")
		var g [16]byte
		f := strings.Split(strings.TrimSpace(l), ",")
		if len(f) != 16 {
			t.Fatalf("font8x16.inc: glyph %#x has %d scan lines", c, len(f))
		}
		for i, v := range f {
			if _, err := fmt.Sscanf(v, "0x%x", &g[i]); err != nil {
				t.Fatalf("font8x16.inc: glyph %#x: %v", c, err)
			}
		}
		font[c] = g
		c++
	}
	if c != 0x7f {
		t.Fatalf("font8x16.inc: %d glyphs, want 0x20-0x7e", c-0x20)
	}
	return font
}

// brightDots counts the window pixels of text cell (row, col) that are
// bright (the typed text is bright white on blue).
func brightDots(img *image.RGBA, pic image.Rectangle, row, col int) int {
	n := 0
	x0 := pic.Min.X + col*cellW*pic.Dx()/textW
	x1 := pic.Min.X + (col+1)*cellW*pic.Dx()/textW
	y0 := pic.Min.Y + row*cellH*pic.Dy()/textH
	y1 := pic.Min.Y + (row+1)*cellH*pic.Dy()/textH
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if c := img.RGBAAt(x, y); c.R > 0xc0 && c.G > 0xc0 && c.B > 0xc0 {
				n++
			}
		}
	}
	return n
}

// litRect is the bounding box of the image's non-black pixels.
func litRect(img *image.RGBA) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := img.RGBAAt(x, y); c.R > 8 || c.G > 8 || c.B > 8 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// bilinear samples img at (fx, fy), pixel centres at whole numbers,
// edges clamped.
func bilinear(img *image.RGBA, fx, fy float64) [3]float64 {
	b := img.Bounds()
	clamp := func(v, lo, hi int) int { return max(lo, min(hi, v)) }
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	ax, ay := fx-float64(x0), fy-float64(y0)
	var out [3]float64
	for _, s := range [4]struct {
		dx, dy int
		w      float64
	}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
		c := img.RGBAAt(clamp(x0+s.dx, b.Min.X, b.Max.X-1), clamp(y0+s.dy, b.Min.Y, b.Max.Y-1))
		out[0] += s.w * float64(c.R)
		out[1] += s.w * float64(c.G)
		out[2] += s.w * float64(c.B)
	}
	return out
}

func chanDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := display.WritePNG(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
