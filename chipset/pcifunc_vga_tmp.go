package chipset

// PCIFunction is one function's configuration space as the PCI host sees
// it. The PCI bus (pci.go, in its own tree) declares the same interface;
// this copy lets the VGA tree build alone and is deleted at merge.
type PCIFunction interface {
	ConfigRead(off uint8, size int) uint32
	ConfigWrite(off uint8, size int, val uint32)
}
