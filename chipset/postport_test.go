package chipset

import (
	"testing"

	"fuji/mem"
)

func TestPOSTPort(t *testing.T) {
	p := NewPOSTPort()
	pb := mem.NewPortBus()
	p.Register(pb)
	pb.Out(0x80, 1, 0x3C)
	if p.Last() != 0x3C || pb.In(0x80, 1) != 0x3C {
		t.Fatal("POST code not latched")
	}
	data, _ := p.Save()
	p.Reset()
	if p.Last() != 0 {
		t.Fatal("reset kept the code")
	}
	if err := p.Load(data); err != nil || p.Last() != 0x3C {
		t.Fatalf("load: %v", err)
	}
	if p.Load([]byte{0xFF}) == nil {
		t.Fatal("bad snapshot accepted")
	}
}
