package cpu

// Temporary: replaced by work in progress elsewhere.

func (c *CPU) extHandler(in *Inst) handler { return opUD }
