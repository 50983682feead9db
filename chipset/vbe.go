package chipset

// The Bochs VBE "dispi" interface, as QEMU's std VGA implements it: an
// index port (0x1CE) and a data port (0x1CF, also 0x1D0) reach 16-bit
// registers that set a linear graphics mode directly. The VGA BIOS's VBE
// services are built on it.

// VBE ports.
const (
	vbePortIndex = 0x1CE
	vbePortData  = 0x1CF
	vbePortData2 = 0x1D0
)

// VBE register indices.
const (
	vbeIndexID         = 0x0
	vbeIndexXRes       = 0x1
	vbeIndexYRes       = 0x2
	vbeIndexBPP        = 0x3
	vbeIndexEnable     = 0x4
	vbeIndexBank       = 0x5
	vbeIndexVirtWidth  = 0x6
	vbeIndexVirtHeight = 0x7
	vbeIndexXOffset    = 0x8
	vbeIndexYOffset    = 0x9
	vbeRegCount        = 0xa
	vbeIndexVideoMem   = 0xa // VRAM size in 64 KiB units (read-only)
)

// VBE ID values a guest may select; the newest is the reset value.
const (
	vbeID0 = 0xB0C0
	vbeID5 = 0xB0C5
)

// ENABLE register bits.
const (
	VBEEnabled    = 0x01
	VBEGetCaps    = 0x02
	VBE8BitDAC    = 0x20
	VBELFBEnabled = 0x40
	VBENoClearMem = 0x80
)

// Limits reported under GETCAPS and enforced on writes (QEMU's).
const (
	vbeMaxXRes = 16000
	vbeMaxYRes = 12000
	vbeMaxBPP  = 32
)

// vbeIn serves a read of the VBE ports. A byte access behaves as a word
// access truncated (the port bus masks the result), as QEMU's portio.
func (v *VGA) vbeIn(port uint16) uint32 {
	switch port {
	case vbePortIndex:
		return uint32(v.vbeIndex)
	case vbePortData, vbePortData2:
		return uint32(v.vbeReadData())
	}
	return 0xffff
}

func (v *VGA) vbeOut(port uint16, size int, val uint32) {
	if size > 2 {
		// A dword access is two word accesses, the second one to the
		// next port (index then data when aimed at 0x1CE).
		v.vbeOut(port, 2, val&0xffff)
		v.vbeOut(port+2, 2, val>>16)
		return
	}
	switch port {
	case vbePortIndex:
		v.vbeIndex = uint16(val)
	case vbePortData, vbePortData2:
		v.vbeWriteData(uint16(val))
	}
}

// VBEActive reports whether a VBE mode is enabled.
func (v *VGA) VBEActive() bool { return v.vbeRegs[vbeIndexEnable]&VBEEnabled != 0 }

func (v *VGA) vbeReadData() uint16 {
	i := v.vbeIndex
	switch {
	case i < vbeRegCount:
		if v.vbeRegs[vbeIndexEnable]&VBEGetCaps != 0 {
			switch i {
			case vbeIndexXRes:
				return vbeMaxXRes
			case vbeIndexYRes:
				return vbeMaxYRes
			case vbeIndexBPP:
				return vbeMaxBPP
			}
		}
		return v.vbeRegs[i]
	case i == vbeIndexVideoMem:
		return uint16(len(v.vram) >> 16)
	}
	return 0
}

func (v *VGA) vbeWriteData(val uint16) {
	r := &v.vbeRegs
	switch v.vbeIndex {
	case vbeIndexID:
		if val >= vbeID0 && val <= vbeID5 {
			r[vbeIndexID] = val
		}
	case vbeIndexXRes, vbeIndexYRes, vbeIndexBPP, vbeIndexVirtWidth, vbeIndexXOffset, vbeIndexYOffset:
		r[v.vbeIndex] = val
		v.vbeFixup()
	case vbeIndexBank:
		if r[vbeIndexBPP] == 4 {
			val &= v.bankMask >> 2 // planar banks are 256 KiB of VRAM
		} else {
			val &= v.bankMask
		}
		r[vbeIndexBank] = val
		v.bankOff = uint32(val) << 16
	case vbeIndexEnable:
		if val&VBEEnabled != 0 && r[vbeIndexEnable]&VBEEnabled == 0 {
			v.vbeEnable(val)
		} else {
			v.bankOff = 0
		}
		v.dac8bit = val&VBE8BitDAC != 0
		r[vbeIndexEnable] = val
		v.markAllDirty()
		v.updateWritePath()
	}
}

