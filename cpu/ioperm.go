package cpu

// I/O permission checks (SDM Vol. 1 ch. 19): in protected mode with
// CPL > IOPL, and always in virtual-8086 mode, every port of an access
// must have its bit clear in the I/O permission bitmap of the 32-bit TSS.

func (c *CPU) checkIO(port uint16, n int) {
	if c.inRealMode() {
		c.ioBreakpoints(port, n)
		return
	}
	if !c.inV86() && c.CPL <= c.iopl() {
		c.ioBreakpoints(port, n)
		return
	}
	// A 16-bit TSS has no bitmap; a 32-bit one must reach offset 0x67.
	typ := c.TR.Attr & 0xf
	if (typ != sysTSS32Avail && typ != sysTSS32Busy) || c.TR.Limit < 0x67 {
		c.raise(ExcGP, 0)
	}
	base := c.sysRead(c.TR.Base+tssIOMapOffset, 2)
	off := base + uint64(port>>3)
	// Two bytes are read: an access may span a byte boundary.
	if off+1 > uint64(c.TR.Limit) {
		c.raise(ExcGP, 0)
	}
	bits := c.sysRead(c.TR.Base+off, 2)
	if bits>>(port&7)&(1<<n-1) != 0 {
		c.raise(ExcGP, 0)
	}
	c.ioBreakpoints(port, n)
}
