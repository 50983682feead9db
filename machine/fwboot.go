package machine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"fuji/chipset"
	"fuji/roms"
)

// Booting a Linux kernel through the firmware (Config.Boot = BootFirmware,
// fuji run -kernel K -boot firmware), the way QEMU's -kernel does with
// SeaBIOS: the machine plays the part of a boot loader that has read the
// bzImage, but instead of writing guest memory it puts the pieces in
// fw_cfg items
//
//	FW_CFG_SETUP_ADDR/SIZE/DATA    real-mode setup sectors, header patched
//	FW_CFG_KERNEL_ADDR/SIZE/DATA   protected-mode kernel
//	FW_CFG_INITRD_ADDR/SIZE/DATA   initrd (when there is one)
//	FW_CFG_CMDLINE_ADDR/SIZE/DATA  command line with its NUL
//
// and adds its Linux loader option ROM (roms/linuxboot.asm) as the fw_cfg
// file "genroms/linuxboot_dma.bin", named first in "bootorder". SeaBIOS
// runs its POST as for any boot, then boots the ROM's boot entry, which
// copies the items to their addresses and enters the kernel's real-mode
// setup code: the kernel's own setup then asks the BIOS for the memory
// map, video mode and so on, and switches to protected mode itself.
//
// The addresses and header patches follow QEMU's x86_load_linux, so that
// a guest sees what it would see under QEMU.

// Boot paths for a -kernel (Config.Boot).
const (
	BootDirect   = "direct"   // Fuji loads the kernel and enters it (linux.go, multiboot.go)
	BootFirmware = "firmware" // SeaBIOS boots it through fw_cfg and the Linux loader ROM
)

const (
	// fwACPIDataSize is the room QEMU's pc machine keeps for the
	// firmware's tables at the top of RAM when it places the initrd.
	fwACPIDataSize = 0x20000 + 0x8000

	// loader type: QEMU's boot loader ID (0xB), version 0, since the
	// guest sees QEMU's firmware interface.
	fwLoaderType = 0xb0

	// bootorder entry SeaBIOS matches against the ROM's fw_cfg name.
	fwBootOrder = "/rom@" + roms.LinuxBootName

	xlfCanBeLoadedAbove4G = 1 << 1
	loadflagLoadedHigh    = 1 << 0
	loadflagCanUseHeap    = 1 << 7
)

// checkBoot validates Config.Boot.
func checkBoot(cfg Config) error {
	switch cfg.Boot {
	case "", BootDirect:
		return nil
	case BootFirmware:
		if cfg.NoBIOS {
			return errors.New("-boot firmware needs a BIOS (SeaBIOS runs the Linux loader)")
		}
		return nil
	}
	return fmt.Errorf("-boot %q: want direct or firmware", cfg.Boot)
}

// loadKernelFirmware prepares the -kernel image for the firmware boot.
// The fw_cfg contents survive a reset, as QEMU's do: on a reboot SeaBIOS
// runs the loader again and nothing needs reloading.
func (m *Machine) loadKernelFirmware() error {
	if m.FWCfg.File(roms.LinuxBootName) != nil {
		return nil
	}
	img, err := os.ReadFile(m.cfg.Kernel)
	if err != nil {
		return fmt.Errorf("-kernel: %w", err)
	}
	if !isLinux(img) {
		if _, err := findMultiboot(img); err == nil {
			return fmt.Errorf("-kernel %s: a multiboot kernel boots directly only (use -boot direct)", m.cfg.Kernel)
		}
		return fmt.Errorf("-kernel %s: not a Linux kernel image (no HdrS setup header): -boot firmware boots Linux bzImages", m.cfg.Kernel)
	}
	if err := m.fwLoadLinux(img); err != nil {
		return fmt.Errorf("-kernel %s: %w", m.cfg.Kernel, err)
	}
	return nil
}

// fwLinux is where a kernel goes and what its header says.
type fwLinux struct {
	setup, kernel                     []byte
	protocol                          uint16
	realAddr, cmdlineAddr, protAddr   uint32
	initrdAddr, initrdMax, cmdlineMax uint32
}

