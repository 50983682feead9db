package cpu

import (
	"encoding/binary"
	"testing"

	"fuji/mem"
)

// Real-mode harness: code at 0000:1000, vectors 0-31 point to HLTs at
// 0000:2000+4·vec so that the vector taken is visible in IP.

func newRealCPU(tb testing.TB, code []byte) *CPU {
	bus, err := mem.New(1 << 20)
	if err != nil {
		tb.Fatal(err)
	}
	ram := bus.RAM()
	for v := 0; v < 32; v++ {
		binary.LittleEndian.PutUint16(ram[4*v:], uint16(0x2000+4*v))
		binary.LittleEndian.PutUint16(ram[4*v+2:], 0)
		ram[0x2000+4*v] = 0xf4
	}
	copy(ram[0x1000:], code)
	ram[0x1000+len(code)] = 0xf4
	c, err := New(bus, mem.NewPortBus(), Config{Model: "x86-64-v2"})
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range []int{CS, DS, ES, SS} {
		c.SetSegReal(s, 0)
	}
	c.RIP = 0x1000
	c.R[RSP] = 0x8000
	c.SetControl(CR0ET|CR0NE, 0, CR4OSFXSR|CR4OSXMMEXCPT, 0)
	c.FCW = 0x037f
	return c
}

func newX87CPU(tb testing.TB, code []byte) *CPU { return newRealCPU(tb, code) }

// run executes until HLT and returns the vector taken (-1: none).
func run(tb testing.TB, c *CPU) int {
	for i := 0; i < 1000 && !c.Halted; i++ {
		c.Step()
		if c.ShutdownReason != "" {
			tb.Fatalf("shutdown: %s", c.ShutdownReason)
		}
	}
	ip := int(c.RIP) - 1
	if ip >= 0x2000 && ip < 0x2080 {
		return (ip - 0x2000) / 4
	}
	return -1
}

func stepOK(tb testing.TB, c *CPU) {
	tb.Helper()
	if v := run(tb, c); v >= 0 {
		tb.Fatalf("exception %d", v)
	}
}

func TestX87MFOnNextWaitingInstruction(t *testing.T) {
	// fld1; fldz; fdivp (unmasked ZE) ; fnop (waiting: #MF)
	c := newRealCPU(t, []byte{0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xd9, 0xd0})
	c.FCW = 0x037f &^ fswZE
	if v := run(t, c); v != ExcMF {
		t.Fatalf("vector %d, want #MF", v)
	}
	if c.FSW&(fswZE|fswES|fswB) != fswZE|fswES|fswB {
		t.Fatalf("FSW %04x", c.FSW)
	}
	// The faulting instruction is the FNOP, after the FDIVP.
	if ip := c.readStack(c.R[RSP], 2); ip != 0x1006 {
		t.Fatalf("#MF return IP %#x, want 0x1006", ip)
	}
	// Non-waiting FNSTSW/FNCLEX do not fault.
	c2 := newRealCPU(t, []byte{0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xdf, 0xe0, 0xdb, 0xe2, 0x9b})
	c2.FCW = 0x037f &^ fswZE
	if v := run(t, c2); v >= 0 {
		t.Fatalf("vector %d after FNSTSW/FNCLEX/WAIT", v)
	}
	if c2.R[RAX]&fswZE == 0 {
		t.Fatalf("FNSTSW AX = %04x", c2.R[RAX])
	}
}

func TestX87FERRWhenNEClear(t *testing.T) {
	c := newRealCPU(t, []byte{0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0x9b})
	c.SetControl(CR0ET, 0, CR4OSFXSR, 0)
	c.FCW = 0x037f &^ fswZE
	var ferr []bool
	c.SetFPUHooks(FPUHooks{FERR: func(b bool) { ferr = append(ferr, b) }})
	if v := run(t, c); v >= 0 {
		t.Fatalf("vector %d with CR0.NE=0", v)
	}
	if len(ferr) != 1 || !ferr[0] {
		t.Fatalf("FERR calls %v", ferr)
	}
}

