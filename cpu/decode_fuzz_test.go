package cpu

import "testing"

// FuzzDecode: any bytes in any mode decode without panicking, within the
// 15-byte limit and the buffer, deterministically, and (for full 16-byte
// windows) with every disagreement with x86asm explained.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8}, uint8(Mode64))
	f.Add([]byte{0x67, 0x8B, 0x04, 0x24}, uint8(Mode16))
	f.Add([]byte{0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90}, uint8(Mode32))
	f.Fuzz(func(t *testing.T, b []byte, m uint8) {
		mode := Mode(m % 3)
		var in Inst
		err := Decode(b, mode, &in)
		if in.Len > maxInstLen || int(in.Len) > len(b) {
			t.Fatalf("% x mode %d: Len %d (buffer %d), err %v", b, modeBits(mode), in.Len, len(b), err)
		}
		switch err {
		case nil:
			if in.Len == 0 {
				t.Fatalf("% x: success with Len 0", b)
			}
			var in2 Inst
			if err := Decode(b[:in.Len], mode, &in2); err != nil || describeEq(&in, &in2) != "" {
				t.Fatalf("% x: exact-length decode differs: %v %s", b, err, describeEq(&in, &in2))
			}
		case ErrTruncated:
			if len(b) >= maxInstLen {
				t.Fatalf("% x: ErrTruncated with %d bytes", b, len(b))
			}
		case ErrTooLong, ErrInvalid:
		default:
			t.Fatalf("% x: unexpected error %v", b, err)
		}
		if len(b) >= 16 {
			if _, err := classify(b[:16], mode); err != nil {
				t.Fatalf("% x mode %d vs x86asm: %v", b[:16], modeBits(mode), err)
			}
		}
	})
}
