package chipset

import (
	"bytes"
	"testing"

	"fuji/mem"
)

func TestDebugCon(t *testing.T) {
	var a, b bytes.Buffer
	pb := mem.NewPortBus()
	NewDebugCon(DebugConPort, &a).Register(pb)
	NewDebugCon(BochsE9Port, &b).Register(pb)
	for _, c := range []byte("ok\n") {
		pb.Out(0x402, 1, uint32(c))
		pb.Out(0xE9, 1, uint32(c))
	}
	if a.String() != "ok\n" || b.String() != "ok\n" {
		t.Fatalf("got %q and %q", a.String(), b.String())
	}
	if pb.In(0x402, 1) != 0xE9 || pb.In(0xE9, 1) != 0xE9 {
		t.Fatal("readback is not 0xE9")
	}
	d := NewDebugCon(DebugConPort, nil)
	d.Out(DebugConPort, 1, 'x') // nil backend discards
	if n := testing.AllocsPerRun(100, func() { pb.Out(0x402, 1, 'z') }); n != 0 {
		t.Fatalf("%v allocations per write", n)
	}
}
