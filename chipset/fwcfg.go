package chipset

import (
	"encoding/binary"
	"fmt"
	"sort"

	"fuji/mem"
)

// FWCfg is QEMU's firmware configuration device (docs/specs/fw_cfg.rst in
// QEMU) on its x86 I/O ports, the way SeaBIOS, the Linux fw_cfg driver and
// QEMU's option ROMs use it:
//
//	0x510      selector, 16-bit write (resets the data offset)
//	0x511      data, byte reads with auto-increment; past the end read 0
//	0x514-51B  DMA address, big-endian; a 32-bit write to 0x514 sets the
//	           high half, one to 0x518 the low half and starts the
//	           transfer. Reads return the signature "QEMU CFG".
//
// A DMA transfer reads a FWCfgDmaAccess {be32 control, be32 length, be64
// address} from guest memory, performs it, and writes the control word
// back as 0 or with the error bit. Guest memory is reached through
// mem.Bus; a descriptor or buffer outside RAM is an error, not a crash.
//
// Items are keyed by selector (bit 15 = architecture-specific items,
// bit 14, the old write channel, is ignored). Named files get selectors
// from 0x20 up in name order and are listed in FW_CFG_FILE_DIR.
type FWCfg struct {
	bus   *mem.Bus
	items map[uint16][]byte
	files []*fwFile // sorted by name

	cur   uint16
	curOK bool
	off   uint32
	dmaHi uint32
}

type fwFile struct {
	name    string
	data    []byte
	onWrite func(data []byte) // nil: read-only
}

// fw_cfg selectors (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
const (
	FWCfgSignature    = 0x00
	FWCfgID           = 0x01
	FWCfgUUID         = 0x02
	FWCfgRAMSize      = 0x03
	FWCfgNoGraphic    = 0x04
	FWCfgNbCPUs       = 0x05
	FWCfgMachineID    = 0x06
	FWCfgKernelAddr   = 0x07
	FWCfgKernelSize   = 0x08
	FWCfgKernelCmdl   = 0x09
	FWCfgInitrdAddr   = 0x0A
	FWCfgInitrdSize   = 0x0B
	FWCfgBootDevice   = 0x0C
	FWCfgNUMA         = 0x0D
	FWCfgBootMenu     = 0x0E
	FWCfgMaxCPUs      = 0x0F
	FWCfgKernelEntry  = 0x10
	FWCfgKernelData   = 0x11
	FWCfgInitrdData   = 0x12
	FWCfgCmdlineAddr  = 0x13
	FWCfgCmdlineSize  = 0x14
	FWCfgCmdlineData  = 0x15
	FWCfgSetupAddr    = 0x16
	FWCfgSetupSize    = 0x17
	FWCfgSetupData    = 0x18
	FWCfgFileDir      = 0x19
	FWCfgFileFirst    = 0x20
	FWCfgWriteChannel = 0x4000
	FWCfgArchLocal    = 0x8000
	FWCfgACPITables   = FWCfgArchLocal + 0
	FWCfgSMBIOS       = FWCfgArchLocal + 1
	FWCfgIRQ0Override = FWCfgArchLocal + 2
	FWCfgE820Table    = FWCfgArchLocal + 3
	FWCfgHPET         = FWCfgArchLocal + 4

	FWCfgPortSel  = 0x510
	FWCfgPortData = 0x511
	FWCfgPortDMA  = 0x514

	FWCfgDMAError  = 1 << 0
	FWCfgDMARead   = 1 << 1
	FWCfgDMASkip   = 1 << 2
	FWCfgDMASelect = 1 << 3
	FWCfgDMAWrite  = 1 << 4

	fwCfgEntryMask = 0x3FFF
	fwCfgNameLen   = 56
	fwCfgDMASig    = "QEMU CFG"
)

// E820Entry is one entry of the "etc/e820" file (20 bytes, packed,
// little-endian, as SeaBIOS's struct e820_reservation).
type E820Entry struct {
	Addr, Len uint64
	Type      uint32 // 1 RAM, 2 reserved, 3 ACPI, 4 NVS
}

