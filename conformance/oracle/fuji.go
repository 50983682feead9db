//go:build linux && amd64

package oracle

import (
	"encoding/binary"
	"fmt"

	"fuji/cpu"
	"fuji/jit"
	"fuji/mem"
)

// State is one side's machine state: the general registers (RSP is not
// used), RFLAGS, an FXSAVE64 image of the x87/SSE state, and the data
// pages.
type State struct {
	GPR   [16]uint64
	Flags uint64
	FX    [512]byte
	Data  [DataSize]byte
}

// Fuji is a CPU in 64-bit mode with the native side's addresses mapped
// one to one (paging is off; Fuji translates linear = physical then).
type Fuji struct {
	Bus *mem.Bus
	CPU *cpu.CPU
	// JIT: the instruction runs as a one-instruction block compiled by
	// the block JIT (NewFujiJIT) instead of through the interpreter.
	JIT bool
	// Compiler is the block JIT when JIT is set.
	Compiler *jit.JIT
}

// NewFujiJIT is NewFuji with the block JIT attached: every instruction
// is compiled on first sight, as a block of its own.
func NewFujiJIT() (*Fuji, error) {
	f, err := NewFuji()
	if err != nil {
		return nil, err
	}
	j, err := jit.New(f.CPU)
	if err != nil {
		return nil, err
	}
	f.Compiler = j
	f.CPU.SetJITThreshold(1)
	f.CPU.SetMaxBlockInsts(1)
	f.JIT = true
	return f, nil
}

// NewFuji builds the CPU of the "max" model (every instruction Fuji implements).
func NewFuji() (*Fuji, error) {
	bus, err := mem.New(GuestRAM)
	if err != nil {
		return nil, err
	}
	c, err := cpu.New(bus, mem.NewPortBus(), cpu.Config{Model: "max"})
	if err != nil {
		return nil, err
	}
	return &Fuji{Bus: bus, CPU: c}, nil
}

// Run executes inst once from st and stores the final state in st. It
// reports an error when Fuji raised an exception instead.
func (f *Fuji) Run(st *State, inst []byte) error {
	c := f.CPU
	c.Reset()
	const efer = 1<<8 | 1<<10 // LME, LMA
	c.SetControl(cpu.CR0PE|cpu.CR0ET|cpu.CR0NE|cpu.CR0MP, 0, cpu.CR4OSFXSR|cpu.CR4OSXMMEXCPT|cpu.CR4PAE, efer)
	code64 := cpu.Segment{Sel: 8, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrCode | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrL | cpu.AttrG}
	data := cpu.Segment{Sel: 16, Limit: 0xffffffff, Attr: cpu.AttrP | cpu.AttrS | cpu.AttrRW | cpu.AttrAccessed | cpu.AttrDB | cpu.AttrG}
	c.SetSegment(cpu.CS, code64)
	for _, s := range []int{cpu.SS, cpu.DS, cpu.ES, cpu.FS, cpu.GS} {
		c.SetSegment(s, data)
	}
	ram := f.Bus.RAM()
	copy(ram[InstAddr:], inst)
	copy(ram[DataAddr:DataAddr+DataSize], st.Data[:])
	c.FlushBlocks()
	c.R = st.GPR
	c.R[cpu.RSP] = StateAddr + 0x800
	c.SetFlags(st.Flags)
	fxToFuji(&c.FPUState, st.FX[:])
	c.RIP = InstAddr
	if f.JIT {
		c.Run(1)
	} else {
		c.Step()
	}
	if c.ShutdownReason != "" || c.RIP != InstAddr+uint64(len(inst)) {
		return fmt.Errorf("fuji raised an exception (RIP %#x, %s)", c.RIP, c.ShutdownReason)
	}
	sp := st.GPR[cpu.RSP]
	st.GPR = c.R
	st.GPR[cpu.RSP] = sp
	st.Flags = c.Flags()
	fujiToFX(&c.FPUState, st.FX[:])
	copy(st.Data[:], ram[DataAddr:DataAddr+DataSize])
	return nil
}

// fxToFuji loads an FXSAVE64 image into Fuji's registers. It is written
// here, independently of Fuji's FXRSTOR, so the oracle does not trust
// the code under test.
func fxToFuji(f *cpu.FPUState, b []byte) {
	le := binary.LittleEndian
	f.FCW = le.Uint16(b[0:])
	f.FSW = le.Uint16(b[2:])
	f.FTW = b[4]
	f.FOP = le.Uint16(b[6:])
	f.FIP = le.Uint64(b[8:])
	f.FDP = le.Uint64(b[16:])
	f.FCS, f.FDS = 0, 0
	f.MXCSR = le.Uint32(b[24:])
	top := int(f.FSW>>11) & 7
	for i := 0; i < 8; i++ {
		p := (top + i) & 7
		f.ST[p] = cpu.F80{Mant: le.Uint64(b[32+16*i:]), SExp: le.Uint16(b[40+16*i:])}
	}
	for i := 0; i < 16; i++ {
		f.XMM[i][0] = le.Uint64(b[160+16*i:])
		f.XMM[i][1] = le.Uint64(b[168+16*i:])
	}
}

// fujiToFX stores Fuji's registers as an FXSAVE64 image (the parts the
// comparison looks at).
func fujiToFX(f *cpu.FPUState, b []byte) {
	le := binary.LittleEndian
	for i := range b[:416] {
		b[i] = 0
	}
	le.PutUint16(b[0:], f.FCW)
	le.PutUint16(b[2:], f.FSW)
	b[4] = f.FTW
	le.PutUint16(b[6:], f.FOP)
	le.PutUint64(b[8:], f.FIP)
	le.PutUint64(b[16:], f.FDP)
	le.PutUint32(b[24:], f.MXCSR)
	le.PutUint32(b[28:], 0xffff)
	top := int(f.FSW>>11) & 7
	for i := 0; i < 8; i++ {
		p := (top + i) & 7
		le.PutUint64(b[32+16*i:], f.ST[p].Mant)
		le.PutUint16(b[40+16*i:], f.ST[p].SExp)
	}
	for i := 0; i < 16; i++ {
		le.PutUint64(b[160+16*i:], f.XMM[i][0])
		le.PutUint64(b[168+16*i:], f.XMM[i][1])
	}
}
