package machine

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"fuji/cpu"
)

// Multiboot (version 1) direct boot, as QEMU's -kernel does for a
// multiboot image: the kernel is loaded (ELF, or flat with the a.out
// kludge addresses), -initrd files become modules, -append the command
// line, and the CPU starts in flat 32-bit protected mode at the entry with
// EAX=0x2BADB002 and EBX pointing to the multiboot information.

const (
	mbHeaderMagic = 0x1BADB002
	mbBootMagic   = 0x2BADB002
	mbSearch      = 8192

	mbFlagPageAlign = 1 << 0
	mbFlagMemInfo   = 1 << 1
	mbFlagVideo     = 1 << 2
	mbFlagAout      = 1 << 16

	// Where the loader puts its own structures: a GDT, the multiboot
	// information, strings and the memory map, below the EBDA.
	mbGDTAddr  = 0x8000
	mbInfoAddr = 0x9000
	mbInfoEnd  = 0x80000
)

// ErrNotMultiboot is returned for a kernel without a multiboot header.
var ErrNotMultiboot = errors.New("neither a multiboot kernel (no multiboot header in the first 8 KiB) nor a Linux bzImage")

type mbHeader struct {
	off                                   int
	flags                                 uint32
	headerAddr, loadAddr, loadEnd, bssEnd uint32
	entry                                 uint32
}

func findMultiboot(img []byte) (mbHeader, error) {
	n := min(len(img), mbSearch)
	for off := 0; off+12 <= n; off += 4 {
		if binary.LittleEndian.Uint32(img[off:]) != mbHeaderMagic {
			continue
		}
		flags := binary.LittleEndian.Uint32(img[off+4:])
		sum := binary.LittleEndian.Uint32(img[off+8:])
		if mbHeaderMagic+flags+sum != 0 {
			continue
		}
		h := mbHeader{off: off, flags: flags}
		if flags&mbFlagAout != 0 {
			if off+32 > len(img) {
				return h, errors.New("multiboot header truncated")
			}
			le := binary.LittleEndian
			h.headerAddr, h.loadAddr = le.Uint32(img[off+12:]), le.Uint32(img[off+16:])
			h.loadEnd, h.bssEnd, h.entry = le.Uint32(img[off+20:]), le.Uint32(img[off+24:]), le.Uint32(img[off+28:])
		}
		return h, nil
	}
	return mbHeader{}, ErrNotMultiboot
}

