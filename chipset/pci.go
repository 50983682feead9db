package chipset

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"

	"fuji/mem"
)

// PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2) and a
// reusable type-0 configuration header.
//
// CONFIG_ADDRESS (0xCF8) is claimed only by 32-bit accesses; byte and word
// accesses to 0xCF8-0xCFB pass through to the bus as ordinary I/O cycles
// (i440FX datasheet, CONFADD), which is how the PIIX3's byte-wide reset
// control register at 0xCF9 shares the range. CONFIG_DATA (0xCFC-0xCFF)
// forwards byte, word and dword accesses to the selected function at the
// register (CONFIG_ADDRESS & 0xFC) + (port - 0xCFC).

// PCIFunction is one function of a PCI device as the configuration
// mechanism sees it. off is the byte offset in the 256-byte space; size is
// 1, 2 or 4 and off+size never crosses a dword.
type PCIFunction interface {
	ConfigRead(off uint8, size int) uint32
	ConfigWrite(off uint8, size int, val uint32)
}

// Port numbers of configuration mechanism #1.
const (
	PCIConfigAddress = 0xCF8
	PCIConfigData    = 0xCFC
)

// PCIBus is PCI bus 0 behind the host bridge: 32 devices of 8 functions.
// There are no PCI-to-PCI bridges, so configuration cycles for other bus
// numbers end in master abort (all ones).
type PCIBus struct {
	addr uint32
	fns  [32][8]PCIFunction
	cf9  mem.PortHandler
}

// NewPCIBus returns an empty bus.
func NewPCIBus() *PCIBus { return &PCIBus{} }

// Attach places f at device dev, function fn of bus 0.
func (b *PCIBus) Attach(dev, fn int, f PCIFunction) error {
	if dev < 0 || dev > 31 || fn < 0 || fn > 7 {
		return fmt.Errorf("pci: slot %d.%d out of range", dev, fn)
	}
	if f == nil {
		return fmt.Errorf("pci: nil function at %d.%d", dev, fn)
	}
	if b.fns[dev][fn] != nil {
		return fmt.Errorf("pci: slot %d.%d already taken", dev, fn)
	}
	b.fns[dev][fn] = f
	return nil
}

// Function returns the function at dev.fn, or nil.
func (b *PCIBus) Function(dev, fn int) PCIFunction {
	if dev < 0 || dev > 31 || fn < 0 || fn > 7 {
		return nil
	}
	return b.fns[dev][fn]
}

// SetCF9 gives byte accesses to port 0xCF9 to h (the PIIX3 reset control
// register). The bus must own 0xCF8-0xCFB as a whole so that dword
// accesses to CONFIG_ADDRESS are not split by the port bus.
func (b *PCIBus) SetCF9(h mem.PortHandler) { b.cf9 = h }

// Register claims 0xCF8-0xCFF.
func (b *PCIBus) Register(ports *mem.PortBus) {
	ports.Register(PCIConfigAddress, PCIConfigData+3, b)
}

// Reset clears CONFIG_ADDRESS.
func (b *PCIBus) Reset() { b.addr = 0 }

// In implements mem.PortHandler.
func (b *PCIBus) In(port uint16, size int) uint32 {
	if port < PCIConfigData {
		switch {
		case port == PCIConfigAddress && size == 4:
			return b.addr
		case port == 0xCF9 && size == 1 && b.cf9 != nil:
			return b.cf9.In(port, size)
		}
		return pciOnes(size)
	}
	dev, fn, reg, ok := b.target(port, size)
	if !ok {
		return pciOnes(size)
	}
	return b.ConfigRead(dev, fn, reg, size)
}

// Out implements mem.PortHandler.
func (b *PCIBus) Out(port uint16, size int, val uint32) {
	if port < PCIConfigData {
		switch {
		case port == PCIConfigAddress && size == 4:
			// Bits 30:24 and 1:0 are reserved and read as zero.
			b.addr = val & 0x80FFFFFC
		case port == 0xCF9 && size == 1 && b.cf9 != nil:
			b.cf9.Out(port, size, val)
		}
		return
	}
	if dev, fn, reg, ok := b.target(port, size); ok {
		b.ConfigWrite(dev, fn, reg, size, val)
	}
}

// target decodes CONFIG_ADDRESS for an access to CONFIG_DATA.
func (b *PCIBus) target(port uint16, size int) (dev, fn int, reg uint8, ok bool) {
	k := int(port - PCIConfigData)
	if b.addr&0x80000000 == 0 || b.addr>>16&0xFF != 0 || k+size > 4 {
		return 0, 0, 0, false
	}
	return int(b.addr >> 11 & 31), int(b.addr >> 8 & 7), uint8(b.addr&0xFC) + uint8(k), true
}

