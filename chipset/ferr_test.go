package chipset

import (
	"testing"

	"fuji/mem"
)

type levelLine struct{ level bool }

func (l *levelLine) Set(v bool) { l.level = v }

func TestFERRRaisesIRQ13UntilPortF0(t *testing.T) {
	irq := &levelLine{}
	f := NewFERR(irq)
	pb := mem.NewPortBus()
	f.Register(pb)
	f.Set(true)
	if !irq.level {
		t.Fatal("FERR# did not raise IRQ 13")
	}
	f.Set(false) // the processor's FERR# falling does not clear the latch
	if !irq.level {
		t.Fatal("IRQ 13 dropped before port 0xF0 was written")
	}
	pb.Out(0xf0, 1, 0)
	if irq.level {
		t.Fatal("a write to port 0xF0 did not clear IRQ 13")
	}
}
