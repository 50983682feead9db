package roms

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLinuxBootROMBuild re-assembles linuxboot.asm and checks that the
// committed linuxboot.bin is exactly nasm's output signed by
// SignOptionROM: the embedded binary is built from our source.
func TestLinuxBootROMBuild(t *testing.T) {
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm is not installed (make test installs Debian's nasm package)")
	}
	out := filepath.Join(t.TempDir(), "linuxboot.bin")
	if b, err := exec.Command(nasm, "-f", "bin", "-o", out, "linuxboot.asm").CombinedOutput(); err != nil {
		t.Fatalf("nasm: %v\n%s", err, b)
	}
	rom, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := SignOptionROM(rom); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rom, linuxBoot) {
		t.Fatalf("linuxboot.bin (%d bytes) is not what linuxboot.asm assembles to (%d bytes): run go generate ./roms", len(linuxBoot), len(rom))
	}
}

// TestLinuxBootROMHeader checks the fields SeaBIOS reads: the legacy
// option ROM header (signature, size, checksum, init vector), and the
// PnP expansion header whose boot entry vector makes it a boot device.
func TestLinuxBootROMHeader(t *testing.T) {
	rom := LinuxBoot()
	le := binary.LittleEndian
	if err := CheckOptionROM(rom); err != nil {
		t.Fatal(err)
	}
	if rom[3] != 0xcb {
		t.Errorf("init vector: %#x, want a far return (0xcb)", rom[3])
	}
	if pci := le.Uint16(rom[0x18:]); pci != 0 {
		t.Errorf("PCI data structure offset %#x, want none", pci)
	}
	pnp := int(le.Uint16(rom[0x1a:]))
	if pnp == 0 || pnp+0x20 > len(rom) || string(rom[pnp:pnp+4]) != "$PnP" {
		t.Fatalf("no $PnP header at %#x", pnp)
	}
	h := rom[pnp:]
	if h[4] != 1 {
		t.Errorf("PnP revision %d, want 1", h[4])
	}
	n := int(h[5]) * 16
	if n != 0x20 {
		t.Errorf("PnP header length %d, want 32", n)
	}
	var sum byte
	for _, b := range h[:n] {
		sum += b
	}
	if sum != 0 {
		t.Errorf("PnP header checksum: sums to %#x", sum)
	}
	if next := le.Uint16(h[6:]); next != 0 {
		t.Errorf("next PnP header %#x, want none", next)
	}
	str := func(off uint16) string {
		if int(off) >= len(rom) {
			return "<out of range>"
		}
		s, _, _ := bytes.Cut(rom[off:], []byte{0})
		return string(s)
	}
	if s := str(le.Uint16(h[0x0e:])); s != "Fuji" {
		t.Errorf("manufacturer %q", s)
	}
	if s := str(le.Uint16(h[0x10:])); s != "Linux loader" {
		t.Errorf("product %q", s)
	}
	if bcv := le.Uint16(h[0x16:]); bcv != 0 {
		t.Errorf("BCV %#x: the loader is a boot entry, not a disk", bcv)
	}
	bev := int(le.Uint16(h[0x1a:]))
	if bev < 0x40 || bev >= len(rom) || rom[bev] != 0xfa {
		t.Errorf("BEV %#x does not point at the loader's entry (cli)", bev)
	}
}

// TestCheckOptionROM makes sure the checks reject what a BIOS rejects.
func TestCheckOptionROM(t *testing.T) {
	rom := LinuxBoot()
	rom[0x100]++
	if CheckOptionROM(rom) == nil {
		t.Error("a corrupted image passes the checksum")
	}
	if err := SignOptionROM(rom); err != nil || CheckOptionROM(rom) != nil {
		t.Errorf("re-signing: %v / %v", err, CheckOptionROM(rom))
	}
	if CheckOptionROM(rom[:512]) == nil {
		t.Error("a truncated image passes")
	}
	bad := LinuxBoot()
	bad[0] = 0
	if CheckOptionROM(bad) == nil || SignOptionROM(bad) == nil {
		t.Error("an image without 55AA passes")
	}
}