// ConfigRead reads a function's configuration space directly (firmware
// builders, tests). Absent functions read as all ones.
func (b *PCIBus) ConfigRead(dev, fn int, off uint8, size int) uint32 {
	f := b.Function(dev, fn)
	if f == nil || !validCfgAccess(off, size) {
		return pciOnes(size)
	}
	return f.ConfigRead(off, size) & pciOnes(size)
}

// ConfigWrite writes a function's configuration space directly.
func (b *PCIBus) ConfigWrite(dev, fn int, off uint8, size int, val uint32) {
	f := b.Function(dev, fn)
	if f == nil || !validCfgAccess(off, size) {
		return
	}
	f.ConfigWrite(off, size, val&pciOnes(size))
}

// PCISlot describes one present function.
type PCISlot struct {
	Dev, Fn        int
	Vendor, Device uint16
	Class          uint32 // base class<<16 | subclass<<8 | prog-if
	HeaderType     uint8
}

// Enumerate lists the present functions in bus order, probing the way
// firmware does: functions 1-7 only when function 0 is multi-function.
func (b *PCIBus) Enumerate() []PCISlot {
	var out []PCISlot
	for dev := 0; dev < 32; dev++ {
		for fn := 0; fn < 8; fn++ {
			id := b.ConfigRead(dev, fn, 0, 4)
			if id == 0xFFFFFFFF || id == 0 {
				if fn == 0 {
					break
				}
				continue
			}
			ht := uint8(b.ConfigRead(dev, fn, 0x0E, 1))
			out = append(out, PCISlot{
				Dev: dev, Fn: fn,
				Vendor: uint16(id), Device: uint16(id >> 16),
				Class:      b.ConfigRead(dev, fn, 0x08, 4) >> 8,
				HeaderType: ht,
			})
			if fn == 0 && ht&0x80 == 0 {
				break
			}
		}
	}
	return out
}

// Save returns the bus's own state (CONFIG_ADDRESS); functions save
// themselves.
func (b *PCIBus) Save() ([]byte, error) {
	return binary.LittleEndian.AppendUint32(nil, b.addr), nil
}

// Load restores what Save returned.
func (b *PCIBus) Load(data []byte) error {
	if len(data) != 4 {
		return fmt.Errorf("pci: bus state is %d bytes, want 4", len(data))
	}
	b.addr = binary.LittleEndian.Uint32(data) & 0x80FFFFFC
	return nil
}

func validCfgAccess(off uint8, size int) bool {
	return (size == 1 || size == 2 || size == 4) && int(off&3)+size <= 4
}

func pciOnes(size int) uint32 {
	if size >= 4 {
		return 0xFFFFFFFF
	}
	return 1<<(8*uint(size)) - 1
}

// pciOverlaps reports whether the access [off, off+size) touches
// [reg, reg+n).
func pciOverlaps(off uint8, size int, reg uint8, n int) bool {
	return int(off) < int(reg)+n && int(reg) < int(off)+size
}

// Standard configuration header offsets and bits.
const (
	PCIVendorID      = 0x00
	PCIDeviceID      = 0x02
	PCICommand       = 0x04
	PCIStatus        = 0x06
	PCIRevision      = 0x08
	PCIClassProg     = 0x09
	PCICacheLine     = 0x0C
	PCILatency       = 0x0D
	PCIHeaderTypeReg = 0x0E
	PCIBAR0          = 0x10
	PCISubVendor     = 0x2C
	PCISubsystem     = 0x2E
	PCIROMAddress    = 0x30
	PCICapPtr        = 0x34
	PCIIntLine       = 0x3C
	PCIIntPin        = 0x3D

	PCICmdIO       = 1 << 0
	PCICmdMemory   = 1 << 1
	PCICmdMaster   = 1 << 2
	PCICmdParity   = 1 << 6
	PCICmdSERR     = 1 << 8
	PCICmdIntxDis  = 1 << 10
	PCIStatusIntx  = 1 << 3
	PCIStatusCaps  = 1 << 4
	PCIStatusRW1C  = 0xF900 // parity, target/master abort, SERR, detected parity
	PCIMultiFunc   = 0x80   // header type bit 7
	pciCmdDefaultW = PCICmdIO | PCICmdMemory | PCICmdMaster | PCICmdSERR | PCICmdIntxDis
)

