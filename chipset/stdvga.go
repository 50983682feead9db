package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"

	"fuji/mem"
)

// StdVGA is the PCI function of QEMU's "-vga std" device: VGA + Bochs VBE
// behind PCI ID 1234:1111, class 0300. Its BARs are
//
//	BAR0  16 MiB prefetchable memory: the linear framebuffer (all VRAM)
//	BAR2  4 KiB memory: VGA ports 0x3C0-0x3DF at 0x400, the dispi
//	      registers at 0x500 (register i at 0x500+2i), QEMU's extended
//	      registers at 0x600
//	ROM   the VGA BIOS image given to NewStdVGA
//
// The legacy ports and the 0xA0000 window are decoded whatever the
// command register says, as QEMU does.
type StdVGA struct {
	VGA *VGA

	bus   *mem.Bus
	rom   []byte // padded to a power of two, at least 2 KiB
	cfg   [256]byte
	def   [256]byte // power-on config space
	wmask [256]byte // guest-writable bits

	bars [3]vgaBARMap // BAR0, BAR2, ROM as currently mapped
	mmio vgaMMIOBar
	romH vgaROM
}

type vgaBARMap struct {
	base uint64
	on   bool
}

// PCI identity and layout.
const (
	stdVGAVendor    = 0x1234
	stdVGADevice    = 0x1111
	stdVGASubVendor = 0x1af4 // QEMU's default subsystem IDs
	stdVGASubDevice = 0x1100
	stdVGARevision  = 2 // 2: the extended registers at 0x600 exist
	stdVGALFBSize   = VRAMSize
	stdVGAMMIOSize  = 0x1000

	pciCommand    = 0x04
	pciCmdIO      = 0x1
	pciCmdMemory  = 0x2
	pciBAR0       = 0x10
	pciBAR2       = 0x18
	pciROMAddress = 0x30
	pciROMEnable  = 0x1

	vgaMMIOPorts = 0x400 // 0x3C0-0x3DF
	vgaMMIOBochs = 0x500 // dispi registers, 2 bytes each
	vgaMMIOQext  = 0x600 // QEMU extended registers
	vgaQextSize  = 8
	vgaQextLE    = 0x1e1e1e1e // framebuffer endianness: little
)

// NewStdVGA creates the device, claims the legacy VGA/VBE ports and the
// 0xA0000 window, and serves rom (the VGA BIOS, e.g. Debian's
// vgabios-stdvga.bin) through the expansion ROM BAR. rom may be empty:
// then there is no ROM BAR.
func NewStdVGA(bus *mem.Bus, ports *mem.PortBus, rom []byte) (*StdVGA, error) {
	s := &StdVGA{VGA: NewVGA(), bus: bus}
	s.mmio.s = s
	s.romH.s = s
	if len(rom) > 0 {
		n := 2048
		for n < len(rom) {
			n <<= 1
			if n > 1<<24 {
				return nil, errors.New("stdvga: VGA BIOS image larger than 16 MiB")
			}
		}
		s.rom = make([]byte, n)
		copy(s.rom, rom)
	}
	s.initConfig()
	if err := s.VGA.Attach(ports, bus); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *StdVGA) initConfig() {
	c := &s.def
	*c = [256]byte{}
	binary.LittleEndian.PutUint16(c[0x00:], stdVGAVendor)
	binary.LittleEndian.PutUint16(c[0x02:], stdVGADevice)
	c[0x08] = stdVGARevision
	c[0x0b] = 0x03    // display controller
	c[0x0a] = 0x00    // VGA compatible
	c[pciBAR0] = 0x08 // memory, 32-bit, prefetchable
	c[pciBAR2] = 0x00 // memory, 32-bit
	binary.LittleEndian.PutUint16(c[0x2c:], stdVGASubVendor)
	binary.LittleEndian.PutUint16(c[0x2e:], stdVGASubDevice)

	w := &s.wmask
	*w = [256]byte{}
	binary.LittleEndian.PutUint16(w[pciCommand:], 0x0547) // IO, MEM, master, parity, SERR, INTx disable
	w[0x0c], w[0x0d], w[0x3c] = 0xff, 0xff, 0xff          // cache line, latency, interrupt line
	binary.LittleEndian.PutUint32(w[pciBAR0:], ^uint32(stdVGALFBSize-1))
	binary.LittleEndian.PutUint32(w[pciBAR2:], ^uint32(stdVGAMMIOSize-1))
	if len(s.rom) > 0 {
		binary.LittleEndian.PutUint32(w[pciROMAddress:], ^uint32(len(s.rom)-1)&0xfffff800|pciROMEnable)
	}
	s.cfg = s.def
}

