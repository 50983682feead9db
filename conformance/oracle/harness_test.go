//go:build linux && amd64

package oracle

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Form is one instruction form under test: Gen writes the instruction
// bytes for a random case and may adjust the initial state (operands
// that would fault, memory values of the right type).
type Form struct {
	Name   string
	Family string
	Need   string // host feature the form needs ("" = baseline x86-64)
	Gen    func(g *Gen, st *State) []byte
	// Flags returns the RFLAGS bits to compare (the ones the manual
	// defines for this case); nil means the six arithmetic flags.
	Flags func(st *State, inst []byte) uint64
	// FSW is the mask of status-word bits compared (0 = all).
	FSW uint16
	// ULP allows x87 register results within one unit in the last place
	// (transcendentals), with C1 and PE then not compared.
	ULP bool
	// SkipData excludes the data pages (forms that store undefined bytes).
	SkipData bool
}

const arithFlags = 0x8d5 // CF PF AF ZF SF OF

// Gen is the random source of one run with helpers for operands.
type Gen struct {
	R *rand.Rand
	// Mem is set by ModRM helpers when the form has a memory operand:
	// the offset of the operand within the data pages.
	Mem int
}

// caseCount is the number of random cases per form: 1000 by default,
// FUJI_ORACLE_CASES to change (make conformance uses 100000).
func caseCount() int {
	if s := os.Getenv("FUJI_ORACLE_CASES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 1000
}

var (
	nativeOnce sync.Once
	nativeInst *Native
	nativeErr  error
)

func getNative(t *testing.T) *Native {
	nativeOnce.Do(func() { nativeInst, nativeErr = NewNative() })
	if nativeErr != nil {
		t.Skipf("native execution unavailable: %v", nativeErr)
	}
	return nativeInst
}

// randomState fills the initial state: random GPRs, arithmetic flags,
// data, and a random but valid x87/SSE state with no exception pending
// (an unmasked pending exception would fault natively).
func (g *Gen) randomState(st *State) {
	r := g.R
	for i := range st.GPR {
		st.GPR[i] = g.U64()
	}
	st.Flags = 0x202 | uint64(r.Intn(1<<12))&arithFlags
	r.Read(st.Data[:])
	fx := st.FX[:]
	for i := range fx {
		fx[i] = 0
	}
	masks := uint16(0x3f)
	if r.Intn(4) == 0 {
		masks = uint16(r.Intn(64))
	}
	pc := uint16(3)
	switch r.Intn(6) {
	case 0:
		pc = 0
	case 1:
		pc = 2
	case 2:
		pc = uint16(r.Intn(4))
	}
	fcw := 0x40 | masks | pc<<8 | uint16(r.Intn(4))<<10
	top := uint16(r.Intn(8))
	fsw := top<<11 | uint16(r.Intn(16))<<8&0x700 | uint16(r.Intn(2))<<14
	fsw |= uint16(r.Intn(64)) & masks
	le := binary.LittleEndian
	le.PutUint16(fx[0:], fcw)
	le.PutUint16(fx[2:], fsw)
	var ftw uint8
	for i := 0; i < 8; i++ {
		if r.Intn(4) != 0 {
			ftw |= 1 << i
		}
	}
	fx[4] = ftw
	for i := 0; i < 8; i++ {
		m, se := g.F80()
		le.PutUint64(fx[32+16*i:], m)
		le.PutUint16(fx[40+16*i:], se)
	}
	mx := uint32(0x1f80) | uint32(r.Intn(64))
	mx |= uint32(r.Intn(4)) << 13
	if r.Intn(4) == 0 {
		mx |= 1 << 6
	}
	if r.Intn(4) == 0 {
		mx |= 1 << 15
	}
	le.PutUint32(fx[24:], mx)
	for i := 0; i < 16; i++ {
		le.PutUint64(fx[160+16*i:], g.VecLane())
		le.PutUint64(fx[168+16*i:], g.VecLane())
	}
}

// U64 returns a random 64-bit value biased towards edge cases.
func (g *Gen) U64() uint64 {
	r := g.R
	switch r.Intn(8) {
	case 0:
		return uint64(r.Intn(5)) - 2
	case 1:
		return uint64(1) << r.Intn(64) * uint64(1+r.Intn(2))
	case 2:
		return uint64(r.Intn(0x200))
	case 3:
		v := r.Uint64()
		for i := 0; i < 4; i++ {
			sh := 8 * r.Intn(8)
			v ^= 0x80 << sh
		}
		return v
	}
	return r.Uint64()
}

// F80 returns a random extended value (significand, sign+exponent) from
// all classes: normals, denormals, zeros, infinities, NaNs, unsupported.
func (g *Gen) F80() (uint64, uint16) {
	r := g.R
	s := uint16(r.Intn(2)) << 15
	switch r.Intn(24) {
	case 0:
		return 0, s
	case 1:
		return 1 << 63, s | 0x7fff
	case 2:
		return 0xc000000000000000 | r.Uint64()>>2, s | 0x7fff // QNaN
	case 3:
		return 0x8000000000000000 | r.Uint64()>>2 | 1, s | 0x7fff // SNaN
	case 4:
		return r.Uint64() >> uint(1+r.Intn(63)), s // denormal
	case 5:
		return 1<<63 | r.Uint64(), s // pseudo-denormal
	case 6:
		return r.Uint64() >> 1, s | uint16(1+r.Intn(0x7ffe)) // unnormal
	case 7:
		return 1<<63 | r.Uint64(), s | uint16(1+r.Intn(0x7ffe)) // any exponent
	case 8:
		return 1<<63 | r.Uint64(), s | uint16(1+r.Intn(3)) // near the bottom
	case 9:
		return 1<<63 | r.Uint64(), s | uint16(0x7ffe-r.Intn(3))
	case 10: // small integers
		v := uint64(r.Intn(100) + 1)
		n := 0
		for v<<n>>63 == 0 {
			n++
		}
		return v << n, s | uint16(16383+63-n)
	case 11: // few significant bits (exact results, ties)
		return 1<<63 | uint64(r.Intn(16))<<(59-r.Intn(48)), s | uint16(16383-8+r.Intn(16))
	case 12:
		return ^uint64(0) << r.Intn(45), s | uint16(16383-8+r.Intn(16))
	}
	return 1<<63 | r.Uint64(), s | uint16(16383-70+r.Intn(140))
}

// VecLane returns 64 bits for an XMM lane: packed floats of all
// classes, integers, or random bits.
func (g *Gen) VecLane() uint64 {
	r := g.R
	switch r.Intn(4) {
	case 0:
		return uint64(g.F32()) | uint64(g.F32())<<32
	case 1:
		return g.F64()
	case 2:
		return g.U64()
	}
	return r.Uint64()
}

// F32 returns a float32 bit pattern from all classes.
func (g *Gen) F32() uint32 {
	r := g.R
	s := uint32(r.Intn(2)) << 31
	switch r.Intn(14) {
	case 0:
		return s
	case 1:
		return s | 0x7f800000
	case 2:
		return s | 0x7fc00000 | uint32(r.Intn(1<<22))
	case 3:
		return s | 0x7f800000 | uint32(1+r.Intn(1<<22-1))
	case 4:
		return s | uint32(1+r.Intn(1<<23-1))
	case 5:
		return s | uint32(1+r.Intn(4))<<23 | uint32(r.Intn(1<<23))
	case 6:
		return s | uint32(250+r.Intn(4))<<23 | uint32(r.Intn(1<<23))
	case 7:
		return s | uint32(120+r.Intn(14))<<23 | uint32(r.Intn(16))<<19
	}
	return s | uint32(100+r.Intn(56))<<23 | uint32(r.Intn(1<<23))
}

// F64 returns a float64 bit pattern from all classes.
func (g *Gen) F64() uint64 {
	r := g.R
	s := uint64(r.Intn(2)) << 63
	switch r.Intn(14) {
	case 0:
		return s
	case 1:
		return s | 0x7ff0000000000000
	case 2:
		return s | 0x7ff8000000000000 | r.Uint64()>>13
	case 3:
		return s | 0x7ff0000000000000 | (r.Uint64()>>13 | 1)
	case 4:
		return s | r.Uint64()>>12>>uint(r.Intn(50))
	case 5:
		return s | uint64(1+r.Intn(4))<<52 | r.Uint64()>>12
	case 6:
		return s | uint64(2040+r.Intn(7))<<52 | r.Uint64()>>12
	case 7:
		return s | uint64(1015+r.Intn(16))<<52 | uint64(r.Intn(16))<<48
	}
	return s | uint64(900+r.Intn(250))<<52 | r.Uint64()>>12
}

// ModRM returns a ModRM (and SIB/disp) for an operand with register
// field reg: a register operand (rm random, never RSP when avoidSP) or
// [base+disp8] with base set up to point into the data pages, aligned
// to align bytes.
func (g *Gen) ModRM(st *State, reg byte, mem bool, align int, rex *byte) []byte {
	r := g.R
	if !mem {
		nr := 16
		if rex == nil {
			nr = 8
		}
		rm := byte(r.Intn(nr))
		for rm == 4 {
			rm = byte(r.Intn(nr))
		}
		if rex != nil {
			*rex |= rm >> 3
			*rex |= (reg >> 3) << 2
		}
		return []byte{0xc0 | (reg&7)<<3 | rm&7}
	}
	bases := []byte{0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 14, 15}
	if rex == nil {
		bases = bases[:6] // no REX.B available
	}
	base := bases[r.Intn(len(bases))]
	if rex != nil {
		*rex |= base >> 3
		*rex |= (reg >> 3) << 2
	}
	off := 0x400 + r.Intn(0x800)
	if align > 1 {
		off &^= align - 1
	}
	disp := r.Intn(64) - 32
	if align > 1 {
		disp &^= align - 1
	}
	st.GPR[base] = uint64(DataAddr + off - disp)
	g.Mem = off
	return []byte{0x40 | (reg&7)<<3 | base&7, byte(int8(disp))}
}

// PutMem stores v (n bytes) at the memory operand.
func (g *Gen) PutMem(st *State, n int, v uint64) {
	for i := 0; i < n; i++ {
		st.Data[g.Mem+i] = byte(v >> (8 * i))
	}
}

// result of one family run.
type famCount struct{ forms, cases, skipped int }

// runForms runs every form with caseCount random cases and reports
// mismatches; it returns per-family counts.
func runForms(t *testing.T, forms []Form) map[string]*famCount {
	return runFormsWith(t, forms, NewFuji, caseCount())
}

// runFormsWith is runForms with a given Fuji and case count.
func runFormsWith(t *testing.T, forms []Form, newFuji func() (*Fuji, error), cases int) map[string]*famCount {
	n := getNative(t)
	f, err := newFuji()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]*famCount{}
	feats := hostFeatures()
	for fi := range forms {
		fm := &forms[fi]
		if sel := os.Getenv("FUJI_ORACLE_FORM"); sel != "" && !strings.Contains(fm.Name, sel) {
			continue
		}
		if os.Getenv("FUJI_ORACLE_TRACE") != "" {
			println("form", fm.Name)
		}
		fc := counts[fm.Family]
		if fc == nil {
			fc = &famCount{}
			counts[fm.Family] = fc
		}
		if fm.Need != "" && !feats[fm.Need] {
			t.Logf("skipping %s: host lacks %s", fm.Name, fm.Need)
			fc.skipped++
			continue
		}
		fc.forms++
		g := &Gen{R: rand.New(rand.NewSource(int64(fi)*7919 + 1))}
		fails := 0
		for k := 0; k < cases; k++ {
			var init State
			g.randomState(&init)
			g.Mem = -1
			inst := fm.Gen(g, &init)
			nat, fuj := init, init
			n.Run(&nat, inst)
			if err := f.Run(&fuj, inst); err != nil {
				t.Errorf("%s: % x: %v\ninitial: %s%s", fm.Name, inst, err, dumpState(&init, fm.Family != "x87"), g.memDump(&init))
				fails++
			} else if d := compare(fm, &init, &nat, &fuj, inst); d != "" {
				t.Errorf("%s: % x: %s\ninitial: %s%s", fm.Name, inst, d, dumpState(&init, fm.Family != "x87"), g.memDump(&init))
				fails++
			}
			fc.cases++
			if fails >= 3 {
				break
			}
		}
	}
	if f.Compiler != nil {
		// A block the assembler rejects stays interpreted: the JIT
		// would not have been tested.
		if s := f.Compiler.Stats(); s.Failed != 0 {
			t.Errorf("the JIT's compiler gave up on %d of %d blocks", s.Failed, s.Compiled+s.Failed)
		}
	}
	return counts
}

