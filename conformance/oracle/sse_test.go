//go:build linux && amd64

package oracle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"testing"

	"fuji/cpu"
)

// vecForms enumerates the MMX/SSE forms Fuji implements: every 0F and
// 0F 38 opcode with each mandatory prefix (none, 66, F3, F2) and a
// register or memory operand, kept when Fuji does not reject it (#UD).
func vecForms(t *testing.T, f *Fuji) []Form {
	var forms []Form
	prefixes := []struct {
		name string
		b    byte
	}{{"", 0}, {"66", 0x66}, {"F3", 0xf3}, {"F2", 0xf2}}
	type cand struct {
		op   []byte
		reg  int // fixed ModRM.reg or -1
		imm  int
		need string
		w    bool // REX.W (PEXTRQ/PINSRQ and the r64 forms)
	}
	var cands []cand
	for o := 0x10; o < 0x100; o++ {
		switch {
		case o >= 0x18 && o <= 0x27, o >= 0x30 && o <= 0x4f, o >= 0x80 && o <= 0xc1, o >= 0xc7 && o <= 0xcf:
			continue
		case o == 0x38 || o == 0x3a || o == 0x77:
			continue
		case o == 0x52 || o == 0x53:
			continue // RCP/RSQRT approximations: TestRcpRsqrt, with a tolerance
		}
		imm := 0
		if o == 0x70 || o == 0xc2 || o == 0xc4 || o == 0xc5 || o == 0xc6 || o >= 0x71 && o <= 0x73 {
			imm = 1
		}
		if o >= 0x71 && o <= 0x73 {
			for r := 0; r < 8; r++ {
				cands = append(cands, cand{[]byte{0x0f, byte(o)}, r, imm, "sse2", false})
			}
			continue
		}
		need := "sse2"
		if o == 0x7c || o == 0x7d || o == 0xd0 {
			need = "sse3"
		}
		cands = append(cands, cand{[]byte{0x0f, byte(o)}, -1, imm, need, false})
	}
	// 0F 38 and 0F 3A: SSSE3 (MMX and XMM forms), SSE4.1, SSE4.2.
	for o := 0; o < 0x100; o++ {
		need := "sse4.1"
		switch {
		case o <= 0x0b || o >= 0x1c && o <= 0x1e:
			need = "ssse3"
		case o == 0x37:
			need = "sse4.2"
		case o >= 0x10 && o <= 0x41:
		default:
			continue
		}
		cands = append(cands, cand{op: []byte{0x0f, 0x38, byte(o)}, reg: -1, need: need})
	}
	for o := 0; o < 0x100; o++ {
		need := "sse4.1"
		switch {
		case o == 0x0f:
			need = "ssse3"
		case o >= 0x60 && o <= 0x63:
			need = "sse4.2"
		case o >= 0x08 && o <= 0x42:
		default:
			continue
		}
		cands = append(cands, cand{op: []byte{0x0f, 0x3a, byte(o)}, reg: -1, imm: 1, need: need})
		if o >= 0x14 && o <= 0x17 || o >= 0x20 && o <= 0x22 || o == 0x60 || o == 0x61 {
			cands = append(cands, cand{op: []byte{0x0f, 0x3a, byte(o)}, reg: -1, imm: 1, need: need, w: true})
		}
	}
	c := f.CPU
	for _, cd := range cands {
		for _, p := range prefixes {
			for _, mem := range []bool{false, true} {
				// Probe Fuji with a sample encoding.
				var sample []byte
				if p.b != 0 {
					sample = append(sample, p.b)
				}
				if cd.w {
					sample = append(sample, 0x48)
				}
				sample = append(sample, cd.op...)
				reg := 1
				if cd.reg >= 0 {
					reg = cd.reg
				}
				if mem {
					sample = append(sample, byte(reg<<3|0x06), 0, 0, 0, 0) // [rsi]... mod 00 rm 110
					sample = sample[:len(sample)-4]
				} else {
					sample = append(sample, byte(0xc0|reg<<3|2))
				}
				for i := 0; i < cd.imm; i++ {
					sample = append(sample, 0)
				}
				if fujiUD(f, sample) {
					continue
				}
				cd, p, mem := cd, p, mem
				name := fmt.Sprintf("%s % x", p.name, cd.op)
				if cd.reg >= 0 {
					name += fmt.Sprintf("/%d", cd.reg)
				}
				if cd.w {
					name += " W"
				}
				strs := len(cd.op) == 3 && cd.op[1] == 0x3a && cd.op[2] >= 0x60
				var seq int // PCMPxSTRx: sweep imm8 over 0-255 (bit 7 is ignored)
				name += map[bool]string{true: " m", false: " r"}[mem]
				mmx := p.b == 0 && isMMXOp(cd.op)
				forms = append(forms, Form{
					Name:   name,
					Family: "sse",
					Need:   cd.need,
					Flags:  constFlags(arithFlags),
					Gen: func(g *Gen, st *State) []byte {
						var rex byte
						var b []byte
						if strs {
							strData(g, st) // before ModRM sets a base register
						}
						if p.b != 0 {
							b = append(b, p.b)
						}
						r := byte(g.R.Intn(16))
						if mmx {
							r &= 7
						}
						for r == 4 {
							r = byte(g.R.Intn(8))
						}
						if cd.reg >= 0 {
							r = byte(cd.reg)
						}
						var rp *byte
						if !mmx {
							rp = &rex
						}
						modrm := g.ModRM(st, r, mem, 16, rp)
						if cd.w {
							rex |= 8
						}
						if rex != 0 {
							b = append(b, rex|0x40)
						}
						b = append(b, cd.op...)
						b = append(b, modrm...)
						for i := 0; i < cd.imm; i++ {
							b = append(b, byte(g.R.Intn(256)))
						}
						if strs {
							b[len(b)-1] = byte(seq)
							seq++
						}
						if len(cd.op) == 2 && cd.op[1] == 0xf7 {
							// MASKMOVQ/MASKMOVDQU store at DS:RDI.
							st.GPR[7] = uint64(DataAddr + 0x400 + g.R.Intn(0x800))
						}
						if cd.op[1] == 0xc2 {
							// Predicates 8-31 exist only with AVX (the
							// oracle honours them in legacy encodings;
							// the x86-64-v2 model ignores imm8[7:3]).
							b[len(b)-1] &= 7
						}
						if mem && strs {
							for i := 0; i < 16; i++ {
								st.Data[g.Mem+i] = strByte(g)
							}
						} else if mem {
							for i := 0; i < 16; i += 8 {
								v := g.VecLane()
								for k := 0; k < 8; k++ {
									st.Data[g.Mem+i+k] = byte(v >> (8 * k))
								}
							}
						}
						return b
					},
				})
			}
		}
	}
	_ = c
	return forms
}

