package cpu

// Mode is the code-segment addressing mode an instruction is decoded in:
// the default operand and address size of CS (CS.D) or 64-bit mode (CS.L
// with EFER.LMA).
type Mode uint8

// Decoding modes.
const (
	Mode16 Mode = iota // real mode, v8086, or a 16-bit code segment
	Mode32             // a 32-bit code segment (also compatibility mode with CS.D)
	Mode64             // 64-bit mode
)

// Segment register numbers, in the order the instruction encodings use.
const (
	ES = iota
	CS
	SS
	DS
	FS
	GS
)

// General register numbers (REX-extended numbering). In 8-bit operations
// without a REX prefix, numbers 4-7 mean AH, CH, DH, BH.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// NoReg marks an absent base or index register in Inst.
const NoReg = 0xff

// RegRIP as Inst.Base marks RIP-relative addressing (64-bit mode): the
// effective address is the address of the next instruction plus Disp.
const RegRIP = 0xfe

// Prefix bits in Inst.Prefixes.
const (
	PfxLock     = 1 << iota // F0
	PfxRep                  // F3 (REP/REPE, or the mandatory F3 of an SSE form)
	PfxRepne                // F2 (REPNE, or the mandatory F2 of an SSE form)
	PfxOpSize               // 66 present
	PfxAddrSize             // 67 present
	PfxSeg                  // a segment override is present (Inst.Seg holds it)
	PfxRex                  // a REX prefix is present (Inst.Rex holds it)
)

// Opcode maps, as the high byte of Inst.Op.
const (
	Map1    = 0x000 // one-byte opcodes
	Map0F   = 0x100 // 0F xx
	Map0F38 = 0x200 // 0F 38 xx
	Map0F3A = 0x300 // 0F 3A xx
)

// Inst is one decoded instruction. The decoder fills every field but fn
// (bound by the interpreter). It is kept small: blocks hold arrays of it.
type Inst struct {
	Op       uint16 // map | opcode byte (Map0F|0xAF is IMUL r, r/m)
	Len      uint8  // total length in bytes, prefixes included
	OpSize   uint8  // operand size in bytes for non-byte forms: 2, 4 or 8
	AddrSize uint8  // address size in bytes: 2, 4 or 8
	Seg      uint8  // segment of the memory operand: override, else DS or SS (BP/SP/RBP/RSP base)
	Prefixes uint16 // Pfx* bits
	Rex      uint8  // the REX byte (0x40-0x4F) when PfxRex is set, else 0
	HasModRM bool
	ModRM    uint8  // the raw ModRM byte
	Mod      uint8  // ModRM.mod; 3 means a register operand
	Reg      uint8  // ModRM.reg, extended by REX.R (0-15)
	RM       uint8  // ModRM.rm, extended by REX.B (0-15): the register when Mod == 3
	Base     uint8  // memory operand base register, NoReg, or RegRIP
	Index    uint8  // memory operand index register or NoReg
	Scale    uint8  // index shift count 0-3
	Disp     int32  // displacement, sign-extended (16-bit addressing: the 16-bit value sign-extended)
	Imm      uint64 // first immediate, zero-extended from its encoded size (moffs for A0-A3)
	Imm2     uint16 // second immediate: ENTER's nesting level, a far pointer's selector
	ImmSize  uint8  // encoded size in bytes of Imm (0 if none)

	fn handler // bound by the interpreter
	// swapped: the binder exchanged Reg and RM so that one fast handler
	// serves both operand orders (fast.go).
	swapped bool
}

// ModRMRegs returns ModRM's reg and rm fields as decoded (undoing the
// exchange some fast handlers' binding makes).
func (in *Inst) ModRMRegs() (reg, rm uint8) {
	if in.swapped {
		return in.RM, in.Reg
	}
	return in.Reg, in.RM
}

// REX bits.
const (
	RexB = 1 << iota
	RexX
	RexR
	RexW
)
