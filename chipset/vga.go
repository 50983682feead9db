package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"

	"fuji/mem"
)

// VGA is a standard IBM VGA with the Bochs VBE "dispi" extension, modelled
// on QEMU's std VGA (VGACommonState). It owns 16 MiB of video RAM: the VBE
// linear framebuffer is that RAM byte for byte, and its first 256 KiB also
// back the four VGA planes.
//
// Plane layout (QEMU's): the planes are interleaved, plane p's byte at
// plane offset d lives at vram[d*4+p], so the four latches of one plane
// offset are one little-endian uint32. CPU addresses map to plane offsets
// as QEMU maps them:
//
//	chain-4 (SR4 bit 3):   plane = a&3, offset = a>>2   (vram[a] — linear)
//	odd/even:              plane = a&1 (+GR4 bit 1 on reads), offset = a>>1
//	planar:                all planes, offset = a
//
// so mode 13h is linear bytes at vram[0..], and text cell i keeps its
// character at vram[i*4] (plane 0) and its attribute at vram[i*4+1]
// (plane 1); fonts are in plane 2 (vram[d*4+2]).
//
// Ports: 0x3C0-0x3CF, 0x3B4/0x3B5/0x3BA (mono) or 0x3D4/0x3D5/0x3DA
// (colour) by Misc Output bit 0, and the VBE ports 0x1CE/0x1CF/0x1D0.
// VGA implements mem.PortHandler for all of them and mem.MMIOHandler for
// the legacy window 0xA0000-0xBFFFF (offsets relative to 0xA0000). LFB
// returns the handler of the linear framebuffer.
type VGA struct {
	vram  []byte
	latch uint32

	srIndex byte
	sr      [8]byte
	grIndex byte
	gr      [16]byte
	arIndex byte
	ar      [21]byte
	arFlip  byte
	crIndex byte
	cr      [256]byte
	msr     byte
	fcr     byte
	st00    byte
	st01    byte

	pelMask   byte
	dacState  byte
	dacSub    byte
	dacRead   byte
	dacWrite  byte
	dacCache  [3]byte
	dac8bit   bool
	palette   [768]byte
	bankOff   uint32
	vbeIndex  uint16
	vbeRegs   [vbeRegCount]uint16
	vbeStart  uint32 // in 32-bit words, as QEMU's vbe_start_addr
	vbeLine   uint32 // bytes per scanline
	bankMask  uint16
	fastWrite bool // CPU bytes go straight to the enabled planes (see updateWritePath)

	// dirty has one bit per 4 KiB page of vram written since the last
	// TakeDirty, so a renderer can skip unchanged regions.
	dirty [VRAMSize / 4096 / 64]uint64

	lfb lfbHandler
}

// VRAMSize is the video memory of the std VGA (QEMU's vgamem_mb=16).
const VRAMSize = 16 << 20

// VGA port numbers.
const (
	vgaATTW  = 0x3C0
	vgaATTR  = 0x3C1
	vgaMISW  = 0x3C2 // write Misc Output; read Input Status 0
	vgaSEQI  = 0x3C4
	vgaSEQD  = 0x3C5
	vgaPELM  = 0x3C6
	vgaPELIR = 0x3C7
	vgaPELIW = 0x3C8
	vgaPELD  = 0x3C9
	vgaFTCR  = 0x3CA
	vgaMISR  = 0x3CC
	vgaGFXI  = 0x3CE
	vgaGFXD  = 0x3CF
	vgaCRTIM = 0x3B4
	vgaCRTDM = 0x3B5
	vgaIS1RM = 0x3BA
	vgaCRTIC = 0x3D4
	vgaCRTDC = 0x3D5
	vgaIS1RC = 0x3DA
)

// Input Status 1 bits.
const (
	st01DispEnable = 0x01
	st01VRetrace   = 0x08
)

// Writable-bit masks of the sequencer and graphics controller registers
// (reserved bits read as zero), as QEMU's sr_mask/gr_mask.
var (
	srMask = [8]byte{0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff}
	grMask = [16]byte{0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff}
)

// mask16 expands a 4-bit plane mask into a byte mask per plane.
var mask16 = [16]uint32{
	0x00000000, 0x000000ff, 0x0000ff00, 0x0000ffff,
	0x00ff0000, 0x00ff00ff, 0x00ffff00, 0x00ffffff,
	0xff000000, 0xff0000ff, 0xff00ff00, 0xff00ffff,
	0xffff0000, 0xffff00ff, 0xffffff00, 0xffffffff,
}

// NewVGA returns a VGA in its power-on state.
func NewVGA() *VGA {
	v := &VGA{vram: make([]byte, VRAMSize)}
	v.lfb.v = v
	v.Reset()
	return v
}

