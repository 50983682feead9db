package chipset

import "fuji/mem"

// I440FX is the 82441FX PCI and Memory Controller (host bridge) at bus 0,
// device 0, function 0, as on QEMU's `pc` machine.
//
// It owns the PAM registers (0x59-0x5F) that decide, for the BIOS area
// 0xF0000-0xFFFFF and for each 16 KiB chunk of 0xC0000-0xEFFFF, whether
// reads come from the ROM (PCI side) or from DRAM and whether writes reach
// DRAM. They act through mem.Bus.SetShadow on ROM regions the machine
// maps below 1 MiB; a chunk with no ROM region over it is plain RAM
// whatever its PAM setting.
//
// The SMRAM register (0x72) behaves as in the datasheet, D_LCK included,
// but there is no SMM: G_SMRAME has no effect, and D_OPEN (which makes
// the RAM under the VGA window visible) is reported through OnSMRAMOpen
// for the machine to apply.
type I440FX struct {
	hdr     *PCIHeader
	mem     *mem.Bus
	applied [13]uint8 // PAM attributes last given to mem.Bus; 0xFF = unknown

	// OnSMRAMOpen, if set, is called when D_OPEN changes: open means
	// non-SMM accesses to 0xA0000-0xBFFFF should reach DRAM.
	OnSMRAMOpen func(open bool)
}

// i440FX register offsets and bits.
const (
	I440FXPAM0  = 0x59
	I440FXSMRAM = 0x72

	// QEMU keeps the RAM size in 8 MiB units at 0x57 (for coreboot).
	i440fxRAMSize = 0x57

	SMRAMDOpen   = 1 << 6
	SMRAMDCls    = 1 << 5
	SMRAMDLck    = 1 << 4
	SMRAMGSmrame = 1 << 3
	smramCBase   = 0x02 // C_BASE_SEG: hardwired 010b, SMRAM at 0xA0000

	pamRE = 1 // read enable: reads from DRAM
	pamWE = 2 // write enable: writes to DRAM
)

// NewI440FX builds the host bridge controlling bus's shadowing.
func NewI440FX(bus *mem.Bus) *I440FX {
	h := NewPCIHeader(PCIIdent{
		Vendor: 0x8086, Device: 0x1237, Revision: 0x02,
		Class:     0x060000,
		SubVendor: QEMUSubVendor, Subsystem: QEMUSubDevice,
	}, nil, bus)
	// PCICMD: MAE and BME are hardwired on; PERRE and SERRE are R/W.
	h.Init(PCICommand, []byte{0x06, 0x00})
	h.SetMasks(PCICommand, []byte{PCICmdParity, PCICmdSERR >> 8}, nil)
	h.Init(PCIStatus, []byte{0x80, 0x02}) // fast back-to-back, DEVSEL medium
	h.SetMasks(PCICacheLine, []byte{0}, nil)
	h.SetMasks(PCILatency, []byte{0xF8}, nil)
	h.SetMasks(PCIIntLine, []byte{0}, nil)
	// Device-specific registers are read/write as in QEMU, except the
	// reserved PAM bits and SMRAM, which ConfigWrite handles.
	all := make([]byte, 0xC0)
	for i := range all {
		all[i] = 0xFF
	}
	h.SetMasks(0x40, all, nil)
	h.SetMasks(I440FXPAM0, []byte{0x30, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33}, nil)
	h.SetMasks(I440FXSMRAM, []byte{0}, nil)
	h.SetMasks(0x91, []byte{0}, []byte{0xFF}) // ERRSTS: write one to clear
	rs := bus.RAMSize() >> 23
	h.Init(i440fxRAMSize, []byte{byte(min(rs, 255))})
	h.Init(0x70, []byte{0x20, 0x10}) // MTT, CLT defaults
	h.Init(I440FXSMRAM, []byte{smramCBase})
	d := &I440FX{hdr: h, mem: bus}
	d.applyPAM(true)
	return d
}

// Header gives access to the configuration header.
func (d *I440FX) Header() *PCIHeader { return d.hdr }

// ConfigRead implements PCIFunction.
func (d *I440FX) ConfigRead(off uint8, size int) uint32 { return d.hdr.ConfigRead(off, size) }