// NewFWCfg builds the device with QEMU's standard items for one CPU and
// bus's RAM size; the machine adjusts them and adds files before boot.
func NewFWCfg(bus *mem.Bus) *FWCfg {
	f := &FWCfg{bus: bus, items: map[uint16][]byte{}}
	f.SetItem(FWCfgSignature, []byte("QEMU"))
	f.SetUint(FWCfgID, 4, 3) // traditional interface + DMA
	f.SetItem(FWCfgUUID, make([]byte, 16))
	f.SetUint(FWCfgRAMSize, 8, bus.RAMSize())
	f.SetUint(FWCfgNoGraphic, 2, 0)
	f.SetUint(FWCfgBootMenu, 2, 0)
	f.SetUint(FWCfgIRQ0Override, 4, 1)
	f.SetCPUs(1, 1)
	f.rebuildDir()
	f.Reset()
	return f
}

// Register claims the selector/data ports and the DMA ports.
func (f *FWCfg) Register(ports *mem.PortBus) {
	ports.Register(FWCfgPortSel, FWCfgPortData, f)
	ports.Register(FWCfgPortDMA, FWCfgPortDMA+7, f)
}

// SetItem sets a numbered item (the data is copied).
func (f *FWCfg) SetItem(key uint16, data []byte) {
	f.items[key&^FWCfgWriteChannel] = append([]byte(nil), data...)
}

// SetUint sets a numbered item to a size-byte little-endian integer.
func (f *FWCfg) SetUint(key uint16, size int, v uint64) {
	f.SetItem(key, fwLEBytes(size, v))
}

// SetCPUs sets FW_CFG_NB_CPUS and FW_CFG_MAX_CPUS, and sizes FW_CFG_NUMA
// (no NUMA nodes: a zero count followed by one zero node per CPU, as
// QEMU lays it out).
func (f *FWCfg) SetCPUs(boot, max int) {
	f.SetUint(FWCfgNbCPUs, 2, uint64(boot))
	f.SetUint(FWCfgMaxCPUs, 2, uint64(max))
	f.SetItem(FWCfgNUMA, make([]byte, 8*(1+max)))
}

// AddFile adds a read-only named file. Names are at most 55 bytes and
// unique.
func (f *FWCfg) AddFile(name string, data []byte) error {
	return f.addFile(name, data, nil)
}

// AddWritableFile adds a file the guest may overwrite by DMA (e.g.
// "etc/ramfb"); onWrite receives the new contents after each write.
func (f *FWCfg) AddWritableFile(name string, data []byte, onWrite func(data []byte)) error {
	if onWrite == nil {
		onWrite = func([]byte) {}
	}
	return f.addFile(name, data, onWrite)
}

// AddFileUint adds a file holding a size-byte little-endian integer, the
// form SeaBIOS's romfile_loadint reads ("etc/boot-fail-wait" is 4 bytes,
// "etc/sercon-port" 8 in QEMU).
func (f *FWCfg) AddFileUint(name string, size int, v uint64) error {
	return f.AddFile(name, fwLEBytes(size, v))
}

// ModifyFile replaces the contents of an existing file.
func (f *FWCfg) ModifyFile(name string, data []byte) error {
	for _, e := range f.files {
		if e.name == name {
			e.data = append([]byte(nil), data...)
			f.rebuildDir()
			return nil
		}
	}
	return fmt.Errorf("fw_cfg: no file %q", name)
}

// SetE820 sets "etc/e820" from a list of ranges.
func (f *FWCfg) SetE820(entries []E820Entry) error {
	b := make([]byte, 0, 20*len(entries))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint64(b, e.Addr)
		b = binary.LittleEndian.AppendUint64(b, e.Len)
		b = binary.LittleEndian.AppendUint32(b, e.Type)
	}
	if f.File("etc/e820") != nil {
		return f.ModifyFile("etc/e820", b)
	}
	return f.AddFile("etc/e820", b)
}

// File returns a file's current contents, or nil.
func (f *FWCfg) File(name string) []byte {
	for _, e := range f.files {
		if e.name == name {
			return e.data
		}
	}
	return nil
}