// Reset puts the registers in their power-on state (all zero, as QEMU;
// the VGA BIOS programs a mode). Video memory is kept, as on hardware.
func (v *VGA) Reset() {
	v.latch = 0
	v.srIndex, v.sr = 0, [8]byte{}
	v.grIndex, v.gr = 0, [16]byte{}
	v.arIndex, v.ar, v.arFlip = 0, [21]byte{}, 0
	v.crIndex, v.cr = 0, [256]byte{}
	v.msr, v.fcr, v.st00, v.st01 = 0, 0, 0, 0
	v.pelMask = 0xff
	v.dacState, v.dacSub, v.dacRead, v.dacWrite = 0, 0, 0, 0
	v.dacCache = [3]byte{}
	v.dac8bit = false
	v.palette = [768]byte{}
	v.bankOff = 0
	v.vbeIndex = 0
	v.vbeRegs = [vbeRegCount]uint16{}
	v.vbeRegs[vbeIndexID] = vbeID5
	v.vbeStart, v.vbeLine = 0, 0
	v.bankMask = uint16(VRAMSize>>16) - 1
	v.updateWritePath()
	v.markAllDirty()
}

// Attach registers the VGA and VBE ports and maps the legacy window at
// 0xA0000-0xBFFFF.
func (v *VGA) Attach(ports *mem.PortBus, bus *mem.Bus) error {
	ports.Register(0x3B4, 0x3B5, v)
	ports.Register(0x3BA, 0x3BA, v)
	ports.Register(0x3C0, 0x3CF, v)
	ports.Register(0x3D4, 0x3D5, v)
	ports.Register(0x3DA, 0x3DA, v)
	// 0x1D1 is claimed only so that a 16-bit access at 0x1D0 reaches us
	// whole; it is not a register.
	ports.Register(vbePortIndex, vbePortData2+1, v)
	return bus.MapMMIO("vga-lowmem", 0xA0000, 0x20000, v)
}

// In implements mem.PortHandler. Multi-byte accesses to the VGA ports are
// byte accesses to consecutive ports, low byte first.
func (v *VGA) In(port uint16, size int) uint32 {
	if port >= vbePortIndex && port <= vbePortData2+1 {
		return v.vbeIn(port)
	}
	var r uint32
	for i := 0; i < size; i++ {
		r |= uint32(v.ioRead(port+uint16(i))) << (8 * i)
	}
	return r
}

// Out implements mem.PortHandler (see In). A word write to an index port
// thus sets the index, then the data register.
func (v *VGA) Out(port uint16, size int, val uint32) {
	if port >= vbePortIndex && port <= vbePortData2+1 {
		v.vbeOut(port, size, val)
		return
	}
	for i := 0; i < size; i++ {
		v.ioWrite(port+uint16(i), byte(val>>(8*i)))
	}
}

// ioInvalid reports whether port belongs to the inactive CRTC block
// (mono ports in colour mode and vice versa).
func (v *VGA) ioInvalid(port uint16) bool {
	if v.msr&1 != 0 {
		return port >= 0x3B0 && port <= 0x3BF
	}
	return port >= 0x3D0 && port <= 0x3DF
}

func (v *VGA) ioRead(port uint16) byte {
	if v.ioInvalid(port) {
		return 0xff
	}
	switch port {
	case vgaATTW:
		if v.arFlip == 0 {
			return v.arIndex
		}
		return 0
	case vgaATTR:
		if i := v.arIndex & 0x1f; int(i) < len(v.ar) {
			return v.ar[i]
		}
		return 0
	case vgaMISW:
		return v.st00
	case vgaSEQI:
		return v.srIndex
	case vgaSEQD:
		return v.sr[v.srIndex&7]
	case vgaPELM:
		return v.pelMask
	case vgaPELIR:
		return v.dacState
	case vgaPELIW:
		return v.dacWrite
	case vgaPELD:
		r := v.palette[int(v.dacRead)*3+int(v.dacSub)]
		if v.dacSub++; v.dacSub == 3 {
			v.dacSub = 0
			v.dacRead++
		}
		return r
	case vgaFTCR:
		return v.fcr
	case vgaMISR:
		return v.msr
	case vgaGFXI:
		return v.grIndex
	case vgaGFXD:
		return v.gr[v.grIndex&15]
	case vgaCRTIM, vgaCRTIC:
		return v.crIndex
	case vgaCRTDM, vgaCRTDC:
		return v.cr[v.crIndex]
	case vgaIS1RM, vgaIS1RC:
		// Toggle retrace and display enable on every read, as QEMU's
		// default: any polling loop (wait for retrace, wait for its end)
		// terminates, and the run stays deterministic.
		v.st01 ^= st01VRetrace | st01DispEnable
		v.arFlip = 0
		return v.st01
	}
	return 0
}

