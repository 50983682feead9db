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

	// We decode, x86asm does not. MOV to/from CR/DR ignores the mod bits
	// (SDM Vol. 2B MOV—Move to/from Control Registers): x86asm reads a
	// memory operand's SIB and displacement, which can carry a long
	// prefix run past 15 bytes, so it rejects an instruction whose real
	// length is fine.
	if in.Op >= Map0F|0x20 && in.Op <= Map0F|0x23 && in.ModRM>>6 != 3 {
		mb := memBytes(b[p+k], b[p+k+1], int(in.AddrSize))
		if int(in.Len)+mb > maxInstLen {
			return clsMovCR, nil
		}
	}
	// First check our length with x86asm on a surrogate of the same
	// layout: drop F0/F2/F3/segment prefixes and put a well-known opcode
	// of the same map and layout in its place.
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
				// Keep the length: trade a segment override (which does
				// not change the layout) for the added prefix, so that a
				// 15-byte form does not become a 16-byte one.
				// A repeated prefix acts once, so one copy of a
				// duplicate may go too.
				traded := false
				for j := 0; j < n && !traded; j++ {
					dup := false
					for k := j + 1; k < n; k++ {
						if s[k] == s[j] && s[j]&0xF0 != 0x40 {
							dup = true
						}
					}
					switch {
					case s[j] == 0x26 || s[j] == 0x2E || s[j] == 0x36 || s[j] == 0x3E || s[j] == 0x64 || s[j] == 0x65, dup:
						copy(s[j:], s[j+1:n])
						n--
						d--
						traded = true
					}
				}
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

// describe renders the fields of in as key=value pairs for table tests.
func describe(in *Inst) map[string]string {
	regName := func(r uint8) string {
		switch r {
		case NoReg:
			return "-"
		case RegRIP:
			return "rip"
		}
		return [...]string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}[r&15]
	}
	return map[string]string{
		"len":    fmt.Sprint(in.Len),
		"op":     fmt.Sprintf("%03x", in.Op),
		"osz":    fmt.Sprint(in.OpSize),
		"asz":    fmt.Sprint(in.AddrSize),
		"seg":    [...]string{"es", "cs", "ss", "ds", "fs", "gs", "?", "?"}[in.Seg&7],
		"pfx":    fmt.Sprintf("%#x", in.Prefixes),
		"rex":    fmt.Sprintf("%#x", in.Rex),
		"modrm":  fmt.Sprint(in.HasModRM),
		"mod":    fmt.Sprint(in.Mod),
		"reg":    fmt.Sprint(in.Reg),
		"rm":     fmt.Sprint(in.RM),
		"base":   regName(in.Base),
		"index":  regName(in.Index),
		"scale":  fmt.Sprint(in.Scale),
		"disp":   fmt.Sprint(in.Disp),
		"imm":    fmt.Sprintf("%#x", in.Imm),
		"imm2":   fmt.Sprintf("%#x", in.Imm2),
		"immsz":  fmt.Sprint(in.ImmSize),
		"hasfn":  fmt.Sprint(in.fn != nil),
		"modrmb": fmt.Sprintf("%#x", in.ModRM),
	}
}

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	for _, f := range strings.Fields(s) {
		var v byte
		if _, err := fmt.Sscanf(f, "%02x", &v); err != nil || len(f) != 2 {
			t.Fatalf("bad hex %q", f)
		}
		b = append(b, v)
	}
	return b
}

