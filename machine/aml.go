package machine

import (
	"encoding/binary"
	"strings"
)

// A small encoder for the ACPI Machine Language subset Fuji's DSDT needs
// (ACPI 6.4 §20): names, integers, strings, packages, buffers, scopes,
// devices and methods that return a constant. Terms are byte slices.

const (
	amlZero      = 0x00
	amlOne       = 0x01
	amlNameOp    = 0x08
	amlBytePfx   = 0x0a
	amlWordPfx   = 0x0b
	amlDWordPfx  = 0x0c
	amlStrPfx    = 0x0d
	amlQWordPfx  = 0x0e
	amlScopeOp   = 0x10
	amlBufferOp  = 0x11
	amlPackageOp = 0x12
	amlMethodOp  = 0x14
	amlReturnOp  = 0xa4
	amlExtOp     = 0x5b
	amlDeviceOp  = 0x82 // after ExtOp
)

// pkgLength encodes a PkgLength covering n bytes of content (the length
// bytes themselves included, as the encoding requires).
func pkgLength(n int) []byte {
	switch {
	case n+1 < 0x40:
		return []byte{byte(n + 1)}
	case n+2 < 0x1000:
		t := n + 2
		return []byte{0x40 | byte(t&0xf), byte(t >> 4)}
	case n+3 < 0x100000:
		t := n + 3
		return []byte{0x80 | byte(t&0xf), byte(t >> 4), byte(t >> 12)}
	default:
		t := n + 4
		return []byte{0xc0 | byte(t&0xf), byte(t >> 4), byte(t >> 12), byte(t >> 20)}
	}
}

// amlName encodes a name path like "\\_SB.PCI0" or "_HID". Segments are
// padded with '_' to four characters.
func amlName(path string) []byte {
	var out []byte
	if strings.HasPrefix(path, "\\") {
		out = append(out, '\\')
		path = path[1:]
	}
	for strings.HasPrefix(path, "^") {
		out = append(out, '^')
		path = path[1:]
	}
	segs := strings.Split(path, ".")
	switch {
	case path == "":
		return append(out, 0)
	case len(segs) == 2:
		out = append(out, 0x2e)
	case len(segs) > 2:
		out = append(out, 0x2f, byte(len(segs)))
	}
	for _, s := range segs {
		seg := []byte(s + "____")[:4]
		out = append(out, seg...)
	}
	return out
}

func amlInt(v uint64) []byte {
	switch {
	case v == 0:
		return []byte{amlZero}
	case v == 1:
		return []byte{amlOne}
	case v <= 0xff:
		return []byte{amlBytePfx, byte(v)}
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16([]byte{amlWordPfx}, uint16(v))
	case v <= 0xffffffff:
		return binary.LittleEndian.AppendUint32([]byte{amlDWordPfx}, uint32(v))
	}
	return binary.LittleEndian.AppendUint64([]byte{amlQWordPfx}, v)
}

func amlString(s string) []byte {
	return append(append([]byte{amlStrPfx}, s...), 0)
}

// amlEISAID encodes a PNP ID like "PNP0A03" as the 32-bit compressed
// EISA ID.
func amlEISAID(id string) []byte {
	c := func(b byte) uint32 { return uint32(b-'@') & 0x1f }
	h := func(b byte) uint32 {
		if b >= 'A' {
			return uint32(b-'A') + 10
		}
		return uint32(b - '0')
	}
	v := c(id[0])<<26 | c(id[1])<<21 | c(id[2])<<16 | h(id[3])<<12 | h(id[4])<<8 | h(id[5])<<4 | h(id[6])
	// Stored big-endian as a DWord.
	return amlInt(uint64(v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24))
}

func amlNameDecl(name string, value []byte) []byte {
	return append(append([]byte{amlNameOp}, amlName(name)...), value...)
}

func amlPackage(elems ...[]byte) []byte {
	var body []byte
	body = append(body, byte(len(elems)))
	for _, e := range elems {
		body = append(body, e...)
	}
	return append(append([]byte{amlPackageOp}, pkgLength(len(body))...), body...)
}

func amlBuffer(data []byte) []byte {
	body := append(amlInt(uint64(len(data))), data...)
	return append(append([]byte{amlBufferOp}, pkgLength(len(body))...), body...)
}

func amlScope(name string, terms ...[]byte) []byte {
	body := amlName(name)
	for _, t := range terms {
		body = append(body, t...)
	}
	return append(append([]byte{amlScopeOp}, pkgLength(len(body))...), body...)
}

func amlDevice(name string, terms ...[]byte) []byte {
	body := amlName(name)
	for _, t := range terms {
		body = append(body, t...)
	}
	return append(append([]byte{amlExtOp, amlDeviceOp}, pkgLength(len(body))...), body...)
}

// amlMethodReturn is a method of no arguments returning a constant.
func amlMethodReturn(name string, value []byte) []byte {
	body := append(amlName(name), 0) // flags: 0 args, not serialized
	body = append(body, amlReturnOp)
	body = append(body, value...)
	return append(append([]byte{amlMethodOp}, pkgLength(len(body))...), body...)
}

// Resource template descriptors (ACPI 6.4 §6.4).

func resIO(min uint16, length uint8) []byte {
	return []byte{0x47, 1, byte(min), byte(min >> 8), byte(min), byte(min >> 8), 1, length}
}

func resIRQ(irq uint) []byte {
	m := uint16(1) << irq
	return []byte{0x22, byte(m), byte(m >> 8)}
}

func resMem32Fixed(base, length uint32, writable bool) []byte {
	var rw byte
	if writable {
		rw = 1
	}
	b := []byte{0x86, 9, 0, rw}
	b = binary.LittleEndian.AppendUint32(b, base)
	return binary.LittleEndian.AppendUint32(b, length)
}

// resWordBus, resWordIO and resDWordMem are address space descriptors for
// a root bridge's windows.
func resWordBus(min, max uint16) []byte {
	b := []byte{0x88, 13, 0, 2, 0x0c, 0, 0, 0}
	b = binary.LittleEndian.AppendUint16(b, min)
	b = binary.LittleEndian.AppendUint16(b, max)
	b = binary.LittleEndian.AppendUint16(b, 0)
	return binary.LittleEndian.AppendUint16(b, max-min+1)
}

func resWordIO(min, max uint16) []byte {
	b := []byte{0x88, 13, 0, 1, 0x0c, 3, 0, 0}
	b = binary.LittleEndian.AppendUint16(b, min)
	b = binary.LittleEndian.AppendUint16(b, max)
	b = binary.LittleEndian.AppendUint16(b, 0)
	return binary.LittleEndian.AppendUint16(b, max-min+1)
}

func resDWordMem(min, max uint32, cacheable bool) []byte {
	flags := byte(1) // read-write
	if cacheable {
		flags |= 1 << 1
	}
	b := []byte{0x87, 23, 0, 0, 0x0c, flags}
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, min)
	b = binary.LittleEndian.AppendUint32(b, max)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return binary.LittleEndian.AppendUint32(b, max-min+1)
}

// resourceTemplate closes descriptors with an End Tag (checksum 0).
func resourceTemplate(descs ...[]byte) []byte {
	var b []byte
	for _, d := range descs {
		b = append(b, d...)
	}
	return amlBuffer(append(b, 0x79, 0))
}
