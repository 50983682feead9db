package display

import (
	"encoding/binary"

	"fuji/chipset"
)

// drawLinear renders a Bochs VBE packed-pixel mode from the linear
// framebuffer: StartByte (the x/y offset the guest set) and Stride (its
// virtual width) place the visible window, lines whose pages did not
// change are skipped.
func (r *Renderer) drawLinear(d *chipset.Display, dirty []uint64, full bool) bool {
	w, h := r.img.Rect.Dx(), r.img.Rect.Dy()
	bpp := d.BPP
	bytesPP := (bpp + 7) / 8
	vram := d.VRAM
	changed := false
	for y := 0; y < h; y++ {
		base := uint64(d.StartByte) + uint64(y)*uint64(d.Stride)
		end := base + uint64(w*bytesPP)
		if !full && (end > uint64(len(vram)) || !pagesDirty(dirty, uint32(base), uint32(end))) {
			continue
		}
		changed = true
		p := r.row(y)
		if end > uint64(len(vram)) {
			// Past the end of VRAM (the VBE fixup keeps a mode inside,
			// but a guest can move the start): black.
			fillBlack(p)
			continue
		}
		s := vram[base:end]
		switch bpp {
		case 8:
			for x := 0; x < w; x++ {
				put(p, x, r.lut256[s[x]])
			}
		case 15:
			for x := 0; x < w; x++ {
				v := uint32(binary.LittleEndian.Uint16(s[x*2:]))
				put(p, x, rgb(expand5(v>>10), expand5(v>>5), expand5(v)))
			}
		case 16:
			for x := 0; x < w; x++ {
				v := uint32(binary.LittleEndian.Uint16(s[x*2:]))
				put(p, x, rgb(expand5(v>>11), expand6(v>>5), expand5(v)))
			}
		case 24:
			for x := 0; x < w; x++ {
				put(p, x, rgb(uint32(s[x*3+2]), uint32(s[x*3+1]), uint32(s[x*3])))
			}
		case 32:
			for x := 0; x < w; x++ {
				v := binary.LittleEndian.Uint32(s[x*4:])
				put(p, x, rgb(v>>16&0xff, v>>8&0xff, v&0xff))
			}
		default:
			fillBlack(p)
		}
	}
	return changed
}

func rgb(r, g, b uint32) uint32 { return r | g<<8 | b<<16 | 0xff000000 }

// expand5 and expand6 widen a colour field to 8 bits by repeating its
// top bits, so full intensity is 255.
func expand5(v uint32) uint32 { v &= 0x1f; return v<<3 | v>>2 }
func expand6(v uint32) uint32 { v &= 0x3f; return v<<2 | v>>4 }
