package cpu

import "fmt"

// CPU models: what CPUID reports and which optional features (EFER bits,
// MSRs, instructions) exist. A model advertises only what Fuji implements.
type cpuModel struct {
	name     string
	vendor   string // 12 characters
	resetEDX uint32 // EDX at reset: family/model/stepping
	maxLeaf  uint32
	leaf1EDX uint32
	leaf1ECX uint32
	ext1EDX  uint32 // CPUID 80000001h
	ext1ECX  uint32
	leaf2    [4]uint32
	brand    string
	eferMask uint64 // EFER bits the model has (LMA is read-only)
	lahf64   bool   // LAHF/SAHF in 64-bit mode
	cx16     bool   // CMPXCHG16B
	rdtscp   bool
	sysenter bool
	longMode bool
	fp       fpFeatures // the x87/SSE unit (fpustate.go); zero: no FPU
	// syscallCompat: SYSCALL from compatibility mode (AMD); Intel #UD.
	syscallCompat bool
	page1G        bool // 1 GiB pages in 4-level paging (CPUID 80000001h:EDX.26)
	// fpuSIMD says the x87/MMX/SSE work is wired in: only then does the
	// model advertise fpuEDX/fpuECX (and allow CR4.OSFXSR/OSXMMEXCPT).
	fpuSIMD bool
	fpuEDX  uint32 // CPUID.1:EDX bits that need fpuSIMD
	fpuECX  uint32 // CPUID.1:ECX bits that need fpuSIMD
}

// CPUID.1:EDX feature bits.
const (
	featFPU  = 1 << 0
	featVME  = 1 << 1
	featDE   = 1 << 2
	featPSE  = 1 << 3
	featTSC  = 1 << 4
	featMSR  = 1 << 5
	featPAE  = 1 << 6
	featMCE  = 1 << 7
	featCX8  = 1 << 8
	featAPIC = 1 << 9
	// featTSCDeadline is CPUID.1:ECX bit 24 (the LAPIC timer's TSC-deadline
	// mode).
	featTSCDeadline = 1 << 24
	featSEP         = 1 << 11
	featMTRR        = 1 << 12
	featPGE         = 1 << 13
	featCMOV        = 1 << 15
	// featMCA is CPUID.1:EDX bit 14 (machine-check architecture).
	featMCA   = 1 << 14
	featPAT   = 1 << 16
	featPSE36 = 1 << 17

	featMMX  = 1 << 23
	featFXSR = 1 << 24
	featSSE  = 1 << 25
	featSSE2 = 1 << 26

	// CPUID.1:ECX.
	featSSE3   = 1 << 0
	featSSSE3  = 1 << 9
	featCX16   = 1 << 13
	featSSE41  = 1 << 19
	featSSE42  = 1 << 20
	featPOPCNT = 1 << 23

	// CPUID 80000001h:EDX and ECX.
	extSYSCALL = 1 << 11
	extNX      = 1 << 20
	extPage1G  = 1 << 26
	extRDTSCP  = 1 << 27
	extLM      = 1 << 29
	extLAHF    = 1 << 0 // ECX: LAHF/SAHF in 64-bit mode
)

// p6 is a Pentium II-class processor without the FPU (that comes later):
// no FPU, MMX, FXSR or SSE; no local APIC; NX under PAE (as the
// Pentium M) because the MMU implements it.
func modelP6() cpuModel {
	return cpuModel{
		name:     "p6",
		vendor:   "GenuineIntel",
		resetEDX: 0x663,
		maxLeaf:  2,
		leaf1EDX: featDE | featPSE | featTSC | featMSR | featPAE | featCX8 | featSEP |
			featMTRR | featPGE | featCMOV | featPAT | featPSE36,
		ext1EDX:  extNX,
		leaf2:    [4]uint32{0x03020101, 0, 0, 0x0c040841},
		brand:    "Fuji Virtual CPU",
		eferMask: EFERNXE,
		sysenter: true,
	}
}