var decodeCases = []struct {
	mode Mode
	hex  string
	err  error
	want string // key=value pairs checked against describe
}{
	// 16-bit addressing forms (SDM Vol. 2A Table 2-1).
	{Mode16, "8b 00", nil, "len=2 op=08b osz=2 asz=2 base=bx index=si scale=0 seg=ds mod=0 reg=0 rm=0"},
	{Mode16, "8b 42 fe", nil, "len=3 base=bp index=si seg=ss disp=-2 mod=1 rm=2"},
	{Mode16, "8b 4b 7f", nil, "len=3 base=bp index=di seg=ss disp=127 reg=1"},
	{Mode16, "8b 46 10", nil, "len=3 base=bp index=- seg=ss disp=16"},
	{Mode16, "8b 06 34 12", nil, "len=4 base=- index=- seg=ds disp=4660"},
	{Mode16, "8b 87 00 80", nil, "len=4 base=bx index=- disp=-32768"},
	{Mode16, "8b 84 ff ff", nil, "len=4 base=si disp=-1"},
	{Mode16, "26 8b 46 10", nil, "len=4 base=bp seg=es pfx=0x20"},
	{Mode16, "3e 8b 02", nil, "len=3 base=bp index=si seg=ds"},
	{Mode16, "67 8b 04 24", nil, "len=4 asz=4 base=sp index=- seg=ss"},
	{Mode16, "67 8b 05 78 56 34 12", nil, "len=7 asz=4 base=- disp=305419896"},
	{Mode16, "89 c8", nil, "len=2 mod=3 reg=1 rm=0 base=- index=-"},
	{Mode16, "66 b8 78 56 34 12", nil, "len=6 osz=4 imm=0x12345678 immsz=4"},
	{Mode16, "b8 34 12", nil, "len=3 osz=2 imm=0x1234 immsz=2"},
	{Mode16, "e8 34 12", nil, "len=3 osz=2 immsz=2"},
	{Mode16, "66 e8 78 56 34 12", nil, "len=6 osz=4 immsz=4"},
	{Mode16, "ea 00 10 00 f0", nil, "len=5 imm=0x1000 imm2=0xf000 immsz=2"},
	{Mode16, "66 ea 78 56 34 12 00 f0", nil, "len=8 imm=0x12345678 imm2=0xf000 immsz=4"},
	{Mode16, "a1 34 12", nil, "len=3 imm=0x1234 immsz=2 modrm=false"},
	{Mode16, "67 a1 78 56 34 12", nil, "len=6 asz=4 imm=0x12345678 immsz=4"},
	{Mode16, "c8 10 00 01", nil, "len=4 imm=0x10 imm2=0x1 immsz=2"},
	{Mode16, "f6 c0 01", nil, "len=3 immsz=1 imm=0x1"},
	{Mode16, "f7 c8 34 12", nil, "len=4 immsz=2 reg=1"},
	{Mode16, "f7 d0", nil, "len=2 immsz=0"},
	{Mode16, "f6 46 02 80", nil, "len=4 base=bp seg=ss disp=2 imm=0x80"},
	{Mode16, "0f 20 00", nil, "len=3 op=120 osz=4 mod=3 modrmb=0x0"},
	{Mode16, "c4 00", nil, "len=2 op=0c4 base=bx index=si"},
	{Mode16, "c4 c0", ErrInvalid, "len=1 op=0c4"},
	{Mode16, "d6", nil, "len=1 op=0d6"},
	{Mode16, "0f 00 f0", nil, "len=3 op=100 mod=3 reg=6"},
	{Mode16, "f3 a4", nil, "len=2 op=0a4 pfx=0x2"},
	{Mode16, "f3 f2 a6", nil, "len=3 op=0a6 pfx=0x4"},
	{Mode16, "f2 f3 66 0f 10 c1", nil, "len=6 op=110 pfx=0xa osz=4"},

	// 32-bit forms (Tables 2-2, 2-3).
	{Mode32, "8b 04 25 78 56 34 12", nil, "len=7 asz=4 osz=4 base=- index=- disp=305419896 seg=ds"},
	{Mode32, "8b 05 78 56 34 12", nil, "len=6 base=- index=- disp=305419896"},
	{Mode32, "8b 44 8d 08", nil, "len=4 base=bp index=cx scale=2 disp=8 seg=ss"},
	{Mode32, "8b 04 8d 00 00 00 00", nil, "len=7 base=- index=cx scale=2 seg=ds"},
	{Mode32, "8b 04 e5 00 00 00 00", nil, "len=7 base=- index=- scale=3 seg=ds"},
	{Mode32, "8b 44 24 04", nil, "len=4 base=sp index=- seg=ss disp=4"},
	{Mode32, "8b 45 00", nil, "len=3 base=bp seg=ss"},
	{Mode32, "8b 80 00 00 00 80", nil, "len=6 base=ax disp=-2147483648"},
	{Mode32, "67 8b 46 10", nil, "len=4 asz=2 base=bp seg=ss disp=16"},
	{Mode32, "66 68 34 12", nil, "len=4 osz=2 immsz=2"},
	{Mode32, "68 78 56 34 12", nil, "len=5 osz=4 immsz=4"},
	{Mode32, "6a ff", nil, "len=2 imm=0xff"},
	{Mode32, "a1 78 56 34 12", nil, "len=5 imm=0x12345678"},
	{Mode32, "67 a1 34 12", nil, "len=4 asz=2 imm=0x1234"},
	{Mode32, "64 8b 45 00", nil, "len=4 seg=fs pfx=0x20"},
	{Mode32, "26 64 8b 00", nil, "seg=fs"},
	{Mode32, "64 26 8b 04 24", nil, "seg=es"},
	{Mode32, "c4 c0", ErrInvalid, "len=1"},
	{Mode32, "62 c0", ErrInvalid, "len=1"},
	{Mode32, "62 00", nil, "len=2 op=062"},
	{Mode32, "48", nil, "len=1 op=048 pfx=0x0"},
	{Mode32, "0f 22 18", nil, "len=3 osz=4 mod=3 reg=3 rm=0"},
	{Mode32, "f0 0f 20 c0", nil, "len=4 pfx=0x1"},
	{Mode32, "9a 78 56 34 12 08 00", nil, "len=7 imm=0x12345678 imm2=0x8"},
	{Mode32, "0f 0f c0 b4", ErrInvalid, "len=2 op=10f"},
	{Mode32, "0f 38 00 c1", nil, "len=4 op=200"},
	{Mode32, "0f 38 ff c1", ErrInvalid, "len=3 op=2ff"},
	{Mode32, "66 0f 3a 0f c1 08", nil, "len=6 op=30f imm=0x8 immsz=1"},
	{Mode32, "0f ba e0 03", nil, "len=4 op=1ba imm=0x3"},
	{Mode32, "0f 84 00 00 00 00", nil, "len=6 osz=4"},
	{Mode32, "66 0f 84 00 00", nil, "len=5 osz=2"},
	{Mode32, "d8 c1", nil, "len=2 op=0d8 mod=3"},
	{Mode32, "dd 05 00 00 00 00", nil, "len=6 op=0dd"},

	// 64-bit mode.
	{Mode64, "48 b8 88 77 66 55 44 33 22 11", nil, "len=10 osz=8 asz=8 imm=0x1122334455667788 immsz=8 rex=0x48 pfx=0x40"},
	{Mode64, "b8 78 56 34 12", nil, "len=5 osz=4 immsz=4"},
	{Mode64, "66 48 b8 88 77 66 55 44 33 22 11", nil, "len=11 osz=8 immsz=8"},
	{Mode64, "48 66 b8 34 12", nil, "len=5 osz=2 rex=0x0 pfx=0x8"},
	{Mode64, "40 48 8b 00", nil, "len=4 rex=0x48 osz=8"},
	{Mode64, "48 c7 c0 78 56 34 12", nil, "len=7 osz=8 immsz=4"},
	{Mode64, "8b 05 78 56 34 12", nil, "len=6 base=rip index=- disp=305419896 seg=ds"},
	{Mode64, "41 8b 05 78 56 34 12", nil, "len=7 base=rip"},
	{Mode64, "67 8b 05 78 56 34 12", nil, "len=7 asz=4 base=rip"},
	{Mode64, "8b 04 25 78 56 34 12", nil, "len=7 base=- index=-"},
	{Mode64, "41 8b 04 25 00 00 00 00", nil, "len=8 base=- index=-"},
	{Mode64, "42 8b 04 25 00 00 00 00", nil, "len=8 base=- index=r12"},
	{Mode64, "41 8b 45 00", nil, "len=4 base=r13 seg=ds rm=13"},
	{Mode64, "41 8b 04 24", nil, "len=4 base=r12 index=- seg=ds"},
	{Mode64, "8b 04 24", nil, "len=3 base=sp seg=ss"},
	{Mode64, "4c 8b 44 ad 00", nil, "len=5 reg=8 base=bp index=bp scale=2 seg=ss"},
	{Mode64, "4f 8b 44 ad 00", nil, "len=5 reg=8 base=r13 index=r13 seg=ds"},
	{Mode64, "2e 8b 04 24", nil, "seg=ss pfx=0x0"},
	{Mode64, "64 2e 8b 00", nil, "seg=fs pfx=0x20"},
	{Mode64, "65 8b 00", nil, "seg=gs"},
	{Mode64, "a1 88 77 66 55 44 33 22 11", nil, "len=9 imm=0x1122334455667788 immsz=8"},
	{Mode64, "67 a1 78 56 34 12", nil, "len=6 asz=4 imm=0x12345678"},
	{Mode64, "66 e8 78 56 34 12", nil, "len=6 osz=8 immsz=4"},
	{Mode64, "66 eb 00", nil, "len=3 osz=8"},
	{Mode64, "66 0f 84 78 56 34 12", nil, "len=7 osz=8"},
	{Mode64, "66 c3", nil, "len=2 osz=8"},
	{Mode64, "66 e2 fe", nil, "len=3 osz=8"},
	{Mode64, "50", nil, "len=1 osz=8"},
	{Mode64, "66 50", nil, "len=2 osz=2"},
	{Mode64, "66 48 50", nil, "len=3 osz=8"},
	{Mode64, "66 68 34 12", nil, "len=4 osz=2 immsz=2"},
	{Mode64, "68 78 56 34 12", nil, "len=5 osz=8 immsz=4"},
	{Mode64, "0f a0", nil, "len=2 osz=8"},
	{Mode64, "c8 10 00 00", nil, "len=4 osz=8"},
	{Mode64, "ff d0", nil, "len=2 osz=8 reg=2"},
	{Mode64, "66 ff d0", nil, "len=3 osz=8"},
	{Mode64, "ff 30", nil, "len=2 osz=8"},
	{Mode64, "66 ff 30", nil, "len=3 osz=2"},
	{Mode64, "ff 00", nil, "len=2 osz=4"},
	{Mode64, "8f c0", nil, "len=2 osz=8"},
	{Mode64, "8f c8", ErrInvalid, "len=1"},
	{Mode64, "0f 20 c0", nil, "len=3 osz=8"},
	{Mode64, "66 0f 22 18", nil, "len=4 osz=8 mod=3"},
	{Mode64, "44 0f 20 c0", nil, "reg=8"},
	{Mode64, "63 c0", nil, "len=2 op=063"},
	{Mode64, "c7 f8 78 56 34 12", nil, "len=6 op=0c7"},
	{Mode64, "c7 c8 00 00 00 00", ErrInvalid, "len=1"},
	{Mode64, "c6 f8 01", nil, "len=3"},
	{Mode64, "f3 0f b8 c0", nil, "len=4 op=1b8"},
	{Mode64, "0f b8 c0", ErrInvalid, "len=2"},
	{Mode64, "40 0f b6 c4", nil, "rex=0x40 pfx=0x40 rm=4"},
	{Mode64, "0f 05", nil, "len=2"},
	{Mode64, "f3 48 0f b8 c0", nil, "len=5 osz=8"},
	{Mode64, "d4 0a", ErrInvalid, "len=1 op=0d4"},
	{Mode64, "06", ErrInvalid, "len=1 op=006"},
	{Mode64, "c5 f8 77", ErrInvalid, "len=1"},
	{Mode64, "62 f1 7c 48 10 00", ErrInvalid, "len=1"},
	{Mode64, "9a 00 00 00 00 00 00", ErrInvalid, "len=1"},
	{Mode64, "66 f2 0f 38 f1 c0", nil, "len=6 osz=2 pfx=0xc"},

	// 15-byte limit (SDM Vol. 2A 2.3.11).
	{Mode64, "2e 2e 2e 48 81 84 88 78 56 34 12 78 56 34 12", nil, "len=15 osz=8 immsz=4 index=cx scale=2 base=ax"},
	{Mode64, "2e 2e 2e 2e 48 81 84 88 78 56 34 12 78 56 34 12", ErrTooLong, ""},
	{Mode32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", nil, "len=15 op=090"},
	{Mode32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", ErrTooLong, "len=15"},
	{Mode32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", ErrTooLong, "len=15"},
	{Mode16, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 0f", ErrTooLong, ""},
	{Mode16, "66 66 66 66 66 66 66 66 66 66 66 66 66 0f", ErrTruncated, ""},
	{Mode64, "f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 48 b8 00", ErrTooLong, ""},
	{Mode64, "", ErrTruncated, "len=0"},
}

func TestDecodeCases(t *testing.T) {
	for _, c := range decodeCases {
		b := hexBytes(t, c.hex)
		var in Inst
		in.fn = func(*CPU, *Inst) {} // Decode must reset it
		err := Decode(b, c.mode, &in)
		name := fmt.Sprintf("mode%d[%s]", modeBits(c.mode), c.hex)
		if err != c.err {
			t.Errorf("%s: err %v, want %v", name, err, c.err)
			continue
		}
		got := describe(&in)
		if got["hasfn"] != "false" {
			t.Errorf("%s: fn not reset", name)
		}
		for _, kv := range strings.Fields(c.want) {
			k, v, _ := strings.Cut(kv, "=")
			if g, ok := got[k]; !ok {
				t.Fatalf("%s: unknown key %q", name, k)
			} else if g != v {
				t.Errorf("%s: %s=%s, want %s", name, k, g, v)
			}
		}
		// Every strict prefix of a decodable instruction is truncated.
		if err == nil {
			for i := 0; i < int(in.Len); i++ {
				var in2 Inst
				if err := Decode(b[:i], c.mode, &in2); err != ErrTruncated {
					t.Errorf("%s: first %d bytes: %v, want ErrTruncated", name, i, err)
				}
			}
		}
	}
}

// TestDecodeTruncation checks on random instructions that every shorter
// buffer gives ErrTruncated and that bytes past Len do not matter.
func TestDecodeTruncation(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, mode := range []Mode{Mode16, Mode32, Mode64} {
		r := rand.New(rand.NewPCG(7, uint64(mode)))
		var buf [16]byte
		for i := 0; i < n; i++ {
			genInst(r, mode, buf[:])
			var in, in2 Inst
			err := Decode(buf[:], mode, &in)
			if err != nil {
				continue
			}
			if err := Decode(buf[:in.Len], mode, &in2); err != nil || describeEq(&in, &in2) != "" {
				t.Fatalf("mode %d % x: exact-length decode differs: %v %s", modeBits(mode), buf[:in.Len], err, describeEq(&in, &in2))
			}
			for j := 0; j < int(in.Len); j++ {
				if err := Decode(buf[:j], mode, &in2); err != ErrTruncated {
					t.Fatalf("mode %d % x: %d bytes: %v, want ErrTruncated", modeBits(mode), buf[:in.Len], j, err)
				}
			}
		}
	}
}

func describeEq(a, b *Inst) string {
	da, db := describe(a), describe(b)
	for k, v := range da {
		if db[k] != v {
			return k + ": " + v + " vs " + db[k]
		}
	}
	return ""
}
