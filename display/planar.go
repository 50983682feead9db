package display

import (
	"encoding/binary"

	"fuji/chipset"
)

// vgaVert is the vertical scan of a VGA graphics mode.
type vgaVert struct {
	lines int  // output lines
	unit  int  // scanlines per output line
	ds    bool // double scan: the row scan counter counts every other scanline
	msl   int  // maximum scan line: row scan counter wraps after it
}

// vgaVertical works out how many distinct pixel lines the CRTC shows.
// Each character row is msl+1 row scans (each shown twice with double
// scan); without CGA/Hercules wrapping every row scan of a row shows the
// same memory, so a row is one pixel line (mode 13h: 2 scanlines; 0Dh:
// 2); with it, each row scan shows another bank (mode 4/6: 2 lines a
// row, each double scanned).
func vgaVertical(d *chipset.Display) vgaVert {
	c := &d.CRTC
	v := vgaVert{ds: c[0x09]&0x80 != 0, msl: int(c[0x09] & 0x1f)}
	v.unit = v.msl + 1
	if d.CGAWrap || d.HercWrap {
		v.unit = 1
	}
	if v.ds {
		v.unit *= 2
	}
	v.lines = vertDisplay(c) / v.unit
	return v
}

// lineAddrs fills r's per-line start address and panning tables by
// walking the CRTC's scanlines: row scan counter, CGA/Hercules address
// substitution, byte panning, and the line compare split screen, which
// restarts at address 0 and (AR10 bit 5) drops the panning below it.
func (r *Renderer) lineAddrs(d *chipset.Display, h, pan int) {
	r.lines = growAddrs(r.lines, h)
	c := &d.CRTC
	rowOff := d.Stride / 4
	if r.vbe {
		// VBE: linear lines, no CRTC wrapping or split.
		for y := 0; y < h; y++ {
			r.lines[y] = lineAddr{addr: d.StartAddr + uint32(y)*rowOff}
		}
		return
	}
	v := vgaVertical(d)
	ws := wordShift(c)
	cgaBit, hercBit := 13-ws, 14-ws
	panReset := d.Attr[0x10]&0x20 != 0
	rowAddr := d.StartAddr + uint32(c[0x08]>>5&3)
	rs, odd := 0, false
	for s := 0; s < h*v.unit; s++ {
		if s%v.unit == 0 {
			a := rowAddr
			if d.CGAWrap {
				a = a&^(1<<cgaBit) | uint32(rs&1)<<cgaBit
			}
			if d.HercWrap {
				a = a&^(1<<hercBit) | uint32(rs>>1&1)<<hercBit
			}
			r.lines[s/v.unit] = lineAddr{addr: a & 0xffff, pan: int32(pan)}
		}
		if v.ds && !odd {
			odd = true
		} else {
			odd = false
			if rs >= v.msl {
				rs = 0
				rowAddr += rowOff
			} else {
				rs++
			}
		}
		if s == d.LineCompare {
			rowAddr, rs, odd = 0, 0, false
			if panReset {
				pan = 0
			}
		}
	}
}

type lineAddr struct {
	addr uint32 // plane offset of the line's first pixel
	pan  int32  // pixels shifted out on the left
}

func growAddrs(s []lineAddr, n int) []lineAddr {
	if cap(s) < n {
		return make([]lineAddr, n)
	}
	return s[:n]
}

// drawVGAGraphics renders the VGA's graphics modes: 16-colour planar
// (0Dh-12h, VBE 4 bpp), CGA 4-colour interleave (04h/05h) and 256-colour
// (13h and unchained mode X), line by line, skipping lines whose memory
// did not change.
func (r *Renderer) drawVGAGraphics(d *chipset.Display, dirty []uint64, full bool) bool {
	w, h := r.img.Rect.Dx(), r.img.Rect.Dy()
	var pan, perOff int
	switch d.Mode {
	case chipset.DisplayChain256:
		pan, perOff = d.PelPanning>>1&3, 4 // AR13 counts half pixels in 256-colour modes
	default:
		if d.PelPanning < 8 {
			pan = d.PelPanning
		}
		perOff = 8
	}
	if r.vbe {
		pan = 0
	}
	r.lineAddrs(d, h, pan)
	vram := d.VRAM
	planes := uint32(0)
	for i := 0; i < 4; i++ {
		if d.PlaneEnable&(1<<i) != 0 {
			planes |= 0xff << (8 * i)
		}
	}
	changed := false
	for y := 0; y < h; y++ {
		la := r.lines[y]
		n := uint32((w + int(la.pan) + perOff - 1) / perOff) // plane offsets read
		if !full {
			lo, hi := la.addr*4, (la.addr+n)*4
			if !r.vbe && la.addr+n > 0x10000 {
				lo, hi = 0, 0x40000 // wraps around the 64 KiB plane
			}
			if !pagesDirty(dirty, lo, hi) {
				continue
			}
		}
		changed = true
		p := r.row(y)
		switch d.Mode {
		case chipset.DisplayPlanar16:
			r.linePlanar(p, vram, la, w, planes)
		case chipset.DisplayCGA4:
			r.lineCGA(p, vram, la, w, planes)
		default:
			r.line256(p, vram, la, w)
		}
	}
	return changed
}

// fetch returns the four plane bytes at plane offset off (0 beyond VRAM).
func (r *Renderer) fetch(vram []byte, off uint32) uint32 {
	if !r.vbe {
		off &= 0xffff
	}
	if uint64(off)*4+4 > uint64(len(vram)) {
		return 0
	}
	return binary.LittleEndian.Uint32(vram[off*4:])
}

// linePlanar: one bit per plane per pixel, MSB first; the colour plane
// enable masks planes before the attribute palette.
func (r *Renderer) linePlanar(p, vram []byte, la lineAddr, w int, planes uint32) {
	px := int(la.pan)
	off := la.addr + uint32(px>>3)
	l := r.fetch(vram, off) & planes
	for x := 0; x < w; x, px = x+1, px+1 {
		if px&7 == 0 && x > 0 {
			off++
			l = r.fetch(vram, off) & planes
		}
		b := uint(7 - px&7)
		c := l>>b&1 | l>>(8+b)&1<<1 | l>>(16+b)&1<<2 | l>>(24+b)&1<<3
		put(p, x, r.lut16[c])
	}
}

// lineCGA: shift register interleave. The first four pixels of an
// offset are bit pairs of plane 0 (colour bits 0-1) and plane 2 (bits
// 2-3), the next four of planes 1 and 3 — so the CGA's even and odd
// bytes, which odd/even addressing put in planes 0 and 1, come out in
// order.
func (r *Renderer) lineCGA(p, vram []byte, la lineAddr, w int, planes uint32) {
	px := int(la.pan)
	off := la.addr + uint32(px>>3)
	l := r.fetch(vram, off) & planes
	for x := 0; x < w; x, px = x+1, px+1 {
		if px&7 == 0 && x > 0 {
			off++
			l = r.fetch(vram, off) & planes
		}
		i := px & 7
		lo, hi := l, l>>16 // planes 0 and 2
		if i >= 4 {
			lo, hi = l>>8, l>>24 // planes 1 and 3
			i -= 4
		}
		b := uint(6 - 2*i)
		c := lo>>b&3 | (hi>>b&3)<<2
		put(p, x, r.lut16[c])
	}
}
