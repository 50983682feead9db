package cpu

// Debug registers and alignment checking (SDM Vol. 3B ch. 17, Vol. 3A
// 6.15 #AC). linear() calls accessChecks only while c.extraChecks is set,
// so the common case costs one predictable branch.

// DR7 fields.
const (
	dr7EnableMask = 0xff    // L0 G0 ... L3 G3
	dr7GD         = 1 << 13 // general detect
	dr6BD         = 1 << 13
	dr6BS         = 1 << 14
	dr6BT         = 1 << 15
)

// Breakpoint R/W kinds in DR7.
const (
	bpExec  = 0
	bpWrite = 1
	bpIO    = 2
	bpRW    = 3
)

func (c *CPU) bpEnabled(i int) bool { return c.DR[7]>>(2*uint(i))&3 != 0 }
func (c *CPU) bpKind(i int) uint64  { return c.DR[7] >> (16 + 4*uint(i)) & 3 }

// bpLen returns the length in bytes of breakpoint i (LEN 10b is 8 bytes
// in long mode; a P6 leaves it undefined and we treat it the same).
func (c *CPU) bpLen(i int) uint64 {
	switch c.DR[7] >> (18 + 4*uint(i)) & 3 {
	case 0:
		return 1
	case 1:
		return 2
	case 2:
		return 8
	}
	return 4
}

// acActive reports whether alignment checking applies now.
func (c *CPU) acActive() bool {
	return c.CR0&CR0AM != 0 && c.flags&FlagAC != 0 && c.CPL == 3 && c.CR0&CR0PE != 0
}

// updateExtraChecks refreshes c.extraChecks after a change to DR7, CR0.AM,
// EFLAGS.AC or CPL (updateMode calls it).
func (c *CPU) updateExtraChecks() {
	data := false
	for i := 0; i < 4; i++ {
		if c.bpEnabled(i) && c.bpKind(i)&1 != 0 {
			data = true
		}
	}
	c.extraChecks = data || c.acActive()
}

// accessChecks runs for every checked data access while extraChecks is
// set: #AC(0) for a misaligned access at CPL 3, and data breakpoints.
func (c *CPU) accessChecks(la, off uint64, n int, write bool) {
	if c.acActive() && (n == 2 || n == 4 || n == 8) && la&uint64(n-1) != 0 {
		c.raise(ExcAC, 0)
	}
	for i := 0; i < 4; i++ {
		if !c.bpEnabled(i) {
			continue
		}
		k := c.bpKind(i)
		if k == bpWrite && !write || k&1 == 0 {
			continue
		}
		l := c.bpLen(i)
		start := c.DR[i] &^ (l - 1)
		if la+uint64(n) > start && la < start+l {
			c.DR[6] |= 1 << uint(i)
			c.debugHit = true
		}
	}
}

// checkInstrBreakpoint raises the #DB fault of an execute breakpoint at
// CS:RIP before the instruction runs, unless RF suppresses it.
func (c *CPU) checkInstrBreakpoint() {
	if c.DR[7]&dr7EnableMask == 0 || c.flags&FlagRF != 0 {
		return
	}
	la := c.codeLinear(c.RIP)
	hit := false
	for i := 0; i < 4; i++ {
		if c.bpEnabled(i) && c.bpKind(i) == bpExec && c.DR[i] == la {
			c.DR[6] |= 1 << uint(i)
			hit = true
		}
	}
	if hit {
		c.ip0 = c.RIP
		c.raise(ExcDB, 0)
	}
}

// ioBreakpoints matches I/O breakpoints (CR4.DE with R/W = 10b) against
// a port access; the #DB trap follows the instruction.
func (c *CPU) ioBreakpoints(port uint16, n int) {
	if c.CR4&CR4DE == 0 || c.DR[7]&dr7EnableMask == 0 {
		return
	}
	for i := 0; i < 4; i++ {
		if c.bpEnabled(i) && c.bpKind(i) == bpIO {
			l := c.bpLen(i)
			start := c.DR[i] & 0xffff &^ (l - 1)
			if uint64(port)+uint64(n) > start && uint64(port) < start+l {
				c.DR[6] |= 1 << uint(i)
				c.debugHit = true
			}
		}
	}
}
