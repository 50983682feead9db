package cpu

// Temporary: replaced by the system and decoder work in progress.

type cpuModel struct {
	resetEDX     uint32
	lahf64, cx16 bool
	fp           fpFeatures // x87/SSE unit (fpustate.go)
}

func lookupModel(name string) (*cpuModel, error) {
	if name == "x86-64-v2" {
		return &cpuModel{resetEDX: 0x663, lahf64: true, cx16: true, fp: fpFeaturesV2}, nil
	}
	return &cpuModel{resetEDX: 0x663}, nil
}

func (c *CPU) accessChecks(la, off uint64, n int, write bool) {}
func (c *CPU) checkInstrBreakpoint()                          {}
func (c *CPU) checkIO(port uint16, n int)                     {}
func (c *CPU) interruptProtected(vec uint8, kind int, code uint32, hasCode bool) {
	c.ShutdownReason = "protected-mode interrupts not implemented"
}
func (c *CPU) farJumpPM(sel uint16, off uint64, sz uint8) { c.raise(ExcUD, 0) }
func (c *CPU) farCallPM(sel uint16, off uint64, sz uint8) { c.raise(ExcUD, 0) }
func (c *CPU) farReturnPM(sz uint8, pop uint64)           { c.raise(ExcUD, 0) }
func (c *CPU) iretPM(sz uint8)                            { c.raise(ExcUD, 0) }

func opArpl(c *CPU, in *Inst)      { c.raise(ExcUD, 0) }
func opGrp6(c *CPU, in *Inst)      { c.raise(ExcUD, 0) }
func opGrp7(c *CPU, in *Inst)      { c.raise(ExcUD, 0) }
func opLar(c *CPU, in *Inst)       { c.raise(ExcUD, 0) }
func opLsl(c *CPU, in *Inst)       { c.raise(ExcUD, 0) }
func opSyscall(c *CPU, in *Inst)   { c.raise(ExcUD, 0) }
func opSysret(c *CPU, in *Inst)    { c.raise(ExcUD, 0) }
func opClts(c *CPU, in *Inst)      { c.raise(ExcUD, 0) }
func opInvd(c *CPU, in *Inst)      { c.raise(ExcUD, 0) }
func opMovFromCR(c *CPU, in *Inst) { c.raise(ExcUD, 0) }
func opMovFromDR(c *CPU, in *Inst) { c.raise(ExcUD, 0) }
func opMovToCR(c *CPU, in *Inst)   { c.raise(ExcUD, 0) }
func opMovToDR(c *CPU, in *Inst)   { c.raise(ExcUD, 0) }
func opWrmsr(c *CPU, in *Inst)     { c.raise(ExcUD, 0) }
func opRdtsc(c *CPU, in *Inst)     { c.raise(ExcUD, 0) }
func opRdmsr(c *CPU, in *Inst)     { c.raise(ExcUD, 0) }
func opRdpmc(c *CPU, in *Inst)     { c.raise(ExcUD, 0) }
func opSysenter(c *CPU, in *Inst)  { c.raise(ExcUD, 0) }
func opSysexit(c *CPU, in *Inst)   { c.raise(ExcUD, 0) }
func opCpuid(c *CPU, in *Inst)     { c.raise(ExcUD, 0) }
