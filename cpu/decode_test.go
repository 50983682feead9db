package cpu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// genInst fills b with a random instruction-like byte string, biased so
// that prefixes, the 0F maps and every ModRM/SIB form are well covered.
func genInst(r *rand.Rand, mode Mode, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := 0
	if r.IntN(2) == 0 { // half the time 1-4 legacy prefixes
		np := 1 + r.IntN(4)
		for j := 0; j < np; j++ {
			b[p] = genPrefixes[r.IntN(len(genPrefixes))]
			p++
		}
	}
	if mode == Mode64 && r.IntN(3) == 0 {
		b[p] = 0x40 | byte(r.IntN(16))
		p++
	}
	switch r.IntN(8) {
	case 0, 1:
		b[p] = 0x0F
		p++
	case 2:
		b[p], b[p+1] = 0x0F, 0x38
		p += 2
	case 3:
		b[p], b[p+1] = 0x0F, 0x3A
		p += 2
	}
	p++                // the opcode byte stays random
	switch r.IntN(6) { // ModRM: bias to SIB, disp32/RIP-relative, registers
	case 0:
		b[p] = b[p]&0x38 | 0x04 | byte(r.IntN(3))<<6
		if r.IntN(2) == 0 {
			b[p+1] = b[p+1]&^7 | 5 // SIB without base (mod=0) or rBP base
		}
	case 1:
		b[p] = b[p]&0x38 | 0x05
	case 2:
		b[p] |= 0xC0
	}
}

var genPrefixes = []byte{0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF3}

// Disagreement classes with x86asm. Each is a case where the SDM, not
// x86asm, defines the outcome; any disagreement outside them fails.
const (
	clsRexIgnored  = "REX not immediately before the opcode is ignored (SDM Vol. 2A 2.2.1); x86asm rejects it"
	clsVEX         = "VEX/EVEX (C4/C5/62 with mod=11 outside 64-bit mode, always in 64-bit mode; SDM Vol. 2A 2.3.5, 2.7): Fuji has no AVX, ErrInvalid by design"
	clsMovTR       = "0F 24/0F 26 MOV TRn (i386/i486 only): blank in SDM Vol. 2D Table A-3, ErrInvalid; x86asm still decodes it"
	clsMovCR       = "MOV CR/DR 0F 20-23: 'the 2 bits in the mod field are ignored' (SDM Vol. 2B MOV-Move to/from Control/Debug Registers): no SIB/disp; x86asm consumes them"
	clsPrefix      = "mandatory prefix (66/F2/F3) combination the SDM does not assign: length is the opcode's (SDM Vol. 2A 2.1.2, Vol. 2D A.2.5); x86asm rejects"
	clsGroupSlot   = "unassigned ModRM.reg slot of an opcode group: length is fixed by the group row (SDM Vol. 2D A.4, Table A-6); x86asm rejects"
	clsModForm     = "memory-only operand with mod=11 or register-only operand with a memory form (#UD, length still per ModRM, SDM Vol. 2A 2.1.5); x86asm rejects"
	clsX87         = "x87 escape D8-DF slot x86asm does not list: every D8-DF opcode is ModRM-sized (SDM Vol. 2D A.5)"
	clsUnknownOp   = "opcode defined by the SDM that x86asm does not know (listed in x86asmUnknown)"
	clsI64Agree    = ""
	maxReportFails = 20
)