func (v *VGA) ioWrite(port uint16, val byte) {
	if v.ioInvalid(port) {
		return
	}
	switch port {
	case vgaATTW:
		if v.arFlip == 0 {
			v.arIndex = val & 0x3f // bit 5 is the PAS bit
		} else {
			switch i := v.arIndex & 0x1f; {
			case i <= 0x0f:
				v.ar[i] = val & 0x3f
			case i == 0x10:
				v.ar[i] = val &^ 0x10
			case i == 0x11:
				v.ar[i] = val
			case i == 0x12:
				v.ar[i] = val &^ 0xc0
			case i == 0x13, i == 0x14:
				v.ar[i] = val &^ 0xf0
			}
		}
		v.arFlip ^= 1
	case vgaMISW:
		v.msr = val &^ 0x10
	case vgaSEQI:
		v.srIndex = val & 7
	case vgaSEQD:
		i := v.srIndex & 7
		v.sr[i] = val & srMask[i]
		v.updateWritePath()
	case vgaPELM:
		v.pelMask = val
	case vgaPELIR:
		v.dacRead = val
		v.dacSub = 0
		v.dacState = 3
	case vgaPELIW:
		v.dacWrite = val
		v.dacSub = 0
		v.dacState = 0
	case vgaPELD:
		if !v.dac8bit {
			val &= 0x3f // the VGA DAC holds 6 bits per gun
		}
		v.dacCache[v.dacSub] = val
		if v.dacSub++; v.dacSub == 3 {
			copy(v.palette[int(v.dacWrite)*3:], v.dacCache[:])
			v.dacSub = 0
			v.dacWrite++
		}
	case vgaGFXI:
		v.grIndex = val & 0x0f
	case vgaGFXD:
		i := v.grIndex & 15
		v.gr[i] = val & grMask[i]
		v.updateWritePath()
	case vgaCRTIM, vgaCRTIC:
		v.crIndex = val
	case vgaCRTDM, vgaCRTDC:
		// CR11 bit 7 write-protects CR0-CR7, except CR7 bit 4
		// (line compare bit 8).
		if v.cr[0x11]&0x80 != 0 && v.crIndex <= 7 {
			if v.crIndex == 7 {
				v.cr[7] = v.cr[7]&^0x10 | val&0x10
			}
			return
		}
		v.cr[v.crIndex] = val
	case vgaIS1RM, vgaIS1RC:
		v.fcr = val & 0x10
	}
}

// updateWritePath recomputes fastWrite after a register change. Under a
// packed-pixel VBE mode the banked window bypasses the VGA pipeline, as
// SVGA hardware and QEMU do.
func (v *VGA) updateWritePath() {
	v.fastWrite = v.gr[5]&3 == 0 && v.gr[3] == 0 && v.gr[1] == 0 && v.gr[8] == 0xff ||
		v.vbeRegs[vbeIndexEnable]&VBEEnabled != 0 && v.sr[4]&0x08 != 0
}

// memOffset turns an offset in the 0xA0000-0xBFFFF window into a VGA
// memory address by the memory map select (GR6 bits 2-3), or reports
// that the window is not decoded there.
func (v *VGA) memOffset(off uint64) (uint32, bool) {
	a := uint32(off) & 0x1ffff
	switch (v.gr[6] >> 2) & 3 {
	case 0: // A0000-BFFFF
		return a, true
	case 1: // A0000-AFFFF, banked under VBE
		if a >= 0x10000 {
			return 0, false
		}
		return a + v.bankOff, true
	case 2: // B0000-B7FFF
		a -= 0x10000
		return a, a < 0x8000
	default: // B8000-BFFFF
		a -= 0x18000
		return a, a < 0x8000
	}
}

// ReadMMIO implements mem.MMIOHandler for the legacy window; wider
// accesses are byte reads low byte first, as QEMU's 1-byte vga-lowmem.
func (v *VGA) ReadMMIO(off uint64, size int) uint64 {
	var r uint64
	for i := 0; i < size; i++ {
		r |= uint64(v.memRead(off+uint64(i))) << (8 * i)
	}
	return r
}

// WriteMMIO implements mem.MMIOHandler for the legacy window.
func (v *VGA) WriteMMIO(off uint64, size int, val uint64) {
	for i := 0; i < size; i++ {
		v.memWrite(off+uint64(i), byte(val>>(8*i)))
	}
}

