package display

// line256: each plane offset holds four pixels, planes 0-3 left to
// right, whether the CPU wrote them chained (13h) or unchained (mode X).
// The attribute palette is the identity in these modes (QEMU bypasses
// it too): the byte indexes the DAC.
func (r *Renderer) line256(p, vram []byte, la lineAddr, w int) {
	px := int(la.pan)
	off := la.addr + uint32(px>>2)
	l := r.fetch(vram, off)
	for x := 0; x < w; x, px = x+1, px+1 {
		if px&3 == 0 && x > 0 {
			off++
			l = r.fetch(vram, off)
		}
		put(p, x, r.lut256[byte(l>>(8*uint(px&3)))])
	}
}
