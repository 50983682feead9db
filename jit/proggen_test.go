package jit_test

import (
	"encoding/binary"
	"math/rand"

	"fuji/cpu"
)

// A generator of random but valid guest programs for the lock-step test:
// straight-line code, forward branches, counted loops, calls (direct and
// indirect, with RET and RET imm16), stack frames with LEAVE, indirect
// jumps, and self-modifying stores, built from the instruction forms the
// JIT compiles natively and from forms it leaves to helper exits. Every
// memory operand lands in the data area (some across a page boundary),
// through every addressing form of the mode; the stack is balanced at
// the end of every nested region, loops are counted, and a program ends
// in HLT, or, for a fault program, in an exception whose handler halts.

// pgen builds one program.
type pgen struct {
	r    *rand.Rand
	mode int
	code []byte
	// pushed lists the bytes pushed by the enclosing regions, innermost
	// last; a region pops back to its starting length before it ends.
	pushed []int
	// keep has a bit per GPR the generated code must not write: RSP
	// always, RBP inside a frame, RCX inside a LOOP loop.
	keep uint32
	// base is len(pushed) at the start of the current region: items
	// pop only what their region pushed.
	base int
	ctrl uint64 // next free control slot
	// faultWanted: a fault program; faulted: its fault is emitted.
	faultWanted, faulted bool
	// cond counts the enclosing regions that may not run (forward
	// branches): the fault goes where it surely runs.
	cond  int
	items int // items left to emit
}

func newPgen(seed int64, mode int, fault bool) *pgen {
	return &pgen{r: rand.New(rand.NewSource(seed)), mode: mode, keep: 1 << cpu.RSP, ctrl: ctrlAddr, faultWanted: fault}
}

// program returns the code of a whole program.
func (g *pgen) program() []byte {
	g.items = 20 + g.r.Intn(100)
	for g.items > 0 && len(g.code) < codeMax-0x800 {
		g.item(0)
	}
	g.popTo(0)
	if g.faultWanted && !g.faulted {
		g.fault()
	}
	g.b(0xf4) // HLT
	return g.code
}

// Emission.

func (g *pgen) b(bs ...byte) { g.code = append(g.code, bs...) }

// pc is the IP (offset in CS) of the next byte.
func (g *pgen) pc() uint64 { return g.ipOf(len(g.code)) }

func (g *pgen) ipOf(pos int) uint64 {
	if g.mode == modeReal {
		return uint64(pos)
	}
	return codeAddr + uint64(pos)
}

func le(v uint64, n int) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return b[:n]
}

// rel is a patchable relative displacement of n bytes at pos.
type rel struct{ pos, n int }

// patch points r at IP target.
func (g *pgen) patch(r rel, target uint64) {
	d := target - g.ipOf(r.pos+r.n)
	copy(g.code[r.pos:], le(d, r.n))
}

// A memory or register operand as encoded in ModRM.
type rmOp struct {
	isReg  bool
	r      uint8 // the register (0-15) when isReg
	mod    byte
	rm     byte
	sib    int // -1: none
	disp   []byte
	rexX   bool
	rexB   bool
	seg    byte // segment override prefix, 0 for none
	a67    bool // address-size prefix
	ripRel bool
	ripOff uint64 // RIP-relative: the effective address wanted
}

// ins is one instruction to encode.
type ins struct {
	pfx   []byte // legacy prefixes (LOCK, REP)
	osz   int    // operand size (66 / REX.W), 0: no size prefix
	rx    bool   // 64-bit mode: emit a REX prefix (byte registers 4-7 are SPL..DIL)
	op    []byte
	opReg int // >= 0: register in the low bits of the last opcode byte
	modrm bool
	reg   uint8 // ModRM.reg (register or /digit)
	rm    rmOp
	imm   []byte
}

