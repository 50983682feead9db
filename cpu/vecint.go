package cpu

import "math/bits"

// MMX and SSE2 integer operations (0F 60-7F, 0F C4-C5, 0F D1-FE): the
// same opcode works on an MMX register (no prefix) or an XMM register
// (66). Element-wise operations work on 64-bit chunks; unpack, pack,
// shuffles and byte shifts see the whole register.

func sat8s(v int64) uint64 { return uint64(uint8(int8(min(max(v, -128), 127)))) }
func sat8u(v int64) uint64 { return uint64(uint8(min(max(v, 0), 255))) }
func sat16s(v int64) uint64 {
	return uint64(uint16(int16(min(max(v, -32768), 32767))))
}
func sat16u(v int64) uint64 { return uint64(uint16(min(max(v, 0), 65535))) }

// elem extracts element i of size es bytes from a chunk.
func elem(v uint64, i, es uint) uint64 {
	if es == 8 {
		return v
	}
	return v >> (8 * es * i) & (1<<(8*es) - 1)
}

func sext(v uint64, es uint) int64 { return int64(v<<(64-8*es)) >> (64 - 8*es) }

// chunkOp applies an element-wise operation to one 64-bit chunk. ok is
// false for opcodes that are not element-wise.
func chunkOp(op uint8, d, s uint64) (uint64, bool) {
	var es uint
	var f func(a, b uint64) uint64
	switch op {
	case 0xdb: // PAND
		return d & s, true
	case 0xdf: // PANDN
		return ^d & s, true
	case 0xeb: // POR
		return d | s, true
	case 0xef: // PXOR
		return d ^ s, true
	case 0xfc, 0xfd, 0xfe, 0xd4: // PADDB/W/D/Q
		es = map4(op, 0xfc, 1, 0xfd, 2, 0xfe, 4, 8)
		f = func(a, b uint64) uint64 { return a + b }
	case 0xf8, 0xf9, 0xfa, 0xfb: // PSUBB/W/D/Q
		es = map4(op, 0xf8, 1, 0xf9, 2, 0xfa, 4, 8)
		f = func(a, b uint64) uint64 { return a - b }
	case 0xec, 0xed: // PADDSB/W
		es = uint(op-0xec) + 1
		f = func(a, b uint64) uint64 { return satS(sext(a, es)+sext(b, es), es) }
	case 0xe8, 0xe9: // PSUBSB/W
		es = uint(op-0xe8) + 1
		f = func(a, b uint64) uint64 { return satS(sext(a, es)-sext(b, es), es) }
	case 0xdc, 0xdd: // PADDUSB/W
		es = uint(op-0xdc) + 1
		f = func(a, b uint64) uint64 { return satU(int64(a)+int64(b), es) }
	case 0xd8, 0xd9: // PSUBUSB/W
		es = uint(op-0xd8) + 1
		f = func(a, b uint64) uint64 { return satU(int64(a)-int64(b), es) }
	case 0x74, 0x75, 0x76: // PCMPEQB/W/D
		es = 1 << (op - 0x74)
		f = func(a, b uint64) uint64 { return -b64(a == b) }
	case 0x64, 0x65, 0x66: // PCMPGTB/W/D
		es = 1 << (op - 0x64)
		f = func(a, b uint64) uint64 { return -b64(sext(a, es) > sext(b, es)) }
	case 0xda: // PMINUB
		es = 1
		f = func(a, b uint64) uint64 { return min(a, b) }
	case 0xde: // PMAXUB
		es = 1
		f = func(a, b uint64) uint64 { return max(a, b) }
	case 0xea: // PMINSW
		es = 2
		f = func(a, b uint64) uint64 {
			if sext(a, 2) < sext(b, 2) {
				return a
			}
			return b
		}
	case 0xee: // PMAXSW
		es = 2
		f = func(a, b uint64) uint64 {
			if sext(a, 2) > sext(b, 2) {
				return a
			}
			return b
		}
	case 0xe0, 0xe3: // PAVGB/W
		es = 1
		if op == 0xe3 {
			es = 2
		}
		f = func(a, b uint64) uint64 { return (a + b + 1) >> 1 }
	case 0xd5: // PMULLW
		es = 2
		f = func(a, b uint64) uint64 { return uint64(sext(a, 2) * sext(b, 2)) }
	case 0xe5: // PMULHW
		es = 2
		f = func(a, b uint64) uint64 { return uint64(sext(a, 2)*sext(b, 2)) >> 16 }
	case 0xe4: // PMULHUW
		es = 2
		f = func(a, b uint64) uint64 { return a * b >> 16 }
	case 0xf4: // PMULUDQ
		return (d & 0xffffffff) * (s & 0xffffffff), true
	case 0xf5: // PMADDWD
		var r uint64
		for i := uint(0); i < 2; i++ {
			v := sext(elem(d, 2*i, 2), 2)*sext(elem(s, 2*i, 2), 2) + sext(elem(d, 2*i+1, 2), 2)*sext(elem(s, 2*i+1, 2), 2)
			r |= uint64(uint32(v)) << (32 * i)
		}
		return r, true
	case 0xf6: // PSADBW
		var sum uint64
		for i := uint(0); i < 8; i++ {
			a, b := elem(d, i, 1), elem(s, i, 1)
			if a > b {
				sum += a - b
			} else {
				sum += b - a
			}
		}
		return sum, true
	default:
		return 0, false
	}
	var r uint64
	m := uint64(1)<<(8*es) - 1
	if es == 8 {
		m = ^uint64(0)
	}
	for i := uint(0); i < 8/es; i++ {
		r |= f(elem(d, i, es), elem(s, i, es)) & m << (8 * es * i)
	}
	return r, true
}

