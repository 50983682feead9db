package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math/bits"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// A small X client for the window test: it starts a private Xvfb, finds
// a process's top-level window, gives it the keyboard focus, types on it
// through the XTEST extension (real key events, as a keyboard would
// send them through the server), and reads the window's pixels back.

// startXvfb starts a private Xvfb server and returns its display name;
// the server is killed when the test ends. A private server keeps the
// typed keys away from a desktop session and from the other packages'
// window tests, which go test ./... runs in parallel on xvfb-run's
// display (a window that opens there takes the focus).
func startXvfb(t *testing.T, ctx context.Context, xvfb string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -displayfd: the server picks a free display number and writes it
	// to file descriptor 3 when it accepts connections.
	cmd := exec.CommandContext(ctx, xvfb, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("Xvfb did not report its display: %v\n%s", err, stderr.String())
	}
	return ":" + strings.TrimSpace(line)
}

// xClient is a connection to an X server with XTEST.
type xClient struct {
	c      *xgb.Conn
	setup  *xproto.SetupInfo
	root   xproto.Window
	atoms  map[string]xproto.Atom
	keymap map[xproto.Keysym]xproto.Keycode
}

func dialX(display string) (*xClient, error) {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, err
	}
	if err := xtest.Init(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("the X server has no XTEST extension: %w", err)
	}
	x := &xClient{c: c, setup: xproto.Setup(c), atoms: map[string]xproto.Atom{}}
	x.root = x.setup.DefaultScreen(c).Root
	if err := x.loadKeymap(); err != nil {
		c.Close()
		return nil, err
	}
	return x, nil
}

func (x *xClient) Close() { x.c.Close() }

func (x *xClient) atom(name string) (xproto.Atom, error) {
	if a, ok := x.atoms[name]; ok {
		return a, nil
	}
	r, err := xproto.InternAtom(x.c, false, uint16(len(name)), name).Reply()
	if err != nil {
		return 0, err
	}
	x.atoms[name] = r.Atom
	return r.Atom, nil
}

// loadKeymap records, for every keysym in the server's keyboard map,
// the first keycode that produces it unshifted.
func (x *xClient) loadKeymap() error {
	lo, hi := x.setup.MinKeycode, x.setup.MaxKeycode
	r, err := xproto.GetKeyboardMapping(x.c, lo, byte(hi-lo+1)).Reply()
	if err != nil {
		return err
	}
	x.keymap = map[xproto.Keysym]xproto.Keycode{}
	per := int(r.KeysymsPerKeycode)
	for i := 0; i*per < len(r.Keysyms); i++ {
		if per == 0 {
			break
		}
		ks := r.Keysyms[i*per]
		if _, ok := x.keymap[ks]; !ok && ks != 0 {
			x.keymap[ks] = xproto.Keycode(int(lo) + i)
		}
	}
	return nil
}

// keycode returns the keycode of an unshifted keysym (for ASCII
// letters and digits the keysym is the character itself).
func (x *xClient) keycode(ks xproto.Keysym) (xproto.Keycode, error) {
	k, ok := x.keymap[ks]
	if !ok {
		return 0, fmt.Errorf("no keycode for keysym %#x in the server's keyboard map", ks)
	}
	return k, nil
}

// findWindow returns the viewable top-level window of process pid (its
// _NET_WM_PID property, which GLFW sets), or 0 if there is none yet.
func (x *xClient) findWindow(pid int) (xproto.Window, error) {
	pidAtom, err := x.atom("_NET_WM_PID")
	if err != nil {
		return 0, err
	}
	tree, err := xproto.QueryTree(x.c, x.root).Reply()
	if err != nil {
		return 0, err
	}
	for _, w := range tree.Children {
		p, err := xproto.GetProperty(x.c, false, w, pidAtom, xproto.AtomCardinal, 0, 1).Reply()
		if err != nil || p.Format != 32 || len(p.Value) < 4 || int(binary.LittleEndian.Uint32(p.Value)) != pid {
			continue
		}
		a, err := xproto.GetWindowAttributes(x.c, w).Reply()
		if err != nil {
			return 0, err
		}
		if a.MapState == xproto.MapStateViewable {
			return w, nil
		}
	}
	return 0, nil
}

