package chipset

import (
	"encoding/binary"
	"testing"
	"time"

	"fuji/mem"
)

// 2024-02-29 23:59:58, a Thursday.
var rtcStart = time.Date(2024, 2, 29, 23, 59, 58, 0, time.UTC)

func newTestRTC(t *testing.T) (*RTC, *mem.PortBus, *ppClock, *ppLine) {
	t.Helper()
	clk := &ppClock{}
	irq := &ppLine{}
	r := NewRTC(rtcStart, clk, irq)
	b := mem.NewPortBus()
	r.Register(b)
	return r, b, clk, irq
}

func cmosRead(b *mem.PortBus, idx uint8) uint8 {
	b.Out(0x70, 1, uint32(idx))
	return uint8(b.In(0x71, 1))
}

func cmosWrite(b *mem.PortBus, idx, v uint8) {
	b.Out(0x70, 1, uint32(idx))
	b.Out(0x71, 1, uint32(v))
}

func rtcTimeRegs(b *mem.PortBus) [8]uint8 {
	var v [8]uint8
	for i, idx := range []uint8{0, 2, 4, 6, 7, 8, 9, 0x32} {
		v[i] = cmosRead(b, idx)
	}
	return v
}

func TestRTCTimeAndFormats(t *testing.T) {
	_, b, clk, _ := newTestRTC(t)
	if got, want := rtcTimeRegs(b), [8]uint8{0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20}; got != want {
		t.Fatalf("BCD 24h: % x, want % x", got, want)
	}
	clk.ns = 2e9 - 1
	if v := cmosRead(b, 0); v != 0x59 {
		t.Fatalf("second before the update %#x", v)
	}
	clk.ns = 2e9 // leap day rolls to 1 March, Friday
	if got, want := rtcTimeRegs(b), [8]uint8{0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20}; got != want {
		t.Fatalf("after rollover: % x, want % x", got, want)
	}
	cmosWrite(b, 0x0B, 0x06) // binary, 24h
	clk.ns = 2e9 + 13*3600e9 + 45e9
	if got, want := rtcTimeRegs(b), [8]uint8{45, 0, 13, 6, 1, 3, 24, 20}; got != want {
		t.Fatalf("binary: %v, want %v", got, want)
	}
	cmosWrite(b, 0x0B, 0x00) // BCD, 12h
	if v := cmosRead(b, 4); v != 0x81 {
		t.Fatalf("13h in 12h BCD = %#x, want 0x81 (PM 1)", v)
	}
	clk.ns = 2e9 + 12*3600e9
	if v := cmosRead(b, 4); v != 0x92 {
		t.Fatalf("noon = %#x, want 0x92", v)
	}
	clk.ns = 2e9 + 30*60e9
	if v := cmosRead(b, 4); v != 0x12 {
		t.Fatalf("00:30 hour = %#x, want 0x12 (12 AM)", v)
	}
	cmosWrite(b, 0x0B, 0x04) // binary, 12h
	clk.ns = 2e9 + 23*3600e9
	if v := cmosRead(b, 4); v != 0x8B {
		t.Fatalf("23h binary 12h = %#x, want 0x8B", v)
	}
}

func TestRTCSetBitAndTimeWrites(t *testing.T) {
	r, b, clk, _ := newTestRTC(t)
	clk.ns = 300e6
	cmosWrite(b, 0x0B, 0x82|rtcUIE) // SET (UIE must be cleared)
	if v := cmosRead(b, 0x0B); v != 0x82 {
		t.Fatalf("reg B = %#x: SET must clear UIE", v)
	}
	// 1999-12-31 23:59:59, a Friday (6).
	for _, w := range [][2]uint8{{0, 0x59}, {2, 0x59}, {4, 0x23}, {6, 6}, {7, 0x31}, {8, 0x12}, {9, 0x99}, {0x32, 0x19}} {
		cmosWrite(b, w[0], w[1])
	}
	clk.ns = 5e9
	if v := cmosRead(b, 0); v != 0x59 {
		t.Fatalf("clock ran with SET: %#x", v)
	}
	cmosWrite(b, 0x0B, 0x02) // clear SET at 5.0 s; the phase says next update at 6.0 s
	clk.ns = 6e9
	if got, want := rtcTimeRegs(b), [8]uint8{0, 0, 0, 7, 0x01, 0x01, 0x00, 0x20}; got != want {
		t.Fatalf("Y2K rollover: % x, want % x", got, want)
	}
	if got := r.Time(); !got.Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Time() = %v", got)
	}
	// Writing a time register while running takes effect at once.
	cmosWrite(b, 2, 0x42)
	clk.ns = 7e9
	if v := cmosRead(b, 2); v != 0x42 || cmosRead(b, 0) != 0x01 {
		t.Fatalf("minute write while running: %#x", v)
	}
}

