package cpu

import (
	"testing"

	"fuji/mem"
)

// loop32 is the fixed bare-metal loop of the speed goal: 8 instructions
// per iteration (ALU, a load, a store, a shift, a counted branch), run in
// flat 32-bit protected mode at 0x1000.
var loop32 = []byte{
	0x01, 0xd8, // add eax, ebx
	0x8b, 0x16, // mov edx, [esi]
	0x31, 0xc2, // xor edx, eax
	0x89, 0x17, // mov [edi], edx
	0xd1, 0xe3, // shl ebx, 1
	0x83, 0xcb, 0x01, // or ebx, 1
	0x49,       // dec ecx
	0x75, 0xf0, // jnz loop
	0xf4, // hlt
}

// newFlat32 returns a CPU in flat 32-bit protected mode (CPL 0, no
// paging) with code at 0x1000.
func newFlat32(tb testing.TB, code []byte) *CPU {
	bus, err := mem.New(16 << 20)
	if err != nil {
		tb.Fatal(err)
	}
	copy(bus.RAM()[0x1000:], code)
	c, err := New(bus, mem.NewPortBus(), Config{})
	if err != nil {
		tb.Fatal(err)
	}
	c.SetControl(CR0PE|CR0ET, 0, 0, 0)
	code32 := Segment{Sel: 8, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrCode | AttrRW | AttrAccessed | AttrDB | AttrG}
	data32 := Segment{Sel: 16, Limit: 0xffffffff, Attr: AttrP | AttrS | AttrRW | AttrAccessed | AttrDB | AttrG}
	c.SetSegment(CS, code32)
	for _, s := range []int{SS, DS, ES, FS, GS} {
		c.SetSegment(s, data32)
	}
	c.RIP = 0x1000
	c.R[RSP] = 0x8000
	return c
}

// runLoop32 runs iters iterations of loop32 and returns instructions run.
func runLoop32(tb testing.TB, c *CPU, iters uint64) uint64 {
	c.RIP = 0x1000
	c.Halted = false
	c.R[RCX] = iters
	c.R[RSI] = 0x2000
	c.R[RDI] = 0x3000
	c.R[RBX] = 3
	start := c.Instructions()
	for !c.Halted {
		if c.Run(1<<30) == ExitShutdown {
			tb.Fatalf("shutdown: %s\n%v", c.ShutdownReason, c)
		}
	}
	return c.Instructions() - start
}

func TestLoop32Runs(t *testing.T) {
	c := newFlat32(t, loop32)
	n := runLoop32(t, c, 1000)
	if n != 8*1000+1 {
		t.Fatalf("ran %d instructions, want %d", n, 8*1000+1)
	}
	if c.R[RCX] != 0 || c.RIP != 0x1000+uint64(len(loop32)) {
		t.Fatalf("end state wrong:\n%v", c)
	}
}

// BenchmarkInterpLoop32 reports the interpreter's MIPS on loop32.
func BenchmarkInterpLoop32(b *testing.B) {
	c := newFlat32(b, loop32)
	runLoop32(b, c, 1000) // warm the block cache
	b.ResetTimer()
	var total uint64
	for i := 0; i < b.N; i++ {
		total += runLoop32(b, c, 1_000_000)
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e6, "MIPS")
}