// QEMU gives every device the Red Hat/QEMU subsystem IDs, and SeaBIOS
// recognises QEMU by them on the host bridge.
const (
	QEMUSubVendor = 0x1AF4
	QEMUSubDevice = 0x1100
)

// PCIIdent is the read-only identity of a function.
type PCIIdent struct {
	Vendor, Device       uint16
	Revision             uint8
	Class                uint32 // base class<<16 | subclass<<8 | prog-if
	HeaderType           uint8  // 0 for type 0; | PCIMultiFunc on function 0 of a multi-function device
	SubVendor, Subsystem uint16
	IntPin               uint8 // 0 none, 1-4 INTA#-INTD#
}

// BARKind is the type of a base address register.
type BARKind uint8

// BAR kinds.
const (
	BARUnused  BARKind = iota
	BARIO              // I/O space
	BARMem32           // 32-bit memory space
	BARMem64           // 64-bit memory space; takes this slot and the next
	barMem64Hi         // upper half of a 64-bit BAR
)

// BARSpec declares a base address register. When IO (for BARIO) or MMIO
// (for memory BARs) is set, the header maps and unmaps the handler itself
// as the guest moves the BAR and toggles decoding; otherwise the device
// follows the changes through OnChange and BARAddr.
type BARSpec struct {
	Kind     BARKind
	Size     uint64 // power of two: I/O >= 4, memory >= 16
	Prefetch bool
	IO16     bool // I/O BAR whose bits 31:16 are hardwired to zero
	Name     string
	IO       mem.PortHandler
	MMIO     mem.MMIOHandler
}

type barMap struct {
	on   bool
	base uint64
}

// PCIHeader is a type-0 configuration header with per-byte write and
// write-one-to-clear masks. Devices embed or hold one, set the masks of
// their own registers (0x40-0xFF), and override ConfigWrite for registers
// with side effects.
type PCIHeader struct {
	cfg   [256]byte
	wmask [256]byte
	w1c   [256]byte
	power [256]byte // contents at power-on, for Reset

	bars   [6]BARSpec
	rom    []byte // expansion ROM image, padded to romSize
	mapped [7]barMap
	ports  *mem.PortBus
	bus    *mem.Bus

	irq  IRQLine
	intx bool // the device's INTx# request, before Interrupt Disable

	// OnChange is called after the command register, a BAR or the
	// expansion ROM BAR changed.
	OnChange func()
}

// NewPCIHeader builds a header. ports and bus are where BAR handlers get
// mapped; either may be nil for a function that has no BAR of that kind.
func NewPCIHeader(id PCIIdent, ports *mem.PortBus, bus *mem.Bus) *PCIHeader {
	h := &PCIHeader{ports: ports, bus: bus, irq: NoIRQ{}}
	c := h.cfg[:]
	binary.LittleEndian.PutUint16(c[PCIVendorID:], id.Vendor)
	binary.LittleEndian.PutUint16(c[PCIDeviceID:], id.Device)
	c[PCIRevision] = id.Revision
	c[PCIClassProg] = byte(id.Class)
	c[PCIClassProg+1] = byte(id.Class >> 8)
	c[PCIClassProg+2] = byte(id.Class >> 16)
	c[PCIHeaderTypeReg] = id.HeaderType
	binary.LittleEndian.PutUint16(c[PCISubVendor:], id.SubVendor)
	binary.LittleEndian.PutUint16(c[PCISubsystem:], id.Subsystem)
	c[PCIIntPin] = id.IntPin
	binary.LittleEndian.PutUint16(h.wmask[PCICommand:], pciCmdDefaultW)
	binary.LittleEndian.PutUint16(h.w1c[PCIStatus:], PCIStatusRW1C)
	h.wmask[PCICacheLine] = 0xFF
	h.wmask[PCILatency] = 0xFF
	h.wmask[PCIIntLine] = 0xFF
	h.power = h.cfg
	return h
}

