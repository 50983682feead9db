package chipset

import (
	"math/bits"

	"fuji/mem"
)

// ACPIPM is the power-management function of a PIIX4 (8086:7113) at
// device 1 function 3, as QEMU places it on its i440FX `pc` machine.
//
// PMBA (0x40) and PMREGMISC bit 0 (0x80) map a 64-byte I/O block that the
// firmware places (SeaBIOS uses 0x600 when QEMU-style ACPI tables are
// supplied, 0xB000 otherwise) and the OS may move:
//
//	+0x00 PM1_STS  (RW1C)   +0x02 PM1_EN   +0x04 PM1_CNT
//	+0x08 PM_TMR   24-bit counter at 3.579545 MHz, read-only
//	+0x0C GPSTS (RW1C) +0x0E GPEN, +0x28 GLBCTL (plain storage)
//
// Fixed ports, as QEMU: GPE0 status/enable at 0xAFE0-0xAFE3 and the APM
// control/status ports 0xB2/0xB3 (writing ACPI_ENABLE 0xF1 / ACPI_DISABLE
// 0xF0 to 0xB2 sets or clears SCI_EN, which is how an OS enters ACPI mode
// through the FADT's SMI_CMD).
//
// There is no SMM. As QEMU does without SMM, DEVACTB bit 25 (APMC_EN) is
// preset so that SeaBIOS treats SMM as already initialised, and the SMBus
// base register is read-only zero (no SMBus controller).
//
// Sleep: SLP_EN with SLP_TYP 0 (S5 in QEMU's tables) powers off; SLP_TYP 2
// (QEMU's S4) also powers off, as QEMU does once the guest has written its
// hibernation image. SLP_TYP 1 (S3, suspend to RAM) is ignored: resuming
// needs a wake source and the firmware's resume path, which Fuji does not
// have, so the write has no effect and the guest keeps running. ACPI
// tables built for Fuji should not offer _S3.
type ACPIPM struct {
	hdr      *PCIHeader
	ports    *mem.PortBus
	clk      Clock
	sci      IRQLine
	powerOff func()

	block  *pmBlock
	ioBase uint16
	ioOn   bool

	sts, en, cnt    uint16
	gpSts, gpEn     uint16
	glbctl          uint32
	gpe0Sts, gpe0En [2]uint8
	apmc, apms      uint8
	ovf             uint64 // PM timer ticks >> 23 when TMR_STS was last updated
	sciLevel        bool
}

// ACPI PM register bits.
const (
	PM1TmrSts    = 1 << 0
	PM1GblSts    = 1 << 5
	PM1PwrBtnSts = 1 << 8
	PM1RTCSts    = 1 << 10
	PM1WakSts    = 1 << 15
	PM1TmrEn     = 1 << 0
	PM1GblEn     = 1 << 5
	PM1PwrBtnEn  = 1 << 8
	PM1RTCEn     = 1 << 10
	PM1SCIEn     = 1 << 0
	PM1SlpEn     = 1 << 13

	pm1StsRW1C   = 0x8D31 // TMROF, BM, GBL, PWRBTN, RTC, PWRBTNOR, WAK
	pm1EnMask    = PM1TmrEn | PM1GblEn | PM1PwrBtnEn | PM1RTCEn
	pm1CntMask   = 0x1C03 // SCI_EN, BM_RLD, SLP_TYP; GBL_RLS and SLP_EN are write-only
	pmSCIEvents  = PM1TmrSts | PM1GblSts | PM1PwrBtnSts | PM1RTCSts
	pmTimerHz    = 3579545
	pmBlockSize  = 64
	ACPIGPE0Base = 0xAFE0
	APMControl   = 0xB2
	ACPIEnable   = 0xF1
	ACPIDisable  = 0xF0
	PIIX4PMBA    = 0x40
	PIIX4PMMISC  = 0x80
	PIIX4DEVACTB = 0x58
)