func TestRTCUIPAndDivider(t *testing.T) {
	_, b, clk, _ := newTestRTC(t)
	clk.ns = 1e9 - rtcUIPHold - 1
	if cmosRead(b, 0x0A)&0x80 != 0 {
		t.Fatal("UIP set too early")
	}
	clk.ns = 1e9 - rtcUIPHold
	if cmosRead(b, 0x0A) != 0xA6 {
		t.Fatal("UIP not set 244 µs before the update")
	}
	clk.ns = 1e9
	if cmosRead(b, 0x0A) != 0x26 {
		t.Fatal("UIP still set after the update")
	}
	if cmosRead(b, 0x0D) != 0x80 {
		t.Fatal("reg D must read VRT=1")
	}
	cmosWrite(b, 0x0A, 0x76) // divider chain reset
	clk.ns = 10e9
	if v := cmosRead(b, 0); v != 0x59 {
		t.Fatalf("time ran with the divider in reset: %#x", v)
	}
	if cmosRead(b, 0x0A)&0x80 != 0 {
		t.Fatal("UIP with the divider in reset")
	}
	cmosWrite(b, 0x0A, 0x26) // release: first update 500 ms later
	clk.ns = 10.5e9 - 1
	if v := cmosRead(b, 0); v != 0x59 {
		t.Fatalf("update before half a second: %#x", v)
	}
	clk.ns = 10.5e9
	if v := cmosRead(b, 0); v != 0x00 {
		t.Fatalf("no update half a second after release: %#x", v)
	}
}

func TestRTCPeriodicInterrupt(t *testing.T) {
	for _, c := range []struct {
		rs   uint8
		want int
	}{{6, 1024}, {15, 2}, {3, 8192}, {1, 256}, {2, 128}} {
		r, b, clk, irq := newTestRTC(t)
		cmosWrite(b, 0x0A, 0x20|c.rs)
		cmosWrite(b, 0x0B, 0x02|rtcPIE)
		n := 0
		for {
			d := r.Deadline()
			if d > 1e9 {
				break
			}
			clk.ns = d
			r.Advance(d)
			if !irq.level {
				t.Fatalf("RS=%d: no IRQ at deadline %d", c.rs, d)
			}
			if v := cmosRead(b, 0x0C); v&0xC0 != 0xC0 {
				t.Fatalf("reg C = %#x, want IRQF|PF", v)
			}
			if irq.level {
				t.Fatal("reading C must lower IRQ 8")
			}
			n++
		}
		if n != c.want {
			t.Fatalf("RS=%d: %d periodic interrupts in 1 s, want %d", c.rs, n, c.want)
		}
	}
	// PF is set even with PIE clear, but IRQF and the line are not.
	_, b, clk, irq := newTestRTC(t)
	clk.ns = 5e6
	if v := cmosRead(b, 0x0C); v != rtcPF {
		t.Fatalf("reg C = %#x, want PF only", v)
	}
	if irq.rises != 0 {
		t.Fatal("IRQ without PIE")
	}
	if v := cmosRead(b, 0x0C); v != 0 {
		t.Fatalf("reg C not cleared by read: %#x", v)
	}
}