// Reset returns the function and the VGA to their power-on state and
// unmaps the BARs.
func (s *StdVGA) Reset() {
	s.cfg = s.def
	s.updateMappings()
	s.VGA.Reset()
}

// ConfigRead implements PCIFunction: size bytes little-endian at off.
func (s *StdVGA) ConfigRead(off uint8, size int) uint32 {
	var v uint32
	for i := 0; i < size && i < 4; i++ {
		if o := int(off) + i; o < len(s.cfg) {
			v |= uint32(s.cfg[o]) << (8 * i)
		}
	}
	return v
}

// ConfigWrite implements PCIFunction. Only writable bits change, which is
// also how BAR sizing works: writing all ones reads back the size mask.
func (s *StdVGA) ConfigWrite(off uint8, size int, val uint32) {
	for i := 0; i < size && i < 4; i++ {
		o := int(off) + i
		if o >= len(s.cfg) {
			break
		}
		m := s.wmask[o]
		s.cfg[o] = s.cfg[o]&^m | byte(val>>(8*i))&m
	}
	s.updateMappings()
}

// barWindow returns where a BAR decodes, if it does: memory decoding on,
// a nonzero base, and the whole BAR below 4 GiB (a BAR left all ones
// after sizing does not decode).
func (s *StdVGA) barWindow(reg int, size uint64) (uint64, bool) {
	raw := binary.LittleEndian.Uint32(s.cfg[reg:])
	if s.cfg[pciCommand]&pciCmdMemory == 0 {
		return 0, false
	}
	var base uint64
	if reg == pciROMAddress {
		if raw&pciROMEnable == 0 || len(s.rom) == 0 {
			return 0, false
		}
		base = uint64(raw &^ 0x7ff)
	} else {
		base = uint64(raw &^ 0xf)
	}
	if base == 0 || base+size-1 >= 0xffffffff {
		return 0, false
	}
	return base, true
}

// updateMappings moves the BAR regions on the memory bus to where the
// config space says they decode.
func (s *StdVGA) updateMappings() {
	regs := [3]int{pciBAR0, pciBAR2, pciROMAddress}
	sizes := [3]uint64{stdVGALFBSize, stdVGAMMIOSize, uint64(len(s.rom))}
	handlers := [3]mem.MMIOHandler{s.VGA.LFB(), &s.mmio, &s.romH}
	names := [3]string{"stdvga-lfb", "stdvga-mmio", "stdvga-rom"}
	for i, reg := range regs {
		base, on := s.barWindow(reg, sizes[i])
		cur := &s.bars[i]
		if cur.on == on && (!on || cur.base == base) {
			continue
		}
		if cur.on {
			s.bus.Unmap(cur.base)
			cur.on = false
		}
		// A guest may point a BAR over something else; the bus refuses
		// the overlap and the BAR then simply does not decode.
		if on && s.bus.MapMMIO(names[i], base, sizes[i], handlers[i]) == nil {
			cur.base, cur.on = base, true
		}
	}
}

// vgaMMIOBar serves BAR2.
type vgaMMIOBar struct{ s *StdVGA }

