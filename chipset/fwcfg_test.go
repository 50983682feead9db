package chipset

import (
	"bytes"
	"encoding/binary"
	"testing"

	"fuji/mem"
)

func newFWRig(t *testing.T) (*mem.Bus, *mem.PortBus, *FWCfg) {
	t.Helper()
	bus, err := mem.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	ports := mem.NewPortBus()
	f := NewFWCfg(bus)
	f.Register(ports)
	return bus, ports, f
}

func readItem(ports *mem.PortBus, key uint16, n int) []byte {
	ports.Out(FWCfgPortSel, 2, uint32(key))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(ports.In(FWCfgPortData, 1))
	}
	return b
}

// dmaDesc writes a FWCfgDmaAccess at at and starts it as SeaBIOS does
// (only the low half of the address written).
func dmaDesc(bus *mem.Bus, ports *mem.PortBus, at uint64, control, length uint32, addr uint64) uint32 {
	var d [16]byte
	binary.BigEndian.PutUint32(d[0:], control)
	binary.BigEndian.PutUint32(d[4:], length)
	binary.BigEndian.PutUint64(d[8:], addr)
	bus.WriteBytes(at, d[:])
	ports.Out(FWCfgPortDMA+4, 4, fwSwap32(uint32(at)))
	var c [4]byte
	bus.ReadBytes(at, c[:])
	return binary.BigEndian.Uint32(c[:])
}

func TestFWCfgSignatureAndID(t *testing.T) {
	_, ports, _ := newFWRig(t)
	if got := readItem(ports, FWCfgSignature, 6); !bytes.Equal(got, []byte("QEMU\x00\x00")) {
		t.Errorf("signature = %q (past the end must read 0)", got)
	}
	if got := binary.LittleEndian.Uint32(readItem(ports, FWCfgID, 4)); got != 3 {
		t.Errorf("ID = %d, want 3 (traditional + DMA)", got)
	}
	if got := binary.LittleEndian.Uint64(readItem(ports, FWCfgRAMSize, 8)); got != 1<<20 {
		t.Errorf("RAM size = %#x", got)
	}
	if got := binary.LittleEndian.Uint16(readItem(ports, FWCfgMaxCPUs, 2)); got != 1 {
		t.Errorf("max CPUs = %d", got)
	}
	if got := readItem(ports, 0x1234, 4); !bytes.Equal(got, make([]byte, 4)) {
		t.Errorf("missing item = %v, want zeros", got)
	}
	// Reading the DMA port gives the "QEMU CFG" signature.
	if ports.In(FWCfgPortDMA, 4) != 0x554D4551 || ports.In(FWCfgPortDMA+4, 4) != 0x47464320 {
		t.Errorf("DMA signature %#x %#x", ports.In(FWCfgPortDMA, 4), ports.In(FWCfgPortDMA+4, 4))
	}
	// Selecting restarts at offset 0; a byte write to the selector does not select.
	readItem(ports, FWCfgSignature, 2)
	ports.Out(FWCfgPortSel, 1, FWCfgID)
	if got := ports.In(FWCfgPortData, 1); got != 'M' {
		t.Errorf("after byte write to selector read %#x, want 'M'", got)
	}
}