func TestRTCUpdateInterrupt(t *testing.T) {
	r, b, clk, irq := newTestRTC(t)
	clk.ns = 100e6
	cmosWrite(b, 0x0A, 0x20) // no periodic
	cmosRead(b, 0x0C)        // drop the PF of the first 100 ms
	cmosWrite(b, 0x0B, 0x02|rtcUIE)
	if d := r.Deadline(); d != 1e9 {
		t.Fatalf("deadline %d, want 1e9", d)
	}
	clk.ns = 1e9
	r.Advance(clk.ns)
	if !irq.level || cmosRead(b, 0x0C) != rtcIRQF|rtcUF {
		t.Fatal("update-ended interrupt missing")
	}
	if d := r.Deadline(); d != 2e9 {
		t.Fatalf("next deadline %d", d)
	}
}

func TestRTCAlarm(t *testing.T) {
	r, b, clk, irq := newTestRTC(t)
	cmosWrite(b, 0x0A, 0x20)
	// Alarm at 00:00:03 (BCD): five seconds after the start.
	cmosWrite(b, 1, 0x03)
	cmosWrite(b, 3, 0x00)
	cmosWrite(b, 5, 0x00)
	cmosWrite(b, 0x0B, 0x02|rtcAIE)
	if d := r.Deadline(); d != 5e9 {
		t.Fatalf("alarm deadline %d, want 5e9", d)
	}
	clk.ns = 4e9
	r.Advance(clk.ns)
	if irq.level {
		t.Fatal("alarm early")
	}
	clk.ns = 5e9
	r.Advance(clk.ns)
	if !irq.level {
		t.Fatal("alarm did not raise IRQ 8")
	}
	if v := cmosRead(b, 0x0C); v != rtcIRQF|rtcAF|rtcUF {
		t.Fatalf("reg C = %#x, want IRQF|AF|UF", v)
	}
	// Don't-care hours and minutes: fires at every :30.
	cmosWrite(b, 1, 0x30)
	cmosWrite(b, 3, 0xC0)
	cmosWrite(b, 5, 0xFF)
	if d := r.Deadline(); d != 32e9 {
		t.Fatalf("wildcard alarm deadline %d, want 32e9", d)
	}
	// AF is latched even with AIE off and a long gap between reads.
	cmosWrite(b, 0x0B, 0x02)
	clk.ns = 3600e9
	if v := cmosRead(b, 0x0C); v&rtcAF == 0 || v&rtcIRQF != 0 {
		t.Fatalf("reg C = %#x, want AF without IRQF", v)
	}
	// An alarm hour that can never match (12h encoding in 24h mode).
	cmosWrite(b, 5, 0x92)
	cmosWrite(b, 0x0B, 0x02|rtcAIE)
	if d := r.Deadline(); d != NoDeadline {
		t.Fatalf("impossible alarm scheduled at %d", d)
	}
}

func TestRTCPortsAndNMI(t *testing.T) {
	r, b, _, _ := newTestRTC(t)
	b.Out(0x70, 1, 0x8F)
	if !r.NMIMasked() {
		t.Fatal("NMI mask bit not seen")
	}
	b.Out(0x71, 1, 0xAB)
	b.Out(0x70, 1, 0x0F)
	if r.NMIMasked() || b.In(0x71, 1) != 0xAB {
		t.Fatal("index with NMI bit must select the same byte")
	}
	b.Out(0x72, 1, 0x10)
	b.Out(0x73, 1, 0x5A)
	if r.Byte(0x90) != 0x5A || b.In(0x73, 1) != 0x5A {
		t.Fatal("extended bank")
	}
	if b.In(0x70, 1) != 0xFF {
		t.Fatal("index port must read as floating bus")
	}
	b.Out(0x70, 2, 0x3C40) // OUT DX, AX: index in AL, data in AH
	if r.Byte(0x40) != 0x3C {
		t.Fatal("word write to 0x70 must write index then data")
	}
	cmosWrite(b, 0x0D, 0)
	cmosWrite(b, 0x0C, 0xFF)
	if cmosRead(b, 0x0D) != 0x80 || cmosRead(b, 0x0C)&0x30 != 0 {
		t.Fatal("C and D are read-only")
	}
}

