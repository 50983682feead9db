package chipset

import (
	"testing"

	"fuji/mem"
)

func TestPort61(t *testing.T) {
	clk := &ppClock{}
	pit := NewPIT(clk, nil)
	p61 := NewPort61(clk, pit)
	b := mem.NewPortBus()
	pit.Register(b)
	p61.Register(b)
	if v := b.In(0x61, 1); v&0x10 != 0 {
		t.Fatalf("refresh bit at t=0: %#x", v)
	}
	clk.ns = 15085
	if v := b.In(0x61, 1); v&0x10 == 0 {
		t.Fatal("refresh bit did not toggle after 15.085 µs")
	}
	clk.ns = 2 * 15085
	if v := b.In(0x61, 1); v&0x10 != 0 {
		t.Fatal("refresh bit did not toggle back")
	}
	b.Out(0x61, 1, 0xF3)
	if g, d := p61.Speaker(); !g || !d || !pit.Gate2() {
		t.Fatal("enables not written")
	}
	if v := b.In(0x61, 1); v&0xCF != 0x03 {
		t.Fatalf("read %#x: status bits must ignore writes", v)
	}
	// Bit 5 follows counter 2 OUT: mode 0, count 5.
	clk.at(100)
	pitProgram(b, 2, 0xB0, 5)
	if v := b.In(0x61, 1); v&0x20 != 0 {
		t.Fatal("OUT2 high before terminal count")
	}
	clk.at(106)
	if v := b.In(0x61, 1); v&0x20 == 0 {
		t.Fatal("OUT2 not reflected in bit 5")
	}
	data, _ := p61.Save()
	p61.Reset()
	if pit.Gate2() || b.In(0x61, 1)&3 != 0 {
		t.Fatal("reset left enables set")
	}
	if err := p61.Load(data); err != nil || b.In(0x61, 1)&3 != 3 {
		t.Fatal("load failed")
	}
	if p61.Load([]byte{1}) == nil || p61.Load([]byte{1, 0xF0}) == nil {
		t.Fatal("bad snapshot accepted")
	}
}
