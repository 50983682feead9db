package cpu

// Segment is a segment register: the visible selector and the hidden
// descriptor cache the processor loads with it.
type Segment struct {
	Sel   uint16
	Attr  uint16 // descriptor bits 40-47 (type, S, DPL, P) in 0-7 and bits 52-55 (AVL, L, D/B, G) in 8-11
	Base  uint64
	Limit uint32 // byte-granular limit (G already applied)
}

// Descriptor attribute bits as held in Segment.Attr.
const (
	AttrAccessed = 1 << 0
	AttrRW       = 1 << 1 // data: writable; code: readable
	AttrDC       = 1 << 2 // data: expand-down; code: conforming
	AttrCode     = 1 << 3
	AttrS        = 1 << 4 // code/data (not system)
	AttrDPLShift = 5
	AttrP        = 1 << 7
	AttrAVL      = 1 << 8
	AttrL        = 1 << 9
	AttrDB       = 1 << 10
	AttrG        = 1 << 11
)

// DPL returns the descriptor privilege level.
func (s *Segment) DPL() uint8 { return uint8(s.Attr>>AttrDPLShift) & 3 }

// TableReg is GDTR or IDTR.
type TableReg struct {
	Base  uint64
	Limit uint32
}

// RFLAGS bits.
const (
	FlagCF   = 1 << 0
	FlagPF   = 1 << 2
	FlagAF   = 1 << 4
	FlagZF   = 1 << 6
	FlagSF   = 1 << 7
	FlagTF   = 1 << 8
	FlagIF   = 1 << 9
	FlagDF   = 1 << 10
	FlagOF   = 1 << 11
	FlagIOPL = 3 << 12
	FlagNT   = 1 << 14
	FlagRF   = 1 << 16
	FlagVM   = 1 << 17
	FlagAC   = 1 << 18
	FlagVIF  = 1 << 19
	FlagVIP  = 1 << 20
	FlagID   = 1 << 21

	// FlagsArith are the six status flags the lazy evaluator computes.
	FlagsArith = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
)

// Control register bits.
const (
	CR0PE = 1 << 0
	CR0MP = 1 << 1
	CR0EM = 1 << 2
	CR0TS = 1 << 3
	CR0ET = 1 << 4
	CR0NE = 1 << 5
	CR0WP = 1 << 16
	CR0AM = 1 << 18
	CR0NW = 1 << 29
	CR0CD = 1 << 30
	CR0PG = 1 << 31

	CR4VME        = 1 << 0
	CR4PVI        = 1 << 1
	CR4TSD        = 1 << 2
	CR4DE         = 1 << 3
	CR4PSE        = 1 << 4
	CR4PAE        = 1 << 5
	CR4MCE        = 1 << 6
	CR4PGE        = 1 << 7
	CR4PCE        = 1 << 8
	CR4OSFXSR     = 1 << 9
	CR4OSXMMEXCPT = 1 << 10

	EFERSCE = 1 << 0
	EFERLME = 1 << 8
	EFERLMA = 1 << 10
	EFERNXE = 1 << 11
)

// State is every architectural register of the processor. It is plain
// data: snapshots copy it, tests build it, the JIT addresses its fields by
// offset. The arithmetic flags live partly in the lazy-flag fields; read
// RFLAGS through CPU.Flags and write it through CPU.SetFlags.
type State struct {
	R   [16]uint64
	RIP uint64

	// flags holds RFLAGS except the six arithmetic flags while a lazy
	// result is pending (lop != lazyNone).
	flags uint64
	// Lazy flags: the last flag-setting operation, its size in bytes,
	// operands, result, and carry-in (ADC/SBB) or preserved CF (INC/DEC).
	lop  uint8
	lsz  uint8
	lcin uint8
	la   uint64
	lb   uint64
	lres uint64

	Seg  [6]Segment
	LDTR Segment
	TR   Segment
	GDTR TableReg
	IDTR TableReg

	CR0, CR2, CR3, CR4, CR8 uint64
	EFER                    uint64
	DR                      [8]uint64
	CPL                     uint8

	// Halted is set by HLT and cleared by an interrupt, NMI or reset.
	Halted bool
	// IntShadow blocks interrupts for one instruction after STI, MOV SS
	// and POP SS.
	IntShadow bool
	// NMIBlocked is set while an NMI handler runs (until IRET).
	NMIBlocked bool

	TSC uint64
	// FPUState is the x87/MMX/SSE register file (fpustate.go).
	FPUState
	// TSCOffset is added to the retired-instruction count for RDTSC.
	MSR MSRs
}

// MSRs holds the model-specific registers Fuji models.
type MSRs struct {
	SysenterCS, SysenterESP, SysenterEIP uint64
	Star, LStar, CStar, SFMask           uint64
	FSBase, GSBase, KernelGSBase         uint64
	TSCAux                               uint64
	APICBase                             uint64
	PAT                                  uint64
	MiscEnable                           uint64
	MTRRCap, MTRRDefType                 uint64
	MTRRFix                              [11]uint64
	MTRRVar                              [16]uint64
	// Machine-check architecture: global status and control, and per
	// bank CTL, STATUS, ADDR, MISC.
	MCGStatus, MCGCtl uint64
	MCBank            [mcBanks][4]uint64
}

// mcBanks is the number of machine-check banks (as QEMU's default CPU).
const mcBanks = 10