// strByte returns a byte of string-like data: a small alphabet with
// zeros (terminators) and the occasional arbitrary byte.
func strByte(g *Gen) byte {
	switch g.R.Intn(10) {
	case 0:
		return 0
	case 1:
		return byte(g.R.Intn(256))
	}
	return "aAbB09z\x80\xff"[g.R.Intn(9)]
}

// strData gives every XMM register string-like contents and EAX/EDX
// (RAX/RDX) explicit lengths around the element counts, negative too.
func strData(g *Gen, st *State) {
	for i := 160; i < 160+256; i++ {
		st.FX[i] = strByte(g)
	}
	for _, r := range []int{0, 2} {
		switch g.R.Intn(8) {
		case 0:
			st.GPR[r] = g.U64()
		case 1:
			st.GPR[r] = uint64(g.R.Intn(40)) - 20
		default:
			st.GPR[r] = g.R.Uint64()&^0xffffffff | uint64(g.R.Intn(20))
			if g.R.Intn(4) == 0 {
				st.GPR[r] = uint64(-g.R.Intn(20))
			}
		}
	}
}

func isMMXOp(op []byte) bool {
	if len(op) == 3 {
		return true
	}
	o := op[1]
	return o >= 0x60 && o <= 0x7f || o >= 0xc4 && o <= 0xc5 || o >= 0xd0
}

// fujiUD reports whether Fuji rejects the encoding with #UD.
func fujiUD(f *Fuji, b []byte) bool {
	var st State
	st.FX[0], st.FX[1] = 0x7f, 0x03
	st.FX[24], st.FX[25] = 0x80, 0x1f
	if f.Run(&st, b) != nil {
		return true // faults in Fuji: not a form it executes
	}
	c := f.CPU
	c.RIP = InstAddr
	return c.WouldUD()
}

var _ = cpu.ExcUD

