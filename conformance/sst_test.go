package conformance

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"fuji/cpu"
	"fuji/jit"
	"fuji/mem"
)

// The SingleStepTests 80286 real-mode suite: each test sets registers and
// memory, runs one instruction followed by the HLT the suite placed after
// it (or at the branch target, or at the exception handler), and compares
// registers, flags (masked as the suite's metadata says) and memory.

// sstDir locates ../shared/conformance/sst-80286 from this package.
func sstDir(t testing.TB) string {
	if d := os.Getenv("FUJI_SHARED"); d != "" {
		return filepath.Join(d, "conformance", "sst-80286")
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "shared", "conformance", "sst-80286"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "metadata.json")); err != nil {
		t.Fatalf("SingleStepTests data not found (want ../shared beside the repo, or FUJI_SHARED): %v", err)
	}
	return d
}

type sstRegs struct {
	AX, BX, CX, DX, CS, SS, DS, ES, SP, BP, SI, DI, IP, Flags *uint16
}

type sstState struct {
	Regs sstRegs    `json:"regs"`
	RAM  [][2]int64 `json:"ram"`
}

type sstTest struct {
	Idx     int      `json:"idx"`
	Name    string   `json:"name"`
	Bytes   []byte   `json:"-"`
	RawB    []int    `json:"bytes"`
	Initial sstState `json:"initial"`
	Final   sstState `json:"final"`
	Hash    string   `json:"hash"`
}

type sstMetaEntry struct {
	Status    string                  `json:"status"`
	FlagsMask *uint16                 `json:"flags-mask"`
	Reg       map[string]sstMetaEntry `json:"reg"`
}

type sstRules struct {
	forms map[string]string // excluded form → reason
	rules map[string]string // comparison rule → reason
}

