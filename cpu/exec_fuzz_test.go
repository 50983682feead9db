package cpu

import (
	"encoding/binary"
	"testing"

	"fuji/mem"
)

// FuzzExec executes random instruction bytes in real mode, flat 32-bit
// protected mode and 64-bit mode. Whatever the bytes, Fuji must not
// panic: guest faults become guest exceptions (and at worst a triple
// fault, which is a clean shutdown).
func FuzzExec(f *testing.F) {
	seeds := [][]byte{
		{0x90, 0xf4},                   // nop; hlt
		{0x0f, 0x0b},                   // ud2
		{0xcd, 0x80},                   // int 0x80
		{0x31, 0xc0, 0xf7, 0xf0},       // xor eax,eax; div eax
		{0x8e, 0xd8},                   // mov ds, ax
		{0xea, 0, 0, 0x10, 0},          // far jmp
		{0x0f, 0x01, 0x10},             // lgdt [eax]
		{0xf3, 0xa5},                   // rep movsd
		{0x0f, 0x22, 0xc0},             // mov cr0, eax
		{0xcf},                         // iret
		{0x66, 0x0f, 0x38, 0xf1, 0xc0}, // crc32 / movbe-like
		{0xf0, 0x01, 0x00},             // lock add [eax], eax
		{0x9a, 1, 2, 3, 4, 5, 6},       // call far
		// longmode: 64-bit system instructions.
		{0x0f, 0x05},             // syscall
		{0x48, 0x0f, 0x07},       // sysretq
		{0x0f, 0x01, 0xf8},       // swapgs
		{0x48, 0xcf},             // iretq
		{0x48, 0x0f, 0xc7, 0x08}, // cmpxchg16b [rax]
		{0x44, 0x0f, 0x22, 0xc0}, // mov cr8, rax
		{0x48, 0xff, 0x18},       // call far m16:64
	}
	for _, s := range seeds {
		for mode := byte(0); mode < 3; mode++ {
			f.Add(s, mode)
		}
	}
	bus, err := mem.New(4 << 20)
	if err != nil {
		f.Fatal(err)
	}
	// longmode: the 64-bit model, so that 64-bit mode runs with the
	// features a 64-bit processor has (SYSCALL, CMPXCHG16B, ...).
	c, err := New(bus, mem.NewPortBus(), Config{Model: "x86-64-v2"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code []byte, mode byte) {
		if len(code) > 4096 {
			code = code[:4096]
		}
		fuzzSetup(c, bus, mode%3)
		copy(bus.RAM()[0x10000:], code)
		c.FlushBlocks()
		// A bounded run: the budget counts instructions and every
		// exit (halt, shutdown) ends it.
		for i := 0; i < 4 && c.ShutdownReason == ""; i++ {
			c.Halted = false
			c.Run(500)
		}
	})
}

// fuzzSetup resets the CPU and memory into the chosen mode with an IDT
// whose handlers halt, and code at 0x10000.
func fuzzSetup(c *CPU, bus *mem.Bus, mode byte) {
	ram := bus.RAM()
	clear(ram[:0x30000])
	c.Reset()
	le := binary.LittleEndian
	switch mode {
	case 0: // real mode: IVT entries point at a HLT at 0:0x500
		for v := 0; v < 256; v++ {
			le.PutUint16(ram[v*4:], 0x500)
		}
		ram[0x500] = 0xf4
		c.SetSegReal(CS, 0x1000)
		c.RIP = 0
		c.R[RSP] = 0xfff0
	case 1: // flat 32-bit protected mode, IDT of interrupt gates to HLT
		for v := 0; v < 256; v++ {
			g := uint64(0x500) | uint64(8)<<16 | uint64(0x8e00)<<32
			le.PutUint64(ram[0x2000+v*8:], g)
		}
		ram[0x500] = 0xf4
		le.PutUint64(ram[0x1000+8:], 0x00cf9a000000ffff)
		le.PutUint64(ram[0x1000+16:], 0x00cf92000000ffff)
		c.GDTR = TableReg{Base: 0x1000, Limit: 0x17}
		c.IDTR = TableReg{Base: 0x2000, Limit: 0x7ff}
		c.SetControl(CR0PE|CR0ET, 0, 0, 0)
		c.SetSegment(CS, Segment{Sel: 8, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrCode | AttrRW | AttrAccessed | AttrDB | AttrG})
		for _, s := range []int{SS, DS, ES, FS, GS} {
			c.SetSegment(s, Segment{Sel: 16, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrRW | AttrAccessed | AttrDB | AttrG})
		}
		c.RIP = 0x10000
		c.R[RSP] = 0x20000
	default: // 64-bit mode, identity-mapped first 2 MiB, 64-bit IDT
		for v := 0; v < 256; v++ {
			lo := uint64(0x500) | uint64(8)<<16 | uint64(0x8e00)<<32
			le.PutUint64(ram[0x3000+v*16:], lo)
			le.PutUint64(ram[0x3000+v*16+8:], 0)
		}
		ram[0x500] = 0xf4
		le.PutUint64(ram[0x1000+8:], 0x00af9a000000ffff)
		le.PutUint64(ram[0x1000+16:], 0x00cf92000000ffff)
		le.PutUint64(ram[0x4000:], 0x5000|3) // PML4
		le.PutUint64(ram[0x5000:], 0x6000|3) // PDPT
		le.PutUint64(ram[0x6000:], 0|0x83)   // 2 MiB page at 0
		c.GDTR = TableReg{Base: 0x1000, Limit: 0x17}
		c.IDTR = TableReg{Base: 0x3000, Limit: 0xfff}
		c.SetControl(CR0PE|CR0ET|CR0PG, 0x4000, CR4PAE, EFERLME|EFERLMA|EFERSCE)
		c.SetSegment(CS, Segment{Sel: 8, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrCode | AttrRW | AttrAccessed | AttrL | AttrG})
		for _, s := range []int{SS, DS, ES, FS, GS} {
			c.SetSegment(s, Segment{Sel: 16, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrRW | AttrAccessed | AttrDB | AttrG})
		}
		c.RIP = 0x10000
		c.R[RSP] = 0x20000
	}
}
