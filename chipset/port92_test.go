package chipset

import (
	"testing"

	"fuji/mem"
)

var _ A20Gate = (*mem.Bus)(nil)

func TestPort92(t *testing.T) {
	bus, err := mem.New(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	resets := 0
	p := NewPort92(bus, func() { resets++ })
	pb := mem.NewPortBus()
	p.Register(pb)
	bus.SetA20(false)
	pb.Out(0x92, 1, 0x02)
	if !bus.A20() || pb.In(0x92, 1) != 0x02 {
		t.Fatal("fast A20 did not enable the gate")
	}
	bus.Write(0x100000, 1, 0xAB)
	if bus.Read(0, 1) == 0xAB {
		t.Fatal("address still wraps with A20 on")
	}
	pb.Out(0x92, 1, 0x00)
	if bus.A20() || bus.Read(0x100000, 1) != bus.Read(0, 1) || bus.Read(0x100000, 1) == 0xAB {
		t.Fatal("A20 off did not wrap 1 MiB")
	}
	if resets != 0 {
		t.Fatal("spurious reset")
	}
	pb.Out(0x92, 1, 0x01)
	if resets != 1 || pb.In(0x92, 1)&1 != 0 {
		t.Fatal("bit 0 did not reset, or reads back set")
	}
	pb.Out(0x92, 1, 0x0A)
	data, err := p.Save()
	if err != nil {
		t.Fatal(err)
	}
	p.Reset()
	if err := p.Load(data); err != nil || p.In(0x92, 1)&0x08 == 0 {
		t.Fatalf("load: %v", err)
	}
	if p.Load(data[:len(data)-1]) == nil || p.Load(nil) == nil {
		t.Fatal("bad snapshot accepted")
	}
}
