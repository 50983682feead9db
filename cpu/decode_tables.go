package cpu

// Decoder tables: one entry per opcode byte in each map, built once at
// package initialisation and read-only afterwards. Sources: Intel SDM
// Vol. 2D Appendix A (opcode maps, Tables A-2..A-7 and the superscripts
// d64/f64/i64 of A.2.5) and Vol. 2A 2.2.1 (REX) and 2.1.5 (ModRM/SIB).

// dflags describes how an opcode is laid out after its last opcode byte.
type dflags uint16

const (
	dModRM   dflags = 1 << iota // a ModRM byte follows
	dD64                        // 64-bit mode: default operand size 64, 66 selects 16 (A.2.5 "d64")
	dF64                        // 64-bit mode: operand size forced to 64, 66 ignored (A.2.5 "f64", Intel)
	dI64                        // invalid in 64-bit mode (A.2.5 "i64"): ErrInvalid there
	dBad                        // blank slot in the map: the length is undefined, ErrInvalid
	dSpecial                    // needs a look at ModRM.reg or the next byte (groups, VEX/XOP escapes)

	dImmShift = 8 // the immediate kind lives in bits 8-11
)

// Immediate kinds.
const (
	iNone  = iota
	iB     // Ib, Jb
	iW     // Iw
	iZ     // Iz, Jz: 2 or 4 bytes by operand size (4 when it is 8)
	iV     // Iv (B8-BF): 2, 4 or 8 bytes by operand size
	iMoffs // A0-A3: offset of the address size
	iAp    // far pointer: offset 2 or 4 by operand size, then a 16-bit selector
	iEnter // ENTER: Iw then Ib
	iGrp3  // F6/F7: Ib/Iz only for /0 and /1 (TEST)
)

func imm(k int) dflags { return dflags(k) << dImmShift }

// tables are the per-map flag arrays, indexed by opcode byte.
type tables struct {
	map1, map0F, map0F38, map0F3A [256]dflags
}

var decodeTables = buildTables()

