package oracle

import "testing"

// TestJITRegOrder: ADD r8d, esi (44 03 C6) has a register source whose
// fast interpreter handler exchanges ModRM's reg and rm at binding; the
// JIT must use the fields as decoded (found by TestIntegerJIT).
func TestJITRegOrder(t *testing.T) {
	var got [2]State
	for i, mk := range []func() (*Fuji, error){NewFuji, NewFujiJIT} {
		f, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		st := &got[i]
		st.GPR = [16]uint64{6: 0xf5f97af4892a2a22, 8: 0x84561f0c43e1f231}
		st.Flags = 0x2d3
		if err := f.Run(st, []byte{0x44, 0x03, 0xc6}); err != nil {
			t.Fatal(err)
		}
	}
	if got[0].GPR != got[1].GPR || got[0].GPR[8] != 0xcd0c1c53 {
		t.Fatalf("interpreter r6=%#x r8=%#x, jit r6=%#x r8=%#x, want r8=0xcd0c1c53", got[0].GPR[6], got[0].GPR[8], got[1].GPR[6], got[1].GPR[8])
	}
}
