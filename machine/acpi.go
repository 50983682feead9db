package machine

import (
	"encoding/binary"
)

// ACPI tables for direct kernel boot: RSDP, RSDT, XSDT, FADT, FACS,
// DSDT, MADT and HPET, built by Fuji (a firmware would do it on a real PC)
// and placed in the top acpiSize bytes of RAM, which the e820 map marks
// as ACPI reclaimable memory. They describe the i440FX/PIIX PC as QEMU's
// pc machine presents it.

const (
	acpiSize   = 0x10000
	acpiOEMID  = "FUJI  "
	acpiOEMTbl = "FUJIPC  "

	pmIOBase   = 0x600  // where Fuji places the PIIX4 PM block for direct boot
	gpe0Base   = 0xafe0 // PIIX4 GPE0 block, as QEMU
	lapicBase  = 0xfee00000
	ioapicBase = 0xfec00000
	hpetBase   = 0xfed00000
)

// acpiBase is the guest-physical start of the ACPI area.
func (m *Machine) acpiBase() uint64 { return m.cfg.RAM - acpiSize }

// acpiRSDP returns the RSDP address once the tables are built, else 0.
func (m *Machine) acpiRSDP() uint64 { return m.rsdp }

func acpiChecksum(b []byte) byte {
	var s byte
	for _, v := range b {
		s += v
	}
	return -s
}

// sdtHeader returns a 36-byte System Description Table header.
func sdtHeader(sig string, rev byte) []byte {
	h := make([]byte, 36)
	copy(h[0:4], sig)
	h[8] = rev
	copy(h[10:16], acpiOEMID)
	copy(h[16:24], acpiOEMTbl)
	binary.LittleEndian.PutUint32(h[24:], 1)
	copy(h[28:32], "FUJI")
	binary.LittleEndian.PutUint32(h[32:], 1)
	return h
}

// finishSDT sets the length and checksum of a table.
func finishSDT(t []byte) []byte {
	binary.LittleEndian.PutUint32(t[4:], uint32(len(t)))
	t[9] = 0
	t[9] = acpiChecksum(t)
	return t
}

// genericAddr encodes an ACPI Generic Address Structure for I/O space.
func genericAddrIO(port uint64, bits byte) []byte {
	b := []byte{1, bits, 0, 0}
	if bits == 8 {
		b[3] = 1
	} else if bits == 16 {
		b[3] = 2
	} else {
		b[3] = 3
	}
	return binary.LittleEndian.AppendUint64(b, port)
}