func map4(op, a uint8, av uint, b uint8, bv uint, c uint8, cv uint, dv uint) uint {
	switch op {
	case a:
		return av
	case b:
		return bv
	case c:
		return cv
	}
	return dv
}

func satS(v int64, es uint) uint64 {
	if es == 1 {
		return sat8s(v)
	}
	return sat16s(v)
}

func satU(v int64, es uint) uint64 {
	if es == 1 {
		return sat8u(v)
	}
	return sat16u(v)
}

// shiftChunk shifts each element of size es by n (PSLL/PSRL/PSRA).
func shiftChunk(v uint64, es uint, n uint64, kind int) uint64 {
	w := uint64(8 * es)
	if n >= w {
		if kind == 2 { // arithmetic: fill with the sign
			n = w - 1
		} else {
			return 0
		}
	}
	var r uint64
	m := uint64(1)<<w - 1
	if es == 8 {
		m = ^uint64(0)
	}
	for i := uint(0); i < 8/es; i++ {
		e := elem(v, i, es)
		switch kind {
		case 0:
			e <<= n
		case 1:
			e >>= n
		default:
			e = uint64(sext(e, es) >> n)
		}
		r |= e & m << (8 * es * i)
	}
	return r
}

// vecWhole performs the whole-register operations on n chunks (1 for
// MMX, 2 for XMM). ok is false for unknown opcodes.
func vecWhole(op uint8, d, s [2]uint64, n int, imm uint64) ([2]uint64, bool) {
	var r [2]uint64
	bytesOf := func(v [2]uint64) (b [16]byte) {
		for i := 0; i < 16; i++ {
			b[i] = byte(v[i>>3] >> (8 * uint(i&7)))
		}
		return
	}
	fromBytes := func(b [16]byte) (v [2]uint64) {
		for i := 0; i < 16; i++ {
			v[i>>3] |= uint64(b[i]) << (8 * uint(i&7))
		}
		return
	}
	nb := 8 * n
	switch {
	case op >= 0x60 && op <= 0x62 || op >= 0x68 && op <= 0x6a || op == 0x6c || op == 0x6d:
		// PUNPCKL/H BW WD DQ QDQ: interleave the low (high) halves.
		es := 1 << ((op - 0x60) & 3)
		if op == 0x6c || op == 0x6d {
			es = 8
		}
		hi := op >= 0x68 && op != 0x6c
		db, sb := bytesOf(d), bytesOf(s)
		var out [16]byte
		base := 0
		if hi {
			base = nb / 2
		}
		for i := 0; i < nb/2/es; i++ {
			copy(out[2*i*es:], db[base+i*es:base+i*es+es])
			copy(out[(2*i+1)*es:], sb[base+i*es:base+i*es+es])
		}
		return fromBytes(out), true
	case op == 0x63 || op == 0x67 || op == 0x6b:
		// PACKSSWB, PACKUSWB, PACKSSDW.
		es := uint(2)
		if op == 0x6b {
			es = 4
		}
		var out [2]uint64
		k := 0
		put := func(v uint64) {
			osz := es / 2
			out[k*int(osz)/8] |= v << (8 * osz * uint(k%(8/int(osz))))
			k++
		}
		for _, src := range [2][2]uint64{d, s} {
			for ch := 0; ch < n; ch++ {
				for i := uint(0); i < 8/es; i++ {
					v := sext(elem(src[ch], i, es), es)
					switch op {
					case 0x63:
						put(sat8s(v))
					case 0x67:
						put(sat8u(v))
					default:
						put(sat16s(v))
					}
				}
			}
		}
		return out, true
	case op == 0x70: // PSHUFW (MMX) / PSHUFD (66, n=2); F3/F2 handled by caller
		if n == 1 {
			var v uint64
			for i := uint(0); i < 4; i++ {
				v |= elem(s[0], uint(imm>>(2*i)&3), 2) << (16 * i)
			}
			return [2]uint64{v}, true
		}
		for i := 0; i < 4; i++ {
			laneSet(&r, i, false, laneGet(s, int(imm>>(2*uint(i))&3), false))
		}
		return r, true
	}
	return r, false
}