// memRead is a CPU read of one byte: it loads the four latches and
// returns a plane byte (read mode 0) or the colour compare result
// (read mode 1).
func (v *VGA) memRead(off uint64) byte {
	a, ok := v.memOffset(off)
	if !ok {
		return 0xff
	}
	var d uint32
	var plane byte
	switch {
	case v.sr[4]&0x08 != 0: // chain-4
		d, plane = a>>2, byte(a&3)
	case v.gr[5]&0x10 != 0: // host odd/even reads
		d, plane = a>>1, v.gr[4]&2|byte(a&1)
	default:
		d, plane = a, v.gr[4]&3
	}
	if uint64(d)*4 >= uint64(len(v.vram)) {
		return 0xff
	}
	v.latch = binary.LittleEndian.Uint32(v.vram[d*4:])
	if v.gr[5]&0x08 == 0 {
		return byte(v.latch >> (8 * plane))
	}
	// Read mode 1: a bit is 1 where every plane enabled in Color Don't
	// Care matches the Color Compare value.
	r := (v.latch ^ mask16[v.gr[2]&15]) & mask16[v.gr[7]&15]
	r |= r >> 16
	r |= r >> 8
	return ^byte(r)
}

// memWrite is a CPU write of one byte through the graphics controller's
// write pipeline and the sequencer's map mask.
func (v *VGA) memWrite(off uint64, val byte) {
	a, ok := v.memOffset(off)
	if !ok {
		return
	}
	var d uint32
	var planes byte
	switch {
	case v.sr[4]&0x08 != 0: // chain-4: A0-A1 select the plane
		d, planes = a>>2, 1<<(a&3)
	case v.sr[4]&0x04 == 0: // odd/even: even addresses to planes 0/2, odd to 1/3
		d, planes = a>>1, 0x5<<(a&1)
	default:
		d, planes = a, 0x0f
	}
	planes &= v.sr[2]
	if planes == 0 || uint64(d)*4 >= uint64(len(v.vram)) {
		return
	}
	p := v.vram[d*4 : d*4+4 : d*4+4]
	v.dirty[d>>16] |= 1 << ((d >> 10) & 63)
	if v.fastWrite {
		// Mode 13h and text output: the pipeline is the identity.
		for i := 0; i < 4; i++ {
			if planes&(1<<i) != 0 {
				p[i] = val
			}
		}
		return
	}
	var w, bitMask uint32
	switch v.gr[5] & 3 {
	case 0:
		b := v.gr[3] & 7
		r := uint32(val>>b | val<<(8-b))
		w = r * 0x01010101
		se := mask16[v.gr[1]&15]
		w = w&^se | mask16[v.gr[0]&15]&se
		bitMask = uint32(v.gr[8])
	case 1:
		// Write mode 1 copies the latches; no logic op, no bit mask.
		v.storeMasked(p, v.latch, planes)
		return
	case 2:
		w = mask16[val&15]
		bitMask = uint32(v.gr[8])
	case 3:
		b := v.gr[3] & 7
		r := val>>b | val<<(8-b)
		bitMask = uint32(v.gr[8] & r)
		w = mask16[v.gr[0]&15]
	}
	switch v.gr[3] >> 3 & 3 {
	case 1:
		w &= v.latch
	case 2:
		w |= v.latch
	case 3:
		w ^= v.latch
	}
	bitMask *= 0x01010101
	w = w&bitMask | v.latch&^bitMask
	v.storeMasked(p, w, planes)
}

func (v *VGA) storeMasked(p []byte, w uint32, planes byte) {
	m := mask16[planes&15]
	old := binary.LittleEndian.Uint32(p)
	binary.LittleEndian.PutUint32(p, old&^m|w&m)
}

func (v *VGA) markAllDirty() {
	for i := range v.dirty {
		v.dirty[i] = ^uint64(0)
	}
}

// TakeDirty returns, one bit per 4 KiB page of VRAM (bit i of word j is
// page j*64+i), what was written through the legacy window or the LFB
// since the last call, and clears it. dst is reused when large enough.
func (v *VGA) TakeDirty(dst []uint64) []uint64 {
	dst = append(dst[:0], v.dirty[:]...)
	clear(v.dirty[:])
	return dst
}

// lfbHandler serves the linear framebuffer (PCI BAR0): VRAM byte for byte.
type lfbHandler struct{ v *VGA }

// LFB returns the MMIO handler of the linear framebuffer, offset 0 being
// the first byte of VRAM.
func (v *VGA) LFB() mem.MMIOHandler { return &v.lfb }