func buildTables() *tables {
	t := new(tables)
	m := &t.map1
	set := func(m *[256]dflags, lo, hi int, f dflags) {
		for i := lo; i <= hi; i++ {
			m[i] = f
		}
	}

	// One-byte map (Table A-2).
	for row := 0x00; row < 0x40; row += 8 {
		set(m, row, row+3, dModRM) // ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev
		m[row+4] = imm(iB)         // AL, Ib
		m[row+5] = imm(iZ)         // rAX, Iz
	}
	// Rows 0-3 columns 6/7/E/F: PUSH/POP sreg and BCD adjust, all i64;
	// 0F is the escape and the segment prefixes are consumed before lookup.
	for _, op := range []int{0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F} {
		m[op] = dI64
	}
	// 40-4F INC/DEC r (REX in 64-bit mode, consumed as a prefix there).
	set(m, 0x50, 0x5F, dD64)           // PUSH/POP r
	m[0x60] = dI64                     // PUSHA
	m[0x61] = dI64                     // POPA
	m[0x62] = dModRM | dI64 | dSpecial // BOUND; EVEX when mod=3
	m[0x63] = dModRM                   // ARPL / MOVSXD
	m[0x68] = imm(iZ) | dD64
	m[0x69] = dModRM | imm(iZ)
	m[0x6A] = imm(iB) | dD64
	m[0x6B] = dModRM | imm(iB)
	set(m, 0x70, 0x7F, imm(iB)|dF64) // Jcc Jb
	m[0x80] = dModRM | imm(iB)
	m[0x81] = dModRM | imm(iZ)
	m[0x82] = dModRM | imm(iB) | dI64
	m[0x83] = dModRM | imm(iB)
	set(m, 0x84, 0x8E, dModRM)
	m[0x8F] = dModRM | dD64 | dSpecial // Grp1A POP Ev; XOP escape when reg != 0
	m[0x9A] = imm(iAp) | dI64          // CALLF Ap
	m[0x9C] = dD64                     // PUSHF
	m[0x9D] = dD64                     // POPF
	set(m, 0xA0, 0xA3, imm(iMoffs))
	m[0xA8] = imm(iB)
	m[0xA9] = imm(iZ)
	set(m, 0xB0, 0xB7, imm(iB))
	set(m, 0xB8, 0xBF, imm(iV))
	m[0xC0] = dModRM | imm(iB)
	m[0xC1] = dModRM | imm(iB)
	m[0xC2] = imm(iW) | dF64
	m[0xC3] = dF64
	m[0xC4] = dModRM | dI64 | dSpecial // LES; VEX3 when mod=3
	m[0xC5] = dModRM | dI64 | dSpecial // LDS; VEX2 when mod=3
	m[0xC6] = dModRM | imm(iB) | dSpecial
	m[0xC7] = dModRM | imm(iZ) | dSpecial
	m[0xC8] = imm(iEnter) | dD64
	m[0xC9] = dD64
	m[0xCA] = imm(iW)
	m[0xCD] = imm(iB)
	m[0xCE] = dI64 // INTO
	set(m, 0xD0, 0xD3, dModRM)
	m[0xD4] = imm(iB) | dI64         // AAM
	m[0xD5] = imm(iB) | dI64         // AAD
	m[0xD6] = dI64                   // SALC: undocumented by Intel, one byte on every IA-32 CPU
	set(m, 0xD8, 0xDF, dModRM)       // x87 escapes
	set(m, 0xE0, 0xE3, imm(iB)|dF64) // LOOPcc, JrCXZ
	set(m, 0xE4, 0xE7, imm(iB))      // IN/OUT Ib
	m[0xE8] = imm(iZ) | dF64
	m[0xE9] = imm(iZ) | dF64
	m[0xEA] = imm(iAp) | dI64
	m[0xEB] = imm(iB) | dF64
	m[0xF6] = dModRM | imm(iGrp3) | dSpecial
	m[0xF7] = dModRM | imm(iGrp3) | dSpecial
	m[0xFE] = dModRM
	m[0xFF] = dModRM | dSpecial // Grp5: CALL/JMP Ev are f64, PUSH Ev d64

	// Two-byte map 0F xx (Table A-3).
	m = &t.map0F
	set(m, 0x00, 0xFF, dModRM) // most of the map; exceptions below
	m[0x04] = dBad
	for _, op := range []int{0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77, 0xA2, 0xAA} {
		m[op] = 0 // SYSCALL CLTS SYSRET INVD WBINVD UD2 WRMSR RDTSC RDMSR RDPMC SYSENTER SYSEXIT GETSEC EMMS CPUID RSM
	}
	// 0F 0A/0C and 0F 0E (AMD FEMMS) and 0F 0F (AMD 3DNow!) are not Intel encodings.
	for _, op := range []int{0x0A, 0x0C, 0x0E, 0x0F, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x7A, 0x7B, 0xA6, 0xA7} {
		m[op] = dBad
	}
	set(m, 0x20, 0x23, dModRM|dSpecial) // MOV CR/DR: mod is ignored, always registers
	m[0x38] = 0                         // escapes, handled by Decode
	m[0x3A] = 0
	m[0x70] = dModRM | imm(iB)
	set(m, 0x71, 0x73, dModRM|imm(iB)) // Grp12-14
	set(m, 0x80, 0x8F, imm(iZ)|dF64)   // Jcc Jz
	m[0xA0] = dD64                     // PUSH FS
	m[0xA1] = dD64                     // POP FS
	m[0xA4] = dModRM | imm(iB)
	m[0xA8] = dD64 // PUSH GS
	m[0xA9] = dD64 // POP GS
	m[0xAC] = dModRM | imm(iB)
	m[0xB8] = dModRM | dSpecial // POPCNT with F3; JMPE (IA-64 only) otherwise
	m[0xBA] = dModRM | imm(iB)  // Grp8
	m[0xC2] = dModRM | imm(iB)
	set(m, 0xC4, 0xC6, dModRM|imm(iB))
	set(m, 0xC8, 0xCF, 0) // BSWAP

	// Three-byte maps (Tables ): every defined opcode has ModRM,
	// 0F 3A ones also an Ib. Blank slots are ErrInvalid.
	for _, r := range [][2]int{
		{0x00, 0x0B}, {0x10, 0x10}, {0x14, 0x15}, {0x17, 0x17}, {0x1C, 0x1E},
		{0x20, 0x25}, {0x28, 0x2B}, {0x30, 0x35}, {0x37, 0x41}, {0x80, 0x82},
		{0xC8, 0xCD}, {0xCF, 0xCF}, {0xD8, 0xD8}, {0xDB, 0xDF}, {0xF0, 0xF1},
		{0xF5, 0xF6}, {0xF8, 0xFC},
	} {
		set(&t.map0F38, r[0], r[1], dModRM)
	}
	for i := range t.map0F38 {
		if t.map0F38[i] == 0 {
			t.map0F38[i] = dBad
		}
	}
	for _, r := range [][2]int{
		{0x08, 0x0F}, {0x14, 0x17}, {0x20, 0x22}, {0x40, 0x42}, {0x44, 0x44},
		{0x60, 0x63}, {0xCC, 0xCC}, {0xCE, 0xCF}, {0xDF, 0xDF}, {0xF0, 0xF0},
	} {
		set(&t.map0F3A, r[0], r[1], dModRM|imm(iB))
	}
	for i := range t.map0F3A {
		if t.map0F3A[i] == 0 {
			t.map0F3A[i] = dBad
		}
	}
	return t
}
