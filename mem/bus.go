// Package mem models the guest's physical address space: RAM in one host
// allocation, ROM regions, MMIO regions with handlers, the A20 gate, and the
// dirty logs that the block cache (code pages) and snapshots/migration (all
// pages) need. It also holds the I/O port space (ports.go).
package mem

import (
	"fmt"
	"sort"
)

// PageShift is log2 of the dirty-tracking granule (4 KiB, the x86 page).
const PageShift = 12

// PageSize is the dirty-tracking granule in bytes.
const PageSize = 1 << PageShift

// MMIOHandler serves reads and writes to a memory-mapped device region.
// off is the offset from the region's base; size is 1, 2, 4 or 8.
type MMIOHandler interface {
	ReadMMIO(off uint64, size int) uint64
	WriteMMIO(off uint64, size int, val uint64)
}

// CodeWriteFunc is called when a guest write touches a page that holds
// translated code. It receives the physical address and length of the
// part of the write that falls in that page.
type CodeWriteFunc func(addr uint64, n int)

type regionKind uint8

const (
	kindROM regionKind = iota + 1
	kindMMIO
	kindRAMAlias // ROM-like window that reads/writes RAM (shadowing)
)

// region is a non-RAM range of physical address space. Regions take
// precedence over RAM where they overlap (e.g. the BIOS below 1 MiB).
type region struct {
	base, size uint64
	kind       regionKind
	data       []byte // ROM contents
	h          MMIOHandler
	name       string
	// For ROM regions under shadow control: when readRAM is set reads
	// come from RAM at the same address; when writeRAM is set writes go
	// to RAM. This models the i440FX PAM registers.
	readRAM, writeRAM bool
}

// Bus is the guest physical address space. It is not safe for concurrent
// use by several CPUs writing the same page without external ordering; a
// machine runs its devices and CPUs on one goroutine.
type Bus struct {
	ram     []byte
	ramSize uint64

	regions []*region // sorted by base, non-overlapping
	// pageKind caches, per 4 KiB page below 4 GiB + RAM above, whether a
	// page is plain RAM (0) or needs the slow region lookup (1).
	slow []uint8

	a20      bool
	a20Mask  uint64
	codePage []uint64 // bitmap: page holds translated code
	dirty    []uint64 // bitmap: page written since last ClearDirty
	logDirty bool
	onCode   CodeWriteFunc
	// Generation counts map changes so that cached host pointers (the
	// CPU's TLB) can be dropped when the map changes.
	Generation uint64
}

// New creates a physical address space with ramSize bytes of RAM at
// address 0 (the caller maps holes and ROMs on top). ramSize is rounded up
// to a whole page.
func New(ramSize uint64) (*Bus, error) {
	if ramSize == 0 {
		return nil, fmt.Errorf("mem: RAM size must be positive")
	}
	ramSize = (ramSize + PageSize - 1) &^ (PageSize - 1)
	if ramSize > 1<<40 {
		return nil, fmt.Errorf("mem: RAM size %d too large", ramSize)
	}
	pages := ramSize >> PageShift
	b := &Bus{
		ram:      make([]byte, ramSize),
		ramSize:  ramSize,
		a20:      true,
		a20Mask:  ^uint64(0),
		codePage: make([]uint64, (pages+63)/64),
		dirty:    make([]uint64, (pages+63)/64),
	}
	b.rebuildSlow()
	return b, nil
}

// RAMSize reports the bytes of RAM.
func (b *Bus) RAMSize() uint64 { return b.ramSize }

// RAM returns the backing RAM slice. Callers that write through it must
// call NoteWrite for the pages they touch (loaders usually do so before
// the guest runs, when no code is cached).
func (b *Bus) RAM() []byte { return b.ram }

// SetCodeWriteHook installs the function called when the guest writes a
// page marked as holding translated code.
func (b *Bus) SetCodeWriteHook(f CodeWriteFunc) { b.onCode = f }

