package cpu

// extHandler binds the instructions bind.go does not list: the MMX, SSE
// and later vector forms of the 0F, 0F 38 and 0F 3A maps, their state
// management (FXSAVE, LDMXCSR, XSAVE, ...), POPCNT, LZCNT/TZCNT, CRC32.
func (c *CPU) extHandler(in *Inst) handler {
	return c.vecBind(in)
}