// buildDSDT returns the DSDT: sleep state S5, the PCI root bridge with its
// windows and interrupt routing, and the ISA devices behind the PIIX3.
func buildDSDT(ramTop uint64, ioapic bool) []byte {
	pciHoleStart := uint32(0xb0000000)
	if ramTop > uint64(pciHoleStart) {
		pciHoleStart = uint32(ramTop)
	}
	crs := resourceTemplate(
		resWordBus(0, 0xff),
		resIO(0xcf8, 8),
		resWordIO(0x0000, 0x0cf7),
		resWordIO(0x0d00, 0xffff),
		resDWordMem(0x000a0000, 0x000bffff, false),
		resDWordMem(pciHoleStart, 0xfebfffff, false),
	)
	// PCI interrupt routing: slot s, pin p → PIRQ (s+p-1)&3 as the
	// i440FX board is wired (SeaBIOS/QEMU swizzle), PIRQA-D routed to ISA
	// IRQ 10, 10, 11, 11 by Fuji's direct boot (as SeaBIOS programs).
	pirqIRQ := [4]uint64{10, 10, 11, 11}
	var prt [][]byte
	for slot := uint64(1); slot < 32; slot++ {
		for pin := uint64(0); pin < 4; pin++ {
			prt = append(prt, amlPackage(amlInt(slot<<16|0xffff), amlInt(pin), amlInt(0), amlInt(pirqIRQ[(slot+pin-1)&3])))
		}
	}
	isa := amlDevice("ISA",
		amlNameDecl("_ADR", amlInt(0x00010000)),
		amlDevice("RTC",
			amlNameDecl("_HID", amlEISAID("PNP0B00")),
			amlNameDecl("_CRS", resourceTemplate(resIO(0x70, 8), resIRQ(8)))),
		amlDevice("KBD",
			amlNameDecl("_HID", amlEISAID("PNP0303")),
			amlMethodReturn("_STA", amlInt(0xf)),
			amlNameDecl("_CRS", resourceTemplate(resIO(0x60, 1), resIO(0x64, 1), resIRQ(1)))),
		amlDevice("MOU",
			amlNameDecl("_HID", amlEISAID("PNP0F13")),
			amlMethodReturn("_STA", amlInt(0xf)),
			amlNameDecl("_CRS", resourceTemplate(resIRQ(12)))),
		amlDevice("COM1",
			amlNameDecl("_HID", amlEISAID("PNP0501")),
			amlNameDecl("_UID", amlInt(1)),
			amlMethodReturn("_STA", amlInt(0xf)),
			amlNameDecl("_CRS", resourceTemplate(resIO(0x3f8, 8), resIRQ(4)))),
		amlDevice("COM2",
			amlNameDecl("_HID", amlEISAID("PNP0501")),
			amlNameDecl("_UID", amlInt(2)),
			amlMethodReturn("_STA", amlInt(0xf)),
			amlNameDecl("_CRS", resourceTemplate(resIO(0x2f8, 8), resIRQ(3)))),
	)
	pci := amlDevice("PCI0",
		amlNameDecl("_HID", amlEISAID("PNP0A03")),
		amlNameDecl("_ADR", amlInt(0)),
		amlNameDecl("_UID", amlInt(0)),
		amlNameDecl("_BBN", amlInt(0)),
		amlNameDecl("_CRS", crs),
		amlNameDecl("_PRT", amlPackage(prt...)),
		isa,
	)
	sb := []([]byte){pci}
	if ioapic {
		sb = append(sb, amlDevice("HPET",
			amlNameDecl("_HID", amlEISAID("PNP0103")),
			amlNameDecl("_UID", amlInt(0)),
			amlMethodReturn("_STA", amlInt(0xf)),
			amlNameDecl("_CRS", resourceTemplate(resMem32Fixed(hpetBase, 0x400, false)))))
	}
	body := amlScope("\\_SB", sb...)
	// S5: PIIX4 SLP_TYP 0 (QEMU's encoding).
	body = append(body, amlNameDecl("\\_S5", amlPackage(amlInt(0), amlInt(0), amlInt(0), amlInt(0)))...)
	t := sdtHeader("DSDT", 2)
	return finishSDT(append(t, body...))
}