// SetA20 enables or disables the A20 gate. With A20 disabled, address
// bit 20 is forced to zero (1 MiB wrap-around, as on the 8086).
func (b *Bus) SetA20(on bool) {
	if b.a20 == on {
		return
	}
	b.a20 = on
	if on {
		b.a20Mask = ^uint64(0)
	} else {
		b.a20Mask = ^uint64(1 << 20)
	}
	b.Generation++
}

// A20 reports whether the A20 gate is enabled.
func (b *Bus) A20() bool { return b.a20 }

// A20Mask is the mask applied to every physical address.
func (b *Bus) A20Mask() uint64 { return b.a20Mask }

// MapROM maps a read-only region. Writes to it are dropped. The data slice
// is copied.
func (b *Bus) MapROM(name string, base uint64, data []byte) error {
	r := &region{base: base, size: uint64(len(data)), kind: kindROM, data: append([]byte(nil), data...), name: name}
	return b.addRegion(r)
}

// MapMMIO maps a device region of size bytes at base.
func (b *Bus) MapMMIO(name string, base, size uint64, h MMIOHandler) error {
	return b.addRegion(&region{base: base, size: size, kind: kindMMIO, h: h, name: name})
}

// Unmap removes the region that starts at base.
func (b *Bus) Unmap(base uint64) {
	for i, r := range b.regions {
		if r.base == base {
			b.regions = append(b.regions[:i], b.regions[i+1:]...)
			b.rebuildSlow()
			b.Generation++
			return
		}
	}
}

// SetShadow controls a ROM region's shadowing: readRAM makes reads of
// [base, base+size) return RAM, writeRAM sends writes to RAM. It applies to
// the part of the ROM region(s) within the range; the region is split if
// needed. It is how the chipset's PAM registers are modelled.
func (b *Bus) SetShadow(base, size uint64, readRAM, writeRAM bool) {
	end := base + size
	var out []*region
	for _, r := range b.regions {
		if r.kind != kindROM || r.base+r.size <= base || r.base >= end {
			out = append(out, r)
			continue
		}
		// Split r into up to three pieces: before, inside, after.
		cut := func(lo, hi uint64) *region {
			n := *r
			n.base = lo
			n.size = hi - lo
			n.data = r.data[lo-r.base : hi-r.base]
			return &n
		}
		lo, hi := max(r.base, base), min(r.base+r.size, end)
		if r.base < lo {
			out = append(out, cut(r.base, lo))
		}
		in := cut(lo, hi)
		in.readRAM, in.writeRAM = readRAM, writeRAM
		out = append(out, in)
		if hi < r.base+r.size {
			out = append(out, cut(hi, r.base+r.size))
		}
	}
	b.regions = out
	b.rebuildSlow()
	b.Generation++
}

func (b *Bus) addRegion(r *region) error {
	if r.size == 0 {
		return fmt.Errorf("mem: region %s has zero size", r.name)
	}
	if r.base+r.size < r.base {
		return fmt.Errorf("mem: region %s wraps the address space", r.name)
	}
	for _, o := range b.regions {
		if r.base < o.base+o.size && o.base < r.base+r.size {
			return fmt.Errorf("mem: region %s [%#x,%#x) overlaps %s", r.name, r.base, r.base+r.size, o.name)
		}
	}
	b.regions = append(b.regions, r)
	sort.Slice(b.regions, func(i, j int) bool { return b.regions[i].base < b.regions[j].base })
	b.rebuildSlow()
	b.Generation++
	return nil
}

// rebuildSlow marks which RAM pages are covered by a region.
func (b *Bus) rebuildSlow() {
	pages := b.ramSize >> PageShift
	if uint64(len(b.slow)) != pages {
		b.slow = make([]uint8, pages)
	}
	clear(b.slow)
	for _, r := range b.regions {
		for p := r.base >> PageShift; p<<PageShift < r.base+r.size && p < pages; p++ {
			b.slow[p] = 1
		}
	}
}