func logCounts(t *testing.T, counts map[string]*famCount) {
	var fams []string
	for k := range counts {
		fams = append(fams, k)
	}
	sort.Strings(fams)
	total := 0
	for _, k := range fams {
		c := counts[k]
		t.Logf("family %-10s forms %4d cases %8d skipped-forms %d", k, c.forms, c.cases, c.skipped)
		total += c.cases
	}
	t.Logf("total cases %d", total)
}

func (g *Gen) memDump(st *State) string {
	if g.Mem < 0 {
		return ""
	}
	return fmt.Sprintf("\n  mem[%#x]: % x", g.Mem, st.Data[g.Mem:g.Mem+16])
}

func dumpState(st *State, xmm bool) string {
	le := binary.LittleEndian
	s := fmt.Sprintf("flags=%#x", st.Flags)
	for i, v := range st.GPR {
		s += fmt.Sprintf(" r%d=%#x", i, v)
	}
	fx := st.FX[:]
	s += fmt.Sprintf("\n  fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x", le.Uint16(fx[0:]), le.Uint16(fx[2:]), fx[4], le.Uint32(fx[24:]))
	for i := 0; i < 8; i++ {
		s += fmt.Sprintf(" st%d=%04x:%016x", i, le.Uint16(fx[40+16*i:]), le.Uint64(fx[32+16*i:]))
	}
	for i := 0; i < 16 && xmm; i++ {
		s += fmt.Sprintf("\n  xmm%d=%016x:%016x", i, le.Uint64(fx[168+16*i:]), le.Uint64(fx[160+16*i:]))
	}
	return s
}

