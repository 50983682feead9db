package cpu

// Model-specific registers, RDTSC and RDPMC. The time-stamp counter is
// the number of instructions retired plus State.TSC (the offset a WRMSR
// sets), so runs are deterministic.

// MSR numbers.
const (
	msrTSC          = 0x10
	msrPlatformID   = 0x17
	msrUcodeRev     = 0x8b // IA32_BIOS_SIGN_ID: Linux reads it with a plain RDMSR on Intel
	msrAPICBase     = 0x1b
	msrMTRRCap      = 0xfe
	msrSysenterCS   = 0x174
	msrSysenterESP  = 0x175
	msrSysenterEIP  = 0x176
	msrMiscEnable   = 0x1a0
	msrMTRRVarBase  = 0x200
	msrMTRRFix64K   = 0x250
	msrMTRRFix16K0  = 0x258
	msrMTRRFix16K1  = 0x259
	msrMTRRFix4K0   = 0x268
	msrPAT          = 0x277
	msrMTRRDefType  = 0x2ff
	msrEFER         = 0xc0000080
	msrSTAR         = 0xc0000081
	msrLSTAR        = 0xc0000082
	msrCSTAR        = 0xc0000083
	msrSFMASK       = 0xc0000084
	msrFSBase       = 0xc0000100
	msrGSBase       = 0xc0000101
	msrKernelGSBase = 0xc0000102
	msrTSCAux       = 0xc0000103
)

// tsc is the current time-stamp counter: the machine's clock when one is
// attached (SetTSCSource: a 1 GHz TSC that keeps counting while the CPU
// is halted, as an invariant TSC does), else the instructions retired;
// plus the offset guest writes to IA32_TSC set.
func (c *CPU) tsc() uint64 {
	if c.tscSource != nil {
		return c.tscSource() + c.TSC
	}
	return c.Instructions() + c.TSC
}

// rawTSC is the counter before the guest's offset.
func (c *CPU) rawTSC() uint64 {
	if c.tscSource != nil {
		return c.tscSource()
	}
	return c.Instructions()
}

// LocalAPIC is what the CPU needs of its local APIC for the MSRs that
// belong to it (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC range).
type LocalAPIC interface {
	SetAPICBase(v uint64) bool
	TSCDeadline() uint64
	SetTSCDeadline(deadline, tscNow uint64)
	ReadMSR(n uint32) (uint64, bool)
	WriteMSR(n uint32, v uint64) bool
	// TPR and SetTPR back CR8 (CR8 = TPR[7:4], SDM Vol. 3A 10.8.6.1).
	TPR() uint8
	SetTPR(v uint8)
}

// SetLocalAPIC attaches the local APIC (nil: none).
func (c *CPU) SetLocalAPIC(a LocalAPIC) { c.lapic = a }

// SetTSCSource makes the TSC follow f (ticks since power-on).
func (c *CPU) SetTSCSource(f func() uint64) { c.tscSource = f }

// Machine-check MSRs. No machine check is ever signalled (emulated
// hardware does not fail), but the registers behave: MCG_CAP reports the
// banks and MCG_CTL, the control registers hold what software writes,
// status registers accept only zero (SDM Vol. 3B 15.3).
const (
	msrMCGCap    = 0x179
	msrMCGStatus = 0x17a
	msrMCGCtl    = 0x17b
	msrMC0Ctl    = 0x400
	mcgCtlP      = 1 << 8
)

func (c *CPU) hasMCA() bool { return c.model.leaf1EDX&featMCA != 0 }

func (c *CPU) rdmsrMC(n uint32) (uint64, bool) {
	m := &c.MSR
	switch {
	case n == msrMCGCap:
		return mcBanks | mcgCtlP, true
	case n == msrMCGStatus:
		return m.MCGStatus, true
	case n == msrMCGCtl:
		return m.MCGCtl, true
	case n >= msrMC0Ctl && n < msrMC0Ctl+4*mcBanks:
		i := n - msrMC0Ctl
		return m.MCBank[i/4][i%4], true
	}
	return 0, false
}

func (c *CPU) wrmsrMC(n uint32, v uint64) (handled, ok bool) {
	m := &c.MSR
	switch {
	case n == msrMCGCap:
		return true, false // read-only
	case n == msrMCGStatus:
		m.MCGStatus = v & 7
		return true, v&^7 == 0
	case n == msrMCGCtl:
		// All zeros or all ones (SDM 15.3.1.3).
		if v != 0 && v != ^uint64(0) {
			return true, false
		}
		m.MCGCtl = v
		return true, true
	case n >= msrMC0Ctl && n < msrMC0Ctl+4*mcBanks:
		i := n - msrMC0Ctl
		if i%4 == 1 && v != 0 {
			return true, false // MCi_STATUS: only zero may be written
		}
		m.MCBank[i/4][i%4] = v
		return true, true
	}
	return false, false
}