func (m *vgaMMIOBar) ReadMMIO(off uint64, size int) uint64 {
	v := m.s.VGA
	var r uint64
	switch {
	case off >= vgaMMIOPorts && off+uint64(size) <= vgaMMIOPorts+0x20:
		for i := 0; i < size; i++ {
			r |= uint64(v.ioRead(uint16(0x3c0+off-vgaMMIOPorts)+uint16(i))) << (8 * i)
		}
	case off >= vgaMMIOBochs && off+uint64(size) <= vgaMMIOBochs+2*(vbeIndexVideoMem+1):
		// Registers are 16 bits wide; narrower or wider accesses see the
		// bytes of consecutive registers.
		for i := 0; i < size; i++ {
			o := off + uint64(i) - vgaMMIOBochs
			v.vbeIndex = uint16(o >> 1)
			r |= uint64(v.vbeReadData()>>(8*(o&1))&0xff) << (8 * i)
		}
	case off >= vgaMMIOQext && off+uint64(size) <= vgaMMIOQext+vgaQextSize:
		var q [vgaQextSize]byte
		binary.LittleEndian.PutUint32(q[0:], vgaQextSize)
		binary.LittleEndian.PutUint32(q[4:], vgaQextLE)
		for i := 0; i < size; i++ {
			r |= uint64(q[off-vgaMMIOQext+uint64(i)]) << (8 * i)
		}
	}
	return r
}

func (m *vgaMMIOBar) WriteMMIO(off uint64, size int, val uint64) {
	v := m.s.VGA
	switch {
	case off >= vgaMMIOPorts && off+uint64(size) <= vgaMMIOPorts+0x20:
		// Bytes in little-endian order, so a word write sets an index
		// register and then its data register.
		for i := 0; i < size; i++ {
			v.ioWrite(uint16(0x3c0+off-vgaMMIOPorts)+uint16(i), byte(val>>(8*i)))
		}
	case off >= vgaMMIOBochs && off+uint64(size) <= vgaMMIOBochs+2*(vbeIndexVideoMem+1):
		o := off - vgaMMIOBochs
		if size == 1 {
			// QEMU widens a byte write to the register with the other
			// byte zero.
			val <<= 8 * (o & 1)
			size = 2
		}
		for i := 0; i+1 < size; i += 2 {
			v.vbeIndex = uint16((o + uint64(i)) >> 1)
			v.vbeWriteData(uint16(val >> (8 * i)))
		}
	}
	// The extended registers' endianness switch is not offered: the
	// framebuffer is always little-endian (a write is ignored).
}

// vgaROM serves the expansion ROM BAR.
type vgaROM struct{ s *StdVGA }

func (h *vgaROM) ReadMMIO(off uint64, size int) uint64 {
	rom := h.s.rom
	var r uint64
	for i := 0; i < size; i++ {
		if o := off + uint64(i); o < uint64(len(rom)) {
			r |= uint64(rom[o]) << (8 * i)
		}
	}
	return r
}

func (h *vgaROM) WriteMMIO(uint64, int, uint64) {}

var stdVGAMagic = [4]byte{'S', 'V', 'G', 1}

// Save returns the function's state: config space and the VGA.
func (s *StdVGA) Save() ([]byte, error) {
	vs, err := s.VGA.Save()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 4+len(s.cfg)+len(vs))
	out = append(out, stdVGAMagic[:]...)
	out = append(out, s.cfg[:]...)
	return append(out, vs...), nil
}

// Load restores a state written by Save and remaps the BARs. Read-only
// config bits keep their own values whatever the data says.
func (s *StdVGA) Load(data []byte) error {
	if len(data) < 4+len(s.cfg) || !bytes.Equal(data[:4], stdVGAMagic[:]) {
		return errors.New("stdvga: not a std VGA state")
	}
	if err := s.VGA.Load(data[4+len(s.cfg):]); err != nil {
		return err
	}
	for i := range s.cfg {
		s.cfg[i] = s.def[i]&^s.wmask[i] | data[4+i]&s.wmask[i]
	}
	s.updateMappings()
	return nil
}
