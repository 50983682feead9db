// Package display turns the VGA's state into pixels (pure Go, image.RGBA),
// writes screenshots and text dumps, and — in window.go, built with the
// "window" tag — shows the screen in an ebiten window and feeds host
// keyboard and mouse events back to the guest.
//
// Threading: the VGA belongs to the machine goroutine. The machine hands
// the display its state through a Screen (Publish, at most 60 times a
// second, never blocking); a Renderer turns a Frame into an image on any
// goroutine; host input goes back through an Input queue the machine
// drains on its own goroutine.
package display

import (
	"encoding/binary"
	"image"
	"time"

	"fuji/chipset"
)

// maxPixels bounds the image a guest can make us allocate (garbage CRTC
// values can describe 4608x2048 text; VBE can describe 16000 lines).
const maxPixels = 16 << 20

// Renderer turns VGA display states into an RGBA image. It keeps its
// image and redraws only what changed when it is given the VGA's dirty
// pages. A Renderer is not safe for concurrent use; after the first
// frames of a mode it does not allocate.
type Renderer struct {
	img    image.RGBA
	key    stateKey
	valid  bool    // img holds a full rendering of key
	aspect float64 // display aspect ratio of the last frame
	vbe    bool

	// Colour lookup, rebuilt per frame: lut256 is the DAC through the
	// pel mask, lut16 a 4-bit attribute colour through the attribute
	// controller palette and the DAC. Packed little-endian RGBA.
	lut256 [256]uint32
	lut16  [16]uint32

	lines []lineAddr // per output line start, graphics modes
}

// NewRenderer returns a renderer with no image yet.
func NewRenderer() *Renderer {
	return &Renderer{aspect: 4.0 / 3.0}
}

// Image returns the last rendered image (owned by the renderer: it
// changes on the next Render).
func (r *Renderer) Image() *image.RGBA { return &r.img }

// Aspect returns the display aspect ratio (width/height) the last frame
// should be shown at: 4:3 for VGA modes, whose pixels are not square
// (320x200, 640x350 and 720x400 all fill a 4:3 monitor), and the pixel
// ratio for VBE modes, whose pixels are square.
func (r *Renderer) Aspect() float64 { return r.aspect }

// stateKey is everything besides video memory that decides the picture.
// When it is unchanged and no page of video memory changed, the image is
// unchanged. Registers that only steer CPU accesses (map mask, write
// mode, bit mask…) are left out so that drawing does not force redraws.
type stateKey struct {
	mode        chipset.DisplayMode
	w, h, bpp   int
	start       uint32
	stride      uint32
	lineCompare int
	pan         int
	palette     [256][3]uint8
	pelMask     uint8
	attrPal     [16]uint8
	planeEnable uint8
	seq1, seq3  uint8
	gr5, gr6    uint8
	attr10      uint8
	crtc        [25]uint8
	phase       uint8 // text: cursor and character blink phases
}

func keyOf(d *chipset.Display) stateKey {
	return stateKey{
		mode: d.Mode, w: d.Width, h: d.Height, bpp: d.BPP,
		start: d.StartAddr, stride: d.Stride, lineCompare: d.LineCompare, pan: d.PelPanning,
		palette: d.Palette, pelMask: d.PelMask, attrPal: d.AttrPalette, planeEnable: d.PlaneEnable,
		seq1: d.Seq[1], seq3: d.Seq[3], gr5: d.Graph[5], gr6: d.Graph[6], attr10: d.Attr[0x10],
		crtc: d.CRTC,
	}
}

// Render draws d into the renderer's image and returns it, and whether
// any pixel may have changed since the previous call. dirty is the VGA's
// page bitmap (chipset.VGA.TakeDirty) of what changed in d.VRAM since the
// state given to the previous call; nil means unknown: redraw everything.
// now is the display's time (the machine clock), which drives the text
// cursor and character blink, so a run renders deterministically.
func (r *Renderer) Render(d *chipset.Display, dirty []uint64, now time.Duration) (*image.RGBA, bool) {
	k := keyOf(d)
	if d.Mode == chipset.DisplayText {
		k.phase = blinkPhase(now)
	}
	full := !r.valid || k != r.key || dirty == nil
	r.key, r.valid = k, true
	r.vbe = d.BPP != 0
	r.buildLUT(d)

	blank := d.Mode == chipset.DisplayBlank || d.Seq[1]&0x20 != 0 // SR1 bit 5: screen off
	var w, h int
	if !blank {
		w, h = r.size(d)
		if w <= 0 || h <= 0 || w*h > maxPixels {
			blank = true
		}
	}
	if blank {
		// Keep the last size (as a monitor keeps its picture area) and
		// show black.
		if r.img.Rect.Empty() {
			r.resize(640, 480)
		}
		if full {
			fillBlack(r.img.Pix)
		}
		return &r.img, full
	}
	if r.resize(w, h) {
		full = true
	}
	if r.vbe {
		r.aspect = float64(w) / float64(h)
	} else {
		r.aspect = 4.0 / 3.0
	}
	var changed bool
	switch d.Mode {
	case chipset.DisplayText:
		changed = r.drawText(d, dirty, full, now)
	case chipset.DisplayPlanar16, chipset.DisplayCGA4, chipset.DisplayChain256:
		changed = r.drawVGAGraphics(d, dirty, full)
	case chipset.DisplayLinear:
		changed = r.drawLinear(d, dirty, full)
	}
	return &r.img, changed
}

