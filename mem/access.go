package mem

import (
	"encoding/binary"
	"math/bits"
)

func trailingZeros(w uint64) int { return bits.TrailingZeros64(w) }

// isPlainRAM reports whether [addr, addr+n) lies in one RAM page with no
// region over it. addr has the A20 mask applied.
func (b *Bus) isPlainRAM(addr uint64, n int) bool {
	p := addr >> PageShift
	return p < uint64(len(b.slow)) && b.slow[p] == 0 && (addr+uint64(n)-1)>>PageShift == p
}

// Read reads n (1, 2, 4 or 8) bytes little-endian at physical address addr.
// Unmapped addresses read as all ones.
func (b *Bus) Read(addr uint64, n int) uint64 {
	addr &= b.a20Mask
	if b.isPlainRAM(addr, n) {
		s := b.ram[addr:]
		switch n {
		case 1:
			return uint64(s[0])
		case 2:
			return uint64(binary.LittleEndian.Uint16(s))
		case 4:
			return uint64(binary.LittleEndian.Uint32(s))
		default:
			return binary.LittleEndian.Uint64(s)
		}
	}
	if r := b.find(addr); r != nil && r.kind == kindMMIO && addr+uint64(n) <= r.base+r.size {
		return r.h.ReadMMIO(addr-r.base, n) & sizeMask(n)
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b.read8(addr+uint64(i)))
	}
	return v
}

// Write writes the low n (1, 2, 4 or 8) bytes of v little-endian at
// physical address addr. Writes to ROM and unmapped space are dropped.
func (b *Bus) Write(addr uint64, n int, v uint64) {
	addr &= b.a20Mask
	if b.isPlainRAM(addr, n) {
		s := b.ram[addr:]
		switch n {
		case 1:
			s[0] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(s, uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(s, uint32(v))
		default:
			binary.LittleEndian.PutUint64(s, v)
		}
		b.NoteWrite(addr, n)
		return
	}
	if r := b.find(addr); r != nil && r.kind == kindMMIO && addr+uint64(n) <= r.base+r.size {
		r.h.WriteMMIO(addr-r.base, n, v&sizeMask(n))
		return
	}
	for i := 0; i < n; i++ {
		b.write8(addr+uint64(i), byte(v>>(8*i)))
	}
}

func sizeMask(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(n)) - 1
}

// read8 is the slow, general byte read.
func (b *Bus) read8(addr uint64) byte {
	addr &= b.a20Mask
	if r := b.find(addr); r != nil {
		switch {
		case r.kind == kindMMIO:
			return byte(r.h.ReadMMIO(addr-r.base, 1))
		case r.readRAM && addr < b.ramSize:
			return b.ram[addr]
		default:
			return r.data[addr-r.base]
		}
	}
	if addr < b.ramSize {
		return b.ram[addr]
	}
	return 0xff
}

// write8 is the slow, general byte write.
func (b *Bus) write8(addr uint64, v byte) {
	addr &= b.a20Mask
	if r := b.find(addr); r != nil {
		switch {
		case r.kind == kindMMIO:
			r.h.WriteMMIO(addr-r.base, 1, uint64(v))
		case r.writeRAM && addr < b.ramSize:
			b.ram[addr] = v
			b.NoteWrite(addr, 1)
		}
		return
	}
	if addr < b.ramSize {
		b.ram[addr] = v
		b.NoteWrite(addr, 1)
	}
}

// ReadBytes copies len(dst) bytes from physical memory (loader and DMA use).
func (b *Bus) ReadBytes(addr uint64, dst []byte) {
	for i := range dst {
		dst[i] = b.read8(addr + uint64(i))
	}
}

// WriteBytes copies src into physical memory as guest writes would
// (ROM dropped, MMIO called, dirty logs updated).
func (b *Bus) WriteBytes(addr uint64, src []byte) {
	for i, v := range src {
		b.write8(addr+uint64(i), v)
	}
}
