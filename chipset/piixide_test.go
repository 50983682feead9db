package chipset

import (
	"testing"

	"fuji/mem"
)

func TestPIIXIDEConfig(t *testing.T) {
	d := NewPIIXIDE(mem.NewPortBus())
	if got := d.ConfigRead(0, 4); got != 0x70108086 {
		t.Errorf("ID = %#x", got)
	}
	if got := d.ConfigRead(8, 4); got != 0x01018000 {
		t.Errorf("class/prog-if/rev = %#x, want 0x01018000", got)
	}
	if got := d.ConfigRead(PCIIntPin, 1); got != 0 {
		t.Errorf("interrupt pin = %d, legacy mode has none", got)
	}
	// Command: only I/O space and bus master are writable.
	d.ConfigWrite(PCICommand, 2, 0xFFFF)
	if got := d.ConfigRead(PCICommand, 2); got != 0x0005 {
		t.Errorf("command = %#x, want 0x0005", got)
	}
	// BMIBA sizing: 16 bytes of I/O. All 32 bits respond, as on QEMU's
	// PIIX (SeaBIOS sizes I/O BARs over 32 bits).
	d.ConfigWrite(PIIXIDEBMIBA, 4, 0xFFFFFFFF)
	if got := d.ConfigRead(PIIXIDEBMIBA, 4); got != 0xFFFFFFF1 {
		t.Errorf("BMIBA sized = %#x, want 0xFFFFFFF1", got)
	}
	d.ConfigWrite(PIIXIDEBMIBA, 4, 0xC041)
	if base, ok := d.Header().BARAddr(4); !ok || base != 0xC040 {
		t.Errorf("BMIBA decodes at %#x %v", base, ok)
	}
	// BARs 0-3 are absent in legacy mode.
	d.ConfigWrite(PCIBAR0, 4, 0xFFFFFFFF)
	if d.ConfigRead(PCIBAR0, 4) != 0 {
		t.Error("BAR0 writable")
	}
	// SeaBIOS enables both channels by writing 0x8000 to 0x40 and 0x42.
	d.ConfigWrite(PIIXIDEIDETIMP, 2, 0x8000)
	if !d.ChannelEnabled(0) || d.ChannelEnabled(1) {
		t.Error("primary decode enable not seen")
	}
	d.ConfigWrite(PIIXIDEIDETIMS, 2, 0x8000)
	d.ConfigWrite(PIIXIDESIDETIM, 1, 0xA5)
	if !d.ChannelEnabled(1) || d.ConfigRead(PIIXIDESIDETIM, 1) != 0xA5 {
		t.Error("secondary timing / SIDETIM not writable")
	}
	data, err := d.Save()
	if err != nil {
		t.Fatal(err)
	}
	d.Reset()
	if d.ChannelEnabled(0) || d.ConfigRead(PCICommand, 2) != 0 {
		t.Error("Reset did not clear the registers")
	}
	if err := d.Load(data); err != nil || !d.ChannelEnabled(1) {
		t.Errorf("Load: %v", err)
	}
	if d.Load(data[:5]) == nil {
		t.Error("truncated snapshot accepted")
	}
}