const (
	msrTSCDeadline = 0x6e0
	msrX2APICFirst = 0x800
	msrX2APICLast  = 0x8ff
)

// mtrrFixIndex maps a fixed-range MTRR number to its MTRRFix slot.
func mtrrFixIndex(n uint32) (int, bool) {
	switch {
	case n == msrMTRRFix64K:
		return 0, true
	case n == msrMTRRFix16K0 || n == msrMTRRFix16K1:
		return int(n-msrMTRRFix16K0) + 1, true
	case n >= msrMTRRFix4K0 && n <= msrMTRRFix4K0+7:
		return int(n-msrMTRRFix4K0) + 3, true
	}
	return 0, false
}

// validMemType reports whether t is an MTRR memory type (UC WC WT WP WB).
func validMemType(t uint64) bool { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 }

// variable MTRRs: MTRRcap.VCNT pairs.
func (c *CPU) mtrrVarCount() uint32 { return uint32(c.MSR.MTRRCap & 0xff) }

// rdmsr returns an MSR's value and whether it exists.
func (c *CPU) rdmsr(n uint32) (uint64, bool) {
	m := &c.MSR
	long := c.model.longMode
	switch {
	case n == msrTSC:
		return c.tsc(), true
	case c.hasMCA() && (n >= msrMCGCap && n <= msrMCGCtl || n >= msrMC0Ctl && n < msrMC0Ctl+4*mcBanks):
		return c.rdmsrMC(n)
	case n == msrTSCDeadline && c.lapic != nil && c.model.leaf1ECX&featTSCDeadline != 0:
		return c.lapic.TSCDeadline(), true
	case n >= msrX2APICFirst && n <= msrX2APICLast && c.lapic != nil:
		return c.lapic.ReadMSR(n)
	case n == msrPlatformID && long:
		return 0, true
	case n == msrUcodeRev && long:
		return 0, true // no microcode update loaded
	case n == msrAPICBase:
		return m.APICBase, true
	case n == msrMTRRCap:
		return m.MTRRCap, true
	case n == msrSysenterCS && c.model.sysenter:
		return m.SysenterCS, true
	case n == msrSysenterESP && c.model.sysenter:
		return m.SysenterESP, true
	case n == msrSysenterEIP && c.model.sysenter:
		return m.SysenterEIP, true
	case n == msrMiscEnable:
		return m.MiscEnable, true
	case n >= msrMTRRVarBase && n < msrMTRRVarBase+2*c.mtrrVarCount():
		return m.MTRRVar[n-msrMTRRVarBase], true
	case n == msrPAT:
		return m.PAT, true
	case n == msrMTRRDefType:
		return m.MTRRDefType, true
	case n == msrEFER:
		return c.EFER, true
	case n == msrSTAR && long:
		return m.Star, true
	case n == msrLSTAR && long:
		return m.LStar, true
	case n == msrCSTAR && long:
		return m.CStar, true
	case n == msrSFMASK && long:
		return m.SFMask, true
	case n == msrFSBase && long:
		return c.Seg[FS].Base, true
	case n == msrGSBase && long:
		return c.Seg[GS].Base, true
	case n == msrKernelGSBase && long:
		return m.KernelGSBase, true
	case n == msrTSCAux && c.model.rdtscp:
		return m.TSCAux, true
	}
	if i, ok := mtrrFixIndex(n); ok {
		return m.MTRRFix[i], true
	}
	return 0, false
}