func (b *Bus) find(addr uint64) *region {
	rs := b.regions
	lo, hi := 0, len(rs)
	for lo < hi {
		m := (lo + hi) / 2
		r := rs[m]
		switch {
		case addr < r.base:
			hi = m
		case addr >= r.base+r.size:
			lo = m + 1
		default:
			return r
		}
	}
	return nil
}

// HostPage returns the RAM backing the 4 KiB page holding the physical
// address, if that page is plain RAM with no region on it, else nil. The
// CPU's TLB caches it (guarded by Generation). The returned slice is
// PageSize long.
func (b *Bus) HostPage(addr uint64) []byte {
	addr &= b.a20Mask
	p := addr >> PageShift
	if p >= uint64(len(b.slow)) || b.slow[p] != 0 {
		return nil
	}
	off := p << PageShift
	return b.ram[off : off+PageSize : off+PageSize]
}

// IsCodePage reports whether page p (a page number) holds translated code.
func (b *Bus) IsCodePage(p uint64) bool {
	return p < uint64(len(b.codePage))*64 && b.codePage[p>>6]&(1<<(p&63)) != 0
}

// MarkCodePage records that page p holds translated code: writes to it
// call the code-write hook, and the CPU's TLB gives it no write fast path.
func (b *Bus) MarkCodePage(p uint64) {
	if p < uint64(len(b.codePage))*64 {
		b.codePage[p>>6] |= 1 << (p & 63)
	}
}

// ClearCodePage forgets that page p holds translated code.
func (b *Bus) ClearCodePage(p uint64) {
	if p < uint64(len(b.codePage))*64 {
		b.codePage[p>>6] &^= 1 << (p & 63)
	}
}

// NoteWrite records a write of n bytes at physical address addr: the
// all-pages dirty log and the code-page check. Fast paths that write RAM
// directly call it (or have proved the page is neither code nor logged).
func (b *Bus) NoteWrite(addr uint64, n int) {
	first := addr >> PageShift
	last := (addr + uint64(n) - 1) >> PageShift
	end := addr + uint64(n)
	for p := first; p <= last; p++ {
		if p >= uint64(len(b.codePage))*64 {
			return
		}
		if b.logDirty {
			b.dirty[p>>6] |= 1 << (p & 63)
		}
		if b.codePage[p>>6]&(1<<(p&63)) != 0 && b.onCode != nil {
			lo, hi := max(addr, p<<PageShift), min(end, (p+1)<<PageShift)
			b.onCode(lo, int(hi-lo))
		}
	}
}

// StartDirtyLog starts (and clears) the all-pages dirty log.
func (b *Bus) StartDirtyLog() {
	clear(b.dirty)
	b.logDirty = true
	b.Generation++ // write fast paths must now note writes
}

// StopDirtyLog stops the all-pages dirty log.
func (b *Bus) StopDirtyLog() { b.logDirty = false; b.Generation++ }

// DirtyLogging reports whether the all-pages dirty log is on.
func (b *Bus) DirtyLogging() bool { return b.logDirty }

// TakeDirty returns the page numbers written since the last call (or since
// StartDirtyLog) and clears the log.
func (b *Bus) TakeDirty() []uint64 {
	var out []uint64
	for i, w := range b.dirty {
		for w != 0 {
			bit := uint64(trailingZeros(w))
			out = append(out, uint64(i)*64+bit)
			w &= w - 1
		}
		b.dirty[i] = 0
	}
	// Cached write translations must be dropped so that the next write
	// to each page is logged again.
	b.Generation++
	return out
}

// DirtyPages returns the page numbers written since the last TakeDirty
// without clearing the log.
func (b *Bus) DirtyPages() []uint64 {
	var out []uint64
	for i, w := range b.dirty {
		for w != 0 {
			out = append(out, uint64(i)*64+uint64(trailingZeros(w)))
			w &= w - 1
		}
	}
	return out
}