func (h *lfbHandler) ReadMMIO(off uint64, size int) uint64 {
	vr := h.v.vram
	if off+uint64(size) > uint64(len(vr)) {
		var r uint64
		for i := 0; i < size; i++ {
			if o := off + uint64(i); o < uint64(len(vr)) {
				r |= uint64(vr[o]) << (8 * i)
			}
		}
		return r
	}
	s := vr[off:]
	switch size {
	case 1:
		return uint64(s[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(s))
	case 4:
		return uint64(binary.LittleEndian.Uint32(s))
	default:
		return binary.LittleEndian.Uint64(s)
	}
}

func (h *lfbHandler) WriteMMIO(off uint64, size int, val uint64) {
	v := h.v
	vr := v.vram
	if off >= uint64(len(vr)) {
		return
	}
	v.dirty[off>>18] |= 1 << ((off >> 12) & 63)
	if off+uint64(size) > uint64(len(vr)) {
		for i := 0; i < size; i++ {
			if o := off + uint64(i); o < uint64(len(vr)) {
				vr[o] = byte(val >> (8 * i))
			}
		}
		return
	}
	if last := off + uint64(size) - 1; last>>12 != off>>12 {
		v.dirty[last>>18] |= 1 << ((last >> 12) & 63)
	}
	s := vr[off:]
	switch size {
	case 1:
		s[0] = byte(val)
	case 2:
		binary.LittleEndian.PutUint16(s, uint16(val))
	case 4:
		binary.LittleEndian.PutUint32(s, uint32(val))
	default:
		binary.LittleEndian.PutUint64(s, val)
	}
}

// DisplayMode says how the renderer must interpret video memory.
type DisplayMode uint8

// Display modes, as QEMU's renderer picks them.
const (
	// DisplayBlank: the attribute controller's PAS bit (0x3C0 index bit
	// 5) is clear, so the CPU owns the palette and the screen is blank.
	DisplayBlank DisplayMode = iota
	// DisplayText: alphanumeric mode (GR6 bit 0 clear). See TextScreen.
	DisplayText
	// DisplayPlanar16: 16 colours from four planes, one bit per plane
	// per pixel, MSB first (GR5 shift mode 0). Modes 0Dh-12h, VBE 4 bpp.
	DisplayPlanar16
	// DisplayCGA4: 4 colours, two bits per pixel interleaved across
	// planes 0/1 (GR5 shift mode 1, "shift register interleave").
	// Modes 04h-06h.
	DisplayCGA4
	// DisplayChain256: 256 colours, one byte per pixel (GR5 shift mode
	// 2/3). Mode 13h and unchained "mode X".
	DisplayChain256
	// DisplayLinear: a VBE mode of 8, 15, 16, 24 or 32 bpp, pixels
	// packed from VRAM offset StartByte with Stride bytes per line
	// (15: xRRRRRGGGGGBBBBB, 16: RRRRRGGGGGGBBBBB, 24/32: B,G,R[,x]).
	DisplayLinear
)

// String names the mode for dumps and logs.
func (m DisplayMode) String() string {
	switch m {
	case DisplayBlank:
		return "blank"
	case DisplayText:
		return "text"
	case DisplayPlanar16:
		return "planar16"
	case DisplayCGA4:
		return "cga4"
	case DisplayChain256:
		return "chain256"
	case DisplayLinear:
		return "linear"
	}
	return "unknown"
}

// Display is a snapshot of the state a renderer turns into pixels. It
// holds values and copies; only VRAM aliases the device's memory (read
// it, never write it). Offsets into VRAM follow the interleaved plane
// layout described on VGA: plane p's byte at plane offset d is
// VRAM[d*4+p].
type Display struct {
	Mode DisplayMode

	// Width and Height are the mode's resolution: pixels in graphics
	// modes (320x200 for mode 13h, 640x480 for 12h, XRES x YRES under
	// VBE), character cells in text mode.
	Width, Height int
	// BPP is the VBE depth (4, 8, 15, 16, 24, 32) in VBE modes, else 0.
	BPP int

	// StartAddr is the CRTC start address (CR0C/CR0D) in plane offsets
	// (i.e. VRAM bytes / 4), or under VBE the first visible byte / 4.
	StartAddr uint32
	// StartByte is StartAddr*4: the VRAM byte of the first pixel/cell.
	StartByte uint32
	// Stride is the distance between scanlines (graphics) or text rows
	// in VRAM bytes: CR13*8 (QEMU's line_offset), or the VBE line length.
	Stride uint32
	// LineCompare is the scanline at which the display restarts at VRAM
	// offset 0 (split screen); 65535 under VBE.
	LineCompare int
	// ScanLines is how many display scanlines each line of pixels (or,
	// in text mode, each character row's glyph line) takes vertically: 2
	// for mode 13h's double scan, 1 for VBE.
	ScanLines int
	// DotDouble is set when the sequencer halves the dot clock (SR1 bit
	// 3): each pixel is shown twice as wide.
	DotDouble bool
	// PelPanning is the attribute controller's horizontal pel panning
	// (AR13) in pixels.
	PelPanning int
	// CGAWrap / HercWrap are the CRTC mode control address wraps (CR17
	// bits 0/1 clear): on odd scanlines address bit 13 (CGA) and on
	// scanlines 2/3 mod 4 bit 14 (Hercules) of the byte address are set.
	CGAWrap, HercWrap bool

	// Palette is the DAC: 256 RGB entries scaled to 8 bits per gun
	// (6-bit values expanded unless the VBE 8-bit DAC is on).
	Palette [256][3]uint8
	// PelMask is ANDed with a pixel's colour index before the DAC.
	PelMask uint8
	// AttrPalette maps a 4-bit colour (text attribute nibble or planar
	// pixel, after PlaneEnable) to a DAC index: AR0-AR15 combined with
	// the colour select register (AR14) by AR10 bit 7.
	AttrPalette [16]uint8
	// PlaneEnable is AR12's colour plane enable mask (ANDed with a
	// planar pixel before AttrPalette).
	PlaneEnable uint8
	// Overscan is the border's DAC index (AR11).
	Overscan uint8

	// Raw registers, for what the fields above do not digest.
	Seq     [8]uint8
	Graph   [16]uint8
	Attr    [21]uint8
	CRTC    [25]uint8
	MiscOut uint8

	// VRAM is the whole video memory (aliased, read-only for you).
	VRAM []byte
}

// Display returns the current display state.
func (v *VGA) Display() Display {
	d := Display{
		PelMask:     v.pelMask,
		PlaneEnable: v.ar[0x12] & 0x0f,
		Overscan:    v.ar[0x11],
		MiscOut:     v.msr,
		Seq:         v.sr,
		Graph:       v.gr,
		Attr:        v.ar,
		VRAM:        v.vram,
		PelPanning:  int(v.ar[0x13] & 0x0f),
		DotDouble:   v.sr[1]&0x08 != 0,
		CGAWrap:     v.cr[0x17]&1 == 0,
		HercWrap:    v.cr[0x17]&2 == 0,
	}
	copy(d.CRTC[:], v.cr[:25])
	for i := range d.Palette {
		for c := 0; c < 3; c++ {
			x := v.palette[i*3+c]
			if !v.dac8bit {
				x &= 0x3f
				x = x<<2 | x>>4
			}
			d.Palette[i][c] = x
		}
	}
	for i := range d.AttrPalette {
		d.AttrPalette[i] = v.attrColor(i)
	}

	vbe := v.VBEActive()
	if vbe {
		d.Stride = v.vbeLine
		d.StartAddr = v.vbeStart
		d.LineCompare = 65535
		d.BPP = int(v.vbeRegs[vbeIndexBPP])
	} else {
		d.Stride = uint32(v.cr[0x13]) << 3
		d.StartAddr = uint32(v.cr[0x0c])<<8 | uint32(v.cr[0x0d])
		d.LineCompare = int(v.cr[0x18]) | int(v.cr[0x07]&0x10)<<4 | int(v.cr[0x09]&0x40)<<3
	}
	d.StartByte = d.StartAddr * 4

	switch {
	case v.arIndex&0x20 == 0:
		d.Mode = DisplayBlank
		return d
	case v.gr[6]&1 == 0:
		d.Mode = DisplayText
		t := v.textGeometry()
		d.Width, d.Height, d.ScanLines = t.cols, t.rows, 1
		if v.cr[0x09]&0x80 != 0 {
			d.ScanLines = 2
		}
		return d
	}
	switch (v.gr[5] >> 5) & 3 {
	case 0:
		d.Mode = DisplayPlanar16
	case 1:
		d.Mode = DisplayCGA4
	default:
		d.Mode = DisplayChain256
		if vbe && d.BPP >= 8 {
			d.Mode = DisplayLinear
		}
	}
	if vbe {
		d.Width, d.Height, d.ScanLines = int(v.vbeRegs[vbeIndexXRes]), int(v.vbeRegs[vbeIndexYRes]), 1
		d.DotDouble = false
		return d
	}
	// Double scan (CR9 bit 7) and the maximum scan line (CR9 bits 0-4)
	// both repeat each pixel row.
	d.ScanLines = (int(v.cr[0x09]&0x1f) + 1) << (v.cr[0x09] >> 7)
	d.Width = (int(v.cr[0x01]) + 1) * 8
	if d.Mode == DisplayChain256 {
		d.Width /= 2 // two dot clocks per 8-bit pixel
	}
	d.Height = v.vertDisplay() / d.ScanLines
	return d
}

// attrColor is the DAC index of 4-bit colour i through the attribute
// controller's palette and colour select.
func (v *VGA) attrColor(i int) uint8 {
	c := v.ar[i&15]
	if v.ar[0x10]&0x80 != 0 {
		return (v.ar[0x14]&0x0f)<<4 | c&0x0f
	}
	return (v.ar[0x14]&0x0c)<<4 | c&0x3f
}

// vertDisplay is the number of displayed scanlines (CR12 + overflow + 1).
func (v *VGA) vertDisplay() int {
	return (int(v.cr[0x12]) | int(v.cr[0x07]&0x02)<<7 | int(v.cr[0x07]&0x40)<<3) + 1
}

type textGeom struct{ cols, rows, cw, ch int }

func (v *VGA) textGeometry() textGeom {
	g := textGeom{cols: int(v.cr[0x01]) + 1, ch: int(v.cr[0x09]&0x1f) + 1, cw: 9}
	if v.sr[1]&0x01 != 0 {
		g.cw = 8
	}
	if v.sr[1]&0x08 != 0 {
		g.cw *= 2
	}
	g.rows = v.vertDisplay() / g.ch
	if v.cr[0x09]&0x80 != 0 {
		g.rows /= 2
	}
	return g
}

// TextCell is one character cell: the code point and its attribute byte
// (bits 0-3 foreground, 4-6 background, 7 blink or bright background by
// AR10 bit 3).
type TextCell struct {
	Char, Attr byte
}

// TextScreen is the alphanumeric screen in a form a dump or a renderer
// reads directly.
type TextScreen struct {
	Cols, Rows int
	// Cells holds Rows*Cols cells, row-major.
	Cells []TextCell
	// CharWidth (8 or 9, doubled by SR1 bit 3) and CharHeight (CR9 + 1)
	// are the glyph cell size in pixels.
	CharWidth, CharHeight int
	// CursorCol/CursorRow locate the hardware cursor (CR0E/CR0F minus
	// the start address); CursorVisible is false when CR0A bit 5
	// disables it or it is off screen.
	CursorCol, CursorRow int
	CursorVisible        bool
	// CursorStart and CursorEnd are the cursor's first and last glyph
	// scanlines (CR0A/CR0B bits 0-4); no cursor is drawn if start > end.
	CursorStart, CursorEnd int
	// FontA and FontB are the VRAM plane-2 offsets of the character
	// maps selected by SR3 (attribute bit 3 picks B when they differ).
	// Glyph c, line l is at VRAM[(Font+c*32+l)*4+2].
	FontA, FontB uint32
	// BlinkEnabled is AR10 bit 3: attribute bit 7 blinks instead of
	// selecting a bright background.
	BlinkEnabled bool
}

// TextScreen returns the text screen, or false when not in an
// alphanumeric mode. Cells come from plane 0 (character) and plane 1
// (attribute) starting at the CRTC start address, Stride/4 cells apart
// per row (QEMU's layout).
func (v *VGA) TextScreen() (TextScreen, bool) {
	if v.arIndex&0x20 == 0 || v.gr[6]&1 != 0 || v.VBEActive() {
		return TextScreen{}, false
	}
	g := v.textGeometry()
	if g.cols <= 0 || g.rows <= 0 || g.cols*g.rows > 256*256 {
		return TextScreen{}, false
	}
	t := TextScreen{
		Cols: g.cols, Rows: g.rows, CharWidth: g.cw, CharHeight: g.ch,
		Cells:        make([]TextCell, g.cols*g.rows),
		CursorStart:  int(v.cr[0x0a] & 0x1f),
		CursorEnd:    int(v.cr[0x0b] & 0x1f),
		BlinkEnabled: v.ar[0x10]&0x08 != 0,
	}
	sel := v.sr[3]
	t.FontA = uint32((sel>>4)&1|(sel<<1)&6) * 8192
	t.FontB = uint32((sel>>5)&1|(sel>>1)&6) * 8192
	start := uint32(v.cr[0x0c])<<8 | uint32(v.cr[0x0d])
	stride := uint32(v.cr[0x13]) * 2 // cells per row
	const planeMask = 0xffff         // the text address counter wraps in a 64 KiB plane
	for r := 0; r < g.rows; r++ {
		for c := 0; c < g.cols; c++ {
			d := (start + uint32(r)*stride + uint32(c)) & planeMask
			t.Cells[r*g.cols+c] = TextCell{Char: v.vram[d*4], Attr: v.vram[d*4+1]}
		}
	}
	cur := int(uint32(v.cr[0x0e])<<8|uint32(v.cr[0x0f])) - int(start)
	if stride > 0 && cur >= 0 {
		t.CursorRow, t.CursorCol = cur/int(stride), cur%int(stride)
	} else {
		t.CursorRow, t.CursorCol = -1, -1
	}
	t.CursorVisible = v.cr[0x0a]&0x20 == 0 && t.CursorRow >= 0 && t.CursorRow < g.rows &&
		t.CursorCol < g.cols
	return t, true
}

// VRAM returns the video memory (aliased; callers only read it).
func (v *VGA) VRAM() []byte { return v.vram }

// Plane returns a copy of plane p (0-3): 64 KiB, plane offset order.
func (v *VGA) Plane(p int) []byte {
	out := make([]byte, 0x10000)
	p &= 3
	for d := range out {
		out[d] = v.vram[d*4+p]
	}
	return out
}

// PaletteDAC returns the DAC entries as stored: 6-bit values, or 8-bit
// with the VBE 8-bit DAC on (see Display.Palette for scaled values).
func (v *VGA) PaletteDAC() [256][3]uint8 {
	var p [256][3]uint8
	for i := range p {
		copy(p[i][:], v.palette[i*3:i*3+3])
	}
	return p
}

// vgaState is the register state in Save's fixed-size encoding.
type vgaState struct {
	Latch                              uint32
	SRIndex                            uint8
	SR                                 [8]uint8
	GRIndex                            uint8
	GR                                 [16]uint8
	ARIndex                            uint8
	AR                                 [21]uint8
	ARFlip                             uint8
	CRIndex                            uint8
	CR                                 [256]uint8
	MSR, FCR, ST00, ST01               uint8
	PelMask, DACState, DACSub, DACRead uint8
	DACWrite                           uint8
	DACCache                           [3]uint8
	DAC8Bit                            bool
	Palette                            [768]uint8
	BankOff                            uint32
	VBEIndex                           uint16
	VBERegs                            [vbeRegCount]uint16
	VBEStart, VBELine                  uint32
}

var vgaMagic = [4]byte{'V', 'G', 'A', 1}

// Save returns the device state, video memory included.
func (v *VGA) Save() ([]byte, error) {
	st := vgaState{
		Latch: v.latch, SRIndex: v.srIndex, SR: v.sr, GRIndex: v.grIndex, GR: v.gr,
		ARIndex: v.arIndex, AR: v.ar, ARFlip: v.arFlip, CRIndex: v.crIndex, CR: v.cr,
		MSR: v.msr, FCR: v.fcr, ST00: v.st00, ST01: v.st01,
		PelMask: v.pelMask, DACState: v.dacState, DACSub: v.dacSub, DACRead: v.dacRead,
		DACWrite: v.dacWrite, DACCache: v.dacCache, DAC8Bit: v.dac8bit, Palette: v.palette,
		BankOff: v.bankOff, VBEIndex: v.vbeIndex, VBERegs: v.vbeRegs,
		VBEStart: v.vbeStart, VBELine: v.vbeLine,
	}
	var b bytes.Buffer
	b.Grow(binary.Size(st) + len(v.vram) + 8)
	b.Write(vgaMagic[:])
	if err := binary.Write(&b, binary.LittleEndian, &st); err != nil {
		return nil, err
	}
	b.Write(v.vram)
	return b.Bytes(), nil
}

// Load restores a state written by Save. Malformed data is an error and
// leaves the device unchanged.
func (v *VGA) Load(data []byte) error {
	var st vgaState
	n := binary.Size(st)
	if len(data) != 4+n+len(v.vram) {
		return errors.New("vga: state has the wrong size")
	}
	if !bytes.Equal(data[:4], vgaMagic[:]) {
		return errors.New("vga: not a VGA state")
	}
	if err := binary.Read(bytes.NewReader(data[4:4+n]), binary.LittleEndian, &st); err != nil {
		return err
	}
	if st.DACSub > 2 || st.ARFlip > 1 || uint64(st.BankOff) >= uint64(len(v.vram)) ||
		st.VBELine > uint32(len(v.vram)) || st.VBEStart > uint32(len(v.vram))/4 {
		return errors.New("vga: state out of range")
	}
	v.latch, v.srIndex, v.sr, v.grIndex, v.gr = st.Latch, st.SRIndex&7, st.SR, st.GRIndex&15, st.GR
	v.arIndex, v.ar, v.arFlip, v.crIndex, v.cr = st.ARIndex&0x3f, st.AR, st.ARFlip, st.CRIndex, st.CR
	v.msr, v.fcr, v.st00, v.st01 = st.MSR, st.FCR, st.ST00, st.ST01
	v.pelMask, v.dacState, v.dacSub, v.dacRead = st.PelMask, st.DACState, st.DACSub, st.DACRead
	v.dacWrite, v.dacCache, v.dac8bit, v.palette = st.DACWrite, st.DACCache, st.DAC8Bit, st.Palette
	v.bankOff, v.vbeIndex, v.vbeRegs = st.BankOff, st.VBEIndex, st.VBERegs
	v.vbeStart, v.vbeLine = st.VBEStart, st.VBELine
	copy(v.vram, data[4+n:])
	v.updateWritePath()
	v.markAllDirty()
	return nil
}