// wrmsr writes an MSR and reports whether the write was valid (the MSR
// exists and no reserved bit is set).
func (c *CPU) wrmsr(n uint32, v uint64) bool {
	m := &c.MSR
	long := c.model.longMode
	canon := uint64(int64(v<<16)>>16) == v
	switch {
	case n == msrTSC:
		c.TSC = v - c.rawTSC()
	case c.hasMCA() && (n >= msrMCGCap && n <= msrMCGCtl || n >= msrMC0Ctl && n < msrMC0Ctl+4*mcBanks):
		_, ok := c.wrmsrMC(n, v)
		return ok
	case n == msrTSCDeadline && c.lapic != nil && c.model.leaf1ECX&featTSCDeadline != 0:
		c.lapic.SetTSCDeadline(v, c.tsc())
	case n >= msrX2APICFirst && n <= msrX2APICLast && c.lapic != nil:
		return c.lapic.WriteMSR(n, v)
	case n == msrUcodeRev && long:
		// Writing 0 before CPUID is how software asks for the
		// revision; nothing to latch.
	case n == msrAPICBase:
		// BSP (bit 8) is read-only; bits 0-7, 9-10 and those above
		// the physical address width are reserved.
		if v&(0x6ff|^uint64(physAddrMask)) != 0 {
			return false
		}
		v = v&^0x100 | m.APICBase&0x100
		if c.lapic != nil && !c.lapic.SetAPICBase(v) {
			return false
		}
		m.APICBase = v
	case n == msrSysenterCS && c.model.sysenter:
		m.SysenterCS = v & 0xffffffff
	case n == msrSysenterESP && c.model.sysenter:
		if long && !canon {
			return false
		}
		m.SysenterESP = v
	case n == msrSysenterEIP && c.model.sysenter:
		if long && !canon {
			return false
		}
		m.SysenterEIP = v
	case n == msrMiscEnable:
		m.MiscEnable = v
	case n >= msrMTRRVarBase && n < msrMTRRVarBase+2*c.mtrrVarCount():
		i := n - msrMTRRVarBase
		if i&1 == 0 { // PhysBase: type in 0-7, 8-11 reserved
			if v&(0xf00|^uint64(physAddrMask)) != 0 || !validMemType(v&0xff) {
				return false
			}
		} else if v&(0x7ff|^uint64(physAddrMask)) != 0 { // PhysMask: V in 11
			return false
		}
		m.MTRRVar[i] = v
	case n == msrPAT:
		for i := 0; i < 8; i++ {
			t := v >> (8 * i) & 0xff
			if t != 7 && !validMemType(t) {
				return false
			}
		}
		m.PAT = v
	case n == msrMTRRDefType:
		if v&^uint64(0xcff) != 0 || !validMemType(v&0xff) {
			return false
		}
		m.MTRRDefType = v
	case n == msrEFER:
		return c.writeEFER(v)
	case n == msrSTAR && long:
		m.Star = v
	case n == msrLSTAR && long:
		if !canon {
			return false
		}
		m.LStar = v
	case n == msrCSTAR && long:
		if !canon {
			return false
		}
		m.CStar = v
	case n == msrSFMASK && long:
		m.SFMask = v & 0xffffffff
	case (n == msrFSBase || n == msrGSBase) && long:
		if !canon {
			return false
		}
		i := FS
		if n == msrGSBase {
			i = GS
		}
		s := c.Seg[i]
		s.Base = v
		c.setSeg(i, s)
	case n == msrKernelGSBase && long:
		if !canon {
			return false
		}
		m.KernelGSBase = v
	case n == msrTSCAux && c.model.rdtscp:
		m.TSCAux = v & 0xffffffff
	default:
		i, ok := mtrrFixIndex(n)
		if !ok {
			return false
		}
		for j := 0; j < 8; j++ {
			if !validMemType(v >> (8 * j) & 0xff) {
				return false
			}
		}
		m.MTRRFix[i] = v
	}
	return true
}

// writeEFER accepts only the model's bits; LMA is read-only and LME may
// not change while paging is on.
func (c *CPU) writeEFER(v uint64) bool {
	if v&^(c.model.eferMask|EFERLMA) != 0 {
		return false
	}
	if (v^c.EFER)&EFERLME != 0 && c.CR0&CR0PG != 0 {
		return false
	}
	old := c.EFER
	c.EFER = v&^EFERLMA | c.EFER&EFERLMA
	if (old^c.EFER)&EFERNXE != 0 {
		c.tlb.flush(false)
	}
	return true
}

// opRdmsr: 0F 32.
func opRdmsr(c *CPU, in *Inst) {
	c.needCPL0()
	v, ok := c.rdmsr(uint32(c.R[RCX]))
	if !ok {
		c.raise(ExcGP, 0)
	}
	c.R[RAX], c.R[RDX] = v&0xffffffff, v>>32
}

// opWrmsr: 0F 30.
func opWrmsr(c *CPU, in *Inst) {
	c.needCPL0()
	v := c.R[RDX]<<32 | c.R[RAX]&0xffffffff
	if !c.wrmsr(uint32(c.R[RCX]), v) {
		c.raise(ExcGP, 0)
	}
	c.stop = true
}

// rdtsc loads EDX:EAX with the TSC; CR4.TSD makes it privileged.
func (c *CPU) rdtsc() {
	if c.CR4&CR4TSD != 0 {
		c.needCPL0()
	}
	t := c.tsc()
	c.R[RAX], c.R[RDX] = t&0xffffffff, t>>32
}

// opRdtsc: 0F 31.
func opRdtsc(c *CPU, in *Inst) { c.rdtsc() }

// opRdpmc: 0F 33. The P6 has two counters; they count nothing here.
func opRdpmc(c *CPU, in *Inst) {
	if c.CR4&CR4PCE == 0 {
		c.needCPL0()
	}
	if c.R[RCX]&0xffffffff > 1 {
		c.raise(ExcGP, 0)
	}
	c.R[RAX], c.R[RDX] = 0, 0
}