// vbeEnable switches to a VBE mode: it validates the geometry, clears the
// visible screen unless NOCLEARMEM, and programs the VGA registers so the
// legacy window and the VGA view agree with the mode (QEMU does the same).
func (v *VGA) vbeEnable(val uint16) {
	r := &v.vbeRegs
	r[vbeIndexVirtWidth] = 0
	r[vbeIndexXOffset] = 0
	r[vbeIndexYOffset] = 0
	r[vbeIndexEnable] |= VBEEnabled
	v.vbeFixup()
	if val&VBENoClearMem == 0 {
		n := min(uint64(r[vbeIndexYRes])*uint64(v.vbeLine), uint64(len(v.vram)))
		clear(v.vram[:n])
	}
	// Graphics mode, memory map 1 (A0000, 64 KiB banked).
	v.gr[6] = v.gr[6]&^0x0c | 0x04 | 0x01
	v.cr[0x17] |= 3 // no CGA/Hercules address wrapping
	v.cr[0x13] = byte(v.vbeLine >> 3)
	v.cr[0x01] = byte(r[vbeIndexXRes]>>3 - 1)
	h := int(r[vbeIndexYRes]) - 1
	v.cr[0x12] = byte(h)
	v.cr[0x07] = v.cr[0x07]&^0x42 | byte(h>>7)&0x02 | byte(h>>3)&0x40
	v.cr[0x18] = 0xff // line compare out of reach
	v.cr[0x07] |= 0x10
	v.cr[0x09] |= 0x40
	var shift byte
	if r[vbeIndexBPP] == 4 {
		v.sr[1] &^= 8 // no dot clock halving
	} else {
		shift = 2
		v.sr[4] |= 0x08 // chain-4
		v.sr[2] |= 0x0f // all planes
	}
	v.gr[5] = v.gr[5]&^0x60 | shift<<5
	v.cr[0x09] &^= 0x9f // no double scan
	v.updateWritePath()
}

// vbeFixup clamps the mode registers to what fits (QEMU's vbe_fixup_regs):
// the dispi interface cannot report errors, so bad values become the
// nearest valid ones.
func (v *VGA) vbeFixup() {
	r := &v.vbeRegs
	if r[vbeIndexEnable]&VBEEnabled == 0 {
		return
	}
	var bits uint32
	switch r[vbeIndexBPP] {
	case 4, 8, 16, 24, 32:
		bits = uint32(r[vbeIndexBPP])
	case 15:
		bits = 16
	default:
		r[vbeIndexBPP] = 8
		bits = 8
	}
	r[vbeIndexXRes] &^= 7
	if r[vbeIndexXRes] == 0 {
		r[vbeIndexXRes] = 8
	}
	r[vbeIndexXRes] = min(r[vbeIndexXRes], vbeMaxXRes)
	r[vbeIndexVirtWidth] &^= 7
	r[vbeIndexVirtWidth] = min(r[vbeIndexVirtWidth], vbeMaxXRes)
	r[vbeIndexVirtWidth] = max(r[vbeIndexVirtWidth], r[vbeIndexXRes])

	size := uint32(len(v.vram))
	line := uint32(r[vbeIndexVirtWidth]) * bits / 8
	maxY := size / line
	if r[vbeIndexYRes] == 0 {
		r[vbeIndexYRes] = 1
	}
	r[vbeIndexYRes] = min(r[vbeIndexYRes], vbeMaxYRes)
	if uint32(r[vbeIndexYRes]) > maxY {
		r[vbeIndexYRes] = uint16(maxY)
	}
	r[vbeIndexXOffset] = min(r[vbeIndexXOffset], vbeMaxXRes)
	r[vbeIndexYOffset] = min(r[vbeIndexYOffset], vbeMaxYRes)
	off := uint32(r[vbeIndexXOffset])*bits/8 + uint32(r[vbeIndexYOffset])*line
	if off+uint32(r[vbeIndexYRes])*line > size {
		r[vbeIndexYOffset] = 0
		off = uint32(r[vbeIndexXOffset]) * bits / 8
		if off+uint32(r[vbeIndexYRes])*line > size {
			r[vbeIndexXOffset] = 0
			off = 0
		}
	}
	r[vbeIndexVirtHeight] = uint16(min(maxY, 0xffff))
	v.vbeLine = line
	v.vbeStart = off / 4
}