// NewACPIPM builds the function and claims its fixed ports (GPE0 block,
// APM ports) on ports. sci is the SCI line (ISA IRQ 9 on the PC);
// powerOff is called on an S5 request.
func NewACPIPM(ports *mem.PortBus, clk Clock, sci IRQLine, powerOff func()) *ACPIPM {
	h := NewPCIHeader(PCIIdent{
		Vendor: 0x8086, Device: 0x7113, Revision: 0x03,
		Class: 0x068000, IntPin: 1,
		SubVendor: QEMUSubVendor, Subsystem: QEMUSubDevice,
	}, nil, nil)
	h.Init(PCIStatus, []byte{0x80, 0x02})
	all := make([]byte, 0xC0)
	for i := range all {
		all[i] = 0xFF
	}
	h.SetMasks(0x40, all, nil)                           // QEMU: device registers R/W
	h.SetMasks(PIIX4PMBA, []byte{0xC0, 0xFF, 0, 0}, nil) // bits 15:6; bit 0 reads 1
	h.SetMasks(0x90, []byte{0, 0, 0, 0}, nil)            // SMBBA: no SMBus
	// Power-on values: PMBA I/O indicator, APMC_EN (no SMM), and QEMU's
	// device-resource bytes for a machine with COM1 and no LPT.
	h.Init(PIIX4PMBA, []byte{0x01})
	h.Init(PIIX4DEVACTB+3, []byte{0x02})
	h.Init(0x5F, []byte{0x10})
	h.Init(0x63, []byte{0x60})
	h.Init(0x67, []byte{0x08})
	if sci == nil {
		sci = NoIRQ{}
	}
	if powerOff == nil {
		powerOff = func() {}
	}
	p := &ACPIPM{hdr: h, ports: ports, clk: clk, sci: sci, powerOff: powerOff}
	p.block = &pmBlock{p}
	p.ovf = p.ticks(clk.Now()) >> 23
	ports.Register(ACPIGPE0Base, ACPIGPE0Base+3, &gpe0Ports{p})
	ports.Register(APMControl, APMControl+1, &apmPorts{p})
	return p
}

// Header gives access to the configuration header.
func (p *ACPIPM) Header() *PCIHeader { return p.hdr }

// ConfigRead implements PCIFunction.
func (p *ACPIPM) ConfigRead(off uint8, size int) uint32 { return p.hdr.ConfigRead(off, size) }

// ConfigWrite implements PCIFunction.
func (p *ACPIPM) ConfigWrite(off uint8, size int, val uint32) {
	p.hdr.ConfigWrite(off, size, val)
	if pciOverlaps(off, size, PIIX4PMBA, 4) || pciOverlaps(off, size, PIIX4PMMISC, 1) {
		p.mapBlock()
	}
}

// PMBase returns the I/O base of the PM block and whether it decodes.
func (p *ACPIPM) PMBase() (uint16, bool) { return p.ioBase, p.ioOn }

// mapBlock moves the PM I/O block to where PMBA and PMREGMISC say. A
// range already claimed by another device is not stolen: the block then
// stays unmapped until the guest moves it somewhere free.
func (p *ACPIPM) mapBlock() {
	base := p.hdr.Word(PIIX4PMBA) & 0xFFC0
	on := p.hdr.Byte(PIIX4PMMISC)&1 != 0
	if on == p.ioOn && (!on || base == p.ioBase) {
		return
	}
	if p.ioOn {
		p.ports.Unregister(p.ioBase, p.ioBase+pmBlockSize-1)
		p.ioOn = false
	}
	if !on || base == 0 {
		return
	}
	for port := base; port < base+pmBlockSize; port++ {
		if p.ports.Handler(port) != nil {
			return
		}
	}
	p.ioBase, p.ioOn = base, true
	p.ports.Register(base, base+pmBlockSize-1, p.block)
}

// ticks converts virtual time to PM timer ticks without overflow.
func (p *ACPIPM) ticks(now int64) uint64 {
	if now <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(now), pmTimerHz)
	q, _ := bits.Div64(hi, lo, 1e9) // hi < 1e9 since pmTimerHz < 1e9
	return q
}

// Timer returns the PM timer value (24 bits) at virtual time now.
func (p *ACPIPM) Timer(now int64) uint32 { return uint32(p.ticks(now)) & 0xFFFFFF }

// catchUp sets TMR_STS if bit 23 of the timer flipped since last seen.
func (p *ACPIPM) catchUp(now int64) {
	if o := p.ticks(now) >> 23; o != p.ovf {
		p.ovf = o
		p.sts |= PM1TmrSts
	}
}

// updateSCI drives the SCI: a status bit with its enable set, while
// SCI_EN routes events to the SCI (with SCI_EN clear they would be SMIs,
// and there is no SMM).
func (p *ACPIPM) updateSCI() {
	if l := p.sciWanted(); l != p.sciLevel {
		p.sciLevel = l
		p.sci.Set(l)
	}
}