func TestFWCfgFileDir(t *testing.T) {
	_, ports, f := newFWRig(t)
	for _, n := range []string{"etc/z", "bootorder", "etc/a"} {
		if err := f.AddFile(n, []byte("data:"+n)); err != nil {
			t.Fatal(err)
		}
	}
	if f.AddFile("bootorder", nil) == nil {
		t.Error("duplicate name accepted")
	}
	if f.AddFile(string(make([]byte, 56)), nil) == nil || f.AddFile("", nil) == nil {
		t.Error("bad name accepted")
	}
	if err := f.AddFileUint("etc/boot-fail-wait", 4, 5000); err != nil {
		t.Fatal(err)
	}
	dir := readItem(ports, FWCfgFileDir, 4+4*64)
	if n := binary.BigEndian.Uint32(dir); n != 4 {
		t.Fatalf("count = %d", n)
	}
	want := []string{"bootorder", "etc/a", "etc/boot-fail-wait", "etc/z"}
	for i, name := range want {
		e := dir[4+64*i:]
		size := binary.BigEndian.Uint32(e)
		sel := binary.BigEndian.Uint16(e[4:])
		got := string(bytes.TrimRight(e[8:64], "\x00"))
		if got != name || sel != uint16(0x20+i) {
			t.Errorf("entry %d = %q sel %#x, want %q sel %#x", i, got, sel, name, 0x20+i)
		}
		wantData := []byte("data:" + name)
		if name == "etc/boot-fail-wait" {
			wantData = []byte{0x88, 0x13, 0, 0}
		}
		if int(size) != len(wantData) {
			t.Errorf("%s size = %d", name, size)
		}
		if data := readItem(ports, sel, int(size)); !bytes.Equal(data, wantData) {
			t.Errorf("%s = %q", name, data)
		}
	}
	// e820 helper: 20-byte packed little-endian records.
	if err := f.SetE820([]E820Entry{{0, 0x9FC00, 1}, {0x100000, 0x700000, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetE820([]E820Entry{{0xFEFFC000, 0x4000, 2}}); err != nil {
		t.Fatal(err)
	}
	e := f.File("etc/e820")
	if len(e) != 20 || binary.LittleEndian.Uint64(e) != 0xFEFFC000 || binary.LittleEndian.Uint32(e[16:]) != 2 {
		t.Errorf("etc/e820 = %x", e)
	}
}

func TestFWCfgDMA(t *testing.T) {
	bus, ports, f := newFWRig(t)
	payload := make([]byte, 300)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	if err := f.AddFile("etc/test", payload); err != nil {
		t.Fatal(err)
	}
	sel := uint32(0x20)

	// Select + read the whole file, plus 20 bytes past its end (zeros).
	for i := 0; i < 400; i++ {
		bus.Write(0x2000+uint64(i), 1, 0xEE)
	}
	if c := dmaDesc(bus, ports, 0x1000, sel<<16|FWCfgDMASelect|FWCfgDMARead, 320, 0x2000); c != 0 {
		t.Fatalf("control after read = %#x", c)
	}
	got := make([]byte, 330)
	bus.ReadBytes(0x2000, got)
	if !bytes.Equal(got[:300], payload) || !bytes.Equal(got[300:320], make([]byte, 20)) || got[320] != 0xEE {
		t.Errorf("DMA read wrong: head %x tail %x", got[:8], got[296:330])
	}

	// Skip then read continues from the offset.
	dmaDesc(bus, ports, 0x1000, sel<<16|FWCfgDMASelect|FWCfgDMASkip, 100, 0)
	if c := dmaDesc(bus, ports, 0x1000, FWCfgDMARead, 4, 0x3000); c != 0 {
		t.Fatalf("control = %#x", c)
	}
	bus.ReadBytes(0x3000, got[:4])
	if !bytes.Equal(got[:4], payload[100:104]) {
		t.Errorf("read after skip = %x", got[:4])
	}
	// Traditional and DMA interfaces share the offset.
	if b := ports.In(FWCfgPortData, 1); byte(b) != payload[104] {
		t.Errorf("port read after DMA = %#x", b)
	}

	// The high address half is honoured once, then reset.
	ports.Out(FWCfgPortDMA, 4, fwSwap32(0))
	if c := dmaDesc(bus, ports, 0x1100, uint32(FWCfgSignature)<<16|FWCfgDMASelect|FWCfgDMARead, 4, 0x3100); c != 0 {
		t.Fatalf("control = %#x", c)
	}
	bus.ReadBytes(0x3100, got[:4])
	if string(got[:4]) != "QEMU" {
		t.Errorf("signature by DMA = %q", got[:4])
	}

	// Errors: buffer outside RAM, write to a read-only item.
	if c := dmaDesc(bus, ports, 0x1000, sel<<16|FWCfgDMASelect|FWCfgDMARead, 16, 0xFFFFFFF0); c != FWCfgDMAError {
		t.Errorf("read to a bad address: control %#x, want error", c)
	}
	if c := dmaDesc(bus, ports, 0x1000, sel<<16|FWCfgDMASelect|FWCfgDMARead, 0xFFFFFFFF, 0x8000); c != FWCfgDMAError {
		t.Errorf("4 GiB read into 1 MiB of RAM: control %#x, want error", c)
	}
	if c := dmaDesc(bus, ports, 0x1000, sel<<16|FWCfgDMASelect|FWCfgDMAWrite, 4, 0x2000); c != FWCfgDMAError {
		t.Errorf("write to read-only file: control %#x", c)
	}
	// A control word with no operation completes with nothing done.
	if c := dmaDesc(bus, ports, 0x1000, 0, 4, 0x2000); c != 0 {
		t.Errorf("no-op control %#x", c)
	}
	// Descriptors outside RAM or straddling its end do not panic.
	ports.Out(FWCfgPortDMA, 4, fwSwap32(0xFFFFFFFF))
	ports.Out(FWCfgPortDMA+4, 4, fwSwap32(0xFFFFFFF8))
	ports.Out(FWCfgPortDMA+4, 4, fwSwap32(1<<20-8))

	// Writable files take DMA writes of exactly their remaining size.
	var seen []byte
	if err := f.AddWritableFile("etc/ramfb", make([]byte, 8), func(d []byte) { seen = append([]byte(nil), d...) }); err != nil {
		t.Fatal(err)
	}
	// etc/ramfb sorts before etc/test: selectors moved.
	if c := dmaDesc(bus, ports, 0x1000, 0x20<<16|FWCfgDMASelect|FWCfgDMARead, 4, 0x3200); c != 0 {
		t.Fatal(c)
	}
	bus.WriteBytes(0x4000, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if c := dmaDesc(bus, ports, 0x1000, 0x20<<16|FWCfgDMASelect|FWCfgDMAWrite, 8, 0x4000); c != 0 {
		t.Fatalf("write to writable file: control %#x", c)
	}
	if !bytes.Equal(seen, []byte{1, 2, 3, 4, 5, 6, 7, 8}) || !bytes.Equal(f.File("etc/ramfb"), seen) {
		t.Errorf("write callback saw %v", seen)
	}
	if c := dmaDesc(bus, ports, 0x1000, 0x20<<16|FWCfgDMASelect|FWCfgDMAWrite, 9, 0x4000); c != FWCfgDMAError {
		t.Errorf("overlong write: control %#x", c)
	}

	// Snapshot: position and writable contents.
	ports.Out(FWCfgPortSel, 2, 0x21)
	ports.In(FWCfgPortData, 1)
	data, err := f.Save()
	if err != nil {
		t.Fatal(err)
	}
	_, ports2, f2 := newFWRig(t)
	_ = f2.AddFile("etc/test", payload)
	_ = f2.AddWritableFile("etc/ramfb", make([]byte, 8), nil)
	if err := f2.Load(data); err != nil {
		t.Fatal(err)
	}
	if b := ports2.In(FWCfgPortData, 1); byte(b) != payload[1] {
		t.Errorf("after Load data port = %#x", b)
	}
	if !bytes.Equal(f2.File("etc/ramfb"), seen) {
		t.Error("writable file contents not restored")
	}
	_, _, f3 := newFWRig(t)
	if f3.Load(data) == nil {
		t.Error("Load into a machine without etc/ramfb succeeded")
	}
	if f2.Load(data[:10]) == nil {
		t.Error("truncated snapshot accepted")
	}
}
