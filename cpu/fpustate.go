package cpu

// The x87, MMX and SSE register file, and the model features the floating
// point and vector units read.

// F80 is an x87 register or m80 value: a 64-bit significand with an
// explicit integer bit (bit 63) and a sign + 15-bit biased exponent.
type F80 struct {
	Mant uint64
	SExp uint16
}

// FPUState is the x87/MMX/SSE architectural state. ST holds the physical
// registers R0-R7 (ST(i) is R((TOP+i)&7)); MMi aliases the significand of
// Ri. FSW carries TOP in bits 11-13. FTW is the abridged tag word of
// FXSAVE: bit i set means Ri is not empty; the full two-bit tags are
// derived from the register contents when FSTENV/FSAVE store them, as
// P6-and-later processors do.
type FPUState struct {
	ST  [8]F80
	FCW uint16
	FSW uint16
	FTW uint8
	FOP uint16 // last non-control opcode: (first byte & 7) << 8 | ModRM
	FCS uint16
	FDS uint16
	FIP uint64
	FDP uint64

	MXCSR uint32
	XMM   [16][2]uint64
	XCR0  uint64
}

// FPU status word bits.
const (
	fswIE  = 1 << 0
	fswDE  = 1 << 1
	fswZE  = 1 << 2
	fswOE  = 1 << 3
	fswUE  = 1 << 4
	fswPE  = 1 << 5
	fswSF  = 1 << 6
	fswES  = 1 << 7
	fswC0  = 1 << 8
	fswC1  = 1 << 9
	fswC2  = 1 << 10
	fswC3  = 1 << 14
	fswB   = 1 << 15
	fswTop = 7 << 11

	fswExc = 0x3f // IE..PE
	fswCC  = fswC0 | fswC1 | fswC2 | fswC3
)

// MXCSR bits.
const (
	mxIE  = 1 << 0
	mxDE  = 1 << 1
	mxZE  = 1 << 2
	mxOE  = 1 << 3
	mxUE  = 1 << 4
	mxPE  = 1 << 5
	mxDAZ = 1 << 6
	mxFTZ = 1 << 15

	mxMaskShift = 7
	mxRCShift   = 13
	mxcsrReset  = 0x1f80
)

// fpFeatures is what the CPU model says about the floating-point and
// vector units. The CPUID model (cpuid.go) fills it; CPUID leaf 1 and
// 0x80000001 bits should be derived from the same fields.
type fpFeatures struct {
	fpu    bool // x87 present (CPUID.1:EDX.FPU)
	mmx    bool // CPUID.1:EDX.MMX
	fxsr   bool // FXSAVE/FXRSTOR (CPUID.1:EDX.FXSR)
	sse    bool // CPUID.1:EDX.SSE
	sse2   bool // CPUID.1:EDX.SSE2
	sse3   bool // CPUID.1:ECX.SSE3
	ssse3  bool // CPUID.1:ECX.SSSE3
	sse41  bool // CPUID.1:ECX.SSE4_1
	sse42  bool // CPUID.1:ECX.SSE4_2 (also CRC32, PCMPxSTRx)
	popcnt bool // CPUID.1:ECX.POPCNT
	xsave  bool // CPUID.1:ECX.XSAVE (XGETBV needs CR4.OSXSAVE too)
	lzcnt  bool // F3 0F BD is LZCNT (CPUID.80000001:ECX.ABM/LZCNT), else BSR
	tzcnt  bool // F3 0F BC is TZCNT (CPUID.7.0:EBX.BMI1), else BSF
	// fdpExcOnly: FDP/FDS are only updated on unmasked x87 exceptions
	// (CPUID.7.0:EBX bit 6). fcsDeprecated: FCS/FDS are stored as zero
	// (CPUID.7.0:EBX bit 13).
	fdpExcOnly    bool
	fcsDeprecated bool
}

// fpFeaturesV2 is the x86-64-v2 level: SSE through SSE4.2, POPCNT, with
// LZCNT (ABM) and TZCNT (BMI1) as a model choice the caller may clear.
var fpFeaturesV2 = fpFeatures{
	fpu: true, mmx: true, fxsr: true, sse: true, sse2: true, sse3: true,
	ssse3: true, sse41: true, sse42: true, popcnt: true, xsave: true,
	lzcnt: true, tzcnt: true,
}

// fpuReset is the FINIT/power-on x87 state (SDM Vol. 1 Table 8-1 via
// Vol. 3A Table 9-1: FCW 037F after FINIT, 0040 at power-on; Fuji uses
// the FINIT value, which is what firmware establishes anyway).
func (f *FPUState) fpuInit() {
	f.FCW = 0x037f
	f.FSW = 0
	f.FTW = 0
	f.FOP = 0
	f.FIP, f.FCS, f.FDP, f.FDS = 0, 0, 0, 0
}

// FPUHooks connects the legacy FERR#/IGNNE# path (CR0.NE = 0): the
// machine wires FERR to IRQ 13 of the 8259A.
type FPUHooks struct {
	// FERR is called with true when an unmasked x87 exception is pending
	// at a waiting instruction while CR0.NE = 0.
	FERR func(asserted bool)
}

// SetFPUHooks installs the FERR# callback.
func (c *CPU) SetFPUHooks(h FPUHooks) { c.fpuHooks = h }

// fpuPowerOn sets the x87/SSE registers' power-on values: FCW 0040,
// all tags empty, MXCSR 1F80, XCR0 = x87 only.
func (c *CPU) fpuPowerOn() {
	c.FCW = 0x0040
	c.MXCSR = mxcsrReset
	c.XCR0 = 1
}