func (p *ACPIPM) sciWanted() bool {
	return p.cnt&PM1SCIEn != 0 &&
		(p.sts&p.en&pmSCIEvents != 0 || p.gpe0Sts[0]&p.gpe0En[0] != 0 || p.gpe0Sts[1]&p.gpe0En[1] != 0)
}

// Deadline implements Timed: the next time bit 23 of the PM timer flips,
// when that would raise the SCI.
func (p *ACPIPM) Deadline() int64 {
	if p.en&PM1TmrEn == 0 || p.cnt&PM1SCIEn == 0 || p.sts&PM1TmrSts != 0 {
		return NoDeadline
	}
	t := (p.ovf + 1) << 23
	hi, lo := bits.Mul64(t, 1e9)
	if hi >= pmTimerHz {
		return NoDeadline
	}
	q, r := bits.Div64(hi, lo, pmTimerHz)
	if r != 0 {
		q++
	}
	if q > uint64(NoDeadline) {
		return NoDeadline
	}
	return int64(q)
}

// Advance implements Timed.
func (p *ACPIPM) Advance(now int64) {
	p.catchUp(now)
	p.updateSCI()
}

// PowerButton presses the power button: PWRBTN_STS, and an SCI if the OS
// enabled it (an ACPI OS then shuts down cleanly).
func (p *ACPIPM) PowerButton() {
	p.sts |= PM1PwrBtnSts
	p.updateSCI()
}

// SetGPE sets GPE0 status bit n (0-15), e.g. for hotplug events.
func (p *ACPIPM) SetGPE(n int) {
	if n >= 0 && n < 16 {
		p.gpe0Sts[n/8] |= 1 << (n % 8)
		p.updateSCI()
	}
}

// readWord returns the 16-bit register at an even offset of the block.
func (p *ACPIPM) readWord(off uint16) uint16 {
	switch off {
	case 0x00:
		p.catchUp(p.clk.Now())
		p.updateSCI()
		return p.sts
	case 0x02:
		return p.en
	case 0x04:
		return p.cnt
	case 0x08, 0x0A:
		return uint16(p.Timer(p.clk.Now()) >> (8 * (off - 8)))
	case 0x0C:
		return p.gpSts
	case 0x0E:
		return p.gpEn
	case 0x28, 0x2A:
		return uint16(p.glbctl >> (8 * (off - 0x28)))
	}
	return 0
}

// writeWord writes the bytes of v selected by mask to the 16-bit register
// at an even offset, so byte and word accesses both behave.
func (p *ACPIPM) writeWord(off, v, mask uint16) {
	switch off {
	case 0x00:
		p.catchUp(p.clk.Now())
		p.sts &^= v & mask & pm1StsRW1C
	case 0x02:
		p.en = p.en&^mask | v&mask&pm1EnMask
	case 0x04:
		p.cnt = p.cnt&^(mask&pm1CntMask) | v&mask&pm1CntMask
		if v&mask&PM1SlpEn != 0 {
			p.sleep(p.cnt >> 10 & 7)
		}
	case 0x0C:
		p.gpSts &^= v & mask
	case 0x0E:
		p.gpEn = p.gpEn&^mask | v&mask
	case 0x28, 0x2A:
		sh := 8 * (off - 0x28)
		m := uint32(mask) << sh
		p.glbctl = p.glbctl&^m | uint32(v)<<sh&m
	}
	p.updateSCI()
}

func (p *ACPIPM) sleep(typ uint16) {
	switch typ {
	case 0, 2: // S5, and S4 which QEMU also turns into power-off
		p.powerOff()
	}
}

// pmBlock is the relocatable 64-byte PM I/O block.
type pmBlock struct{ p *ACPIPM }

func (b *pmBlock) In(port uint16, size int) uint32 {
	off := port - b.p.ioBase
	var v uint32
	for i := size - 1; i >= 0; i-- {
		o := off + uint16(i)
		v = v<<8 | uint32(b.p.readWord(o&^1)>>(8*(o&1))&0xFF)
	}
	return v
}

func (b *pmBlock) Out(port uint16, size int, val uint32) {
	off := port - b.p.ioBase
	for i := 0; i < size; {
		o := off + uint16(i)
		w, m := uint16(0), uint16(0)
		for ; i < size && (off+uint16(i))&^1 == o&^1; i++ {
			sh := 8 * ((off + uint16(i)) & 1)
			w |= uint16(byte(val>>(8*i))) << sh
			m |= 0xFF << sh
		}
		b.p.writeWord(o&^1, w, m)
	}
}

