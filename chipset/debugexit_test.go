package chipset

import (
	"testing"

	"fuji/mem"
)

func TestDebugExit(t *testing.T) {
	var got []int
	d := NewDebugExit(DebugExitPort, func(s int) { got = append(got, s) })
	pb := mem.NewPortBus()
	d.Register(pb)
	if _, ok := d.Requested(); ok {
		t.Fatal("request before any write")
	}
	pb.Out(0xF4, 1, 0x10)
	if s, ok := d.Requested(); !ok || s != 0x21 {
		t.Fatalf("status %#x %v, want 0x21", s, ok)
	}
	pb.Out(0xF4, 4, 0x12345678) // iosize 4: one 32-bit write
	if s, _ := d.Requested(); s != 0x12345678<<1|1 {
		t.Fatalf("32-bit status %#x", s)
	}
	pb.Out(0xF7, 1, 0) // last port of the range
	if s, _ := d.Requested(); s != 1 {
		t.Fatalf("status %#x", s)
	}
	if len(got) != 3 {
		t.Fatalf("callback ran %d times", len(got))
	}
	if pb.In(0xF4, 1) != 0 || pb.In(0xF8, 1) != 0xFF {
		t.Fatal("port range wrong")
	}
	data, _ := d.Save()
	d.Reset()
	if _, ok := d.Requested(); ok {
		t.Fatal("reset kept the request")
	}
	if err := d.Load(data); err != nil {
		t.Fatal(err)
	}
	if s, ok := d.Requested(); !ok || s != 1 {
		t.Fatal("request not restored")
	}
	if d.Load(data[:3]) == nil {
		t.Fatal("bad snapshot accepted")
	}
}
