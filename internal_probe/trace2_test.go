package probe

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"fuji/cpu"
	"fuji/machine"
)

func TestTrace2(t *testing.T) {
	m, err := machine.New(machine.Config{RAM: 64 << 20, NoReboot: true, Serial: os.Stdout, DebugCon: os.Stdout, SerialCon: true})
	if err != nil {
		t.Fatal(err)
	}
	c := m.CPU
	from, _ := strconv.Atoi(os.Getenv("FROM"))
	n, _ := strconv.Atoi(os.Getenv("N"))
	for i := 0; i < from+n; i++ {
		if i >= from {
			la := c.Seg[cpu.CS].Base + c.RIP
			var b [16]byte
			m.Bus.ReadBytes(la, b[:])
			mode := 16
			if c.Mode() == cpu.Mode32 {
				mode = 32
			}
			in, _ := x86asm.Decode(b[:], mode)
			fmt.Printf("%d %04x:%08x %-40s eax=%08x ebx=%08x ecx=%08x edx=%08x esp=%08x fl=%x\n", i, c.Seg[cpu.CS].Sel, c.RIP, x86asm.IntelSyntax(in, c.RIP, nil), c.R[0], c.R[3], c.R[1], c.R[2], c.R[4], c.Flags())
		}
		if r := c.Step(); r != cpu.ExitBudget {
			fmt.Println("exit", r, c.ShutdownReason)
			break
		}
	}
}