// SetBAR declares BAR i. It must be called before the guest runs.
func (h *PCIHeader) SetBAR(i int, s BARSpec) error {
	if i < 0 || i > 5 || (s.Kind == BARMem64 && i == 5) {
		return fmt.Errorf("pci: BAR %d out of range", i)
	}
	if h.bars[i].Kind != BARUnused || (s.Kind == BARMem64 && h.bars[i+1].Kind != BARUnused) {
		return fmt.Errorf("pci: BAR %d already declared", i)
	}
	if s.Size == 0 || s.Size&(s.Size-1) != 0 {
		return fmt.Errorf("pci: BAR %d size %#x is not a power of two", i, s.Size)
	}
	off := PCIBAR0 + 4*i
	var flags, wm uint32
	switch s.Kind {
	case BARIO:
		if s.Size < 4 || s.Size > 256 {
			return fmt.Errorf("pci: I/O BAR %d size %#x out of range", i, s.Size)
		}
		flags, wm = 1, ^uint32(s.Size-1)&^3
		if s.IO16 {
			wm &= 0xFFFF
		}
		if s.IO == nil && s.MMIO != nil {
			return errors.New("pci: I/O BAR with an MMIO handler")
		}
	case BARMem32:
		if s.Size < 16 || s.Size > 1<<31 {
			return fmt.Errorf("pci: memory BAR %d size %#x out of range", i, s.Size)
		}
		wm = ^uint32(s.Size-1) &^ 0xF
	case BARMem64:
		if s.Size < 16 || s.Size > 1<<62 {
			return fmt.Errorf("pci: memory BAR %d size %#x out of range", i, s.Size)
		}
		flags = 4
		wm = uint32(^(s.Size - 1)) &^ 0xF
		binary.LittleEndian.PutUint32(h.wmask[off+4:], uint32(^(s.Size-1)>>32))
		h.bars[i+1] = BARSpec{Kind: barMem64Hi}
	default:
		return fmt.Errorf("pci: BAR %d has unknown kind %d", i, s.Kind)
	}
	if s.Kind != BARIO && s.Prefetch {
		flags |= 8
	}
	if s.Kind != BARIO && s.IO != nil {
		return errors.New("pci: memory BAR with a port handler")
	}
	h.bars[i] = s
	binary.LittleEndian.PutUint32(h.cfg[off:], flags)
	binary.LittleEndian.PutUint32(h.wmask[off:], wm)
	h.power = h.cfg
	return nil
}

// SetROM declares an expansion ROM holding image; the BAR size is the
// image rounded up to a power of two (at least 2 KiB). The ROM decodes
// when the ROM BAR's enable bit and the command register's memory bit are
// both set.
func (h *PCIHeader) SetROM(image []byte) error {
	if len(image) == 0 || len(image) > 16<<20 {
		return fmt.Errorf("pci: ROM image of %d bytes", len(image))
	}
	size := 2048
	for size < len(image) {
		size <<= 1
	}
	h.rom = make([]byte, size)
	copy(h.rom, image)
	binary.LittleEndian.PutUint32(h.wmask[PCIROMAddress:], ^uint32(size-1)&0xFFFFF800|1)
	return nil
}

// SetMasks sets the write mask and write-one-to-clear mask of the bytes
// starting at off (device-specific registers).
func (h *PCIHeader) SetMasks(off uint8, wmask, w1c []byte) {
	for i, m := range wmask {
		if int(off)+i < 256 {
			h.wmask[int(off)+i] = m
		}
	}
	for i, m := range w1c {
		if int(off)+i < 256 {
			h.w1c[int(off)+i] = m
		}
	}
}

// Init sets the power-on value of the bytes starting at off; Reset
// returns them to it.
func (h *PCIHeader) Init(off uint8, val []byte) {
	for i, v := range val {
		if int(off)+i < 256 {
			h.cfg[int(off)+i] = v
			h.power[int(off)+i] = v
		}
	}
}

// AddCapability links a capability of type id at off (>= 0x40, dword
// aligned) into the capabilities list, with body following the two-byte
// header; bodyMask, if not nil, is the body's write mask.
func (h *PCIHeader) AddCapability(off, id uint8, body, bodyMask []byte) error {
	if off < 0x40 || off&3 != 0 || int(off)+2+len(body) > 256 {
		return fmt.Errorf("pci: capability at %#x does not fit", off)
	}
	h.Init(off, append([]byte{id, h.cfg[PCICapPtr]}, body...))
	h.SetMasks(off+2, bodyMask, nil)
	h.Init(PCICapPtr, []byte{off})
	h.Init(PCIStatus, []byte{h.cfg[PCIStatus] | PCIStatusCaps})
	return nil
}

// Byte, Word and Dword read the current configuration contents.
func (h *PCIHeader) Byte(off uint8) uint8 { return h.cfg[off] }

// Word reads 16 bits at off.
func (h *PCIHeader) Word(off uint8) uint16 {
	return uint16(h.cfg[off]) | uint16(h.cfg[off+1])<<8
}