func TestDeviceNotAvailable(t *testing.T) {
	cases := []struct {
		name string
		code []byte
		cr0  uint64
		cr4  uint64
		want int
	}{
		{"x87 TS", []byte{0xd9, 0xe8}, CR0ET | CR0TS, CR4OSFXSR, ExcNM},
		{"x87 EM", []byte{0xd9, 0xe8}, CR0ET | CR0EM, CR4OSFXSR, ExcNM},
		{"wait TS", []byte{0x9b}, CR0ET | CR0TS, CR4OSFXSR, -1},
		{"wait TS MP", []byte{0x9b}, CR0ET | CR0TS | CR0MP, CR4OSFXSR, ExcNM},
		{"sse TS", []byte{0x0f, 0x58, 0xc1}, CR0ET | CR0TS, CR4OSFXSR, ExcNM},
		{"sse EM", []byte{0x0f, 0x58, 0xc1}, CR0ET | CR0EM, CR4OSFXSR, ExcUD},
		{"sse no OSFXSR", []byte{0x0f, 0x58, 0xc1}, CR0ET, 0, ExcUD},
		{"mmx EM", []byte{0x0f, 0xfc, 0xc1}, CR0ET | CR0EM, CR4OSFXSR, ExcUD},
		{"mmx TS", []byte{0x0f, 0xfc, 0xc1}, CR0ET | CR0TS, CR4OSFXSR, ExcNM},
		{"fxsave TS", []byte{0x0f, 0xae, 0x06, 0x00, 0x30}, CR0ET | CR0TS, CR4OSFXSR, ExcNM},
		{"movaps misaligned", []byte{0x0f, 0x28, 0x06, 0x08, 0x30}, CR0ET, CR4OSFXSR, ExcGP},
		{"movups misaligned", []byte{0x0f, 0x10, 0x06, 0x08, 0x30}, CR0ET, CR4OSFXSR, -1},
		{"fxsave misaligned", []byte{0x0f, 0xae, 0x06, 0x08, 0x30}, CR0ET, CR4OSFXSR, ExcGP},
		{"aesenc absent", []byte{0x66, 0x0f, 0x38, 0xdc, 0xc1}, CR0ET, CR4OSFXSR, ExcUD},
	}
	for _, tc := range cases {
		c := newRealCPU(t, tc.code)
		c.SetControl(tc.cr0, 0, tc.cr4, 0)
		if v := run(t, c); v != tc.want {
			t.Errorf("%s: vector %d, want %d", tc.name, v, tc.want)
		}
	}
}

func TestSIMDExceptions(t *testing.T) {
	// divss xmm0, xmm1 with 1/0 and ZE unmasked: #XM with OSXMMEXCPT,
	// #UD without; the destination is unchanged, MXCSR.ZE set.
	for _, osx := range []bool{true, false} {
		c := newRealCPU(t, []byte{0xf3, 0x0f, 0x5e, 0xc1})
		cr4 := uint64(CR4OSFXSR)
		want := ExcUD
		if osx {
			cr4 |= CR4OSXMMEXCPT
			want = ExcXM
		}
		c.SetControl(CR0ET|CR0NE, 0, cr4, 0)
		c.MXCSR = mxcsrReset &^ (mxZE << mxMaskShift)
		c.XMM[0][0] = 0x3f800000
		if v := run(t, c); v != want {
			t.Errorf("osxmmexcpt=%v: vector %d want %d", osx, v, want)
		}
		if c.XMM[0][0] != 0x3f800000 || c.MXCSR&mxZE == 0 {
			t.Errorf("xmm0 %x mxcsr %x", c.XMM[0][0], c.MXCSR)
		}
	}
	// Masked: the result is +inf.
	c := newRealCPU(t, []byte{0xf3, 0x0f, 0x5e, 0xc1})
	c.XMM[0][0] = 0x3f800000
	stepOK(t, c)
	if c.XMM[0][0] != 0x7f800000 || c.MXCSR&mxZE == 0 {
		t.Errorf("masked 1/0: xmm0 %x mxcsr %x", c.XMM[0][0], c.MXCSR)
	}
	// LDMXCSR with a reserved bit: #GP.
	c = newRealCPU(t, []byte{0x0f, 0xae, 0x16, 0x00, 0x30})
	binary.LittleEndian.PutUint32(c.bus.RAM()[0x3000:], 0x10000|mxcsrReset)
	if v := run(t, c); v != ExcGP {
		t.Errorf("LDMXCSR reserved: vector %d", v)
	}
}