// enc appends the instruction.
func (g *pgen) enc(in ins) {
	start := len(g.code)
	if in.modrm && !in.rm.isReg && in.rm.seg != 0 {
		g.b(in.rm.seg)
	}
	g.b(in.pfx...)
	if in.modrm && !in.rm.isReg && in.rm.a67 {
		g.b(0x67)
	}
	if in.osz == 2 && g.mode != modeReal || in.osz == 4 && g.mode == modeReal {
		g.b(0x66)
	}
	rex := byte(0x40)
	if in.osz == 8 {
		rex |= 8
	}
	if in.modrm && in.reg >= 8 {
		rex |= 4
	}
	if in.modrm {
		if in.rm.isReg && in.rm.r >= 8 || !in.rm.isReg && in.rm.rexB {
			rex |= 1
		}
		if !in.rm.isReg && in.rm.rexX {
			rex |= 2
		}
	}
	if in.opReg >= 8 {
		rex |= 1
	}
	if rex != 0x40 && !in.rx {
		panic("pgen: REX needed but not planned")
	}
	if g.mode == modeLong && in.rx {
		g.b(rex)
	}
	op := append([]byte(nil), in.op...)
	if in.opReg >= 0 {
		op[len(op)-1] += byte(in.opReg & 7)
	}
	g.b(op...)
	dispAt := -1
	if in.modrm {
		if in.rm.isReg {
			g.b(0xc0 | (in.reg&7)<<3 | in.rm.r&7)
		} else {
			g.b(in.rm.mod<<6 | (in.reg&7)<<3 | in.rm.rm)
			if in.rm.sib >= 0 {
				g.b(byte(in.rm.sib))
			}
			dispAt = len(g.code)
			g.b(in.rm.disp...)
		}
	}
	g.b(in.imm...)
	if in.modrm && !in.rm.isReg && in.rm.ripRel {
		next := g.ipOf(len(g.code))
		copy(g.code[dispAt:], le(in.rm.ripOff-next, 4))
	}
	_ = start
}

// Choices.

func (g *pgen) coin() bool        { return g.r.Intn(2) == 0 }
func (g *pgen) chance(n int) bool { return g.r.Intn(n) == 0 }

// size picks an operand size; byteOK allows 1.
func (g *pgen) size(byteOK bool) int {
	s := []int{1, 2, 4, 4, 8, 8}
	if g.mode != modeLong {
		s = s[:4]
	}
	if !byteOK {
		s = s[1:]
	}
	return s[g.r.Intn(len(s))]
}

// stackSize is the default push/pop size.
func (g *pgen) stackSize() int {
	switch g.mode {
	case modeReal:
		return 2
	case modePM32:
		return 4
	}
	return 8
}

// addrSize is the default address size.
func (g *pgen) addrSize() int {
	switch g.mode {
	case modeReal:
		return 2
	case modePM32:
		return 4
	}
	return 8
}

// rex decides whether an instruction of operand size sz carries REX.
func (g *pgen) rex(sz int) bool {
	return g.mode == modeLong && (sz == 8 || g.coin())
}

// gpr is the register a sz-byte register operand r names.
func gpr(r uint8, sz int, rx bool) uint8 {
	if sz == 1 && !rx && r >= 4 && r < 8 {
		return r - 4 // AH..BH
	}
	return r
}

func (g *pgen) writable(r uint8, sz int, rx bool) bool {
	return g.keep&(1<<gpr(r, sz, rx)) == 0
}

// canWrite reports whether none of the full registers rs is kept.
func (g *pgen) canWrite(rs ...uint8) bool {
	for _, r := range rs {
		if g.keep&(1<<r) != 0 {
			return false
		}
	}
	return true
}

// reg picks a register operand.
func (g *pgen) reg(sz int, rx, write bool) uint8 {
	n := 8
	if rx {
		n = 16
	}
	for {
		r := uint8(g.r.Intn(n))
		if !write || g.writable(r, sz, rx) {
			return r
		}
	}
}

// imm returns a random value of sz bytes, often an edge value.
func (g *pgen) imm(sz int) uint64 {
	var v uint64
	switch g.r.Intn(6) {
	case 0:
		edges := []uint64{0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 63, ^uint64(0), 31, 32, 63, 64}
		v = edges[g.r.Intn(len(edges))]
	case 1:
		v = uint64(g.r.Intn(16))
	case 2:
		v = -uint64(g.r.Intn(16))
	default:
		v = g.r.Uint64()
	}
	if sz < 8 {
		v &= 1<<(8*sz) - 1
	}
	return v
}