// loadKernel loads the -kernel image and sets the CPU up to enter it.
func (m *Machine) loadKernel() error {
	// -boot firmware: the kernel goes into fw_cfg for SeaBIOS and the
	// Linux loader ROM instead (fwboot.go).
	if m.cfg.Boot == BootFirmware {
		return m.loadKernelFirmware()
	}
	img, err := os.ReadFile(m.cfg.Kernel)
	if err != nil {
		return fmt.Errorf("-kernel: %w", err)
	}
	h, err := findMultiboot(img)
	if err == ErrNotMultiboot && isLinux(img) {
		m.setupDirectBoot()
		if err := m.loadLinux(img); err != nil {
			return fmt.Errorf("-kernel %s: %w", m.cfg.Kernel, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("-kernel %s: %w", m.cfg.Kernel, err)
	}
	if h.flags&0xfff8 != 0 {
		return fmt.Errorf("-kernel %s: multiboot header asks for features Fuji does not provide (flags %#x)", m.cfg.Kernel, h.flags)
	}
	var entry, kernelEnd uint64
	if h.flags&mbFlagAout != 0 {
		entry, kernelEnd, err = m.loadAout(img, h)
	} else {
		entry, kernelEnd, err = m.loadELF(img)
	}
	if err != nil {
		return fmt.Errorf("-kernel %s: %w", m.cfg.Kernel, err)
	}
	mbi, err := m.buildMBI(kernelEnd)
	if err != nil {
		return err
	}
	m.enterMultiboot(entry, mbi)
	return nil
}

func (m *Machine) checkRange(addr, n uint64) error {
	if addr+n < addr || addr+n > m.cfg.RAM {
		return fmt.Errorf("image range %#x-%#x lies outside guest RAM (%d MiB)", addr, addr+n, m.cfg.RAM>>20)
	}
	if addr < 0x100000 && addr+n > 0xa0000 && n > 0 {
		return fmt.Errorf("image range %#x-%#x overlaps the VGA/BIOS hole", addr, addr+n)
	}
	return nil
}

func (m *Machine) loadAout(img []byte, h mbHeader) (entry, end uint64, err error) {
	if h.headerAddr < h.loadAddr || uint64(h.headerAddr-h.loadAddr) > uint64(h.off) {
		return 0, 0, errors.New("a.out kludge: header_addr/load_addr inconsistent")
	}
	fileOff := uint64(h.off) - uint64(h.headerAddr-h.loadAddr)
	loadLen := uint64(len(img)) - fileOff
	if h.loadEnd != 0 {
		if h.loadEnd < h.loadAddr {
			return 0, 0, errors.New("a.out kludge: load_end_addr below load_addr")
		}
		loadLen = min(loadLen, uint64(h.loadEnd-h.loadAddr))
	}
	memEnd := uint64(h.loadAddr) + loadLen
	if h.bssEnd != 0 {
		if uint64(h.bssEnd) < memEnd {
			return 0, 0, errors.New("a.out kludge: bss_end_addr below the loaded image")
		}
		memEnd = uint64(h.bssEnd)
	}
	if err := m.checkRange(uint64(h.loadAddr), memEnd-uint64(h.loadAddr)); err != nil {
		return 0, 0, err
	}
	ram := m.Bus.RAM()
	copy(ram[h.loadAddr:], img[fileOff:fileOff+loadLen])
	clear(ram[uint64(h.loadAddr)+loadLen : memEnd])
	return uint64(h.entry), memEnd, nil
}

func (m *Machine) loadELF(img []byte) (entry, end uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed ELF file: %v", r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return 0, 0, fmt.Errorf("neither a.out-kludge nor ELF: %v", err)
	}
	if f.Machine != elf.EM_386 && f.Machine != elf.EM_X86_64 {
		return 0, 0, fmt.Errorf("ELF machine %v is not x86", f.Machine)
	}
	ram := m.Bus.RAM()
	loaded := false
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if p.Filesz > p.Memsz {
			return 0, 0, errors.New("ELF segment with filesz > memsz")
		}
		if err := m.checkRange(p.Paddr, p.Memsz); err != nil {
			return 0, 0, err
		}
		// A bss-only segment (Filesz 0) has nothing to read: ReadAt on
		// an empty section returns io.EOF, which used to reject such
		// kernels (found by conformance/multiboot, HANDELF format).
		if p.Filesz > 0 {
			data := make([]byte, p.Filesz)
			if _, err := p.ReadAt(data, 0); err != nil {
				return 0, 0, fmt.Errorf("reading ELF segment: %v", err)
			}
			copy(ram[p.Paddr:], data)
		}
		clear(ram[p.Paddr+p.Filesz : p.Paddr+p.Memsz])
		end = max(end, p.Paddr+p.Memsz)
		loaded = true
	}
	if !loaded {
		return 0, 0, errors.New("ELF file has no loadable segment")
	}
	entry = f.Entry
	// A kernel linked at a virtual address gives its entry as such:
	// translate it through the segment that holds it, as QEMU does.
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && entry >= p.Vaddr && entry < p.Vaddr+p.Memsz {
			entry = entry - p.Vaddr + p.Paddr
			break
		}
	}
	if entry >= 1<<32 {
		return 0, 0, fmt.Errorf("entry point %#x is not reachable in 32-bit mode", entry)
	}
	return entry, end, nil
}

