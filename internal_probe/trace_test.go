package probe

import (
	"fmt"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"fuji/cpu"
	"fuji/machine"
)

func TestTrace(t *testing.T) {
	m, err := machine.New(machine.Config{RAM: 64 << 20, NoReboot: true})
	if err != nil {
		t.Fatal(err)
	}
	c := m.CPU
	for i := 0; i < 400; i++ {
		la := c.Seg[cpu.CS].Base + c.RIP
		var b [16]byte
		m.Bus.ReadBytes(la, b[:])
		mode := 16
		if c.Mode() == cpu.Mode32 {
			mode = 32
		}
		in, _ := x86asm.Decode(b[:], mode)
		fmt.Printf("%04x:%08x %-40s eax=%08x ecx=%08x esp=%08x fl=%x\n", c.Seg[cpu.CS].Sel, c.RIP, x86asm.IntelSyntax(in, c.RIP, nil), c.R[0], c.R[1], c.R[4], c.Flags())
		if c.Step() != cpu.ExitBudget {
			break
		}
	}
}