// Dword reads 32 bits at off&^3.
func (h *PCIHeader) Dword(off uint8) uint32 { return binary.LittleEndian.Uint32(h.cfg[off&^3:]) }

// SetByte stores a byte without masks (device-side updates).
func (h *PCIHeader) SetByte(off, v uint8) { h.cfg[off] = v }

// ConfigRead implements PCIFunction.
func (h *PCIHeader) ConfigRead(off uint8, size int) uint32 {
	var v uint32
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint32(h.cfg[(int(off)+i)&0xFF])
	}
	return v
}

// ConfigWrite implements PCIFunction: masked write, RW1C bits, and BAR
// remapping when decoding changes.
func (h *PCIHeader) ConfigWrite(off uint8, size int, val uint32) {
	for i := 0; i < size && int(off)+i < 256; i++ {
		o := int(off) + i
		b := byte(val >> (8 * i))
		h.cfg[o] = h.cfg[o]&^h.wmask[o] | b&h.wmask[o]
		h.cfg[o] &^= b & h.w1c[o]
	}
	cmd := pciOverlaps(off, size, PCICommand, 2)
	if cmd || pciOverlaps(off, size, PCIBAR0, 24) || pciOverlaps(off, size, PCIROMAddress, 4) {
		h.remap()
		if cmd {
			h.driveIRQ()
		}
		if h.OnChange != nil {
			h.OnChange()
		}
	}
}

// Command returns the command register.
func (h *PCIHeader) Command() uint16 { return binary.LittleEndian.Uint16(h.cfg[PCICommand:]) }

// BARAddr returns where BAR i (6 for the expansion ROM) decodes, and
// whether it decodes at all (kind, command register enables, address 0
// and out-of-range addresses count as not decoding, as in QEMU).
func (h *PCIHeader) BARAddr(i int) (uint64, bool) {
	m := h.decode(i)
	return m.base, m.on
}

func (h *PCIHeader) decode(i int) barMap {
	cmd := h.Command()
	if i == 6 {
		v := binary.LittleEndian.Uint32(h.cfg[PCIROMAddress:])
		if h.rom == nil || cmd&PCICmdMemory == 0 || v&1 == 0 {
			return barMap{}
		}
		base := uint64(v &^ uint32(len(h.rom)-1) & 0xFFFFF800)
		return barMap{on: base != 0, base: base}
	}
	if i < 0 || i > 5 {
		return barMap{}
	}
	s := h.bars[i]
	lo := uint64(binary.LittleEndian.Uint32(h.cfg[PCIBAR0+4*i:]))
	var base, limit uint64
	switch s.Kind {
	case BARIO:
		if cmd&PCICmdIO == 0 {
			return barMap{}
		}
		base, limit = lo&^(s.Size-1)&^3, 0xFFFF
	case BARMem32:
		if cmd&PCICmdMemory == 0 {
			return barMap{}
		}
		base, limit = lo&^(s.Size-1)&^0xF, 0xFFFFFFFF
	case BARMem64:
		if cmd&PCICmdMemory == 0 {
			return barMap{}
		}
		hi := uint64(binary.LittleEndian.Uint32(h.cfg[PCIBAR0+4*i+4:]))
		base, limit = (hi<<32|lo)&^(s.Size-1)&^0xF, 1<<52-1
	default:
		return barMap{}
	}
	if base == 0 || base+s.Size-1 > limit || base+s.Size-1 < base {
		return barMap{}
	}
	return barMap{on: true, base: base}
}

// remap brings the mapped handlers in line with the registers.
func (h *PCIHeader) remap() {
	for i := range h.mapped {
		want := h.decode(i)
		if want == h.mapped[i] {
			continue
		}
		h.unmapBAR(i)
		if want.on && h.mapBAR(i, want.base) {
			h.mapped[i] = want
		}
	}
}

func (h *PCIHeader) unmapBAR(i int) {
	m := h.mapped[i]
	h.mapped[i] = barMap{}
	if !m.on {
		return
	}
	if i == 6 {
		h.bus.Unmap(m.base)
		return
	}
	s := h.bars[i]
	switch {
	case s.Kind == BARIO && s.IO != nil:
		h.ports.Unregister(uint16(m.base), uint16(m.base+s.Size-1))
	case s.MMIO != nil:
		h.bus.Unmap(m.base)
	}
}