// buildMBI loads the modules after the kernel and writes the multiboot
// information; it returns its address.
func (m *Machine) buildMBI(kernelEnd uint64) (uint64, error) {
	ram := m.Bus.RAM()
	le := binary.LittleEndian
	strs := uint64(mbInfoAddr + 0x1000)
	putStr := func(s string) (uint64, error) {
		a := strs
		if a+uint64(len(s))+1 > mbInfoEnd {
			return 0, errors.New("multiboot command line and module strings are too long")
		}
		copy(ram[a:], s)
		ram[a+uint64(len(s))] = 0
		strs += uint64(len(s)) + 1
		return a, nil
	}
	var flags uint32 = 1<<0 | 1<<6 | 1<<9 // mem, mmap, boot loader name
	cmdline := m.cfg.Kernel
	if m.cfg.Cmdline != "" {
		cmdline += " " + m.cfg.Cmdline
	}
	cmdAddr, err := putStr(cmdline)
	if err != nil {
		return 0, err
	}
	flags |= 1 << 2
	nameAddr, err := putStr("Fuji")
	if err != nil {
		return 0, err
	}

	// Modules, page-aligned after the kernel.
	type module struct{ start, end, str uint64 }
	var mods []module
	next := (kernelEnd + 0xfff) &^ 0xfff
	if m.cfg.Initrd != "" {
		for _, spec := range strings.Split(m.cfg.Initrd, ",") {
			spec = strings.TrimSpace(spec)
			path, _, _ := strings.Cut(spec, " ")
			data, err := os.ReadFile(path)
			if err != nil {
				return 0, fmt.Errorf("-initrd: %w", err)
			}
			if err := m.checkRange(next, uint64(len(data))); err != nil {
				return 0, fmt.Errorf("-initrd %s: %w", path, err)
			}
			copy(ram[next:], data)
			s, err := putStr(spec)
			if err != nil {
				return 0, err
			}
			mods = append(mods, module{next, next + uint64(len(data)), s})
			next = (next + uint64(len(data)) + 0xfff) &^ 0xfff
		}
		flags |= 1 << 3
	}
	modsAddr := (strs + 15) &^ 15
	for i, md := range mods {
		a := modsAddr + uint64(i)*16
		le.PutUint32(ram[a:], uint32(md.start))
		le.PutUint32(ram[a+4:], uint32(md.end))
		le.PutUint32(ram[a+8:], uint32(md.str))
		le.PutUint32(ram[a+12:], 0)
	}
	mmapAddr := modsAddr + uint64(len(mods))*16
	e820 := m.e820()
	for i, e := range e820 {
		a := mmapAddr + uint64(i)*24
		le.PutUint32(ram[a:], 20)
		le.PutUint64(ram[a+4:], e.addr)
		le.PutUint64(ram[a+12:], e.len)
		le.PutUint32(ram[a+20:], e.typ)
	}
	if mmapAddr+uint64(len(e820))*24 > mbInfoEnd {
		return 0, errors.New("too many multiboot modules")
	}
	mbi := ram[mbInfoAddr:]
	clear(mbi[:0x58])
	le.PutUint32(mbi[0:], flags)
	le.PutUint32(mbi[4:], 640)             // mem_lower (KiB)
	le.PutUint32(mbi[8:], m.memUpperKiB()) // mem_upper (KiB above 1 MiB)
	le.PutUint32(mbi[16:], uint32(cmdAddr))
	le.PutUint32(mbi[20:], uint32(len(mods)))
	le.PutUint32(mbi[24:], uint32(modsAddr))
	le.PutUint32(mbi[44:], uint32(len(e820)*24))
	le.PutUint32(mbi[48:], uint32(mmapAddr))
	le.PutUint32(mbi[64:], uint32(nameAddr))
	return mbInfoAddr, nil
}

type e820Entry struct {
	addr, len uint64
	typ       uint32
}

// e820 is the memory map the guest is told about: low RAM, the EBDA and
// BIOS area reserved, and RAM above 1 MiB.
func (m *Machine) e820() []e820Entry {
	top := m.cfg.RAM
	e := []e820Entry{
		{0, 0x9fc00, 1},
		{0x9fc00, 0x400, 2},
		{0xf0000, 0x10000, 2},
	}
	if m.rsdp != 0 {
		// The ACPI tables Fuji built sit in the top of RAM.
		top = m.acpiBase()
		e = append(e, e820Entry{0x100000, top - 0x100000, 1}, e820Entry{top, acpiSize, 3})
	} else {
		e = append(e, e820Entry{0x100000, top - 0x100000, 1})
	}
	if m.hasAPIC() {
		e = append(e, e820Entry{ioapicBase, 0x1000, 2}, e820Entry{lapicBase, 0x1000, 2})
	}
	// The BIOS ROM mapped below 4 GiB.
	return append(e, e820Entry{1<<32 - 0x40000, 0x40000, 2})
}

// memUpperKiB is the multiboot mem_upper: the RAM contiguous from 1 MiB.
func (m *Machine) memUpperKiB() uint32 {
	for _, e := range m.e820() {
		if e.addr == 0x100000 && e.typ == 1 {
			return uint32(e.len >> 10)
		}
	}
	return 0
}

// enterMultiboot puts the CPU in the state the multiboot spec prescribes.
func (m *Machine) enterMultiboot(entry, mbi uint64) {
	ram := m.Bus.RAM()
	le := binary.LittleEndian
	// A GDT with flat code (0x10) and data (0x18) so that the kernel may
	// reload those selectors before it installs its own.
	le.PutUint64(ram[mbGDTAddr+0x10:], 0x00cf9a000000ffff)
	le.PutUint64(ram[mbGDTAddr+0x18:], 0x00cf92000000ffff)
	c := m.CPU
	c.GDTR = cpu.TableReg{Base: mbGDTAddr, Limit: 0x1f}
	c.SetControl(cpu.CR0PE|cpu.CR0ET, 0, 0, 0)
	code := cpu.Segment{Sel: 0x10, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrCode | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG}
	data := cpu.Segment{Sel: 0x18, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG}
	c.SetSegment(cpu.CS, code)
	for _, s := range []int{cpu.SS, cpu.DS, cpu.ES, cpu.FS, cpu.GS} {
		c.SetSegment(s, data)
	}
	c.SetFlags(2)
	c.R[cpu.RAX] = mbBootMagic
	c.R[cpu.RBX] = mbi
	c.RIP = entry
	m.Bus.SetA20(true)
	m.CPU.FlushBlocks()
}
