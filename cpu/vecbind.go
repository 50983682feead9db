package cpu

func (c *CPU) vecBind(in *Inst) handler { return opUD }