// gpe0Ports is the GPE0 block: two status bytes (RW1C), two enable bytes.
type gpe0Ports struct{ p *ACPIPM }

func (g *gpe0Ports) In(port uint16, size int) uint32 {
	var v uint32
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint32(g.byteAt(port+uint16(i)))
	}
	return v
}

func (g *gpe0Ports) byteAt(port uint16) uint8 {
	switch o := port - ACPIGPE0Base; o {
	case 0, 1:
		return g.p.gpe0Sts[o]
	case 2, 3:
		return g.p.gpe0En[o-2]
	}
	return 0xFF
}

func (g *gpe0Ports) Out(port uint16, size int, val uint32) {
	for i := 0; i < size; i++ {
		b := uint8(val >> (8 * i))
		switch o := port + uint16(i) - ACPIGPE0Base; o {
		case 0, 1:
			g.p.gpe0Sts[o] &^= b
		case 2, 3:
			g.p.gpe0En[o-2] = b
		}
	}
	g.p.updateSCI()
}

// apmPorts are APMC (0xB2) and APMS (0xB3).
type apmPorts struct{ p *ACPIPM }

func (a *apmPorts) In(port uint16, size int) uint32 {
	v := uint32(a.p.apmc) | uint32(a.p.apms)<<8
	if port != APMControl {
		v >>= 8
	}
	return v & pciOnes(size)
}

func (a *apmPorts) Out(port uint16, size int, val uint32) {
	if port != APMControl {
		a.p.apms = uint8(val)
		return
	}
	a.p.apmc = uint8(val)
	if size > 1 {
		a.p.apms = uint8(val >> 8)
	}
	switch uint8(val) {
	case ACPIEnable:
		a.p.cnt |= PM1SCIEn
	case ACPIDisable:
		a.p.cnt &^= PM1SCIEn
	}
	// Other commands would raise an SMI; there is no SMM.
	a.p.updateSCI()
}

// Reset returns the function to power-on state: PM block unmapped,
// status, enables and control cleared.
func (p *ACPIPM) Reset() {
	p.hdr.Reset()
	p.sts, p.en, p.cnt, p.gpSts, p.gpEn, p.glbctl = 0, 0, 0, 0, 0, 0
	p.gpe0Sts, p.gpe0En = [2]uint8{}, [2]uint8{}
	p.apmc, p.apms = 0, 0
	p.ovf = p.ticks(p.clk.Now()) >> 23
	p.mapBlock()
	p.updateSCI()
}

type acpiPMState struct {
	Hdr             pciHeaderState
	Sts, En, Cnt    uint16
	GPSts, GPEn     uint16
	GlbCtl          uint32
	GPE0Sts, GPE0En [2]uint8
	APMC, APMS      uint8
	Ovf             uint64
}

// Save returns the function's state.
func (p *ACPIPM) Save() ([]byte, error) {
	return pciGobEncode(acpiPMState{
		Hdr: p.hdr.state(), Sts: p.sts, En: p.en, Cnt: p.cnt,
		GPSts: p.gpSts, GPEn: p.gpEn, GlbCtl: p.glbctl,
		GPE0Sts: p.gpe0Sts, GPE0En: p.gpe0En, APMC: p.apmc, APMS: p.apms, Ovf: p.ovf,
	})
}

// Load restores a state returned by Save; the machine's clock must
// already be restored.
func (p *ACPIPM) Load(data []byte) error {
	var s acpiPMState
	if err := pciGobDecode(data, &s); err != nil {
		return err
	}
	if err := p.hdr.restore(s.Hdr); err != nil {
		return err
	}
	p.sts, p.en, p.cnt = s.Sts&pm1StsRW1C, s.En&pm1EnMask, s.Cnt&pm1CntMask
	p.gpSts, p.gpEn, p.glbctl = s.GPSts, s.GPEn, s.GlbCtl
	p.gpe0Sts, p.gpe0En = s.GPE0Sts, s.GPE0En
	p.apmc, p.apms, p.ovf = s.APMC, s.APMS, s.Ovf
	p.mapBlock()
	p.sciLevel = p.sciWanted()
	p.sci.Set(p.sciLevel)
	return nil
}