// ConfigWrite implements PCIFunction.
func (d *I440FX) ConfigWrite(off uint8, size int, val uint32) {
	oldOpen := d.hdr.Byte(I440FXSMRAM) & SMRAMDOpen
	d.hdr.ConfigWrite(off, size, val)
	if pciOverlaps(off, size, I440FXSMRAM, 1) {
		d.writeSMRAM(byte(val >> (8 * (I440FXSMRAM - off))))
	}
	if pciOverlaps(off, size, I440FXPAM0, 7) {
		d.applyPAM(false)
	}
	if open := d.hdr.Byte(I440FXSMRAM) & SMRAMDOpen; open != oldOpen && d.OnSMRAMOpen != nil {
		d.OnSMRAMOpen(open != 0)
	}
}

// writeSMRAM applies the datasheet's rules: once D_LCK is set, D_OPEN is
// cleared and only D_CLS stays writable until a power-on reset.
func (d *I440FX) writeSMRAM(v byte) {
	old := d.hdr.Byte(I440FXSMRAM)
	var n byte
	if old&SMRAMDLck != 0 {
		n = old&^SMRAMDCls | v&SMRAMDCls
	} else {
		n = v&(SMRAMDOpen|SMRAMDCls|SMRAMDLck|SMRAMGSmrame) | smramCBase
		if n&SMRAMDLck != 0 {
			n &^= SMRAMDOpen
		}
	}
	d.hdr.SetByte(I440FXSMRAM, n)
}

// pamSegment returns the base, size and PAM attribute (RE|WE) of shadow
// segment i: 0 is 0xF0000-0xFFFFF, 1-12 are the 16 KiB chunks from
// 0xC0000 up.
func (d *I440FX) pamSegment(i int) (base, size uint64, attr uint8) {
	if i == 0 {
		return 0xF0000, 0x10000, d.hdr.Byte(I440FXPAM0) >> 4 & 3
	}
	reg := d.hdr.Byte(I440FXPAM0 + 1 + uint8((i-1)/2))
	if (i-1)%2 == 1 {
		reg >>= 4
	}
	return 0xC0000 + uint64(i-1)*0x4000, 0x4000, reg & 3
}

// applyPAM pushes changed PAM attributes to the memory bus.
func (d *I440FX) applyPAM(force bool) {
	for i := range d.applied {
		base, size, attr := d.pamSegment(i)
		if !force && d.applied[i] == attr {
			continue
		}
		d.mem.SetShadow(base, size, attr&pamRE != 0, attr&pamWE != 0)
		d.applied[i] = attr
	}
}

// PAM returns the read/write-to-DRAM attributes in force at a physical
// address below 1 MiB (tests, debugger).
func (d *I440FX) PAM(addr uint64) (readRAM, writeRAM, ok bool) {
	for i := range d.applied {
		base, size, attr := d.pamSegment(i)
		if addr >= base && addr < base+size {
			return attr&pamRE != 0, attr&pamWE != 0, true
		}
	}
	return false, false, false
}

// Reset is PCIRST#/power-on: PAM back to all-ROM (reads from ROM, writes
// dropped) and SMRAM back to 0x02 with D_LCK cleared.
func (d *I440FX) Reset() {
	open := d.hdr.Byte(I440FXSMRAM)&SMRAMDOpen != 0
	d.hdr.Reset()
	d.applyPAM(true)
	if open && d.OnSMRAMOpen != nil {
		d.OnSMRAMOpen(false)
	}
}

// Save returns the bridge's state for a snapshot.
func (d *I440FX) Save() ([]byte, error) { return d.hdr.Save() }

// Load restores a state returned by Save.
func (d *I440FX) Load(data []byte) error {
	var s pciHeaderState
	if err := pciGobDecode(data, &s); err != nil {
		return err
	}
	if err := d.hdr.restore(s); err != nil {
		return err
	}
	d.hdr.SetByte(I440FXSMRAM, s.Cfg[I440FXSMRAM]&(SMRAMDOpen|SMRAMDCls|SMRAMDLck|SMRAMGSmrame)|smramCBase)
	d.applyPAM(true)
	if d.OnSMRAMOpen != nil {
		d.OnSMRAMOpen(d.hdr.Byte(I440FXSMRAM)&SMRAMDOpen != 0)
	}
	return nil
}
