package cpu

import "testing"

// TestSelfModifyingCode: an instruction that rewrites the immediate of the
// next instruction in the same block must see the new byte executed.
func TestSelfModifyingCode(t *testing.T) {
	code := []byte{
		0xc6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x42, // mov byte [0x1008], 0x42
		0xb0, 0x00, // 0x1007: mov al, 0
		0xf4, // hlt
	}
	c := newFlat32(t, code)
	for i := 0; i < 3; i++ { // again with the block cached
		c.RIP, c.Halted = 0x1000, false
		c.Bus().RAM()[0x1008] = 0
		for !c.Halted {
			c.Run(100)
		}
		if got := c.R[RAX] & 0xff; got != 0x42 {
			t.Fatalf("run %d: AL = %#x, want the rewritten immediate 0x42", i, got)
		}
	}
}

// TestDataBesideCodeKeepsBlocks: stores to a page that holds code, but not
// to its code bytes, leave the blocks valid (64-byte granules).
func TestDataBesideCodeKeepsBlocks(t *testing.T) {
	c := newFlat32(t, loop32)
	c.RIP = 0x1000
	c.R[RCX] = 1000
	c.R[RSI] = 0x1800 // same page as the code at 0x1000
	c.R[RDI] = 0x1840
	for !c.Halted {
		c.Run(1 << 20)
	}
	if c.R[RCX] != 0 {
		t.Fatalf("loop did not finish:\n%v", c)
	}
	if n := c.blocks.invalidated; n != 0 {
		t.Fatalf("%d blocks invalidated by data writes beside the code", n)
	}
	// A write into the code itself still invalidates.
	c.write(DS, 0x1000, 1, 0x01)
	if c.blocks.invalidated == 0 {
		t.Fatal("a write to code bytes did not invalidate the block")
	}
}