func TestSSE(t *testing.T) {
	f, err := NewFuji()
	if err != nil {
		t.Fatal(err)
	}
	forms := vecForms(t, f)
	counts := runForms(t, forms)
	logCounts(t, counts)
}

// TestSSEJIT runs the vector forms through the block JIT, each
// instruction compiled as a block of its own (the data moves and integer
// operations natively, the rest through helper exits), against the host.
// A tenth of the interpreter's cases per form: each case compiles afresh.
func TestSSEJIT(t *testing.T) {
	f, err := NewFuji()
	if err != nil {
		t.Fatal(err)
	}
	forms := vecForms(t, f)
	counts := runFormsWith(t, forms, NewFujiJIT, max(caseCount()/10, 1))
	logCounts(t, counts)
}

// TestRcpRsqrt compares RCPPS/RCPSS/RSQRTPS/RSQRTSS with the host within
// the manual's bound: each side's relative error is at most 1.5·2^-12,
// and Fuji's result is the correctly rounded one, so the host's result
// must lie within 1.5·2^-12 (plus one float32 ulp) of Fuji's. Special
// cases (NaN, ±0, ±∞, negative RSQRT operand) must match exactly; near
// the bottom of the range either side may flush a tiny result to zero.
func TestRcpRsqrt(t *testing.T) {
	n := getNative(t)
	f, err := NewFuji()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	cases, forms, fails := 0, 0, 0
	var maxErr float64
	for fi, op := range []byte{0x52, 0x53} {
		for pi, pf := range []byte{0, 0xf3} {
			for mi, mem := range []bool{false, true} {
				name := fmt.Sprintf("%x 0f %x mem=%v", pf, op, mem)
				if sel := os.Getenv("FUJI_ORACLE_FORM"); sel != "" && !strings.Contains(name, sel) {
					continue
				}
				forms++
				g := &Gen{R: rand.New(rand.NewSource(int64(fi*4+pi*2+mi) + 4242))}
				lanes := 4
				if pf != 0 {
					lanes = 1
				}
				bad := 0
				for k := 0; k < caseCount() && bad < 3; k++ {
					var init State
					g.randomState(&init)
					g.Mem = -1
					var b []byte
					if pf != 0 {
						b = append(b, pf)
					}
					var rex byte
					reg := byte(g.R.Intn(16))
					modrm := g.ModRM(&init, reg, mem, 16, &rex)
					if rex != 0 {
						b = append(b, 0x40|rex)
					}
					b = append(b, 0x0f, op)
					b = append(b, modrm...)
					if mem {
						for i := 0; i < 16; i += 4 {
							le.PutUint32(init.Data[g.Mem+i:], g.F32())
						}
					}
					nat, fuj := init, init
					n.Run(&nat, b)
					if err := f.Run(&fuj, b); err != nil {
						t.Errorf("%s: % x: %v", name, b, err)
						bad++
						continue
					}
					cases++
					off := 160 + 16*int(reg)
					ok := true
					for l := 0; l < lanes; l++ {
						x := le.Uint32(nat.FX[off+4*l:])
						y := le.Uint32(fuj.FX[off+4*l:])
						if x == y {
							continue
						}
						fx, fy := float64(math.Float32frombits(x)), float64(math.Float32frombits(y))
						switch {
						case math.IsNaN(fx) || math.IsNaN(fy) || math.IsInf(fx, 0) || math.IsInf(fy, 0):
							ok = false
						case fx == 0 || fy == 0:
							if math.Abs(fx+fy) >= 0x1p-125 || x>>31 != y>>31 {
								ok = false
							}
						default:
							e := math.Abs(fx-fy) / math.Abs(fy)
							maxErr = math.Max(maxErr, e)
							if e > 1.5*0x1p-12+0x1p-23 {
								ok = false
							}
						}
						le.PutUint32(fuj.FX[off+4*l:], x)
					}
					if !ok {
						t.Errorf("%s: % x: native %x fuji %x", name, b, nat.FX[off:off+16], fuj.FX[off:off+16])
						bad++
						fails++
						continue
					}
					if d := compare(&Form{}, &init, &nat, &fuj, b); d != "" {
						t.Errorf("%s: % x: %s", name, b, d)
						bad++
						fails++
					}
				}
			}
		}
	}
	t.Logf("RCP/RSQRT: forms %d cases %d mismatches %d; largest relative difference host vs exact %.3g (bound 1.5·2^-12 = %.3g)", forms, cases, fails, maxErr, 1.5*0x1p-12)
}
