package chipset

import (
	"bytes"
	"testing"
)

// ioRig is an I/O APIC sending to one enabled local APIC (ID 0).
type ioRig struct {
	*apRig
	io *IOAPIC
}

func newIORig(t *testing.T, version uint8) *ioRig {
	t.Helper()
	r := newAPRig(t, LAPICConfig{})
	r.enable()
	io := NewIOAPIC(r.bus, version)
	r.bus.AddEOIListener(io)
	if err := io.Map(r.mem); err != nil {
		t.Fatal(err)
	}
	return &ioRig{r, io}
}

func (r *ioRig) ioRead(reg uint8) uint32 {
	r.mem.Write(IOAPICBase, 4, uint64(reg))
	return uint32(r.mem.Read(IOAPICBase+0x10, 4))
}

func (r *ioRig) ioWrite(reg uint8, v uint32) {
	r.mem.Write(IOAPICBase, 4, uint64(reg))
	r.mem.Write(IOAPICBase+0x10, 4, uint64(v))
}

// route programs redirection entry n.
func (r *ioRig) route(n int, lo uint32, dest uint8) {
	r.ioWrite(uint8(0x11+2*n), uint32(dest)<<24)
	r.ioWrite(uint8(0x10+2*n), lo)
}

func TestIOAPICRegisters(t *testing.T) {
	r := newIORig(t, 0x11)
	if v := r.ioRead(0x01); v != 0x170011 {
		t.Errorf("version = %#x, want 0x170011", v)
	}
	r.ioWrite(0x00, 0xFF<<24)
	if v := r.ioRead(0x00); v != 0x0F<<24 {
		t.Errorf("ID = %#x", v)
	}
	if v := r.ioRead(0x02); v != 0x0F<<24 {
		t.Errorf("arbitration ID = %#x", v)
	}
	for n := 0; n < IOAPICPins; n++ {
		if v := r.ioRead(uint8(0x10 + 2*n)); v != 0x10000 {
			t.Fatalf("entry %d after reset = %#x", n, v)
		}
	}
	// Read-only bits (delivery status, remote IRR) ignore writes.
	r.ioWrite(0x10, 0xFFFFFFFF)
	if v := r.ioRead(0x10); v != 0x1AFFF {
		t.Errorf("entry 0 low after writing ones = %#x", v)
	}
	r.ioWrite(0x11, 0xFFFFFFFF)
	if v := r.ioRead(0x11); v != 0xFF000000 {
		t.Errorf("entry 0 high after writing ones = %#x", v)
	}
	if r.mem.Read(IOAPICBase, 4) != 0x11 {
		t.Error("IOREGSEL does not read back")
	}
	if v := r.ioRead(0x40); v != 0 {
		t.Errorf("register beyond the table = %#x", v)
	}
}

func TestIOAPICEdge(t *testing.T) {
	r := newIORig(t, 0x11)
	pin := r.io.Line(1)
	pin.Set(true) // masked: lost
	pin.Set(false)
	r.route(1, 0x31, 0)
	if r.irrHas(0x31) {
		t.Fatal("masked edge remembered")
	}
	pin.Set(true)
	if !r.irrHas(0x31) {
		t.Fatal("edge not delivered")
	}
	if r.l.Acknowledge() != 0x31 {
		t.Fatal("acknowledge")
	}
	pin.Set(true) // no new edge
	if r.irrHas(0x31) {
		t.Fatal("held level re-delivered on an edge pin")
	}
	r.wr(0xB0, 0)
	pin.Set(false)
	pin.Set(true)
	if !r.irrHas(0x31) {
		t.Fatal("second edge not delivered")
	}
	if r.ioRead(0x12)&ioredRemoteIRR != 0 {
		t.Error("edge entry has remote IRR")
	}
	// Destination that is not this APIC.
	r.route(2, 0x32, 7)
	r.io.Line(2).Set(true)
	if r.irrHas(0x32) {
		t.Error("message to APIC 7 received by APIC 0")
	}
	// Logical destination, flat: LDR bit 0.
	r.wr(0xD0, 1<<24)
	r.route(3, 1<<11|0x33, 0x01)
	r.io.Line(3).Set(true)
	if !r.irrHas(0x33) {
		t.Error("logical message not received")
	}
	// NMI delivery.
	r.route(4, DeliveryNMI<<8, 0)
	r.io.Line(4).Set(true)
	if r.cpu.nmis != 1 {
		t.Error("NMI entry did not deliver an NMI")
	}
}