func (f *FWCfg) addFile(name string, data []byte, onWrite func([]byte)) error {
	if name == "" || len(name) >= fwCfgNameLen {
		return fmt.Errorf("fw_cfg: bad file name %q", name)
	}
	if FWCfgFileFirst+len(f.files) >= fwCfgEntryMask {
		return fmt.Errorf("fw_cfg: too many files")
	}
	if uint64(len(data)) > 0xFFFFFFFF {
		return fmt.Errorf("fw_cfg: file %q too large", name)
	}
	i := sort.Search(len(f.files), func(i int) bool { return f.files[i].name >= name })
	if i < len(f.files) && f.files[i].name == name {
		return fmt.Errorf("fw_cfg: duplicate file %q", name)
	}
	f.files = append(f.files, nil)
	copy(f.files[i+1:], f.files[i:])
	f.files[i] = &fwFile{name: name, data: append([]byte(nil), data...), onWrite: onWrite}
	f.rebuildDir()
	return nil
}

// rebuildDir regenerates FW_CFG_FILE_DIR: be32 count, then per file be32
// size, be16 select, be16 reserved, name[56].
func (f *FWCfg) rebuildDir() {
	d := binary.BigEndian.AppendUint32(nil, uint32(len(f.files)))
	for i, e := range f.files {
		d = binary.BigEndian.AppendUint32(d, uint32(len(e.data)))
		d = binary.BigEndian.AppendUint16(d, uint16(FWCfgFileFirst+i))
		d = binary.BigEndian.AppendUint16(d, 0)
		var name [fwCfgNameLen]byte
		copy(name[:], e.name)
		d = append(d, name[:]...)
	}
	f.items[FWCfgFileDir] = d
}

// entry returns the data of the selected item and, for a writable file,
// the file.
func (f *FWCfg) entry() ([]byte, *fwFile) {
	if !f.curOK {
		return nil, nil
	}
	if i := int(f.cur) - FWCfgFileFirst; i >= 0 && i < len(f.files) {
		return f.files[i].data, f.files[i]
	}
	return f.items[f.cur], nil
}

func (f *FWCfg) sel(key uint16) {
	f.off = 0
	f.cur = key &^ FWCfgWriteChannel
	f.curOK = key&fwCfgEntryMask != fwCfgEntryMask // QEMU's FW_CFG_INVALID
}

func (f *FWCfg) readData() uint8 {
	data, _ := f.entry()
	if uint64(f.off) >= uint64(len(data)) {
		return 0
	}
	v := data[f.off]
	f.off++
	return v
}

// In implements mem.PortHandler.
func (f *FWCfg) In(port uint16, size int) uint32 {
	switch {
	case port == FWCfgPortData && size == 1, port == FWCfgPortSel && size == 2:
		// QEMU's combined port accepts these two forms, both as data reads.
		return uint32(f.readData())
	case port >= FWCfgPortDMA && port < FWCfgPortDMA+8:
		var v uint32
		for i := size - 1; i >= 0; i-- {
			k := int(port-FWCfgPortDMA) + i
			b := byte(0)
			if k < len(fwCfgDMASig) {
				b = fwCfgDMASig[k]
			}
			v = v<<8 | uint32(b)
		}
		return v
	}
	return pciOnes(size)
}

// Out implements mem.PortHandler.
func (f *FWCfg) Out(port uint16, size int, val uint32) {
	switch {
	case port == FWCfgPortSel && size == 2:
		f.sel(uint16(val))
	case port == FWCfgPortDMA && size == 4:
		f.dmaHi = fwSwap32(val)
	case port == FWCfgPortDMA+4 && size == 4:
		addr := uint64(f.dmaHi)<<32 | uint64(fwSwap32(val))
		f.dmaHi = 0 // QEMU resets the address after each transfer
		f.dma(addr)
	}
	// Data writes through 0x511 have been ignored since QEMU 2.4.
}

func fwSwap32(v uint32) uint32 {
	return v>>24 | v>>8&0xFF00 | v<<8&0xFF0000 | v<<24
}

// inRAM reports whether [addr, addr+n) lies in guest RAM.
func (f *FWCfg) inRAM(addr, n uint64) bool {
	end := addr + n
	return end >= addr && end <= f.bus.RAMSize()
}