func TestFXSAVELayout(t *testing.T) {
	// fld1; fldpi; fxsave [0x3000]
	c := newRealCPU(t, []byte{0xd9, 0xe8, 0xd9, 0xeb, 0x0f, 0xae, 0x06, 0x00, 0x30})
	c.MXCSR = 0x1f80 | mxPE
	c.XMM[3] = [2]uint64{0x1122334455667788, 0x99aabbccddeeff00}
	stepOK(t, c)
	b := c.bus.RAM()[0x3000:]
	le := binary.LittleEndian
	if fcw, fsw, ftw := le.Uint16(b[0:]), le.Uint16(b[2:]), b[4]; fcw != 0x037f || fsw != 6<<11 || ftw != 0xc0 {
		t.Errorf("fcw %04x fsw %04x ftw %02x", fcw, fsw, ftw)
	}
	if op := le.Uint16(b[6:]); op != 0x1eb {
		t.Errorf("fop %03x, want 1EB (D9 EB)", op)
	}
	if ip := le.Uint32(b[8:]); ip != 0x1002 {
		t.Errorf("fip %x", ip)
	}
	if m := le.Uint32(b[24:]); m != 0x1fa0 {
		t.Errorf("mxcsr %x", m)
	}
	if m := le.Uint32(b[28:]); m != mxcsrMask {
		t.Errorf("mxcsr_mask %x", m)
	}
	if st0 := le.Uint64(b[32:]); st0 != 0xc90fdaa22168c235 || le.Uint16(b[40:]) != 0x4000 {
		t.Errorf("st0 %x", st0)
	}
	if st1 := le.Uint64(b[48:]); st1 != 1<<63 || le.Uint16(b[56:]) != 0x3fff {
		t.Errorf("st1 %x", st1)
	}
	if x := le.Uint64(b[160+48:]); x != 0x1122334455667788 {
		t.Errorf("xmm3 %x", x)
	}
	// FXRSTOR round trip after FNINIT.
	c2 := newRealCPU(t, []byte{0xdb, 0xe3, 0x0f, 0xae, 0x0e, 0x00, 0x30})
	copy(c2.bus.RAM()[0x3000:0x3200], b[:512])
	stepOK(t, c2)
	if c2.st(0) != c.st(0) || c2.FTW != 0xc0 || c2.XMM[3] != c.XMM[3] || c2.MXCSR != c.MXCSR {
		t.Errorf("FXRSTOR did not restore the state")
	}
}

func TestFSAVELayouts(t *testing.T) {
	// Real mode, 16-bit: fld1; fnsave [0x3000] (14-byte environment).
	c := newRealCPU(t, []byte{0xd9, 0xe8, 0xdd, 0x36, 0x00, 0x30})
	stepOK(t, c)
	b := c.bus.RAM()[0x3000:]
	le := binary.LittleEndian
	if tag := le.Uint16(b[4:]); tag != 0x3fff {
		t.Errorf("16-bit tag word %04x, want 3FFF (R7 valid)", tag)
	}
	if ip := le.Uint16(b[6:]); ip != 0x1000 {
		t.Errorf("real-mode FIP %x", ip)
	}
	if op := le.Uint16(b[8:]) & 0x7ff; op != 0x1e8 {
		t.Errorf("FOP %x", op)
	}
	if m := le.Uint64(b[14:]); m != 1<<63 || le.Uint16(b[22:]) != 0x3fff {
		t.Errorf("ST0 in save area %x", m)
	}
	if c.FCW != 0x037f || c.FTW != 0 {
		t.Errorf("FNSAVE must reinitialise: fcw %04x ftw %02x", c.FCW, c.FTW)
	}
	// 32-bit operand size: 28-byte environment with reserved 0xFFFF.
	c = newRealCPU(t, []byte{0xd9, 0xee, 0x66, 0xd9, 0x36, 0x00, 0x30})
	stepOK(t, c)
	b = c.bus.RAM()[0x3000:]
	if w := le.Uint32(b[0:]); w != 0xffff037f {
		t.Errorf("32-bit FCW slot %08x", w)
	}
	if tag := le.Uint16(b[8:]); tag != 0x7fff {
		t.Errorf("tag %04x, want 7FFF (R7 zero)", tag)
	}
	if c.FCW != 0x037f|fswExc {
		t.Errorf("FNSTENV must mask exceptions: %04x", c.FCW)
	}
}

func TestMMXAliasing(t *testing.T) {
	// fld1; movq mm0, [0x3000]; emms
	c := newRealCPU(t, []byte{0xd9, 0xe8, 0x0f, 0x6f, 0x06, 0x00, 0x30})
	binary.LittleEndian.PutUint64(c.bus.RAM()[0x3000:], 0x0123456789abcdef)
	stepOK(t, c)
	if c.fTop() != 0 || c.FTW != 0xff || c.ST[0] != (F80{Mant: 0x0123456789abcdef, SExp: 0xffff}) {
		t.Errorf("after MOVQ: top %d ftw %02x r0 %04x:%016x", c.fTop(), c.FTW, c.ST[0].SExp, c.ST[0].Mant)
	}
	c = newRealCPU(t, []byte{0x0f, 0x77})
	c.FTW = 0xff
	stepOK(t, c)
	if c.FTW != 0 {
		t.Errorf("EMMS left ftw %02x", c.FTW)
	}
}