// x86asmUnknown lists opcodes (Inst.Op) defined in the SDM whose forms
// x86asm does not decode, with their layout: ModRM always, immediate size.
var x86asmUnknown = map[uint16]struct {
	imm   uint8
	ref   string
	modrm bool
}{
	0x82:           {1, "Grp1 Eb,Ib: alias of 80 outside 64-bit mode (Vol. 2D Table A-2, A-6)", true},
	Map0F | 0x05:   {0, "SYSCALL: x86asm knows it in 64-bit mode only (AMD defines it in legacy mode; Intel #UD, length 2)", false},
	Map0F | 0x07:   {0, "SYSRET: as SYSCALL", false},
	Map0F | 0x37:   {0, "GETSEC (Vol. 2D Table A-3, SMX)", false},
	0xD6:           {0, "SALC: one byte on all IA-32 processors (undocumented by Intel, AMD APM Vol. 3)", false},
	Map0F | 0x0D:   {0, "PREFETCHW / reserved-NOP Ev (Vol. 2D Table A-3)", true},
	Map0F | 0x18:   {0, "Grp16 prefetch / reserved-NOP (Vol. 2D Table A-3, A-6)", true},
	Map0F | 0x19:   {0, "reserved-NOP Ev (Vol. 2D Table A-3)", true},
	Map0F | 0x1A:   {0, "MPX BNDLDX/BNDMOV/BNDCL/BNDCU, else NOP (Vol. 2A BNDxx)", true},
	Map0F | 0x1B:   {0, "MPX BNDSTX/BNDMOV/BNDMK/BNDCN, else NOP", true},
	Map0F | 0x1C:   {0, "reserved-NOP / CLDEMOTE", true},
	Map0F | 0x1D:   {0, "reserved-NOP Ev", true},
	Map0F | 0x1E:   {0, "reserved-NOP / ENDBR32/64, RDSSP (CET)", true},
	Map0F | 0x1F:   {0, "NOP Ev / reserved-NOP", true},
	Map0F | 0x78:   {0, "VMREAD Ey,Gy (Vol. 3C 31)", true},
	Map0F | 0x79:   {0, "VMWRITE Gy,Ey", true},
	Map0F | 0xB9:   {0, "UD1 Gv,Ev (Vol. 2B UD)", true},
	Map0F | 0xFF:   {0, "UD0 Gv,Ev (Vol. 2B UD)", true},
	Map0F38 | 0x80: {0, "INVEPT", true},
	Map0F38 | 0x81: {0, "INVVPID", true},
	Map0F38 | 0x82: {0, "INVPCID", true},
	Map0F38 | 0xC8: {0, "SHA1NEXTE", true},
	Map0F38 | 0xC9: {0, "SHA1MSG1", true},
	Map0F38 | 0xCA: {0, "SHA1MSG2", true},
	Map0F38 | 0xCB: {0, "SHA256RNDS2", true},
	Map0F38 | 0xCC: {0, "SHA256MSG1", true},
	Map0F38 | 0xCD: {0, "SHA256MSG2", true},
	Map0F38 | 0xCF: {0, "GF2P8MULB", true},
	Map0F38 | 0xD8: {0, "AESENCWIDE/DECWIDE128/256KL (Key Locker)", true},
	Map0F38 | 0xDC: {0, "AESENC / AESENC128KL", true},
	Map0F38 | 0xDD: {0, "AESENCLAST / AESDEC128KL", true},
	Map0F38 | 0xDE: {0, "AESDEC / AESENC256KL", true},
	Map0F38 | 0xDF: {0, "AESDECLAST / AESDEC256KL", true},
	Map0F38 | 0xF5: {0, "WRUSS (CET)", true},
	Map0F38 | 0xF6: {0, "ADCX/ADOX/WRSS", true},
	Map0F38 | 0xF8: {0, "MOVDIR64B/ENQCMD/ENQCMDS", true},
	Map0F38 | 0xF9: {0, "MOVDIRI", true},
	Map0F38 | 0xFA: {0, "ENCODEKEY128 (Key Locker)", true},
	Map0F38 | 0xFB: {0, "ENCODEKEY256 (Key Locker)", true},
	Map0F38 | 0xFC: {0, "AADD/AAND/AOR/AXOR (RAO-INT)", true},
	Map0F3A | 0xCC: {1, "SHA1RNDS4", true},
	Map0F3A | 0xCE: {1, "GF2P8AFFINEQB", true},
	Map0F3A | 0xCF: {1, "GF2P8AFFINEINVQB", true},
	Map0F3A | 0xF0: {1, "HRESET", true},
}

func modeBits(m Mode) int { return []int{16, 32, 64}[m] }

func x86asmLen(b []byte, mode Mode) (int, bool) {
	xi, err := x86asm.Decode(b, modeBits(mode))
	if err != nil || xi.Op == 0 { // Op 0: x86asm's "lone prefix" failure
		return 0, false
	}
	return xi.Len, true
}

func isLegacyPrefix(c byte) bool {
	switch c {
	case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65:
		return true
	}
	return false
}

// split returns the prefix length and the number of opcode bytes of b.
func split(b []byte, mode Mode) (p, k int) {
	for p < len(b) && (isLegacyPrefix(b[p]) || mode == Mode64 && b[p]&0xF0 == 0x40) {
		p++
	}
	k = 1
	if p+1 < len(b) && b[p] == 0x0F {
		k = 2
		if b[p+1] == 0x38 || b[p+1] == 0x3A {
			k = 3
		}
	}
	return p, k
}

// memBytes is the number of SIB and displacement bytes after a ModRM
// byte (an independent transcription of SDM Vol. 2A Tables 2-1..2-3).
func memBytes(modrm, sib byte, asz int) int {
	mod, rm := modrm>>6, modrm&7
	if mod == 3 {
		return 0
	}
	if asz == 2 {
		switch {
		case mod == 0 && rm == 6, mod == 2:
			return 2
		case mod == 1:
			return 1
		}
		return 0
	}
	n := 0
	if rm == 4 {
		n = 1
		if mod == 0 && sib&7 == 5 {
			return n + 4
		}
	}
	switch {
	case mod == 0 && rm == 5, mod == 2:
		n += 4
	case mod == 1:
		n++
	}
	return n
}