func loadRules(t testing.TB) sstRules {
	f, err := os.Open(filepath.Join("testdata", "sst80286-exclusions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := sstRules{forms: map[string]string{}, rules: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		head, reason, ok := strings.Cut(line, ":")
		fields := strings.Fields(head)
		if !ok || len(fields) != 2 || strings.TrimSpace(reason) == "" {
			t.Fatalf("bad exclusion line (want KIND NAME: REASON): %q", line)
		}
		switch fields[0] {
		case "form":
			r.forms[fields[1]] = reason
		case "rule":
			switch fields[1] {
			case "flags-12-15", "lock-invalid", "ss-overrun-vector", "string-fault-precise", "length-limit", "no-fs-gs", "pop-mem-fault":
			default:
				t.Fatalf("unknown comparison rule %q", fields[1])
			}
			r.rules[fields[1]] = reason
		default:
			t.Fatalf("unknown exclusion kind %q", fields[0])
		}
	}
	return r
}

// sstHarness is one CPU and 16 MiB of memory reused across tests.
type sstHarness struct {
	bus   *mem.Bus
	c     *cpu.CPU
	rules sstRules
	// placed lists the addresses the current test's initial state set.
	placed []int64
	// setup holds the bytes the harness set before running the test.
	setup map[int64]byte
	// jit: the block JIT is attached and instructions run through Run,
	// each as a one-instruction block compiled on first sight.
	jit *jit.JIT
}

func newSSTHarness(t testing.TB, rules sstRules) *sstHarness {
	bus, err := mem.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cpu.New(bus, mem.NewPortBus(), cpu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	bus.StartDirtyLog()
	return &sstHarness{bus: bus, c: c, rules: rules}
}

// newSSTHarnessJIT is newSSTHarness with the block JIT attached: every
// instruction is a block of its own, compiled the first time it runs.
func newSSTHarnessJIT(t testing.TB, rules sstRules) *sstHarness {
	h := newSSTHarness(t, rules)
	j, err := jit.New(h.c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.c.SetAccelerator(nil)
		j.Close()
	})
	h.c.SetJITThreshold(1)
	h.c.SetMaxBlockInsts(1)
	h.jit = j
	return h
}

// step runs one instruction: Step for the interpreter, a one-instruction
// Run (which enters compiled code) with the JIT.
func (h *sstHarness) step() {
	if h.jit != nil {
		h.c.Run(1)
	} else {
		h.c.Step()
	}
}

func lockInvalid(b []byte) bool {
	// A LOCK prefix anywhere in the prefix run, on a form outside the
	// lockable list, is the case the rule covers. The CPU decides
	// lockability; here we only need to know LOCK is present.
	for _, x := range b {
		switch x {
		case 0xf0:
			return true
		case 0x26, 0x2e, 0x36, 0x3e, 0xf2, 0xf3:
			continue
		}
		return false
	}
	return false
}

// excludedTest reports whether a rule excludes the test from comparison.
func (h *sstHarness) excludedTest(tc *sstTest) bool {
	if h.rules.rules["length-limit"] != "" && len(tc.Bytes)-1 > 10 {
		return true // the suite's HLT follows the instruction
	}
	if h.rules.rules["no-fs-gs"] != "" {
		b := tc.Bytes
		for len(b) > 0 && isPrefix(b[0]) {
			b = b[1:]
		}
		if len(b) >= 2 && (b[0] == 0x8c || b[0] == 0x8e) && (b[1]>>3&7 == 4 || b[1]>>3&7 == 5) {
			return true
		}
	}
	if h.rules.rules["pop-mem-fault"] != "" && faulted286(tc, h.ivt13(tc)) {
		b := tc.Bytes
		for len(b) > 0 && isPrefix(b[0]) {
			b = b[1:]
		}
		if len(b) >= 2 && b[0] == 0x8f && b[1]>>6 != 3 {
			return true
		}
	}
	return false
}

// ivt13 returns a 52-byte view of the test's initial IVT (entries 0-12).
func (h *sstHarness) ivt13(tc *sstTest) []byte {
	ivt := make([]byte, 14*4)
	for _, e := range tc.Initial.RAM {
		if e[0] < int64(len(ivt)) {
			ivt[e[0]] = byte(e[1])
		}
	}
	return ivt
}

func isPrefix(b byte) bool {
	switch b {
	case 0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf2, 0xf3:
		return true
	}
	return false
}

// faulted286 reports whether the 286 took interrupt 13 in this test: its
// final CS:IP is IVT entry 13's target plus one (the HLT there).
func faulted286(tc *sstTest, ram []byte) bool {
	f := &tc.Final.Regs
	if f.CS == nil || f.IP == nil || f.SP == nil {
		return false
	}
	ip := uint16(ram[13*4]) | uint16(ram[13*4+1])<<8
	cs := uint16(ram[13*4+2]) | uint16(ram[13*4+3])<<8
	return *f.CS == cs && *f.IP == ip+1
}

func isStringOp(b []byte) bool {
	for len(b) > 0 && isPrefix(b[0]) {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case 0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf:
		return true
	}
	return false
}

// run executes one test and returns a description of the first mismatch,
// or "".
func (h *sstHarness) run(tc *sstTest, flagsMask uint16) string {
	c, bus := h.c, h.bus
	// Clean every page the previous test wrote, and the bytes it set up.
	for _, p := range bus.TakeDirty() {
		clear(bus.RAM()[p<<12 : (p+1)<<12])
	}
	for _, a := range h.placed {
		bus.RAM()[a] = 0
	}
	h.placed = h.placed[:0]
	c.Reset()
	in := &tc.Initial.Regs
	set := func(r int, v *uint16) { c.R[r] = uint64(*v) }
	set(cpu.RAX, in.AX)
	set(cpu.RBX, in.BX)
	set(cpu.RCX, in.CX)
	set(cpu.RDX, in.DX)
	set(cpu.RSP, in.SP)
	set(cpu.RBP, in.BP)
	set(cpu.RSI, in.SI)
	set(cpu.RDI, in.DI)
	c.SetSegReal(cpu.CS, *in.CS)
	c.SetSegReal(cpu.SS, *in.SS)
	c.SetSegReal(cpu.DS, *in.DS)
	c.SetSegReal(cpu.ES, *in.ES)
	c.RIP = uint64(*in.IP)
	c.SetFlags(uint64(*in.Flags))
	for _, e := range tc.Initial.RAM {
		bus.RAM()[e[0]] = byte(e[1])
		h.placed = append(h.placed, e[0])
	}
	c.FlushBlocks()
	fault13 := faulted286(tc, bus.RAM())
	if fault13 && h.rules.rules["ss-overrun-vector"] != "" && !h.definesVector(tc, 12) {
		copy(bus.RAM()[12*4:12*4+4], bus.RAM()[13*4:13*4+4])
		h.placed = append(h.placed, 48, 49, 50, 51)
	}
	h.setup = map[int64]byte{}
	for _, a := range h.placed {
		h.setup[a] = bus.RAM()[a]
	}
	precise := fault13 && h.rules.rules["string-fault-precise"] != "" && isStringOp(tc.Bytes)

	if h.rules.rules["lock-invalid"] != "" && lockInvalid(tc.Bytes) && c.WouldUD() {
		// Expect #UD: control at IVT[6] with the instruction's IP pushed.
		h.step()
		ivt := bus.RAM()[6*4 : 6*4+4]
		wantIP := uint64(ivt[0]) | uint64(ivt[1])<<8
		wantCS := uint16(ivt[2]) | uint16(ivt[3])<<8
		if c.Seg[cpu.CS].Sel != wantCS || c.RIP != wantIP {
			return fmt.Sprintf("LOCK on a non-lockable form: want #UD (CS:IP %04x:%04x), got %04x:%04x", wantCS, wantIP, c.Seg[cpu.CS].Sel, c.RIP)
		}
		return ""
	}

	h.step()
	if c.ShutdownReason != "" {
		return "shutdown: " + c.ShutdownReason
	}
	if !c.Halted {
		// The suite's HLT follows (or sits at the target).
		h.step()
		if !c.Halted {
			return fmt.Sprintf("did not reach the suite's HLT (CS:IP %04x:%04x)", c.Seg[cpu.CS].Sel, c.RIP)
		}
	}

	want := func(final, initial *uint16) uint16 {
		if final != nil {
			return *final
		}
		return *initial
	}
	fin := &tc.Final.Regs
	var diffs []string
	chk := func(name string, got uint64, f, i *uint16) {
		if w := want(f, i); uint16(got) != w {
			diffs = append(diffs, fmt.Sprintf("%s=%04x want %04x", name, uint16(got), w))
		}
	}
	chk("ax", c.R[cpu.RAX], fin.AX, in.AX)
	chk("bx", c.R[cpu.RBX], fin.BX, in.BX)
	if precise {
		fin.CX, fin.SI, fin.DI = nil, nil, nil
	}
	chk("cx", c.R[cpu.RCX], fin.CX, in.CX)
	chk("dx", c.R[cpu.RDX], fin.DX, in.DX)
	chk("sp", c.R[cpu.RSP], fin.SP, in.SP)
	chk("bp", c.R[cpu.RBP], fin.BP, in.BP)
	chk("si", c.R[cpu.RSI], fin.SI, in.SI)
	chk("di", c.R[cpu.RDI], fin.DI, in.DI)
	chk("cs", uint64(c.Seg[cpu.CS].Sel), fin.CS, in.CS)
	chk("ss", uint64(c.Seg[cpu.SS].Sel), fin.SS, in.SS)
	chk("ds", uint64(c.Seg[cpu.DS].Sel), fin.DS, in.DS)
	chk("es", uint64(c.Seg[cpu.ES].Sel), fin.ES, in.ES)
	chk("ip", c.RIP, fin.IP, in.IP)
	fm := flagsMask
	if h.rules.rules["flags-12-15"] != "" {
		fm &^= 0xf000
	}
	if g, w := uint16(c.Flags())&fm, want(fin.Flags, in.Flags)&fm; g != w {
		diffs = append(diffs, fmt.Sprintf("flags=%04x want %04x (mask %04x)", g, w, fm))
	}

	// Memory: every byte the suite lists in its final state. Bytes of a
	// FLAGS image the instruction pushed are masked like FLAGS.
	imgMask := flagsImageMask(tc, fm)
	for _, e := range tc.Final.RAM {
		g := bus.RAM()[e[0]]
		w := byte(e[1])
		if m, ok := imgMask[e[0]]; ok {
			g, w = g&m, w&m
		}
		if g != w {
			diffs = append(diffs, fmt.Sprintf("ram[%05x]=%02x want %02x", e[0], g, w))
		}
	}
	// And nothing else written: every byte we changed must be listed.
	listed := map[int64]bool{}
	for _, e := range tc.Final.RAM {
		listed[e[0]] = true
	}
	initial := h.setup
	for _, p := range bus.DirtyPages() {
		for a := int64(p << 12); a < int64((p+1)<<12); a++ {
			if listed[a] {
				continue
			}
			if bus.RAM()[a] != initial[a] {
				diffs = append(diffs, fmt.Sprintf("ram[%05x]=%02x written, want %02x", a, bus.RAM()[a], initial[a]))
				break
			}
		}
	}
	if len(diffs) > 0 {
		return strings.Join(diffs, " ")
	}
	return ""
}

// definesVector reports whether the test's initial memory sets IVT entry v.
func (h *sstHarness) definesVector(tc *sstTest, v int64) bool {
	for _, e := range tc.Initial.RAM {
		if e[0] >= v*4 && e[0] < v*4+4 {
			return true
		}
	}
	return false
}

// flagsImageMask returns, for an instruction that pushed a FLAGS image
// (PUSHF, INT, INTO, INT3, exceptions), the masks of its two bytes.
func flagsImageMask(tc *sstTest, fm uint16) map[int64]byte {
	in, fin := &tc.Initial.Regs, &tc.Final.Regs
	if fin.SP == nil {
		return nil
	}
	ss := uint64(*in.SS)
	if fin.SS != nil {
		ss = uint64(*fin.SS)
	}
	sp := uint64(*fin.SP)
	var off uint64
	switch {
	case *in.SP-*fin.SP == 2 && strings.HasPrefix(tc.Name, "pushf"):
		off = sp
	case *in.SP-*fin.SP == 6 && fin.CS != nil:
		off = sp + 4 // IP, CS, FLAGS
	default:
		return nil
	}
	a := int64(ss<<4 + off&0xffff)
	b := int64(ss<<4 + (off+1)&0xffff)
	return map[int64]byte{a: byte(fm), b: byte(fm >> 8)}
}

func loadSSTFile(t testing.TB, path string) []sstTest {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var tests []sstTest
	if err := json.NewDecoder(zr).Decode(&tests); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i := range tests {
		b := make([]byte, len(tests[i].RawB))
		for j, v := range tests[i].RawB {
			b[j] = byte(v)
		}
		tests[i].Bytes = b
	}
	return tests
}

func TestSST80286(t *testing.T) { runSST(t, false) }

// sstJITStride samples the suite for TestSST80286JIT: every 4th test of
// the ones TestSST80286 runs (the first 1000 of each form file), because
// each runs twice and compiling a block per test costs more than
// interpreting it.
const sstJITStride = 4

// TestSST80286JIT runs a deterministic sample of the suite (every
// sstJITStride-th test) through the block JIT, each instruction compiled
// as a block of its own (threshold 1, blocks of one instruction), and
// through the interpreter: every test must have the same outcome (pass,
// or the same mismatch) under both engines, and the JIT's pass rate must
// meet the interpreter test's bar.
func TestSST80286JIT(t *testing.T) { runSST(t, true) }

func runSST(t *testing.T, withJIT bool) {
	dir := sstDir(t)
	rules := loadRules(t)
	var meta struct {
		Opcodes map[string]sstMetaEntry `json:"opcodes"`
	}
	mb, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mb, &meta); err != nil {
		t.Fatal(err)
	}
	revoked := map[string]bool{}
	if rb, err := os.ReadFile(filepath.Join(dir, "revocation_list.txt")); err == nil {
		for _, l := range strings.Split(string(rb), "\n") {
			if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
				revoked[l] = true
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	limit := 1000
	if testing.Short() {
		limit = 100
	}
	stride := 1
	if withJIT {
		stride = sstJITStride
	}
	var total, passed, excluded, skippedTests, interpPassed, differ int
	var compiled, native, entries uint64
	for _, path := range files {
		form := strings.TrimSuffix(filepath.Base(path), ".json.gz")
		op, reg, _ := strings.Cut(form, ".")
		m := meta.Opcodes[op]
		if reg != "" {
			m = m.Reg[reg]
		}
		if _, ok := rules.forms[form]; ok {
			excluded++
			continue
		}
		mask := uint16(0xffff)
		if m.FlagsMask != nil {
			mask = *m.FlagsMask
		}
		t.Run(form, func(t *testing.T) {
			h := newSSTHarness(t, rules)
			var hj *sstHarness
			if withJIT {
				hj = newSSTHarnessJIT(t, rules)
			}
			tests := loadSSTFile(t, path)
			if len(tests) > limit {
				tests = tests[:limit]
			}
			fails := 0
			ranBefore := total
			for i := range tests {
				tc := &tests[i]
				if i%stride != 0 {
					continue
				}
				if revoked[tc.Hash] {
					continue
				}
				if h.excludedTest(tc) {
					skippedTests++
					continue
				}
				total++
				msg := h.runSafe(tc, mask)
				if hj != nil {
					if msg == "" {
						interpPassed++
					}
					jmsg := hj.runSafe(tc, mask)
					if d := sameState(h, hj); jmsg != msg || d != "" {
						differ++
						t.Errorf("%s #%d %q % x: the JIT and the interpreter disagree\njit:         %s\ninterpreter: %s\n%s", form, tc.Idx, tc.Name, tc.Bytes, orPass(jmsg), orPass(msg), d)
					}
					msg = jmsg
				}
				if msg == "" {
					passed++
					continue
				}
				fails++
				if fails <= 3 {
					t.Logf("%s #%d %q % x: %s", form, tc.Idx, tc.Name, tc.Bytes, msg)
				}
			}
			if hj != nil {
				st := hj.jit.Stats()
				compiled += st.Compiled
				native += st.NativeInsts
				entries += hj.c.JITStats().Entries
			}
			ran := total - ranBefore
			rate := 100 * float64(ran-fails) / float64(max(ran, 1))
			if rate < 99.5 {
				t.Errorf("%s (%s): %d/%d pass (%.1f%%), need 99.5%%", form, m.Status, ran-fails, ran, rate)
			}
		})
	}
	if withJIT {
		t.Logf("SST 80286 under the JIT (every %dth test): %d/%d tests pass over %d forms (the interpreter on the same tests: %d/%d; %d outcomes differ); %d blocks compiled (%d of their instructions natively), %d entries into compiled code",
			stride, passed, total, len(files)-excluded, interpPassed, total, differ, compiled, native, entries)
		return
	}
	t.Logf("SST 80286: %d/%d tests pass over %d forms; excluded by testdata/sst80286-exclusions.txt: %d forms, %d single tests", passed, total, len(files)-excluded, excluded, skippedTests)
}

// sameState compares the interpreter's and the JIT's state after a test,
// without the suite's flag masks: registers, all of RFLAGS, segments,
// and every page either wrote.
func sameState(h, hj *sstHarness) string {
	a, b := h.c, hj.c
	var d []string
	if a.R != b.R || a.RIP != b.RIP || a.Flags() != b.Flags() || a.Halted != b.Halted || a.ShutdownReason != b.ShutdownReason {
		d = append(d, fmt.Sprintf("interpreter: %v\njit: %v", a, b))
	}
	for s := range a.Seg {
		if a.Seg[s] != b.Seg[s] {
			d = append(d, fmt.Sprintf("segment %d: interpreter %+v, jit %+v", s, a.Seg[s], b.Seg[s]))
		}
	}
	ra, rb := h.bus.RAM(), hj.bus.RAM()
	for _, p := range append(h.bus.DirtyPages(), hj.bus.DirtyPages()...) {
		lo, hi := p<<12, (p+1)<<12
		if string(ra[lo:hi]) != string(rb[lo:hi]) {
			d = append(d, fmt.Sprintf("memory page %#x differs", lo))
		}
	}
	return strings.Join(d, "\n")
}

func orPass(msg string) string {
	if msg == "" {
		return "pass"
	}
	return msg
}

// runSafe turns an emulator panic into a failure message for the test.
func (h *sstHarness) runSafe(tc *sstTest, mask uint16) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	return h.run(tc, mask)
}