// fwLoadLinux fills the fw_cfg items and files for img.
func (m *Machine) fwLoadLinux(img []byte) error {
	le := binary.LittleEndian
	l := fwLinux{protocol: le.Uint16(img[0x206:])}
	sects := int(img[0x1f1])
	if sects == 0 {
		sects = 4
	}
	setupSize := (sects + 1) * 512
	if setupSize > len(img) {
		return errors.New("Linux image shorter than its setup sectors")
	}
	l.setup = append([]byte(nil), img[:setupSize]...)
	l.kernel = img[setupSize:]
	hdr := l.setup

	cmdline := m.cfg.Cmdline
	if strings.IndexByte(cmdline, 0) >= 0 {
		return errors.New("-append: the command line contains a NUL byte")
	}
	// Room for the command line, 16-byte aligned, below the old
	// protocols' fixed end of the setup area.
	cmdlineRoom := uint32(len(cmdline)+16) &^ 15
	high := l.protocol >= 0x200 && hdr[0x211]&loadflagLoadedHigh != 0
	switch {
	case !high:
		// zImage: setup at 0x90000, the kernel at 64 KiB.
		l.realAddr, l.protAddr = 0x90000, 0x10000
		l.cmdlineAddr = 0x9a000 - cmdlineRoom
	case l.protocol < 0x202:
		// bzImage with a setup that must stay at 0x90000.
		l.realAddr, l.protAddr = 0x90000, 0x100000
		l.cmdlineAddr = 0x9a000 - cmdlineRoom
	default:
		l.realAddr, l.protAddr = 0x10000, 0x100000
		l.cmdlineAddr = 0x20000
	}

	// The command line limit: cmdline_size from 2.06, 255 before.
	l.cmdlineMax = 255
	if l.protocol >= 0x206 {
		l.cmdlineMax = le.Uint32(hdr[0x238:])
	}
	if uint32(len(cmdline)) > l.cmdlineMax {
		return fmt.Errorf("-append: command line of %d bytes exceeds the kernel's limit of %d", len(cmdline), l.cmdlineMax)
	}
	if l.realAddr == 0x90000 && l.cmdlineAddr < l.realAddr+uint32(setupSize)+0x200 {
		return errors.New("-append: command line too long for this old kernel's setup area")
	}

	// The highest address the initrd may end at.
	switch {
	case l.protocol >= 0x20c && le.Uint16(hdr[0x236:])&xlfCanBeLoadedAbove4G != 0:
		l.initrdMax = 0xffffffff
	case l.protocol >= 0x203:
		l.initrdMax = le.Uint32(hdr[0x22c:])
	default:
		l.initrdMax = 0x37ffffff
	}
	if uint64(l.initrdMax) >= m.cfg.RAM-fwACPIDataSize {
		l.initrdMax = uint32(m.cfg.RAM - fwACPIDataSize - 1)
	}

	// Header patches, as a boot loader makes them.
	if l.protocol >= 0x202 {
		le.PutUint32(hdr[0x228:], l.cmdlineAddr) // cmd_line_ptr
	} else {
		le.PutUint16(hdr[0x20:], 0xa33f) // the old command line protocol
		le.PutUint16(hdr[0x22:], uint16(l.cmdlineAddr-l.realAddr))
	}
	if mode, ok, err := fwVGAMode(cmdline); err != nil {
		return err
	} else if ok {
		le.PutUint16(hdr[0x1fa:], mode) // vid_mode
	}
	if l.protocol >= 0x200 {
		hdr[0x210] = fwLoaderType
	}
	if l.protocol >= 0x201 {
		hdr[0x211] |= loadflagCanUseHeap
		// heap_end_ptr: the setup's heap and stack end at the command
		// line (the loader puts SP 16 bytes below it).
		le.PutUint16(hdr[0x224:], uint16(l.cmdlineAddr-l.realAddr-0x200))
	}

	// The kernel must fit where it goes; a bzImage decompresses in place
	// and needs init_size bytes there (protocol 2.10).
	need := uint64(len(l.kernel))
	if l.protocol >= 0x20a {
		need = max(need, uint64(le.Uint32(hdr[0x260:])))
	}
	kernelEnd := uint64(l.protAddr) + need
	if !high && kernelEnd > uint64(l.realAddr) {
		return fmt.Errorf("zImage kernel of %d bytes does not fit below its setup at %#x", len(l.kernel), l.realAddr)
	}
	if kernelEnd > m.cfg.RAM {
		return fmt.Errorf("kernel does not fit: it needs %#x-%#x and guest RAM is %d MiB", l.protAddr, kernelEnd, m.cfg.RAM>>20)
	}

	f := m.FWCfg
	if m.cfg.Initrd != "" {
		if l.protocol < 0x200 {
			return errors.New("-initrd: this kernel's boot protocol is too old to load an initrd")
		}
		data, err := os.ReadFile(m.cfg.Initrd)
		if err != nil {
			return fmt.Errorf("-initrd: %w", err)
		}
		if uint64(len(data)) >= uint64(l.initrdMax) {
			return fmt.Errorf("-initrd: %d bytes is too large (the initrd must end below %#x)", len(data), l.initrdMax)
		}
		// Page-aligned, as high as allowed.
		l.initrdAddr = (l.initrdMax - uint32(len(data))) &^ 0xfff
		if uint64(l.initrdAddr) < kernelEnd {
			return fmt.Errorf("-initrd: %d bytes do not fit in guest RAM beside the kernel (use a larger -m)", len(data))
		}
		le.PutUint32(hdr[0x218:], l.initrdAddr) // ramdisk_image
		le.PutUint32(hdr[0x21c:], uint32(len(data)))
		f.SetUint(chipset.FWCfgInitrdAddr, 4, uint64(l.initrdAddr))
		f.SetUint(chipset.FWCfgInitrdSize, 4, uint64(len(data)))
		f.SetItem(chipset.FWCfgInitrdData, data)
	}

	f.SetUint(chipset.FWCfgCmdlineAddr, 4, uint64(l.cmdlineAddr))
	f.SetUint(chipset.FWCfgCmdlineSize, 4, uint64(len(cmdline)+1))
	f.SetItem(chipset.FWCfgCmdlineData, append([]byte(cmdline), 0))

	f.SetUint(chipset.FWCfgKernelAddr, 4, uint64(l.protAddr))
	f.SetUint(chipset.FWCfgKernelSize, 4, uint64(len(l.kernel)))
	f.SetItem(chipset.FWCfgKernelData, l.kernel)

	f.SetUint(chipset.FWCfgSetupAddr, 4, uint64(l.realAddr))
	f.SetUint(chipset.FWCfgSetupSize, 4, uint64(len(l.setup)))
	f.SetItem(chipset.FWCfgSetupData, l.setup)

	if err := f.AddFile(roms.LinuxBootName, roms.LinuxBoot()); err != nil {
		return err
	}
	// QEMU's bootorder format: one device path per line, NUL-terminated.
	return f.AddFile("bootorder", append([]byte(fwBootOrder), 0))
}

// fwVGAMode reads a "vga=" option of the command line into the header's
// vid_mode, as boot loaders do: normal, ext, ask or a number.
func fwVGAMode(cmdline string) (uint16, bool, error) {
	i := strings.Index(cmdline, "vga=")
	if i < 0 {
		return 0, false, nil
	}
	v, _, _ := strings.Cut(cmdline[i+4:], " ")
	switch v {
	case "normal":
		return 0xffff, true, nil
	case "ext":
		return 0xfffe, true, nil
	case "ask":
		return 0xfffd, true, nil
	}
	n, err := strconv.ParseUint(v, 0, 16)
	if err != nil {
		return 0, false, fmt.Errorf("-append: invalid vga= value %q", v)
	}
	return uint16(n), true, nil
}