// classify explains a disagreement between Decode and x86asm on b, or
// returns an error.
func classify(b []byte, mode Mode) (string, error) {
	var in Inst
	err := Decode(b, mode, &in)
	xl, xok := x86asmLen(b, mode)
	ok := err == nil
	switch {
	case ok && xok && int(in.Len) == xl, !ok && !xok:
		return "", nil
	}
	p, k := split(b, mode)
	// A REX anywhere but last in the prefixes is a null prefix: replace it
	// with 3E (also null in 64-bit mode) and compare again.
	if mode == Mode64 {
		var c [16]byte
		copy(c[:], b)
		moved := false
		for i := 0; i+1 < p; i++ {
			if c[i]&0xF0 == 0x40 {
				c[i] = 0x3E
				moved = true
			}
		}
		if moved {
			var in2 Inst
			err2 := Decode(c[:len(b)], mode, &in2)
			if err2 != err || in2.Len != in.Len {
				return "", fmt.Errorf("REX-to-3E rewrite changed our decode: %v/%d vs %v/%d", err2, in2.Len, err, in.Len)
			}
			cls, err := classify(c[:len(b)], mode)
			if err != nil {
				return "", err
			}
			if cls == "" {
				return clsRexIgnored, nil
			}
			return cls, nil
		}
	}
	if !ok && xok {
		if errors.Is(err, ErrInvalid) {
			switch in.Op {
			case 0x62, 0xC4, 0xC5:
				return clsVEX, nil
			case Map0F | 0x24, Map0F | 0x26:
				return clsMovTR, nil
			}
		}
		return "", fmt.Errorf("we fail (%v, len %d), x86asm decodes len %d", err, in.Len, xl)
	}
	if ok && xok {
		if in.Op >= Map0F|0x20 && in.Op <= Map0F|0x23 && in.ModRM>>6 != 3 {
			mb := memBytes(b[p+k], b[p+k+1], int(in.AddrSize))
			if xl-int(in.Len) == mb {
				return clsMovCR, nil
			}
		}
		return "", fmt.Errorf("length %d, x86asm %d", in.Len, xl)
	}

	// We decode, x86asm does not. First check our length with x86asm on a
	// surrogate of the same layout: drop F0/F2/F3/segment prefixes and
	// put a well-known opcode of the same map and layout in its place.
	if err := checkSurrogate(b, mode, &in, p, k); err != nil {
		return "", err
	}
	if in.Op >= 0xD8 && in.Op <= 0xDF {
		return clsX87, nil
	}
	if u, found := x86asmUnknown[in.Op]; found && in.HasModRM == u.modrm && u.imm == in.ImmSize {
		return clsUnknownOp, nil
	}
	if !in.HasModRM {
		return "", fmt.Errorf("x86asm rejects a ModRM-less opcode %#x", in.Op)
	}
	// Then name the reason: x86asm knows the opcode in a neighbouring form.
	if variantDecodes(b, mode, &in, p, k, true, false, false) {
		return clsGroupSlot, nil
	}
	if variantDecodes(b, mode, &in, p, k, false, true, false) || variantDecodes(b, mode, &in, p, k, true, true, false) {
		return clsPrefix, nil
	}
	for _, regs := range []bool{false, true} {
		for _, pf := range []bool{false, true} {
			if variantDecodes(b, mode, &in, p, k, regs, pf, true) {
				return clsModForm, nil
			}
		}
	}
	return "", fmt.Errorf("x86asm rejects op %#x and every neighbouring form", in.Op)
}

// checkSurrogate compares our length with x86asm's on b with its opcode
// replaced by one of identical layout that x86asm decodes in all forms.
func checkSurrogate(b []byte, mode Mode, in *Inst, p, k int) error {
	var s [32]byte
	n := 0
	for i := 0; i < p; i++ {
		switch b[i] {
		case 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65:
			continue
		}
		s[n] = b[i]
		n++
	}
	stripped := p - n
	if mode == Mode64 && p > 0 && b[p-1]&0xF0 == 0x40 && n > 0 && s[n-1]&0xF0 != 0x40 {
		return fmt.Errorf("surrogate lost the REX")
	}
	var op []byte
	switch {
	case k == 1 && !in.HasModRM && in.ImmSize == 0:
		op = []byte{0x90}
	case k == 1 && in.HasModRM && in.ImmSize == 0:
		op = []byte{0x8B}
	case k == 1 && in.HasModRM && in.ImmSize == 1:
		op = []byte{0x6B}
	case k == 1 && in.HasModRM && (in.ImmSize == 2 || in.ImmSize == 4):
		op = []byte{0x69}
	case k == 2 && !in.HasModRM && in.ImmSize == 0:
		op = []byte{0x0F, 0xA2} // CPUID
	case k == 2 && in.HasModRM && in.ImmSize == 0:
		op = []byte{0x0F, 0xAF}
	case k == 2 && in.HasModRM && in.ImmSize == 1:
		op = []byte{0x0F, 0xA4}
	case k == 3 && b[p+1] == 0x38 && in.HasModRM && in.ImmSize == 0:
		op = []byte{0x0F, 0x38, 0x00}
	case k == 3 && b[p+1] == 0x3A && in.HasModRM && in.ImmSize == 1:
		op = []byte{0x0F, 0x3A, 0x0F}
	default:
		return fmt.Errorf("no surrogate for op %#x modrm=%v imm=%d", in.Op, in.HasModRM, in.ImmSize)
	}
	n += copy(s[n:], op)
	n += copy(s[n:], b[p+k:])
	if n > 15 {
		n = 15
	}
	xl, ok := x86asmLen(s[:n], mode)
	if !ok || xl != int(in.Len)-stripped {
		return fmt.Errorf("surrogate % x: x86asm %d/%v, want %d", s[:n], xl, ok, int(in.Len)-stripped)
	}
	return nil
}

