package display

import (
	"time"

	"fuji/chipset"
)

// textFrame is the period of one frame of the VGA's 400-line text modes
// (70 Hz): the cursor and character blink count frames.
const textFrame = time.Second / 70

// blinkPhase returns bit 0 set while the cursor is shown and bit 1 while
// blinking characters are shown. The VGA blinks the cursor every 8
// frames and characters every 16 (IBM VGA reference: 1/16 and 1/32 of
// the vertical frequency).
func blinkPhase(now time.Duration) uint8 {
	f := int64(now / textFrame)
	var p uint8
	if (f/8)&1 == 0 {
		p |= 1
	}
	if (f/16)&1 == 0 {
		p |= 2
	}
	return p
}

type textGeom struct {
	cols, cw, ch int
	lines        int // glyph lines shown: displayed scanlines, halved by double scan
}

func textGeometryOf(d *chipset.Display) textGeom {
	c := &d.CRTC
	t := textGeom{cols: int(c[0x01]) + 1, ch: int(c[0x09]&0x1f) + 1, cw: 9}
	if d.Seq[1]&0x01 != 0 {
		t.cw = 8
	}
	t.lines = vertDisplay(c)
	if c[0x09]&0x80 != 0 {
		t.lines /= 2
	}
	return t
}

// textPan converts the attribute controller's pel panning into the
// number of dots the text is shifted left (FreeVGA, AR13): in 9-dot
// modes 8 means none and 0-7 mean 1-8.
func textPan(p, cw int) int {
	if cw == 9 {
		if p >= 8 {
			return 0
		}
		return p + 1
	}
	return p & 7
}

// drawText renders an alphanumeric mode scanline by scanline as the CRTC
// scans it: preset row scan, line compare (split screen), pel panning,
// the cursor, underline and blink. Cells are read from planes 0/1 and
// glyphs from plane 2 (the fonts the BIOS loaded, 32 bytes a glyph).
func (r *Renderer) drawText(d *chipset.Display, dirty []uint64, full bool, now time.Duration) bool {
	// Text reads at most the first 64 KiB of each plane: 256 KiB of VRAM.
	if !full && !pagesDirty(dirty, 0, 0x40000) {
		return false
	}
	t := textGeometryOf(d)
	c := &d.CRTC
	vram := d.VRAM
	if len(vram) < 0x40000 {
		return false
	}
	phase := blinkPhase(now)
	cursorOn := phase&1 != 0
	blinkOn := phase&2 != 0
	blinkAttr := d.Attr[0x10]&0x08 != 0
	lineGfx := d.Attr[0x10]&0x04 != 0
	panReset := d.Attr[0x10]&0x20 != 0
	pe := d.PlaneEnable

	sel := d.Seq[3]
	fontA := uint32((sel>>4)&1|(sel<<1)&6) * 8192 // attribute bit 3 clear
	fontB := uint32((sel>>5)&1|(sel>>1)&6) * 8192 // attribute bit 3 set

	start := (uint32(c[0x0c])<<8 | uint32(c[0x0d])) + uint32(c[0x08]>>5&3)
	rowOff := uint32(c[0x13]) * 2
	msl := int(c[0x09] & 0x1f)
	rs := int(c[0x08] & 0x1f) // preset row scan
	curAddr := (uint32(c[0x0e])<<8 | uint32(c[0x0f])) + uint32(c[0x0b]>>5&3)
	curStart, curEnd := int(c[0x0a]&0x1f), int(c[0x0b]&0x1f)
	curShow := c[0x0a]&0x20 == 0 && curStart <= curEnd && cursorOn
	underline := int(c[0x14] & 0x1f)
	ds := uint(c[0x09] >> 7)
	lc := d.LineCompare >> ds

	pan := textPan(d.PelPanning, t.cw)
	w := t.cols * t.cw
	rowAddr := start
	for y := 0; y < t.lines; y++ {
		p := r.row(y)
		first := pan / t.cw
		last := (pan + w - 1) / t.cw
		for col := first; col <= last; col++ {
			a := (rowAddr + uint32(col)) & 0xffff
			ch := vram[a*4]
			at := vram[a*4+1]
			font := fontA
			if at&0x08 != 0 {
				font = fontB
			}
			var g byte
			if rs < 32 {
				g = vram[((font+uint32(ch)*32+uint32(rs))&0xffff)*4+2]
			}
			fg, bg := at&0x0f, at>>4
			if blinkAttr {
				bg &= 7
			}
			ninth := false
			if t.cw == 9 && lineGfx && ch >= 0xc0 && ch <= 0xdf {
				ninth = g&1 != 0
			}
			if at&0x77 == 0x01 && rs == underline {
				g, ninth = 0xff, true
			}
			if blinkAttr && at&0x80 != 0 && !blinkOn {
				g, ninth = 0, false
			}
			if curShow && a == curAddr&0xffff && rs >= curStart && rs <= curEnd {
				g, ninth = 0xff, true
			}
			fc, bc := r.lut16[fg&pe], r.lut16[bg&pe]
			x0 := col*t.cw - pan
			for i := 0; i < 8; i++ {
				if x := x0 + i; x >= 0 && x < w {
					if g&(0x80>>i) != 0 {
						put(p, x, fc)
					} else {
						put(p, x, bc)
					}
				}
			}
			if t.cw == 9 {
				if x := x0 + 8; x >= 0 && x < w {
					if ninth {
						put(p, x, fc)
					} else {
						put(p, x, bc)
					}
				}
			}
		}
		// Advance the row scan counter; the split screen restarts at
		// address 0, row scan 0, after the line compare line.
		if rs >= msl {
			rs = 0
			rowAddr += rowOff
		} else {
			rs++
		}
		if y == lc {
			rowAddr, rs = 0, 0
			if panReset {
				pan = 0
			}
		}
	}
	return true
}