// opVecInt: the MMX (no prefix) and SSE2 (66) integer operations.
func opVecInt(c *CPU, in *Inst) {
	op := uint8(in.Op)
	xmm := in.Prefixes&PfxOpSize != 0
	var d, s [2]uint64
	n := 1
	if xmm {
		c.sseAvail()
		s = c.xmmRM(in, true)
		d = c.XMM[in.Reg]
		n = 2
	} else {
		c.mmxAvail()
		s[0] = c.mmRM(in)
		d[0] = c.mmGet(in.Reg)
	}
	var r [2]uint64
	switch {
	case op >= 0xd1 && op <= 0xd3 || op >= 0xe1 && op <= 0xe2 || op >= 0xf1 && op <= 0xf3:
		// Shifts by the source's low 64 bits.
		es := uint(1) << (op & 3)
		kind := 1
		if op >= 0xe1 && op <= 0xe2 {
			kind = 2
		} else if op >= 0xf1 {
			kind = 0
		}
		for i := 0; i < n; i++ {
			r[i] = shiftChunk(d[i], es, s[0], kind)
		}
	default:
		var ok bool
		if r, ok = vecWhole(op, d, s, n, in.Imm); !ok {
			for i := 0; i < n; i++ {
				r[i], _ = chunkOp(op, d[i], s[i])
			}
		}
	}
	if xmm {
		c.XMM[in.Reg] = r
	} else {
		c.mmSet(in.Reg, r[0])
	}
}

// opPshufLH: F3 0F 70 PSHUFHW, F2 0F 70 PSHUFLW.
func opPshufLH(c *CPU, in *Inst) {
	c.sseAvail()
	s := c.xmmRM(in, true)
	k := 0 // PSHUFLW shuffles the low quadword
	if in.Prefixes&PfxRep != 0 {
		k = 1
	}
	var v uint64
	for i := uint(0); i < 4; i++ {
		v |= elem(s[k], uint(in.Imm>>(2*i)&3), 2) << (16 * i)
	}
	s[k] = v
	c.XMM[in.Reg] = s
}

// opVecShiftImm: 0F 71/72/73 groups (PSRLW/PSRAW/PSLLW ..., PSRLDQ and
// PSLLDQ for XMM).
func opVecShiftImm(c *CPU, in *Inst) {
	if in.Mod != 3 {
		c.raise(ExcUD, 0)
	}
	xmm := in.Prefixes&PfxOpSize != 0
	r := in.Reg & 7
	es := uint(1) << (uint8(in.Op) - 0x70) // 71: words, 72: dwords, 73: qwords
	var v [2]uint64
	n := 1
	if xmm {
		c.sseAvail()
		v = c.XMM[in.RM]
		n = 2
	} else {
		c.mmxAvail()
		v[0] = c.mmGet(in.RM)
	}
	cnt := in.Imm & 0xff
	if xmm && es == 8 && (r == 3 || r == 7) {
		// PSRLDQ / PSLLDQ: byte shifts of the whole register.
		if cnt > 16 {
			cnt = 16
		}
		lo, hi := v[0], v[1]
		for k := uint64(0); k < cnt; k++ {
			if r == 3 {
				lo = lo>>8 | hi<<56
				hi >>= 8
			} else {
				hi = hi<<8 | lo>>56
				lo <<= 8
			}
		}
		c.XMM[in.RM] = [2]uint64{lo, hi}
		return
	}
	kind := 0
	switch r {
	case 2:
		kind = 1
	case 4:
		kind = 2
	case 6:
		kind = 0
	}
	for i := 0; i < n; i++ {
		v[i] = shiftChunk(v[i], es, cnt, kind)
	}
	if xmm {
		c.XMM[in.RM] = v
	} else {
		c.mmSet(in.RM, v[0])
	}
}

