package cpu

// CRC32 (F2 0F 38 F0/F1, SSE4.2): CRC-32C (Castagnoli, reflected
// polynomial 0x82F63B78) of the source bytes, accumulated into the
// destination's low 32 bits; the result is zero-extended.

var crc32cTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i)
		for k := 0; k < 8; k++ {
			if c&1 != 0 {
				c = c>>1 ^ 0x82f63b78
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return
}()

func opCrc32(c *CPU, in *Inst) {
	n := uint8(1)
	if in.Op == Map0F38|0xf1 {
		n = opSize(in)
	}
	v := c.rmRead(in, n)
	dsz := uint8(4)
	if in.Rex&RexW != 0 {
		dsz = 8
	}
	crc := uint32(c.R[in.Reg])
	for i := uint8(0); i < n; i++ {
		crc = crc32cTable[byte(crc)^byte(v>>(8*i))] ^ crc>>8
	}
	c.regSet(in, in.Reg, dsz, uint64(crc))
}