// mapBAR installs a handler; a range already claimed by something else
// is left alone (the BAR then does not decode) rather than stolen.
func (h *PCIHeader) mapBAR(i int, base uint64) bool {
	if i == 6 {
		return h.bus != nil && h.bus.MapROM(h.name("rom"), base, h.rom) == nil
	}
	s := h.bars[i]
	switch {
	case s.Kind == BARIO && s.IO != nil:
		if h.ports == nil {
			return false
		}
		for p := base; p < base+s.Size; p++ {
			if h.ports.Handler(uint16(p)) != nil {
				return false
			}
		}
		h.ports.Register(uint16(base), uint16(base+s.Size-1), s.IO)
		return true
	case s.MMIO != nil:
		return h.bus != nil && h.bus.MapMMIO(h.name(s.Name), base, s.Size, s.MMIO) == nil
	}
	return true // no handler: the device follows through OnChange
}

func (h *PCIHeader) name(s string) string {
	id := fmt.Sprintf("pci-%04x:%04x", binary.LittleEndian.Uint16(h.cfg[0:]), binary.LittleEndian.Uint16(h.cfg[2:]))
	if s == "" {
		return id
	}
	return id + "-" + s
}

// SetIRQLine connects the function's INTx# pin (normally through the
// PIIX3's PCIIRQ routing).
func (h *PCIHeader) SetIRQLine(l IRQLine) {
	if l == nil {
		l = NoIRQ{}
	}
	h.irq = l
}

// SetINTx is the device asserting (true) or releasing its INTx#. The
// status register's interrupt bit follows the request; the pin is driven
// only while the command register's Interrupt Disable bit is clear.
func (h *PCIHeader) SetINTx(level bool) {
	h.intx = level
	h.driveIRQ()
}

func (h *PCIHeader) driveIRQ() {
	if h.intx {
		h.cfg[PCIStatus] |= PCIStatusIntx
	} else {
		h.cfg[PCIStatus] &^= PCIStatusIntx
	}
	h.irq.Set(h.intx && h.Command()&PCICmdIntxDis == 0)
}

// Reset returns the configuration space to its power-on contents and
// unmaps every BAR.
func (h *PCIHeader) Reset() {
	h.cfg = h.power
	h.intx = false
	h.remap()
	h.driveIRQ()
	if h.OnChange != nil {
		h.OnChange()
	}
}

type pciHeaderState struct {
	Cfg  []byte
	INTx bool
}

func (h *PCIHeader) state() pciHeaderState {
	return pciHeaderState{Cfg: append([]byte(nil), h.cfg[:]...), INTx: h.intx}
}

// restore loads a header state; read-only bytes keep their built-in
// values so a snapshot cannot change a device's identity.
func (h *PCIHeader) restore(s pciHeaderState) error {
	if len(s.Cfg) != 256 {
		return fmt.Errorf("pci: header state is %d bytes, want 256", len(s.Cfg))
	}
	for i := range h.cfg {
		ro := ^(h.wmask[i] | h.w1c[i])
		h.cfg[i] = h.cfg[i]&ro | s.Cfg[i]&^ro
	}
	h.intx = s.INTx
	h.remap()
	h.driveIRQ()
	if h.OnChange != nil {
		h.OnChange()
	}
	return nil
}

// Save returns the header's state for a snapshot.
func (h *PCIHeader) Save() ([]byte, error) { return pciGobEncode(h.state()) }

// Load restores a state returned by Save and remaps the BARs.
func (h *PCIHeader) Load(data []byte) error {
	var s pciHeaderState
	if err := pciGobDecode(data, &s); err != nil {
		return err
	}
	return h.restore(s)
}

func pciGobEncode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func pciGobDecode(data []byte, v any) (err error) {
	// gob reports malformed input as errors; the recover is a last line
	// of defence so that a corrupt snapshot can never panic the process.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("snapshot decode: %v", r)
		}
	}()
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return fmt.Errorf("snapshot decode: %w", err)
	}
	return nil
}

// Interface checks.
var (
	_ PCIFunction     = (*PCIHeader)(nil)
	_ PCIFunction     = (*I440FX)(nil)
	_ PCIFunction     = (*PIIX3)(nil)
	_ PCIFunction     = (*PIIXIDE)(nil)
	_ PCIFunction     = (*ACPIPM)(nil)
	_ mem.PortHandler = (*PCIBus)(nil)
	_ mem.PortHandler = (*PIIX3)(nil)
	_ mem.PortHandler = (*FWCfg)(nil)
	_ Timed           = (*ACPIPM)(nil)
)