// buildACPI writes the tables into guest RAM at acpiBase and records the
// RSDP address.
func (m *Machine) buildACPI(withAPIC bool) {
	le := binary.LittleEndian
	base := m.acpiBase()
	ram := m.Bus.RAM()
	area := ram[base : base+acpiSize]
	clear(area)
	off := uint64(0)
	place := func(t []byte, align uint64) uint64 {
		off = (off + align - 1) &^ (align - 1)
		a := base + off
		copy(area[off:], t)
		off += uint64(len(t))
		return a
	}

	rsdpAddr := place(make([]byte, 36), 16) // filled last

	facs := make([]byte, 64)
	copy(facs, "FACS")
	le.PutUint32(facs[4:], 64)
	facs[32] = 2 // version
	facsAddr := place(facs, 64)

	dsdtAddr := place(buildDSDT(m.cfg.RAM, withAPIC), 16)

	fadt := sdtHeader("FACP", 4)
	fadt = append(fadt, make([]byte, 244-36)...)
	le.PutUint32(fadt[36:], uint32(facsAddr))
	le.PutUint32(fadt[40:], uint32(dsdtAddr))
	fadt[45] = 0                                        // preferred PM profile: unspecified
	le.PutUint16(fadt[46:], 9)                          // SCI_INT
	le.PutUint32(fadt[48:], 0xb2)                       // SMI_CMD
	fadt[52], fadt[53] = 0xf1, 0xf0                     // ACPI_ENABLE, ACPI_DISABLE
	le.PutUint32(fadt[56:], pmIOBase)                   // PM1a_EVT_BLK
	le.PutUint32(fadt[64:], pmIOBase+4)                 // PM1a_CNT_BLK
	le.PutUint32(fadt[76:], pmIOBase+8)                 // PM_TMR_BLK
	le.PutUint32(fadt[80:], gpe0Base)                   // GPE0_BLK
	fadt[88], fadt[89], fadt[91] = 4, 2, 4              // PM1_EVT_LEN, PM1_CNT_LEN, PM_TMR_LEN
	fadt[92] = 4                                        // GPE0_BLK_LEN
	le.PutUint16(fadt[96:], 0xfff)                      // P_LVL2_LAT: C2 not supported
	le.PutUint16(fadt[98:], 0xfff)                      // P_LVL3_LAT: C3 not supported
	fadt[108] = 0x32                                    // CENTURY
	le.PutUint16(fadt[109:], 1<<0|1<<1)                 // IAPC_BOOT_ARCH: legacy devices, 8042
	le.PutUint32(fadt[112:], 1<<0|1<<2|1<<4|1<<5|1<<10) // WBINVD, PROC_C1, PWR_BUTTON, SLP_BUTTON, RESET_REG_SUP
	copy(fadt[116:], genericAddrIO(0xcf9, 8))           // RESET_REG
	fadt[128] = 6                                       // RESET_VALUE: PIIX3 hard reset
	fadt[131] = 0                                       // FADT minor version
	le.PutUint64(fadt[132:], facsAddr)                  // X_FIRMWARE_CTRL
	le.PutUint64(fadt[140:], dsdtAddr)                  // X_DSDT
	copy(fadt[148:], genericAddrIO(pmIOBase, 32))
	copy(fadt[172:], genericAddrIO(pmIOBase+4, 16))
	copy(fadt[208:], genericAddrIO(pmIOBase+8, 32))
	copy(fadt[220:], genericAddrIO(gpe0Base, 32))
	fadt = finishSDT(fadt)
	fadtAddr := place(fadt, 16)

	tables := []uint64{fadtAddr}
	if withAPIC {
		madt := sdtHeader("APIC", 3)
		madt = le.AppendUint32(madt, lapicBase)
		madt = le.AppendUint32(madt, 1) // PCAT_COMPAT: 8259s present
		// Processor local APIC: ACPI ID 0, APIC ID 0, enabled.
		madt = append(madt, 0, 8, 0, 0)
		madt = le.AppendUint32(madt, 1)
		// I/O APIC: ID 0, address, GSI base 0.
		madt = append(madt, 1, 12, 0, 0)
		madt = le.AppendUint32(madt, ioapicBase)
		madt = le.AppendUint32(madt, 0)
		// Interrupt source overrides as QEMU's pc machine: IRQ0 → GSI 2
		// (edge, high), and the PCI/SCI IRQs 5, 9, 10, 11 level-triggered
		// active-high.
		iso := func(irq byte, gsi uint32, flags uint16) {
			madt = append(madt, 2, 10, 0, irq)
			madt = le.AppendUint32(madt, gsi)
			madt = le.AppendUint16(madt, flags)
		}
		iso(0, 2, 0)
		for _, irq := range []byte{5, 9, 10, 11} {
			iso(irq, uint32(irq), 0xd)
		}
		// Local APIC NMI: all processors, LINT1, edge high.
		madt = append(madt, 4, 6, 0xff, 0, 0, 1)
		tables = append(tables, place(finishSDT(madt), 16))

		hpet := sdtHeader("HPET", 1)
		hpet = le.AppendUint32(hpet, 0x8086a201) // event timer block ID: 3 timers, legacy capable, 64-bit
		hpet = append(hpet, genericMem(hpetBase)...)
		hpet = append(hpet, 0)             // HPET number
		hpet = le.AppendUint16(hpet, 0x80) // minimum clock tick in periodic mode
		hpet = append(hpet, 0)             // page protection
		tables = append(tables, place(finishSDT(hpet), 16))
	}

	rsdt := sdtHeader("RSDT", 1)
	xsdt := sdtHeader("XSDT", 1)
	for _, a := range tables {
		rsdt = le.AppendUint32(rsdt, uint32(a))
		xsdt = le.AppendUint64(xsdt, a)
	}
	rsdtAddr := place(finishSDT(rsdt), 16)
	xsdtAddr := place(finishSDT(xsdt), 16)

	rsdp := area[rsdpAddr-base : rsdpAddr-base+36]
	copy(rsdp, "RSD PTR ")
	copy(rsdp[9:15], acpiOEMID)
	rsdp[15] = 2
	le.PutUint32(rsdp[16:], uint32(rsdtAddr))
	le.PutUint32(rsdp[20:], 36)
	le.PutUint64(rsdp[24:], xsdtAddr)
	rsdp[8] = acpiChecksum(rsdp[:20])
	rsdp[32] = acpiChecksum(rsdp)
	m.rsdp = rsdpAddr
}

// genericMem encodes a Generic Address Structure for system memory.
func genericMem(addr uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte{0, 64, 0, 0}, addr)
}