// setReg emits MOV r, v (the register's full width, or 16 bits in real
// mode unless wide).
func (g *pgen) setReg(r uint8, v uint64, wide bool) {
	switch {
	case g.mode == modeReal && !wide:
		g.enc(ins{op: []byte{0xb8}, opReg: int(r), imm: le(v, 2)})
	case g.mode != modeLong || v < 1<<32:
		g.enc(ins{osz: 4 * b2i(g.mode == modeReal), rx: r >= 8, op: []byte{0xb8}, opReg: int(r), imm: le(v, 4)})
	default:
		g.enc(ins{osz: 8, rx: true, op: []byte{0xb8}, opReg: int(r), imm: le(v, 8)})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Memory operands.

// dataTarget picks the linear address of an n-byte access in the data
// area; a quarter of them cross a page boundary.
func (g *pgen) dataTarget(n int) uint64 {
	if n > 1 && g.chance(4) {
		page := dataAddr + uint64(1+g.r.Intn(dataSize/0x1000-1))*0x1000
		return page - uint64(1+g.r.Intn(n-1))
	}
	a := dataAddr + uint64(g.r.Intn(dataSize-n+1))
	if g.coin() {
		a &^= uint64(n - 1)
	}
	return a
}

var segPrefix = [6]byte{0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65}

// mem builds a memory operand for an n-byte access at linear address
// lin, emitting the instructions that load its base and index registers
// first. rx: the instruction carries REX (64-bit mode), so registers
// 8-15 may be used. write: the access writes (no CS override).
func (g *pgen) mem(lin uint64, n int, rx, write bool) rmOp {
	seg := cpu.DS
	var op rmOp
	op.sib = -1
	if g.chance(3) {
		segs := []int{cpu.ES, cpu.SS, cpu.DS, cpu.FS, cpu.GS}
		if !write && g.mode != modeReal {
			segs = append(segs, cpu.CS)
		}
		seg = segs[g.r.Intn(len(segs))]
		op.seg = segPrefix[seg]
	}
	off := lin - segBase(g.mode, seg)
	if g.mode == modeLong && seg != cpu.FS && seg != cpu.GS {
		off = lin
	}
	asz := g.addrSize()
	if g.chance(6) {
		// The other address size: 32-bit addressing in real mode (the
		// offset stays below 64 KiB) or in 64-bit mode.
		switch g.mode {
		case modeReal:
			asz, op.a67 = 4, true
		case modeLong:
			asz, op.a67 = 4, true
		}
	}
	if asz == 2 {
		return g.mem16(op, off)
	}
	nregs := 8
	if rx {
		nregs = 16
	}
	pick := func(not ...uint8) (uint8, bool) {
		for range 20 {
			r := uint8(g.r.Intn(nregs))
			ok := r != cpu.RSP && g.keep&(1<<r) == 0
			for _, x := range not {
				ok = ok && r != x
			}
			if ok {
				return r, true
			}
		}
		return 0, false
	}
	amask := uint64(1)<<(8*asz) - 1
	if asz == 8 {
		amask = ^uint64(0)
	}
	switch k := g.r.Intn(6); {
	case k == 0 && g.mode == modeLong && !op.a67 && seg != cpu.FS && seg != cpu.GS:
		op.mod, op.rm, op.ripRel, op.ripOff = 0, 5, true, off
		op.disp = make([]byte, 4)
		return op
	case k <= 1:
		// [disp32]
		if g.mode == modeLong {
			op.mod, op.rm, op.sib = 0, 4, 0x25
		} else {
			op.mod, op.rm = 0, 5
		}
		op.disp = le(off, 4)
		return op
	case k <= 3:
		// [base + disp]
		base, ok := pick()
		if !ok {
			break
		}
		disp := g.disp(asz)
		g.setReg(base, (off-disp)&amask, true)
		g.modDisp(&op, disp, base)
		op.rm = base & 7
		op.rexB = base >= 8
		if base&7 == 4 {
			op.rm, op.sib = 4, 0x24
		}
		return op
	default:
		// [base + index*scale + disp]
		base, ok := pick()
		index, ok2 := pick(base)
		if !ok || !ok2 {
			break
		}
		scale := g.r.Intn(4)
		y := uint64(g.r.Intn(0x40))
		if g.coin() {
			y = -y
		}
		disp := g.disp(asz)
		g.setReg(index, y&amask, true)
		g.setReg(base, (off-disp-y<<scale)&amask, true)
		g.modDisp(&op, disp, base)
		op.rm, op.sib = 4, scale<<6|int(index&7)<<3|int(base&7)
		op.rexB, op.rexX = base >= 8, index >= 8
		return op
	}
	// No register free: [disp32].
	if g.mode == modeLong {
		op.mod, op.rm, op.sib = 0, 4, 0x25
	} else {
		op.mod, op.rm = 0, 5
	}
	op.disp = le(off, 4)
	return op
}

// disp picks a displacement; with 32-bit addresses it is sometimes
// large, so that base+disp wraps around 4 GiB.
func (g *pgen) disp(asz int) uint64 {
	switch g.r.Intn(4) {
	case 0:
		return 0
	case 1:
		return uint64(int64(int8(g.r.Intn(256))))
	case 2:
		if asz == 4 {
			return uint64(int64(int32(g.r.Uint32())))
		}
		fallthrough
	default:
		return uint64(int64(g.r.Intn(0x2000) - 0x1000))
	}
}

// modDisp sets mod and the displacement bytes for disp (32-bit forms)
// with base register base (mod 0 with base 5 would mean no base).
func (g *pgen) modDisp(op *rmOp, disp uint64, base uint8) {
	switch {
	case disp == 0 && base&7 != 5 && g.coin():
		op.mod = 0
	case int64(disp) == int64(int8(disp)):
		op.mod, op.disp = 1, le(disp, 1)
	default:
		op.mod, op.disp = 2, le(disp, 4)
	}
}

// mem16 encodes a 16-bit address for offset off: [bx+si], [bx+di],
// [bp+si], [bp+di], [si], [di], [disp16] or [bp], [bx], with sums that
// may wrap around 64 KiB.
func (g *pgen) mem16(op rmOp, off uint64) rmOp {
	regsOf := [8][]uint8{{cpu.RBX, cpu.RSI}, {cpu.RBX, cpu.RDI}, {cpu.RBP, cpu.RSI}, {cpu.RBP, cpu.RDI}, {cpu.RSI}, {cpu.RDI}, {cpu.RBP}, {cpu.RBX}}
	for range 10 {
		rm := g.r.Intn(8)
		mod := g.r.Intn(3)
		if rm == 6 && mod == 0 {
			op.mod, op.rm, op.disp = 0, 6, le(off, 2)
			return op
		}
		if !g.canWrite(regsOf[rm]...) {
			continue
		}
		var disp uint64
		switch mod {
		case 1:
			disp = uint64(int64(int8(g.r.Intn(256))))
			op.disp = le(disp, 1)
		case 2:
			disp = uint64(g.r.Intn(0x10000))
			op.disp = le(disp, 2)
		}
		rs := regsOf[rm]
		v := (off - disp) & 0xffff
		if len(rs) == 2 {
			x := uint64(g.r.Intn(0x10000))
			g.setReg(rs[0], x, false)
			v = (v - x) & 0xffff
			g.setReg(rs[1], v, false)
		} else {
			g.setReg(rs[0], v, false)
		}
		op.mod, op.rm = byte(mod), byte(rm)
		return op
	}
	op.mod, op.rm, op.disp = 0, 6, le(off, 2)
	return op
}

// rmOperand picks a register or a data-area memory operand of sz bytes.
func (g *pgen) rmOperand(sz int, rx, write bool) rmOp {
	if g.chance(3) {
		return rmOp{isReg: true, r: g.reg(sz, rx, write), sib: -1}
	}
	return g.mem(g.dataTarget(sz), sz, rx, write)
}

// memOperand is rmOperand without the register case.
func (g *pgen) memOperand(sz int, rx, write bool) rmOp {
	return g.mem(g.dataTarget(sz), sz, rx, write)
}

// ctrlSlot reserves an 8-byte control slot and returns its address.
func (g *pgen) ctrlSlot() uint64 {
	a := g.ctrl
	g.ctrl += 8
	if g.ctrl >= stackLow {
		g.ctrl = ctrlAddr
	}
	return a
}

// absMem is a [disp] operand at linear address lin through DS.
func (g *pgen) absMem(lin uint64) rmOp {
	off := lin - segBase(g.mode, cpu.DS)
	switch g.mode {
	case modeReal:
		return rmOp{mod: 0, rm: 6, sib: -1, disp: le(off, 2)}
	case modePM32:
		return rmOp{mod: 0, rm: 5, sib: -1, disp: le(off, 4)}
	}
	return rmOp{mod: 0, rm: 4, sib: 0x25, disp: le(off, 4)}
}

// Stack bookkeeping.

func (g *pgen) depth() int {
	n := 0
	for _, b := range g.pushed {
		n += b
	}
	return n
}

// push records n bytes pushed.
func (g *pgen) push(n int) { g.pushed = append(g.pushed, n) }

// popTo pops back to len(g.pushed) == k with POPs or an ADD/LEA to RSP.
func (g *pgen) popTo(k int) {
	for len(g.pushed) > k {
		n := g.pushed[len(g.pushed)-1]
		g.pushed = g.pushed[:len(g.pushed)-1]
		sz := g.stackSize()
		switch {
		case n == sz || n == 2:
			rx := g.rex(4)
			r := g.reg(n, rx, true)
			if n != sz {
				g.b(0x66)
			}
			g.enc(ins{rx: rx && r >= 8 || rx, op: []byte{0x58}, opReg: int(r)})
		case g.coin() || g.mode == modeReal:
			// ADD rSP, n (in real mode ESP's upper half may be
			// anything: no 32-bit address through it)
			g.enc(ins{osz: sz, rx: g.mode == modeLong, op: []byte{0x83}, modrm: true, reg: 0, rm: rmOp{isReg: true, r: cpu.RSP}, imm: le(uint64(n), 1)})
		default:
			// LEA rSP, [rSP+n]
			g.enc(ins{osz: sz, rx: g.mode == modeLong, op: []byte{0x8d}, modrm: true, reg: cpu.RSP, rm: rmOp{mod: 1, rm: 4, sib: 0x24, disp: le(uint64(n), 1)}})
		}
	}
}

// Program structure.

// item emits one element of a region at nesting depth d.
func (g *pgen) item(d int) {
	g.items--
	if g.faultWanted && !g.faulted && g.cond == 0 && g.chance(40) {
		g.fault()
		return
	}
	switch k := g.r.Intn(100); {
	case k < 62 || d >= 3:
		g.straight()
	case k < 70:
		g.forwardBranch(d)
	case k < 78 && d < 2:
		g.loop(d)
	case k < 85:
		g.call(d)
	case k < 88:
		g.indirectJump()
	case k < 93 && g.canWrite(cpu.RBP):
		g.frame(d)
	case k < 96:
		g.selfModify()
	default:
		g.straight()
	}
}

// region emits n items and balances the stack.
func (g *pgen) region(n, d int) {
	k, base := len(g.pushed), g.base
	g.base = k
	for range n {
		g.item(d + 1)
	}
	g.popTo(k)
	g.base = base
}

// jcc emits a conditional jump with a patchable displacement.
func (g *pgen) jcc(cc byte, short bool) rel {
	if short {
		g.b(0x70|cc, 0)
		return rel{len(g.code) - 1, 1}
	}
	n := 4
	if g.mode == modeReal {
		n = 2
	}
	g.b(0x0f, 0x80|cc)
	g.b(make([]byte, n)...)
	return rel{len(g.code) - n, n}
}

// jmp emits JMP rel8/rel with a patchable displacement.
func (g *pgen) jmp(short bool) rel {
	if short {
		g.b(0xeb, 0)
		return rel{len(g.code) - 1, 1}
	}
	n := 4
	if g.mode == modeReal {
		n = 2
	}
	g.b(0xe9)
	g.b(make([]byte, n)...)
	return rel{len(g.code) - n, n}
}

// forwardBranch: Jcc (or JMP) over a region.
func (g *pgen) forwardBranch(d int) {
	// A flag producer first, half the time, so that the branch reads
	// host flags in compiled code.
	if g.coin() {
		g.alu()
	}
	short := g.chance(3)
	uncond := g.chance(8)
	cc := byte(g.r.Intn(16))
	at, faulted := len(g.code), g.faulted
	n := 1 + g.r.Intn(4)
	for {
		var r rel
		if uncond {
			r = g.jmp(short)
		} else {
			r = g.jcc(cc, short)
		}
		start := len(g.code)
		g.cond++
		g.region(n, d)
		g.cond--
		if short && len(g.code)-start > 127 {
			// Too far for rel8: emit the region again (differently)
			// after a near branch.
			g.code, g.faulted, short = g.code[:at], faulted, false
			continue
		}
		g.patch(r, g.pc())
		return
	}
}

// loop emits a counted loop: a memory counter with DEC/SUB and JNZ, a
// register counter with LOOP, or a compare-and-branch on a counter.
func (g *pgen) loop(d int) {
	n := uint64(1 + g.r.Intn(6))
	switch g.r.Intn(3) {
	case 0:
		if g.canWrite(cpu.RCX) {
			// LOOP (E2) with rCX; the body leaves rCX alone. LOOP's
			// rel8 limits the body; a longer one ends in DEC/JNZ.
			wide := g.mode == modeReal && g.chance(3)
			g.setReg(cpu.RCX, n, wide)
			top := g.pc()
			g.keep |= 1 << cpu.RCX
			g.region(1+g.r.Intn(4), d)
			g.keep &^= 1 << cpu.RCX
			if g.pc()+3-top <= 128 {
				if wide {
					g.b(0x67) // LOOP with ECX in real mode
				}
				g.b(0xe2, byte(top-(g.pc()+2)))
				return
			}
			switch {
			case g.mode == modeLong:
				g.b(0x48, 0xff, 0xc9) // DEC RCX
			case wide:
				g.b(0x66, 0x49) // DEC ECX
			default:
				g.b(0x49) // DEC eCX
			}
			r := g.jcc(5, false)
			g.patch(r, top)
			return
		}
		fallthrough
	case 1:
		slot := g.ctrlSlot()
		sz := 4
		if g.mode == modeReal {
			sz = 2
		}
		g.enc(ins{osz: sz, op: []byte{0xc7}, modrm: true, reg: 0, rm: g.absMem(slot), imm: le(n, sz)})
		top := g.pc()
		g.region(1+g.r.Intn(5), d)
		if g.coin() {
			g.enc(ins{osz: sz, op: []byte{0xff}, modrm: true, reg: 1, rm: g.absMem(slot)}) // DEC [slot]
		} else {
			g.enc(ins{osz: sz, op: []byte{0x83}, modrm: true, reg: 5, rm: g.absMem(slot), imm: []byte{1}}) // SUB [slot], 1
		}
		r := g.jcc(5, g.pc()+2-top <= 128) // JNZ
		g.patch(r, top)
	default:
		// Count up in a slot and compare: CMP [slot], n; JB top.
		slot := g.ctrlSlot()
		sz := 4
		if g.mode == modeReal {
			sz = 2
		}
		g.enc(ins{osz: sz, op: []byte{0xc7}, modrm: true, reg: 0, rm: g.absMem(slot), imm: le(0, sz)})
		top := g.pc()
		g.region(1+g.r.Intn(5), d)
		g.enc(ins{osz: sz, op: []byte{0xff}, modrm: true, reg: 0, rm: g.absMem(slot)}) // INC [slot]
		g.enc(ins{osz: sz, op: []byte{0x83}, modrm: true, reg: 7, rm: g.absMem(slot), imm: []byte{byte(n)}})
		r := g.jcc(2, g.pc()+2-top <= 128) // JB
		g.patch(r, top)
	}
}

// call emits a call to a subroutine placed after a JMP over it: direct,
// through a register or through memory, with or without stack
// arguments removed by RET imm16.
func (g *pgen) call(d int) {
	sz := g.stackSize()
	args := 0
	if g.chance(3) {
		args = 1 + g.r.Intn(3)
		for range args {
			g.pushImm(sz)
		}
	}
	var fixup func(target uint64)
	switch g.r.Intn(4) {
	case 0, 1:
		g.b(0xe8)
		n := 4
		if g.mode == modeReal {
			n = 2
		}
		g.b(make([]byte, n)...)
		r := rel{len(g.code) - n, n}
		fixup = func(t uint64) { g.patch(r, t) }
	case 2:
		// CALL reg: MOV reg, target first.
		rx := g.rex(4)
		r := g.reg(4, rx, true)
		if r == cpu.RSP || !g.writable(r, 4, rx) {
			r = cpu.RAX
			if !g.canWrite(cpu.RAX) {
				return
			}
		}
		immAt := len(g.code) + 1
		if r >= 8 {
			immAt++
		}
		g.setReg(r, 0x1234, false)
		g.enc(ins{rx: rx, op: []byte{0xff}, modrm: true, reg: 2, rm: rmOp{isReg: true, r: r}})
		fixup = func(t uint64) { copy(g.code[immAt:], le(t, g.immBytes())) }
	default:
		// CALL [slot]: MOV [slot], target first.
		fixup = g.viaSlot(2)
	}
	over := g.jmp(false)
	fixup(g.pc())
	// The subroutine: its own balanced region, then RET or RET imm16.
	g.region(1+g.r.Intn(5), d)
	if args > 0 {
		g.b(0xc2)
		g.b(le(uint64(args*sz), 2)...)
		g.pushed = g.pushed[:len(g.pushed)-args]
	} else {
		g.b(0xc3)
	}
	g.patch(over, g.pc())
}

// viaSlot emits MOV [slot], target (a placeholder) and FF /ext [slot]
// (CALL: 2, JMP: 4) through a control slot, and returns the fixup that
// writes the target once it is known.
func (g *pgen) viaSlot(ext byte) func(t uint64) {
	slot := g.ctrlSlot()
	isz := 4
	if g.mode == modeReal {
		isz = 2
	}
	osz := isz
	if g.mode == modeLong {
		osz = 8
	}
	g.enc(ins{osz: osz, rx: g.mode == modeLong, op: []byte{0xc7}, modrm: true, reg: 0, rm: g.absMem(slot), imm: make([]byte, isz)})
	immAt := len(g.code) - isz
	g.enc(ins{op: []byte{0xff}, modrm: true, reg: ext, rm: g.absMem(slot)})
	return func(t uint64) { copy(g.code[immAt:], le(t, isz)) }
}

// immBytes is the size of a MOV r, imm of setReg for a small value.
func (g *pgen) immBytes() int {
	if g.mode == modeReal {
		return 2
	}
	return 4
}

// pushImm pushes an immediate of the default stack size.
func (g *pgen) pushImm(sz int) {
	if g.coin() {
		g.b(0x6a, byte(g.r.Intn(256)))
	} else {
		g.b(0x68)
		g.b(le(g.imm(4), min(sz, 4))...)
	}
	g.push(sz)
}

// indirectJump: JMP reg or JMP [slot] over some bytes that never run.
func (g *pgen) indirectJump() {
	var fixup func(t uint64)
	if g.coin() && g.canWrite(cpu.RDX) {
		immAt := len(g.code) + 1
		g.setReg(cpu.RDX, 0x1234, false)
		g.b(0xff, 0xe2) // JMP rDX
		fixup = func(t uint64) { copy(g.code[immAt:], le(t, g.immBytes())) }
	} else {
		fixup = g.viaSlot(4)
	}
	for range g.r.Intn(8) {
		g.b(byte(g.r.Intn(256)))
	}
	fixup(g.pc())
}

// frame: PUSH rBP; MOV rBP, rSP; SUB rSP, n; a region that also uses
// [rBP-k] locals; LEAVE.
func (g *pgen) frame(d int) {
	sz := g.stackSize()
	g.b(0x55) // PUSH rBP
	if g.mode == modeLong {
		g.b(0x48)
	}
	g.b(0x89, 0xe5) // MOV rBP, rSP
	locals := sz * (1 + g.r.Intn(4))
	if g.mode == modeLong {
		g.b(0x48)
	}
	g.b(0x83, 0xec, byte(locals)) // SUB rSP, locals
	g.push(sz + locals)
	g.keep |= 1 << cpu.RBP
	k, base := len(g.pushed), g.base
	g.base = k
	for range 1 + g.r.Intn(5) {
		if g.chance(3) {
			g.local(locals)
		} else {
			g.item(d + 1)
		}
	}
	g.popTo(k)
	g.base = base
	g.keep &^= 1 << cpu.RBP
	g.b(0xc9) // LEAVE
	g.pushed = g.pushed[:len(g.pushed)-1]
}

// local reads or writes a frame local [rBP-k].
func (g *pgen) local(locals int) {
	sz := g.size(false)
	if sz > g.stackSize() && g.mode != modeLong {
		sz = g.stackSize()
	}
	k := uint64(sz + g.r.Intn(locals-sz+1))
	var rm rmOp
	if g.mode == modeReal {
		rm = rmOp{mod: 1, rm: 6, sib: -1, disp: le(-k, 1)} // [bp-k]
	} else {
		rm = rmOp{mod: 1, rm: 5, sib: -1, disp: le(-k, 1)} // [ebp-k]
	}
	rx := g.rex(sz)
	if g.coin() {
		g.enc(ins{osz: sz, rx: rx, op: []byte{0x89}, modrm: true, reg: g.reg(sz, rx, false), rm: rm})
	} else {
		op := byte(g.r.Intn(8))*8 + 3
		g.enc(ins{osz: sz, rx: rx, op: []byte{op}, modrm: true, reg: g.reg(sz, rx, op != 0x3b), rm: rm})
	}
}

// selfModify stores a new immediate into a MOV reg, imm a little ahead,
// which then runs: the store invalidates the translation holding it.
func (g *pgen) selfModify() {
	if g.mode == modeReal {
		return // code and data segments are apart
	}
	r := g.reg(4, false, true)
	if !g.writable(r, 4, false) {
		return
	}
	// MOV dword [imm of the MOV below], v: the MOV's address is known
	// once the filler between is emitted, so patch the store's disp.
	g.enc(ins{op: []byte{0xc7}, modrm: true, reg: 0, rm: g.absMem(0), imm: le(g.imm(4), 4)})
	dispAt := len(g.code) - 8
	for range g.r.Intn(3) {
		g.straight()
	}
	g.b(0xb8 + r&7)
	copy(g.code[dispAt:], le(codeAddr+uint64(len(g.code)), 4))
	g.b(le(g.imm(4), 4)...)
}

// fault emits an instruction that raises an exception (the handler
// halts): #DE, #UD, #PF (not present, read-only, across into the hole,
// a push onto an unmapped stack), #GP (non-canonical, segment limit,
// real-mode offset wrap), INT3 and INT n, or a loop that faults after
// a few iterations.
func (g *pgen) fault() {
	g.faulted = true
	type form func() bool
	forms := []form{
		func() bool { // DIV by zero
			if !g.canWrite(cpu.RAX, cpu.RCX, cpu.RDX) {
				return false
			}
			g.setReg(cpu.RCX, 0, true)
			g.enc(ins{osz: g.size(false), rx: g.mode == modeLong, op: []byte{0xf7}, modrm: true, reg: 6, rm: rmOp{isReg: true, r: cpu.RCX}})
			return true
		},
		func() bool { // IDIV overflow: AX / -1 does not fit AL
			if !g.canWrite(cpu.RAX, cpu.RCX) {
				return false
			}
			g.setReg(cpu.RAX, 0x8000, false)
			g.setReg(cpu.RCX, 0xff, false)
			g.b(0xf6, 0xf9) // IDIV CL
			return true
		},
		func() bool { g.b(0x0f, 0x0b); return true },                   // UD2
		func() bool { g.b(0xcc); return true },                         // INT3
		func() bool { g.b(0xcd, byte(0x40+g.r.Intn(8))); return true }, // INT n
		func() bool { // read the unmapped page
			if g.mode == modeReal {
				return false
			}
			rx := g.rex(4)
			g.enc(ins{osz: 4, rx: rx, op: []byte{0x8b}, modrm: true, reg: g.reg(4, rx, true), rm: g.memAt(holeAddr+uint64(g.r.Intn(0x1000-4)), 4, rx, false)})
			return true
		},
		func() bool { // a write from the last stack page across into the hole
			if g.mode == modeReal {
				return false
			}
			sz := 2 << g.r.Intn(2)
			rx := g.rex(sz)
			g.enc(ins{osz: sz, rx: rx, op: []byte{0x01}, modrm: true, reg: g.reg(sz, rx, false), rm: g.memAt(holeAddr-1, sz, rx, true)})
			return true
		},
		func() bool { // a write to the read-only page
			if g.mode == modeReal {
				return false
			}
			rx := g.rex(1)
			g.enc(ins{osz: 1, rx: rx, op: []byte{0xc6}, modrm: true, rm: g.memAt(roAddr+uint64(g.r.Intn(0x1000)), 1, rx, true), imm: []byte{0x5a}})
			return true
		},
		func() bool { // a loop whose reads walk into the hole
			if g.mode == modeReal || !g.canWrite(cpu.RSI, cpu.RAX) {
				return false
			}
			slot := g.ctrlSlot()
			keep := g.keep
			g.keep |= 1 << cpu.RSI
			defer func() { g.keep = keep }()
			g.setReg(cpu.RSI, holeAddr-3*0x1000+uint64(g.r.Intn(0x100)), false)
			g.enc(ins{osz: 4, op: []byte{0xc7}, modrm: true, reg: 0, rm: g.absMem(slot), imm: le(10, 4)})
			top := g.pc()
			g.alu()
			g.b(0x03, 0x06)                // ADD eAX, [rSI]
			g.b(0x81, 0xc6, 0, 0x10, 0, 0) // ADD eSI, 0x1000
			g.enc(ins{osz: 4, op: []byte{0xff}, modrm: true, reg: 1, rm: g.absMem(slot)})
			r := g.jcc(5, false)
			g.patch(r, top)
			return true
		},
		func() bool { // a push onto an unmapped stack: #PF, then #DF and a shutdown
			if g.mode == modeReal {
				return false
			}
			if g.mode == modeLong {
				g.b(0x48) // MOV RSP, imm32 (sign-extended)
			}
			g.b(0xc7, 0xc4)
			g.b(le(holeAddr+0x100, 4)...)
			g.b(0x50) // PUSH rAX
			return true
		},
		func() bool { // non-canonical address
			if g.mode != modeLong || !g.canWrite(cpu.RBX, cpu.RAX) {
				return false
			}
			g.setReg(cpu.RBX, 0x8000_0000_0002_0000, false)
			g.b(0x48, 0x8b, 0x03) // MOV RAX, [RBX]
			return true
		},
		func() bool { // beyond GS's limit
			if g.mode != modePM32 || !g.canWrite(cpu.RAX) {
				return false
			}
			g.b(0x65, 0x8b, 0x05) // MOV EAX, GS:[disp32]
			g.b(le(gsLimit32-1, 4)...)
			return true
		},
		func() bool { // real mode: a word at offset FFFF
			if g.mode != modeReal || !g.canWrite(cpu.RAX) {
				return false
			}
			g.b(0x8b, 0x06, 0xff, 0xff) // MOV AX, [FFFF]
			return true
		},
	}
	for {
		if forms[g.r.Intn(len(forms))]() {
			return
		}
	}
}

// memAt is mem for an explicit linear address (outside the data area).
func (g *pgen) memAt(lin uint64, n int, rx, write bool) rmOp {
	op := g.mem(lin, n, rx, write)
	return op
}
