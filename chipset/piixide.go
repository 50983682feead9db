package chipset

import "fuji/mem"

// PIIXIDE is the PIIX3 IDE interface, function 1 of device 1 (8086:7010),
// in legacy (compatibility) mode on both channels: class 0x0101, prog-if
// 0x80 (bus-master capable, channels fixed at 0x1F0/0x3F6 IRQ 14 and
// 0x170/0x376 IRQ 15).
//
// This file is the configuration function only: the command register,
// the bus-master base (BMIBA, BAR4, 16 bytes of I/O), the IDE timing
// registers (0x40-0x43) and the slave timing register (0x44). The
// disks, the legacy task-file ports and the bus-master DMA engine behind
// BAR4 come later; until then BAR4 decodes nothing (OnChange and BARAddr
// tell the future bus-master code where the guest put it).
type PIIXIDE struct {
	hdr *PCIHeader
}

// PIIX IDE register offsets.
const (
	PIIXIDEBMIBA   = 0x20 // BAR4
	PIIXIDEIDETIMP = 0x40 // primary channel timing, bit 15 = decode enable
	PIIXIDEIDETIMS = 0x42 // secondary channel timing
	PIIXIDESIDETIM = 0x44 // slave timing
)

// NewPIIXIDE builds the IDE function; ports is where the bus-master
// registers will be mapped.
func NewPIIXIDE(ports *mem.PortBus) *PIIXIDE {
	h := NewPCIHeader(PCIIdent{
		Vendor: 0x8086, Device: 0x7010,
		Class:     0x010180,
		SubVendor: QEMUSubVendor, Subsystem: QEMUSubDevice,
	}, ports, nil)
	// PCICMD: only I/O space and bus master are R/W (datasheet).
	h.SetMasks(PCICommand, []byte{PCICmdIO | PCICmdMaster, 0}, nil)
	h.SetMasks(PCIStatus, nil, []byte{0x00, 0x38}) // target/master aborts
	h.Init(PCIStatus, []byte{0x80, 0x02})          // fast back-to-back, DEVSEL medium
	h.SetMasks(PCICacheLine, []byte{0}, nil)
	h.SetMasks(PCILatency, []byte{0xF0}, nil)
	h.SetMasks(PCIIntLine, []byte{0}, nil) // legacy mode: IRQ 14/15, no INTx
	// BMIBA: I/O, 16 bytes, bits 31:16 reserved.
	// All 32 address bits respond to sizing, as on QEMU: SeaBIOS computes an
	// I/O BAR's size over 32 bits and would see a 4 GiB BAR otherwise.
	_ = h.SetBAR(4, BARSpec{Kind: BARIO, Size: 16, Name: "bmide"})
	h.SetMasks(PIIXIDEIDETIMP, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, nil)
	return &PIIXIDE{hdr: h}
}

// Header gives access to the configuration header.
func (d *PIIXIDE) Header() *PCIHeader { return d.hdr }

// ConfigRead implements PCIFunction.
func (d *PIIXIDE) ConfigRead(off uint8, size int) uint32 { return d.hdr.ConfigRead(off, size) }

// ConfigWrite implements PCIFunction.
func (d *PIIXIDE) ConfigWrite(off uint8, size int, val uint32) { d.hdr.ConfigWrite(off, size, val) }

// ChannelEnabled reports the IDE decode enable bit of channel 0
// (primary) or 1 (secondary).
func (d *PIIXIDE) ChannelEnabled(ch int) bool {
	return d.hdr.Word(PIIXIDEIDETIMP+2*uint8(ch&1))&0x8000 != 0
}

// Reset returns the registers to their defaults.
func (d *PIIXIDE) Reset() { d.hdr.Reset() }

// Save returns the function's state.
func (d *PIIXIDE) Save() ([]byte, error) { return d.hdr.Save() }

// Load restores a state returned by Save.
func (d *PIIXIDE) Load(data []byte) error { return d.hdr.Load(data) }
