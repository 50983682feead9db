package cpu

import "math/bits"

// SSE4.2 string compares: 66 0F 3A 60 PCMPESTRM, 61 PCMPESTRI, 62
// PCMPISTRM, 63 PCMPISTRI (SDM Vol. 2B 4.1). PCMPGTQ is in sse41.go,
// CRC32 in crc32.go, POPCNT in bitcount.go.
//
// imm8[1:0] is the source format (unsigned/signed bytes/words),
// imm8[3:2] the aggregation (equal any, ranges, equal each, equal
// ordered), imm8[5:4] the polarity, imm8[6] the output selection (least
// or most significant index; bit mask or expanded mask). The first
// operand (xmm1) is the set/ranges/needle, the second (xmm2/m128, no
// alignment required) the string searched.

// strLen is the explicit length of an operand: |reg| saturated to n.
func strLen(v uint64, w bool, n int) int {
	x := int64(int32(v))
	if w {
		x = int64(v)
	}
	if x < 0 {
		if x == -x { // the most negative value
			return n
		}
		x = -x
	}
	if x > int64(n) {
		return n
	}
	return int(x)
}

// strImplicit is the index of the first zero element (n if none).
func strImplicit(v [2]uint64, es uint, n int) int {
	for i := 0; i < n; i++ {
		if vget(v, uint(i), es) == 0 {
			return i
		}
	}
	return n
}

func opPcmpstr(c *CPU, in *Inst) {
	c.sseAvail()
	a := c.XMM[in.Reg]
	b := c.xmmRM(in, false)
	op := uint8(in.Op)
	imm := uint(in.Imm & 0xff)
	es := uint(1)
	n := 16
	if imm&1 != 0 {
		es, n = 2, 8
	}
	signed := imm&2 != 0
	var la, lb int
	if op <= 0x61 { // explicit lengths in EAX/RAX and EDX/RDX
		w := in.Rex&RexW != 0
		la = strLen(c.R[RAX], w, n)
		lb = strLen(c.R[RDX], w, n)
	} else {
		la = strImplicit(a, es, n)
		lb = strImplicit(b, es, n)
	}
	val := func(v [2]uint64, i int) int64 {
		x := vget(v, uint(i), es)
		if signed {
			return sext(x, es)
		}
		return int64(x)
	}
	var res1 uint32
	switch imm >> 2 & 3 {
	case 0: // equal any: b[j] is in the set a[0..la)
		for j := 0; j < lb; j++ {
			bj := val(b, j)
			for i := 0; i < la; i++ {
				if val(a, i) == bj {
					res1 |= 1 << j
					break
				}
			}
		}
	case 1: // ranges: a[i] <= b[j] <= a[i+1] for a pair of valid a
		for j := 0; j < lb; j++ {
			bj := val(b, j)
			for i := 0; i+1 < n; i += 2 {
				// An invalid bound forces its comparison false.
				if i < la && i+1 < la && val(a, i) <= bj && bj <= val(a, i+1) {
					res1 |= 1 << j
					break
				}
			}
		}
	case 2: // equal each: both invalid compare true
		for i := 0; i < n; i++ {
			va, vb := i < la, i < lb
			if va && vb && val(a, i) == val(b, i) || !va && !vb {
				res1 |= 1 << i
			}
		}
	case 3: // equal ordered: the needle a occurs in b at j
		for j := 0; j < n; j++ {
			ok := true
			for i := 0; i+j < n && ok; i++ {
				switch {
				case i >= la: // needle ended: true
				case i+j >= lb:
					ok = false
				default:
					ok = val(a, i) == val(b, i+j)
				}
			}
			if ok {
				res1 |= 1 << j
			}
		}
	}
	all := uint32(1)<<n - 1
	res2 := res1
	switch imm >> 4 & 3 {
	case 1:
		res2 = ^res1 & all
	case 3:
		res2 = res1 ^ (uint32(1)<<lb - 1)
	}
	var f uint64
	if res2 != 0 {
		f |= FlagCF
	}
	if lb < n {
		f |= FlagZF
	}
	if la < n {
		f |= FlagSF
	}
	if res2&1 != 0 {
		f |= FlagOF
	}
	if op&1 != 0 { // index in ECX
		idx := n
		if res2 != 0 {
			if imm&0x40 != 0 {
				idx = 31 - bits.LeadingZeros32(res2)
			} else {
				idx = bits.TrailingZeros32(res2)
			}
		}
		c.R[RCX] = uint64(idx)
	} else { // mask in XMM0
		var m [2]uint64
		if imm&0x40 == 0 {
			m[0] = uint64(res2)
		} else {
			for i := 0; i < n; i++ {
				if res2>>i&1 != 0 {
					vset(&m, uint(i), es, ^uint64(0))
				}
			}
		}
		c.XMM[0] = m
	}
	c.setArith(f)
}
