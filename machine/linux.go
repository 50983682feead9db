package machine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"fuji/cpu"
)

// Direct boot of a Linux bzImage through the 32-bit boot protocol
// (Documentation/arch/x86/boot.rst): Fuji plays the boot loader. It copies
// the setup header into a zero page (boot_params), fills the e820 map, the
// command line and initrd fields and the ACPI RSDP address, loads the
// protected-mode kernel at 1 MiB and enters it in flat 32-bit protected
// mode with ESI pointing at boot_params. The same entry serves 32- and
// 64-bit kernels: a 64-bit kernel's startup_32 switches to long mode
// itself.

const (
	linuxHdrMagic    = 0x53726448 // "HdrS"
	linuxBootParams  = 0x7000     // the zero page
	linuxCmdlineAddr = 0x20000
	linuxCmdlineMax  = 0x10000
	linuxKernelAddr  = 0x100000
	linuxGDTAddr     = 0x6000
	linuxMinProtocol = 0x20a // 2.10: kernel_alignment, pref_address, init_size
)

// linuxImage is a parsed bzImage.
type linuxImage struct {
	setup    []byte // the real-mode setup sectors (boot sector included)
	kernel   []byte // the protected-mode kernel
	protocol uint16
	hdrEnd   int // end of the setup header in setup[]
	initMax  uint32
	cmdMax   uint32
	initSize uint32
	loadHigh bool
	xlf      uint16
}

// isLinux reports whether img carries a Linux boot-protocol header.
func isLinux(img []byte) bool {
	return len(img) >= 0x210 && binary.LittleEndian.Uint32(img[0x202:]) == linuxHdrMagic
}

func parseLinux(img []byte) (*linuxImage, error) {
	le := binary.LittleEndian
	if !isLinux(img) {
		return nil, errors.New("not a Linux kernel image (no HdrS setup header)")
	}
	l := &linuxImage{protocol: le.Uint16(img[0x206:])}
	if l.protocol < linuxMinProtocol {
		return nil, fmt.Errorf("Linux boot protocol %d.%02d is too old (Fuji needs 2.10 or later)", l.protocol>>8, l.protocol&0xff)
	}
	sects := int(img[0x1f1])
	if sects == 0 {
		sects = 4
	}
	setupLen := (sects + 1) * 512
	if setupLen >= len(img) {
		return nil, errors.New("Linux image shorter than its setup sectors")
	}
	l.setup = img[:setupLen]
	l.kernel = img[setupLen:]
	l.hdrEnd = 0x202 + int(img[0x201])
	if l.hdrEnd > setupLen || l.hdrEnd < 0x268 {
		return nil, errors.New("Linux setup header has a bad length")
	}
	l.loadHigh = img[0x211]&1 != 0
	if !l.loadHigh {
		return nil, errors.New("zImage (not loaded high) is not supported: use a bzImage")
	}
	l.initMax = le.Uint32(img[0x22c:])
	l.cmdMax = le.Uint32(img[0x238:])
	l.initSize = le.Uint32(img[0x260:])
	if l.protocol >= 0x20c {
		l.xlf = le.Uint16(img[0x236:])
	}
	return l, nil
}