// opMmxMovd: 0F 6E/7E MOVD/MOVQ between MMX and r/m, 0F 6F/7F MOVQ.
func opMmxMov(c *CPU, in *Inst) {
	c.mmxAvail()
	sz := uint8(4)
	if in.Rex&RexW != 0 {
		sz = 8
	}
	switch uint8(in.Op) {
	case 0x6e:
		c.mmSet(in.Reg, c.rmRead(in, sz))
	case 0x7e:
		v := c.mmGet(in.Reg)
		if sz == 4 {
			v &= 0xffffffff
		}
		c.rmWrite(in, sz, v)
	case 0x6f:
		c.mmSet(in.Reg, c.mmRM(in))
	case 0x7f, 0xe7:
		if in.Mod == 3 {
			if uint8(in.Op) == 0xe7 {
				c.raise(ExcUD, 0)
			}
			c.mmSet(in.RM, c.mmGet(in.Reg))
			return
		}
		c.write(in.Seg, c.ea(in), 8, c.mmGet(in.Reg))
	}
}

// opPmovmskbMMX: 0F D7 with an MMX source.
func opPmovmskbMMX(c *CPU, in *Inst) {
	if in.Mod != 3 {
		c.raise(ExcUD, 0)
	}
	c.mmxAvail()
	v := c.mmGet(in.RM)
	var m uint64
	for i := uint(0); i < 8; i++ {
		m |= v >> (8*i + 7) & 1 << i
	}
	c.regSet(in, in.Reg, 8, m)
}

// opPinsrw: 0F C4 ib; opPextrw: 0F C5 ib (MMX, or XMM with 66).
func opPinsrw(c *CPU, in *Inst) {
	v := c.rmRead(in, 2) & 0xffff
	if in.Prefixes&PfxOpSize != 0 {
		c.sseAvail()
		i := in.Imm & 7
		x := &c.XMM[in.Reg][i>>2]
		sh := 16 * (i & 3)
		*x = *x&^(0xffff<<sh) | v<<sh
		return
	}
	c.mmxAvail()
	sh := 16 * (in.Imm & 3)
	c.mmSet(in.Reg, c.mmGet(in.Reg)&^(0xffff<<sh)|v<<sh)
}

func opPextrw(c *CPU, in *Inst) {
	if in.Mod != 3 {
		c.raise(ExcUD, 0)
	}
	var v uint64
	if in.Prefixes&PfxOpSize != 0 {
		c.sseAvail()
		i := in.Imm & 7
		v = c.XMM[in.RM][i>>2] >> (16 * (i & 3)) & 0xffff
	} else {
		c.mmxAvail()
		v = c.mmGet(in.RM) >> (16 * (in.Imm & 3)) & 0xffff
	}
	c.regSet(in, in.Reg, 8, v)
}

// opPshufb: 0F 38 00 (SSSE3), MMX or XMM.
func opPshufb(c *CPU, in *Inst) {
	if in.Prefixes&PfxOpSize != 0 {
		c.sseAvail()
		s := c.xmmRM(in, true)
		d := c.XMM[in.Reg]
		var r [2]uint64
		for i := uint(0); i < 16; i++ {
			k := s[i>>3] >> (8 * (i & 7)) & 0xff
			if k&0x80 == 0 {
				b := d[k>>3&1] >> (8 * (k & 7)) & 0xff
				r[i>>3] |= b << (8 * (i & 7))
			}
		}
		c.XMM[in.Reg] = r
		return
	}
	c.mmxAvail()
	s, d := c.mmRM(in), c.mmGet(in.Reg)
	var r uint64
	for i := uint(0); i < 8; i++ {
		k := s >> (8 * i) & 0xff
		if k&0x80 == 0 {
			r |= d >> (8 * (k & 7)) & 0xff << (8 * i)
		}
	}
	c.mmSet(in.Reg, r)
}

var _ = bits.Len