func TestRTCMemorySizeAndChecksum(t *testing.T) {
	r, _, _, _ := newTestRTC(t)
	r.SetMemorySize(3<<30, 1<<30)
	for idx, want := range map[int]byte{
		0x15: 0x80, 0x16: 0x02, 0x17: 0xFF, 0x18: 0xFF, 0x30: 0xFF, 0x31: 0xFF,
		0x34: 0x00, 0x35: 0xBF, 0x5B: 0x00, 0x5C: 0x40, 0x5D: 0x00,
	} {
		if got := r.Byte(idx); got != want {
			t.Errorf("3G+1G: CMOS[%#x] = %#x, want %#x", idx, got, want)
		}
	}
	r.SetMemorySize(32<<20, 0)
	for idx, want := range map[int]byte{0x17: 0x00, 0x18: 0x7C, 0x34: 0x00, 0x35: 0x01, 0x5C: 0} {
		if got := r.Byte(idx); got != want {
			t.Errorf("32M: CMOS[%#x] = %#x, want %#x", idx, got, want)
		}
	}
	r.SetEquipment(1, true, true)
	if r.Byte(0x14) != 0x07 {
		t.Fatalf("equipment %#x", r.Byte(0x14))
	}
	var sum int
	for i := 0x10; i <= 0x2D; i++ {
		sum += int(r.Byte(i))
	}
	if got := int(r.Byte(0x2E))<<8 | int(r.Byte(0x2F)); got != sum {
		t.Fatalf("checksum %#x, want %#x", got, sum)
	}
	r.SetByte(0x2D, r.Byte(0x2D)+1)
	if got := int(r.Byte(0x2E))<<8 | int(r.Byte(0x2F)); got != sum+1 {
		t.Fatal("SetByte did not update the checksum")
	}
}

func TestRTCSaveLoad(t *testing.T) {
	r, b, clk, _ := newTestRTC(t)
	cmosWrite(b, 0x0B, 0x02|rtcPIE)
	cmosWrite(b, 0x40, 0x77)
	clk.ns = 123456789
	r.Advance(clk.ns)
	data, err := r.Save()
	if err != nil {
		t.Fatal(err)
	}
	irq := &ppLine{}
	q := NewRTC(time.Unix(0, 0), clk, irq)
	if err := q.Load(data); err != nil {
		t.Fatal(err)
	}
	if !irq.level {
		t.Fatal("IRQ 8 level not restored")
	}
	clk.ns = 98765432100
	if r.Time() != q.Time() || r.Byte(0x40) != q.Byte(0x40) || r.Deadline() != q.Deadline() {
		t.Fatal("state differs after load")
	}
	if q.Load(data[:len(data)-3]) == nil {
		t.Fatal("truncated snapshot accepted")
	}
	bad := append([]byte(nil), data...)
	bad[0] = 2
	if q.Load(bad) == nil {
		t.Fatal("bad version accepted")
	}
}

func TestRTCGarbageNeverPanics(t *testing.T) {
	r, b, clk, _ := newTestRTC(t)
	for i := 0; i < 20000; i++ {
		v := uint32(i) * 2654435761 >> 9
		b.Out(0x70+uint16(v%4), 1, v>>8)
		b.In(0x70+uint16(v>>3%4), 1)
		if i%3 == 0 {
			cmosWrite(b, uint8(v%14), uint8(v>>16))
		}
		clk.ns += int64(v % 50e6)
		if d := r.Deadline(); d <= clk.ns {
			r.Advance(clk.ns)
		}
		r.Time()
	}
}

func TestRTCLoadNoiseNeverPanics(t *testing.T) {
	r, b, clk, _ := newTestRTC(t)
	data, _ := r.Save()
	ok := 0
	for seed := uint64(0); seed < 2000; seed++ {
		ppNoise(data, seed)
		data[0] = rtcSnapVersion
		data[1+rtcRegA] &= 0x7F
		data[257] &= 0x7F // Index
		data[258] &= 0x7F // Index2
		binary.LittleEndian.PutUint64(data[277:], seed%7)
		if r.Load(data) == nil {
			ok++
			clk.ns += 1e6
			r.Advance(clk.ns)
			r.Deadline()
			r.Time()
			for _, idx := range []uint8{0, 4, 0x0A, 0x0C} {
				cmosRead(b, idx)
			}
			cmosWrite(b, 0x0B, uint8(seed))
		}
	}
	if ok == 0 {
		t.Fatal("no noise snapshot passed validation; the test exercised nothing")
	}
}