// loadLinux loads a bzImage for direct boot.
func (m *Machine) loadLinux(img []byte) error {
	l, err := parseLinux(img)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	ram := m.Bus.RAM()
	// The kernel decompresses in place: it needs init_size bytes at its
	// load address.
	need := uint64(max(uint32(len(l.kernel)), l.initSize))
	if err := m.checkRange(linuxKernelAddr, need); err != nil {
		return fmt.Errorf("kernel does not fit: %w", err)
	}
	copy(ram[linuxKernelAddr:], l.kernel)

	bp := ram[linuxBootParams : linuxBootParams+4096]
	clear(bp)
	copy(bp[0x1f1:l.hdrEnd], l.setup[0x1f1:l.hdrEnd])
	bp[0x210] = 0xff  // type_of_loader: undefined (a boot loader without an ID)
	bp[0x211] |= 0x80 // CAN_USE_HEAP: none of the setup code runs, but be exact
	bp[0x211] &^= 0x20
	le.PutUint16(bp[0x224:], 0xfe00) // heap_end_ptr (unused by a 32-bit entry)

	cmdline := m.cfg.Cmdline
	maxCmd := uint32(linuxCmdlineMax - 1)
	if l.cmdMax != 0 && l.cmdMax < maxCmd {
		maxCmd = l.cmdMax
	}
	if uint32(len(cmdline)) > maxCmd {
		return fmt.Errorf("-append: command line of %d bytes exceeds the kernel's limit of %d", len(cmdline), maxCmd)
	}
	copy(ram[linuxCmdlineAddr:], cmdline)
	ram[linuxCmdlineAddr+len(cmdline)] = 0
	le.PutUint32(bp[0x228:], linuxCmdlineAddr)

	if m.cfg.Initrd != "" {
		data, err := os.ReadFile(m.cfg.Initrd)
		if err != nil {
			return fmt.Errorf("-initrd: %w", err)
		}
		// As high as allowed, below the ACPI area and initrd_addr_max,
		// page-aligned (what QEMU and GRUB do).
		top := m.acpiBase()
		if lim := uint64(l.initMax) + 1; l.initMax != 0 && lim < top {
			top = lim
		}
		if uint64(len(data)) > top-need-linuxKernelAddr {
			return fmt.Errorf("-initrd: %d bytes do not fit in guest RAM beside the kernel (use a larger -m)", len(data))
		}
		addr := (top - uint64(len(data))) &^ 0xfff
		copy(ram[addr:], data)
		le.PutUint32(bp[0x218:], uint32(addr))
		le.PutUint32(bp[0x21c:], uint32(len(data)))
	}

	// e820 map (boot_params.e820_entries at 0x1e8, table at 0x2d0).
	e := m.e820()
	for i, en := range e {
		o := 0x2d0 + 20*i
		le.PutUint64(bp[o:], en.addr)
		le.PutUint64(bp[o+8:], en.len)
		le.PutUint32(bp[o+16:], en.typ)
	}
	bp[0x1e8] = byte(len(e))
	if rsdp := m.acpiRSDP(); rsdp != 0 {
		le.PutUint64(bp[0x70:], rsdp) // acpi_rsdp_addr (protocol 2.14)
	}

	m.enterLinux32()
	return nil
}

// enterLinux32 sets the CPU up as the 32-bit boot protocol requires:
// flat __BOOT_CS (0x10) and __BOOT_DS (0x18), interrupts off, paging off,
// ESI = boot_params, EBP = EDI = EBX = 0.
func (m *Machine) enterLinux32() {
	ram := m.Bus.RAM()
	le := binary.LittleEndian
	clear(ram[linuxGDTAddr : linuxGDTAddr+0x20])
	le.PutUint64(ram[linuxGDTAddr+0x10:], 0x00cf9a000000ffff)
	le.PutUint64(ram[linuxGDTAddr+0x18:], 0x00cf92000000ffff)
	c := m.CPU
	c.GDTR = cpu.TableReg{Base: linuxGDTAddr, Limit: 0x1f}
	c.IDTR = cpu.TableReg{Base: 0, Limit: 0}
	c.SetControl(cpu.CR0PE|cpu.CR0ET, 0, 0, 0)
	code := cpu.Segment{Sel: 0x10, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrCode | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG}
	data := cpu.Segment{Sel: 0x18, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG}
	c.SetSegment(cpu.CS, code)
	for _, s := range []int{cpu.SS, cpu.DS, cpu.ES, cpu.FS, cpu.GS} {
		c.SetSegment(s, data)
	}
	c.SetFlags(2)
	for i := range c.R {
		c.R[i] = 0
	}
	c.R[cpu.RSI] = linuxBootParams
	c.RIP = linuxKernelAddr
	m.Bus.SetA20(true)
	c.FlushBlocks()
}