// compare returns a description of the differences, or "".
func compare(fm *Form, init, a, b *State, inst []byte) string {
	le := binary.LittleEndian
	var d string
	for i := range a.GPR {
		if i != 4 && a.GPR[i] != b.GPR[i] {
			d += fmt.Sprintf(" r%d native %#x fuji %#x;", i, a.GPR[i], b.GPR[i])
		}
	}
	fm2 := uint64(arithFlags | 0x400)
	if fm.Flags != nil {
		fm2 = fm.Flags(init, inst)
	}
	if (a.Flags^b.Flags)&fm2 != 0 {
		d += fmt.Sprintf(" flags native %#x fuji %#x (mask %#x);", a.Flags, b.Flags, fm2)
	}
	fa, fb := a.FX[:], b.FX[:]
	fswMask := fm.FSW
	if fswMask == 0 {
		fswMask = 0xffff
	}
	ulpOK := true
	for i := 0; i < 8; i++ {
		ma, mb := le.Uint64(fa[32+16*i:]), le.Uint64(fb[32+16*i:])
		ea, eb := le.Uint16(fa[40+16*i:]), le.Uint16(fb[40+16*i:])
		if ma == mb && ea == eb {
			continue
		}
		if fm.ULP && ea == eb && (ma-mb == 1 || mb-ma == 1) {
			ulpOK = false
			continue
		}
		d += fmt.Sprintf(" st%d native %04x:%016x fuji %04x:%016x;", i, ea, ma, eb, mb)
	}
	if !ulpOK {
		fswMask &^= 1<<9 | 1<<5
	}
	if x, y := le.Uint16(fa[0:]), le.Uint16(fb[0:]); x != y {
		d += fmt.Sprintf(" fcw native %04x fuji %04x;", x, y)
	}
	if x, y := le.Uint16(fa[2:]), le.Uint16(fb[2:]); (x^y)&fswMask != 0 {
		d += fmt.Sprintf(" fsw native %04x fuji %04x (mask %04x);", x, y, fswMask)
	}
	if fa[4] != fb[4] {
		d += fmt.Sprintf(" ftw native %02x fuji %02x;", fa[4], fb[4])
	}
	if x, y := le.Uint32(fa[24:]), le.Uint32(fb[24:]); x != y {
		d += fmt.Sprintf(" mxcsr native %08x fuji %08x;", x, y)
	}
	for i := 0; i < 16; i++ {
		x0, y0 := le.Uint64(fa[160+16*i:]), le.Uint64(fb[160+16*i:])
		x1, y1 := le.Uint64(fa[168+16*i:]), le.Uint64(fb[168+16*i:])
		if x0 != y0 || x1 != y1 {
			d += fmt.Sprintf(" xmm%d native %016x:%016x fuji %016x:%016x;", i, x1, x0, y1, y0)
		}
	}
	if !fm.SkipData {
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				d += fmt.Sprintf(" data[%#x] native %02x fuji %02x;", i, a.Data[i], b.Data[i])
				break
			}
		}
	}
	return d
}