func TestIOAPICLevelRemoteIRR(t *testing.T) {
	for _, viaReg := range []bool{false, true} {
		r := newIORig(t, 0x20)
		pin := r.io.Line(9)
		pin.Set(true) // asserted while masked: pending
		r.route(9, ioredLevel|0x39, 0)
		if !r.irrHas(0x39) {
			t.Fatal("level asserted while masked not delivered on unmask")
		}
		if r.ioRead(0x10+18)&ioredRemoteIRR == 0 {
			t.Fatal("remote IRR not set")
		}
		if r.l.Acknowledge() != 0x39 {
			t.Fatal("acknowledge")
		}
		if r.rd(0x180+0x10*(0x39>>5))&(1<<(0x39&31)) == 0 {
			t.Fatal("TMR bit not set for a level interrupt")
		}
		// Still asserted at EOI: remote IRR clears and the message is
		// sent again.
		if viaReg {
			// Version 0x20: the EOI register (the local APIC's
			// broadcast happens as well, which is harmless).
			r.mem.Write(IOAPICBase+0x40, 4, 0x39)
			if !r.irrHas(0x39) {
				t.Fatal("EOI register did not re-send")
			}
			r.wr(0xB0, 0)
		} else {
			r.wr(0xB0, 0)
			if !r.irrHas(0x39) {
				t.Fatal("still-asserted level not re-sent after EOI")
			}
		}
		r.l.Acknowledge()
		pin.Set(false)
		r.wr(0xB0, 0)
		if r.irrHas(0x39) || r.ioRead(0x10+18)&ioredRemoteIRR != 0 {
			t.Fatal("deasserted level re-sent or remote IRR left set")
		}
		// While remote IRR is set, further assertions coalesce.
		pin.Set(true)
		r.l.Acknowledge()
		pin.Set(false)
		pin.Set(true)
		if r.irrHas(0x39) {
			t.Fatal("level re-sent while remote IRR set")
		}
		// Switching the entry to edge clears remote IRR.
		r.route(9, 0x39, 0)
		if r.ioRead(0x10+18)&ioredRemoteIRR != 0 {
			t.Fatal("remote IRR kept by an edge entry")
		}
	}
	// Version 0x11 has no EOI register.
	r := newIORig(t, 0x11)
	r.route(5, ioredLevel|0x45, 0)
	r.io.Line(5).Set(true)
	r.mem.Write(IOAPICBase+0x40, 4, 0x45)
	if r.ioRead(0x10+10)&ioredRemoteIRR == 0 {
		t.Error("version 0x11 EOI register write acted")
	}
}

func TestIOAPICSaveLoad(t *testing.T) {
	r := newIORig(t, 0x11)
	r.route(9, ioredLevel|0x39, 0)
	r.io.Line(9).Set(true)
	r.ioWrite(0, 3<<24)
	data, err := r.io.Save()
	if err != nil {
		t.Fatal(err)
	}
	io2 := NewIOAPIC(r.bus, 0x11)
	if err := io2.Load(data); err != nil {
		t.Fatal(err)
	}
	d2, _ := io2.Save()
	if !bytes.Equal(data, d2) {
		t.Fatal("save/load/save differs")
	}
	if err := NewIOAPIC(r.bus, 0x20).Load(data); err == nil {
		t.Error("snapshot of another version accepted")
	}
	if err := io2.Load(data[1:]); err == nil {
		t.Error("short snapshot accepted")
	}
	seed := uint64(3)
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), data...)
		seed = seed*6364136223846793005 + 1442695040888963407
		b[int(seed>>33)%len(b)] ^= byte(seed >> 20)
		if io2.Load(b) == nil {
			io2.EOI(uint8(seed))
			io2.Line(int(seed>>50) % IOAPICPins).Set(seed&1 != 0)
		}
	}
	// Guest noise on the registers.
	for i := 0; i < 20000; i++ {
		seed = seed*6364136223846793005 + 1442695040888963407
		r.io.WriteMMIO(seed>>56&0x7C, int(1<<(seed>>50&3)), seed>>8)
		r.io.ReadMMIO(seed>>40&0xFC, 4)
		r.io.Line(int(seed>>30) % IOAPICPins).Set(seed&2 != 0)
		if r.cpu.intr {
			r.l.Acknowledge()
			r.wr(0xB0, 0)
		}
	}
}