// modelX8664v2 is a 64-bit processor at the x86-64-v2 level (a
// Nehalem-class signature): long mode, NX, SYSCALL, LAHF/SAHF in 64-bit
// mode, CMPXCHG16B, RDTSCP and 1 GiB pages. The x87/MMX/SSE bits the
// level needs sit in fpuEDX/fpuECX and are advertised only once fpuSIMD
// is set, when the floating-point work is wired in: flip fpuSIMD here.
func modelX8664v2() cpuModel {
	return cpuModel{
		name:     "x86-64-v2",
		vendor:   "GenuineIntel",
		resetEDX: 0x106a5, // family 6, model 1Ah, stepping 5
		maxLeaf:  2,
		leaf1EDX: featDE | featPSE | featTSC | featMSR | featPAE | featMCE | featCX8 | featAPIC | featSEP |
			featMTRR | featPGE | featMCA | featCMOV | featPAT | featPSE36,
		leaf1ECX: featCX16 | featTSCDeadline,
		ext1EDX:  extSYSCALL | extNX | extPage1G | extRDTSCP | extLM,
		ext1ECX:  extLAHF,
		leaf2:    [4]uint32{0x03020101, 0, 0, 0x0c040841},
		brand:    "Fuji Virtual CPU x86-64-v2",
		eferMask: EFERSCE | EFERLME | EFERNXE,
		lahf64:   true,
		cx16:     true,
		rdtscp:   true,
		sysenter: true,
		longMode: true,
		page1G:   true,
		fpuSIMD:  true,
		fpuEDX:   featFPU | featMMX | featFXSR | featSSE | featSSE2,
		// SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT are complete (oracle-
		// clean against the host). MONITOR (bit 3) is not implemented:
		// MONITOR/MWAIT are #UD.
		fpuECX: featPOPCNT | featSSE3 | featSSSE3 | featSSE41 | featSSE42,
		// Without BMI1/ABM advertised, F3 0F BC/BD execute as BSF/BSR
		// (the REP prefix is ignored), as on such processors.
		fp: fpFeatures{fpu: true, mmx: true, fxsr: true, sse: true, sse2: true,
			sse3: true, ssse3: true, sse41: true, sse42: true, popcnt: true},
	}
}

// modelMax is x86-64-v2 with every instruction Fuji implements enabled
// (like QEMU's -cpu max), TZCNT/LZCNT and XSAVE included, for the
// differential tests against the host; CPUID still advertises only the
// complete extensions.
func modelMax() cpuModel {
	m := modelX8664v2()
	m.name = "max"
	m.brand = "Fuji Virtual CPU max"
	m.fp = fpFeaturesV2
	m.ext1ECX |= 1 << 5 // ABM (LZCNT)
	return m
}

// lookupModel returns a fresh copy of the named model ("" is p6).
func lookupModel(name string) (*cpuModel, error) {
	switch name {
	case "", "p6":
		m := modelP6()
		return &m, nil
	case "x86-64-v2":
		m := modelX8664v2()
		return &m, nil
	case "max":
		m := modelMax()
		return &m, nil
	}
	return nil, fmt.Errorf("cpu: unknown CPU model %q", name)
}

// opCpuid: 0F A2.
func opCpuid(c *CPU, in *Inst) {
	a, b, cx, d := c.model.cpuid(uint32(c.R[RAX]), uint32(c.R[RCX]))
	c.R[RAX], c.R[RBX], c.R[RCX], c.R[RDX] = uint64(a), uint64(b), uint64(cx), uint64(d)
}

func le32(s string, i int) uint32 {
	var v uint32
	for j := 0; j < 4; j++ {
		if i+j < len(s) {
			v |= uint32(s[i+j]) << (8 * j)
		}
	}
	return v
}

// cpuid returns EAX, EBX, ECX, EDX for a leaf. Leaves above the maximum
// return the highest basic leaf, as Intel processors do.
func (m *cpuModel) cpuid(leaf, sub uint32) (a, b, c, d uint32) {
	const maxExt = 0x80000008
	if leaf >= 0x80000000 && leaf > maxExt || leaf < 0x80000000 && leaf > m.maxLeaf {
		leaf = m.maxLeaf
	}
	switch leaf {
	case 0:
		return m.maxLeaf, le32(m.vendor, 0), le32(m.vendor, 8), le32(m.vendor, 4)
	case 1:
		edx, ecx := m.leaf1EDX, m.leaf1ECX
		if m.fpuSIMD {
			edx |= m.fpuEDX
			ecx |= m.fpuECX
		}
		return m.resetEDX, 0, ecx, edx
	case 2:
		return m.leaf2[0], m.leaf2[1], m.leaf2[2], m.leaf2[3]
	case 0x80000000:
		return maxExt, 0, 0, 0
	case 0x80000001:
		return 0, 0, m.ext1ECX, m.ext1EDX
	case 0x80000002, 0x80000003, 0x80000004:
		o := int(leaf-0x80000002) * 16
		return le32(m.brand, o), le32(m.brand, o+4), le32(m.brand, o+8), le32(m.brand, o+12)
	case 0x80000008:
		return 48<<8 | 40, 0, 0, 0
	}
	return 0, 0, 0, 0
}