// variantDecodes reports whether x86asm decodes b with the same opcode
// but another ModRM.reg (regs), other mandatory prefixes (pfx) or the
// other of register/memory form (mod), at the length our decode implies.
func variantDecodes(b []byte, mode Mode, in *Inst, p, k int, regs, pfx, mod bool) bool {
	type pset struct {
		add   byte
		strip bool
	}
	psets := []pset{{0, false}}
	if pfx {
		psets = []pset{{0, true}, {0x66, true}, {0xF2, true}, {0xF3, true}}
	}
	m := b[p+k]
	rest := b[p+k+1:]
	delta := 0
	if mod {
		if m>>6 == 3 {
			m &= 0x38 // [BX+SI] / [rAX]: no SIB, no displacement
		} else {
			mb := memBytes(m, b[p+k+1], int(in.AddrSize))
			rest = b[p+k+1+mb:]
			delta = -mb
			m |= 0xC0
		}
	}
	for _, ps := range psets {
		for r := 0; r < 8; r++ {
			if !regs && r > 0 {
				break
			}
			var s [40]byte
			n := 0
			for i := 0; i < p; i++ {
				if ps.strip {
					switch b[i] {
					case 0x66, 0xF0, 0xF2, 0xF3:
						continue
					}
				}
				s[n] = b[i]
				n++
			}
			d := delta + n - p
			if ps.add != 0 {
				// before a trailing REX, which must stay last
				if n > 0 && mode == Mode64 && s[n-1]&0xF0 == 0x40 {
					s[n], s[n-1] = s[n-1], ps.add
				} else {
					s[n] = ps.add
				}
				n++
				d++
			}
			n += copy(s[n:], b[p:p+k])
			mm := m
			if regs {
				mm = m&^0x38 | byte(r)<<3
			}
			s[n] = mm
			n++
			n += copy(s[n:], rest)
			if n > 15 {
				n = 15
			}
			if xl, ok := x86asmLen(s[:n], mode); ok && xl == int(in.Len)+d {
				return true
			}
		}
	}
	return false
}

// TestDecodeVsX86asm compares lengths with x86asm on random byte strings.
func TestDecodeVsX86asm(t *testing.T) {
	n := 1000000
	if testing.Short() {
		n = 100000
	}
	for _, mode := range []Mode{Mode16, Mode32, Mode64} {
		r := rand.New(rand.NewPCG(0x46554a49, uint64(mode)))
		var buf [16]byte
		var in Inst
		agree, bothFail, fails := 0, 0, 0
		classes := map[string]int{}
		example := map[string]string{}
		for i := 0; i < n; i++ {
			genInst(r, mode, buf[:])
			err := Decode(buf[:], mode, &in)
			xl, xok := x86asmLen(buf[:], mode)
			if err == nil && xok && int(in.Len) == xl {
				agree++
				continue
			}
			if err != nil && !xok {
				bothFail++
				continue
			}
			cls, cerr := classify(buf[:], mode)
			if cerr != nil {
				fails++
				if fails <= maxReportFails {
					t.Errorf("mode %d: % x: %v", modeBits(mode), buf[:], cerr)
				}
				continue
			}
			classes[cls]++
			if _, ok := example[cls]; !ok {
				example[cls] = fmt.Sprintf("% x", buf[:])
			}
		}
		t.Logf("mode %d: %d strings: %d agree on length, %d both reject, %d explained, %d unexplained",
			modeBits(mode), n, agree, bothFail, n-agree-bothFail-fails, fails)
		var names []string
		for c := range classes {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			t.Logf("  %7d  %s\n           e.g. %s", classes[c], c, example[c])
		}
	}
}

var _ = strings.Contains