// dma runs one DMA transfer described at addr, following QEMU's
// fw_cfg_dma_transfer.
func (f *FWCfg) dma(addr uint64) {
	if !f.inRAM(addr, 16) {
		return // nowhere to read the descriptor or report the error
	}
	var d [16]byte
	f.bus.ReadBytes(addr, d[:])
	control := binary.BigEndian.Uint32(d[0:])
	length := uint64(binary.BigEndian.Uint32(d[4:]))
	buf := binary.BigEndian.Uint64(d[8:])
	if control&FWCfgDMASelect != 0 {
		f.sel(uint16(control >> 16))
	}
	read, write := false, false
	switch {
	case control&FWCfgDMARead != 0:
		read = true
	case control&FWCfgDMAWrite != 0:
		write = true
	case control&FWCfgDMASkip != 0:
	default:
		length = 0
	}
	var status uint32
	for length > 0 && status == 0 {
		data, file := f.entry()
		var n uint64
		if uint64(f.off) >= uint64(len(data)) {
			// Past the end: reads fill with zeros, writes fail.
			n = length
			if read && !f.fill(buf, n) {
				status = FWCfgDMAError
			}
			if write {
				status = FWCfgDMAError
			}
		} else {
			n = min(length, uint64(len(data))-uint64(f.off))
			chunk := data[f.off : uint64(f.off)+n]
			if read {
				if f.inRAM(buf, n) {
					f.copyToGuest(buf, chunk)
				} else {
					status = FWCfgDMAError
				}
			}
			if write {
				if file == nil || file.onWrite == nil || n != length || !f.inRAM(buf, n) {
					status = FWCfgDMAError
				} else {
					f.bus.ReadBytes(buf, chunk)
					file.onWrite(file.data)
				}
			}
			f.off += uint32(n)
		}
		buf += n
		length -= n
	}
	var st [4]byte
	binary.BigEndian.PutUint32(st[:], status)
	f.bus.WriteBytes(addr, st[:])
}

// fill writes n zero bytes at addr.
func (f *FWCfg) fill(addr, n uint64) bool {
	if !f.inRAM(addr, n) {
		return false
	}
	var zero [mem.PageSize]byte
	for n > 0 {
		k := min(n, uint64(len(zero)))
		f.copyToGuest(addr, zero[:k])
		addr += k
		n -= k
	}
	return true
}

// copyToGuest writes src at addr: straight into plain RAM pages (noting
// the write for the dirty and code-page logs), through the bus elsewhere.
func (f *FWCfg) copyToGuest(addr uint64, src []byte) {
	for len(src) > 0 {
		in := mem.PageSize - addr&(mem.PageSize-1)
		k := min(uint64(len(src)), in)
		if p := f.bus.HostPage(addr); p != nil && f.bus.A20Mask()&addr == addr {
			copy(p[addr&(mem.PageSize-1):], src[:k])
			f.bus.NoteWrite(addr, int(k))
		} else {
			f.bus.WriteBytes(addr, src[:k])
		}
		addr += k
		src = src[k:]
	}
}

// Reset selects the signature item, as QEMU does.
func (f *FWCfg) Reset() {
	f.sel(FWCfgSignature)
	f.dmaHi = 0
}

type fwCfgState struct {
	Cur      uint16
	CurOK    bool
	Off      uint32
	DMAHi    uint32
	Writable map[string][]byte
}

// Save returns the device's register state and the contents of writable
// files; the items themselves are machine configuration, rebuilt by the
// machine before Load.
func (f *FWCfg) Save() ([]byte, error) {
	s := fwCfgState{Cur: f.cur, CurOK: f.curOK, Off: f.off, DMAHi: f.dmaHi, Writable: map[string][]byte{}}
	for _, e := range f.files {
		if e.onWrite != nil {
			s.Writable[e.name] = e.data
		}
	}
	return pciGobEncode(s)
}

// Load restores a state returned by Save.
func (f *FWCfg) Load(data []byte) error {
	var s fwCfgState
	if err := pciGobDecode(data, &s); err != nil {
		return err
	}
	for name, d := range s.Writable {
		var e *fwFile
		for _, x := range f.files {
			if x.name == name && x.onWrite != nil {
				e = x
			}
		}
		if e == nil || len(d) != len(e.data) {
			return fmt.Errorf("fw_cfg: snapshot's writable file %q does not match the machine", name)
		}
	}
	for name, d := range s.Writable {
		for _, x := range f.files {
			if x.name == name {
				copy(x.data, d)
				x.onWrite(x.data)
			}
		}
	}
	f.cur, f.curOK, f.off, f.dmaHi = s.Cur&^FWCfgWriteChannel, s.CurOK, s.Off, s.DMAHi
	return nil
}

func fwLEBytes(size int, v uint64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	if size < 0 || size > 8 {
		size = 8
	}
	return b[:size]
}
