package cpu

import "testing"

// FuzzX87SSE executes random byte strings (steered towards the x87 and
// vector opcode space) and requires that nothing panics in Go.
func FuzzX87SSE(f *testing.F) {
	f.Add([]byte{0xd9, 0xe8, 0xd9, 0xfe, 0xde, 0xf9})
	f.Add([]byte{0x66, 0x0f, 0x58, 0xc1, 0xf3, 0x0f, 0x5e, 0x00})
	f.Add([]byte{0x0f, 0xae, 0x06, 0x00, 0x30, 0x0f, 0xfc, 0xc1})
	f.Add([]byte{0xdd, 0x36, 0x00, 0x30, 0xdf, 0x36, 0x10, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64 {
			b = b[:64]
		}
		c := newRealCPU(t, b)
		c.FCW = 0x0040 | uint16(len(b))&0xf3f
		c.MXCSR = mxcsrReset ^ uint32(len(b))&0x3f<<mxMaskShift
		for i := 0; i < 64 && !c.Halted && c.ShutdownReason == ""; i++ {
			c.Step()
		}
	})
}