// title returns a window's WM_NAME (GLFW sets it, UTF-8, with _NET_WM_NAME).
func (x *xClient) title(w xproto.Window) string {
	name, err := x.atom("_NET_WM_NAME")
	if err != nil {
		return ""
	}
	utf8, err := x.atom("UTF8_STRING")
	if err != nil {
		return ""
	}
	p, err := xproto.GetProperty(x.c, false, w, name, utf8, 0, 1024).Reply()
	if err != nil {
		return ""
	}
	return string(p.Value)
}

// size returns a window's inside size.
func (x *xClient) size(w xproto.Window) (image.Point, error) {
	g, err := xproto.GetGeometry(x.c, xproto.Drawable(w)).Reply()
	if err != nil {
		return image.Point{}, err
	}
	return image.Pt(int(g.Width), int(g.Height)), nil
}

// focus moves the pointer to the middle of w and gives w the keyboard
// focus (no window manager runs on the private server to do it), then
// checks that the server agrees.
func (x *xClient) focus(w xproto.Window) error {
	sz, err := x.size(w)
	if err != nil {
		return err
	}
	if err := xproto.WarpPointerChecked(x.c, 0, w, 0, 0, 0, 0, int16(sz.X/2), int16(sz.Y/2)).Check(); err != nil {
		return fmt.Errorf("warp pointer: %w", err)
	}
	if err := xproto.SetInputFocusChecked(x.c, xproto.InputFocusPointerRoot, w, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("set input focus: %w", err)
	}
	f, err := xproto.GetInputFocus(x.c).Reply()
	if err != nil {
		return err
	}
	if f.Focus != w {
		return fmt.Errorf("focus is on window %#x, not %#x", f.Focus, w)
	}
	return nil
}

// key presses (down) or releases a key through XTEST, as the keyboard
// would: the server sends the event to the focused window.
func (x *xClient) key(k xproto.Keycode, down bool) error {
	typ := byte(xproto.KeyRelease)
	if down {
		typ = xproto.KeyPress
	}
	if err := xtest.FakeInputChecked(x.c, typ, byte(k), 0, x.root, 0, 0, 0).Check(); err != nil {
		return err
	}
	// A round trip makes sure the server has processed the event.
	_, err := xproto.GetInputFocus(x.c).Reply()
	return err
}

// capture reads a window's pixels (what the X server shows of it).
func (x *xClient) capture(w xproto.Window) (*image.RGBA, error) {
	sz, err := x.size(w)
	if err != nil {
		return nil, err
	}
	r, err := xproto.GetImage(x.c, xproto.ImageFormatZPixmap, xproto.Drawable(w), 0, 0,
		uint16(sz.X), uint16(sz.Y), ^uint32(0)).Reply()
	if err != nil {
		return nil, err
	}
	var vis *xproto.VisualInfo
	for _, s := range x.setup.Roots {
		for _, d := range s.AllowedDepths {
			for i := range d.Visuals {
				if d.Visuals[i].VisualId == r.Visual {
					vis = &d.Visuals[i]
				}
			}
		}
	}
	bpp := 0
	for _, f := range x.setup.PixmapFormats {
		if f.Depth == r.Depth {
			bpp = int(f.BitsPerPixel)
		}
	}
	if vis == nil || bpp != 32 || x.setup.ImageByteOrder != xproto.ImageOrderLSBFirst {
		return nil, fmt.Errorf("unsupported image format: depth %d, %d bits per pixel, byte order %d, visual %v",
			r.Depth, bpp, x.setup.ImageByteOrder, vis != nil)
	}
	stride := sz.X * 4 // 32-bit pixels: scanlines are already padded
	if len(r.Data) < stride*sz.Y {
		return nil, fmt.Errorf("GetImage returned %d bytes for %v", len(r.Data), sz)
	}
	comp := func(p, mask uint32) uint8 {
		if mask == 0 {
			return 0
		}
		v := (p & mask) >> bits.TrailingZeros32(mask)
		n := bits.OnesCount32(mask)
		return uint8(v * 255 / (1<<n - 1))
	}
	img := image.NewRGBA(image.Rect(0, 0, sz.X, sz.Y))
	for y := 0; y < sz.Y; y++ {
		for xx := 0; xx < sz.X; xx++ {
			p := binary.LittleEndian.Uint32(r.Data[y*stride+xx*4:])
			img.SetRGBA(xx, y, color.RGBA{comp(p, vis.RedMask), comp(p, vis.GreenMask), comp(p, vis.BlueMask), 0xff})
		}
	}
	return img, nil
}
