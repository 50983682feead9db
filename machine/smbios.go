package machine

import (
	"encoding/binary"
)

// SMBIOS (DMI) tables for direct kernel boot, as firmware provides them:
// a 2.8 entry point ("_SM_") in the F segment, where operating systems scan
// for it, and the structures a PC describes itself with (SMBIOS 3.x spec,
// DSP0134): BIOS (0), system (1), chassis (3), processor (4), physical
// memory array (16), memory device (17), memory array mapped address (19),
// system boot (32) and the end marker (127).

const (
	smbiosEPAddr    = 0xf0000
	smbiosTableAddr = 0xf0020
	smbiosAreaEnd   = 0xf1000
)

// smbiosStruct is a structure: its formatted area (type, length, handle
// are filled in) and its strings.
func smbiosStruct(typ byte, handle uint16, formatted []byte, strs ...string) []byte {
	b := []byte{typ, byte(4 + len(formatted)), byte(handle), byte(handle >> 8)}
	b = append(b, formatted...)
	if len(strs) == 0 {
		return append(b, 0, 0)
	}
	for _, s := range strs {
		b = append(append(b, s...), 0)
	}
	return append(b, 0)
}

// buildSMBIOS returns the structure table.
func (m *Machine) buildSMBIOS() []byte {
	le := binary.LittleEndian
	var t []byte
	// Type 0: BIOS information. Vendor 1, version 2, start segment
	// E800h, release date 3, ROM size 64 KiB, characteristics: BIOS
	// characteristics not supported (bit 3); extension byte 2: targeted
	// content distribution (bit 2); byte 1 bit 3: ACPI... set as QEMU.
	f := []byte{1, 2}
	f = le.AppendUint16(f, 0xe800)
	f = append(f, 3, 0)
	f = le.AppendUint64(f, 1<<3)
	f = append(f, 0, 1<<3|1<<4, 0, 0, 0xff, 0xff) // ext bytes: VM (bit 4), UEFI no; release major/minor; EC
	t = append(t, smbiosStruct(0, 0, f, "Fuji", "fuji-direct-boot", "01/01/2026")...)

	// Type 1: system information.
	f = []byte{1, 2, 3, 4}
	f = append(f, make([]byte, 16)...) // UUID: none
	f = append(f, 6, 5, 6)             // wake-up type: power switch; SKU 5, family 6
	t = append(t, smbiosStruct(1, 0x100, f, "Fuji", "Fuji PC (i440FX + PIIX, 1996)", "1.0", "0", "Not Specified", "Fuji")...)

	// Type 3: chassis: manufacturer 1, type "other" (1), version 2,
	// serial 3, asset tag 4, states safe.
	f = []byte{1, 1, 2, 3, 4, 3, 3, 3, 2}
	f = le.AppendUint32(f, 0)
	f = append(f, 0, 0, 0, 0)
	t = append(t, smbiosStruct(3, 0x300, f, "Fuji", "1.0", "0", "Not Specified")...)

	// Type 4: processor: socket 1, central processor, family "other",
	// manufacturer 2, ID from CPUID leaf 1, version 3, 1 GHz.
	a, _, _, d := m.CPU.CPUID(1, 0)
	f = []byte{1, 3, 1, 2}
	f = le.AppendUint32(f, a)
	f = le.AppendUint32(f, d)
	f = append(f, 3, 0)             // version string, voltage
	f = le.AppendUint16(f, 0)       // external clock
	f = le.AppendUint16(f, 1000)    // max speed MHz
	f = le.AppendUint16(f, 1000)    // current speed MHz
	f = append(f, 0x41, 1)          // socket populated, enabled; upgrade other
	f = le.AppendUint16(f, 0xffff)  // L1 cache handle: none
	f = le.AppendUint16(f, 0xffff)  // L2
	f = le.AppendUint16(f, 0xffff)  // L3
	f = append(f, 0, 0, 0, 1, 1, 1) // serial, asset, part; cores, enabled, threads
	f = le.AppendUint16(f, 1<<2)    // characteristics: 64-bit capable
	f = le.AppendUint16(f, 0xfe)    // family 2: use family field
	t = append(t, smbiosStruct(4, 0x400, f, "CPU 0", "Fuji", "Fuji Virtual CPU")...)

	// Type 16: physical memory array (system board, no ECC).
	ram := m.cfg.RAM
	f = []byte{3, 3, 3}
	f = le.AppendUint32(f, uint32(min(ram>>10, 0x7fffffff)))
	f = le.AppendUint16(f, 0xfffe) // no error information
	f = le.AppendUint16(f, 1)      // one device
	t = append(t, smbiosStruct(16, 0x1000, f)...)

	// Type 17: memory device.
	f = le.AppendUint16(nil, 0x1000) // array handle
	f = le.AppendUint16(f, 0xfffe)
	f = le.AppendUint16(f, 64) // total width
	f = le.AppendUint16(f, 64) // data width
	sizeMiB := ram >> 20
	f = le.AppendUint16(f, uint16(min(sizeMiB, 0x7fff)))
	f = append(f, 9, 0, 1, 0, 7) // form DIMM, set, locator 1, bank none, type RAM
	f = le.AppendUint16(f, 1<<1) // type detail: other
	t = append(t, smbiosStruct(17, 0x1100, f, "DIMM 0")...)

	// Type 19: memory array mapped address (KiB units).
	f = le.AppendUint32(nil, 0)
	f = le.AppendUint32(f, uint32(ram>>10)-1)
	f = le.AppendUint16(f, 0x1000)
	f = append(f, 1)
	t = append(t, smbiosStruct(19, 0x1300, f)...)

	// Type 32: system boot information: no errors.
	t = append(t, smbiosStruct(32, 0x2000, make([]byte, 7))...)

	// Type 127: end of table.
	t = append(t, smbiosStruct(127, 0x7f00, nil)...)
	return t
}

// installSMBIOS shadows the F segment as RAM (as firmware does once it has
// copied itself there) and writes the entry point and table into it.
func (m *Machine) installSMBIOS() {
	table := m.buildSMBIOS()
	if smbiosTableAddr+len(table) > smbiosAreaEnd {
		return // cannot happen with the fixed structures above
	}
	ram := m.Bus.RAM()
	// Start from the BIOS image as a shadow copy would.
	m.Bus.ReadBytes(0xf0000, ram[0xf0000:0x100000])
	m.Bus.SetShadow(0xf0000, 0x10000, true, false)
	clear(ram[smbiosEPAddr:smbiosAreaEnd])
	copy(ram[smbiosTableAddr:], table)
	ep := ram[smbiosEPAddr : smbiosEPAddr+0x1f]
	copy(ep, "_SM_")
	ep[5] = 0x1f // entry point length
	ep[6], ep[7] = 2, 8
	binary.LittleEndian.PutUint16(ep[8:], 0x100) // max structure size (upper bound)
	copy(ep[16:], "_DMI_")
	binary.LittleEndian.PutUint16(ep[22:], uint16(len(table)))
	binary.LittleEndian.PutUint32(ep[24:], smbiosTableAddr)
	binary.LittleEndian.PutUint16(ep[28:], 9) // number of structures
	ep[30] = 0x28                             // BCD revision 2.8
	ep[21] = acpiChecksum(ep[16:31])
	ep[4] = acpiChecksum(ep[:31])
}
