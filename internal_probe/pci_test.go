package probe

import (
	"fmt"
	"testing"

	"fuji/machine"
)

func TestPCIBars(t *testing.T) {
	m, err := machine.New(machine.Config{RAM: 64 << 20, NoReboot: true})
	if err != nil {
		t.Fatal(err)
	}
	for dev := 0; dev < 4; dev++ {
		for fn := 0; fn < 8; fn++ {
			id := m.PCI.ConfigRead(dev, fn, 0, 4)
			if id == 0xffffffff {
				continue
			}
			fmt.Printf("%02x.%d id=%08x class=%08x hdr=%02x\n", dev, fn, id, m.PCI.ConfigRead(dev, fn, 8, 4), m.PCI.ConfigRead(dev, fn, 0xe, 1))
			for i := 0; i < 6; i++ {
				off := uint8(0x10 + 4*i)
				old := m.PCI.ConfigRead(dev, fn, off, 4)
				m.PCI.ConfigWrite(dev, fn, off, 4, 0xffffffff)
				sz := m.PCI.ConfigRead(dev, fn, off, 4)
				m.PCI.ConfigWrite(dev, fn, off, 4, old)
				if sz != 0 {
					fmt.Printf("   BAR%d old=%08x mask=%08x\n", i, old, sz)
				}
			}
			old := m.PCI.ConfigRead(dev, fn, 0x30, 4)
			m.PCI.ConfigWrite(dev, fn, 0x30, 4, 0xfffff800)
			fmt.Printf("   ROM old=%08x mask=%08x\n", old, m.PCI.ConfigRead(dev, fn, 0x30, 4))
		}
	}
}