// size is the image size of a frame: pixels in graphics modes, and
// character cells times glyph size in text mode. VGA sizes are logical
// (320x200 for mode 13h): the window stretches them to 4:3.
func (r *Renderer) size(d *chipset.Display) (int, int) {
	switch d.Mode {
	case chipset.DisplayText:
		t := textGeometryOf(d)
		return t.cols * t.cw, t.lines
	case chipset.DisplayLinear:
		return d.Width, d.Height
	}
	if r.vbe {
		return d.Width, d.Height
	}
	v := vgaVertical(d)
	return d.Width, v.lines
}

// resize makes the image w x h, reusing its pixel buffer when it is big
// enough, and reports whether the size changed.
func (r *Renderer) resize(w, h int) bool {
	if r.img.Rect.Dx() == w && r.img.Rect.Dy() == h {
		return false
	}
	n := w * h * 4
	if cap(r.img.Pix) < n {
		r.img.Pix = make([]uint8, n)
	}
	r.img.Pix = r.img.Pix[:n]
	r.img.Stride = w * 4
	r.img.Rect = image.Rect(0, 0, w, h)
	fillBlack(r.img.Pix)
	return true
}

// fillBlack sets RGBA pixels to opaque black.
func fillBlack(p []uint8) {
	for i := 0; i+3 < len(p); i += 4 {
		p[i], p[i+1], p[i+2], p[i+3] = 0, 0, 0, 0xff
	}
}

func rgba(c [3]uint8) uint32 {
	return uint32(c[0]) | uint32(c[1])<<8 | uint32(c[2])<<16 | 0xff000000
}

// buildLUT resolves the colour path of the frame: a DAC index is ANDed
// with the pel mask; a 4-bit colour first goes through the attribute
// controller palette (with AR14's colour select, as chipset computed).
func (r *Renderer) buildLUT(d *chipset.Display) {
	for i := range r.lut256 {
		r.lut256[i] = rgba(d.Palette[uint8(i)&d.PelMask])
	}
	for i := range r.lut16 {
		r.lut16[i] = r.lut256[d.AttrPalette[i]]
	}
}

// row returns the pixel bytes of image line y.
func (r *Renderer) row(y int) []uint8 {
	o := y * r.img.Stride
	return r.img.Pix[o : o+r.img.Stride : o+r.img.Stride]
}

func put(p []uint8, x int, c uint32) {
	binary.LittleEndian.PutUint32(p[x*4:], c)
}

// pagesDirty reports whether any 4 KiB page of VRAM bytes [lo, hi) is
// set in the dirty bitmap.
func pagesDirty(dirty []uint64, lo, hi uint32) bool {
	if hi <= lo {
		return false
	}
	for p := lo >> 12; p <= (hi-1)>>12; p++ {
		w := p >> 6
		if int(w) >= len(dirty) {
			return false
		}
		if dirty[w]&(1<<(p&63)) != 0 {
			return true
		}
	}
	return false
}

// vertDisplay is the number of displayed scanlines (CR12 + overflow + 1).
func vertDisplay(c *[25]uint8) int {
	return (int(c[0x12]) | int(c[0x07]&0x02)<<7 | int(c[0x07]&0x40)<<3) + 1
}

// wordShift is how many bits the CRTC shifts its address counter left
// to address memory (0 byte, 1 word, 2 doubleword mode). Video memory
// here is stored compacted (odd/even and chain-4 bytes side by side, as
// QEMU), so counter values are plane offsets already; the shift only
// tells which offset bit an address wrap replaces.
func wordShift(c *[25]uint8) uint {
	switch {
	case c[0x14]&0x40 != 0:
		return 2
	case c[0x17]&0x40 == 0:
		return 1
	}
	return 0
}
