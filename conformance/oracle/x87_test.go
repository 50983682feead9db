//go:build linux && amd64

package oracle

import (
	"fmt"
	"testing"
)

// x87Forms enumerates every defined D8-DF form: each memory form (by
// opcode and ModRM.reg) and each register form (by opcode and ModRM.reg,
// or by the full ModRM byte for the D9/DA/DB/DE/DF one-byte forms).
func x87Forms() []Form {
	var forms []Form
	// Memory forms: operand size and kind by (esc, reg).
	type memKind struct {
		n    int
		kind byte // 'f' float, 'i' int, 'x' m80, 'b' bcd, 'e' env/save, 'w' word
	}
	mk := func(esc, reg int) (memKind, bool) {
		switch esc {
		case 0:
			return memKind{4, 'f'}, true
		case 1:
			switch reg {
			case 0, 2, 3:
				return memKind{4, 'f'}, true
			case 4, 6:
				return memKind{28, 'e'}, true
			case 5, 7:
				return memKind{2, 'w'}, true
			}
		case 2:
			return memKind{4, 'i'}, true
		case 3:
			switch reg {
			case 0, 1, 2, 3:
				return memKind{4, 'i'}, true
			case 5, 7:
				return memKind{10, 'x'}, true
			}
		case 4:
			return memKind{8, 'f'}, true
		case 5:
			switch reg {
			case 0, 2, 3:
				return memKind{8, 'f'}, true
			case 1:
				return memKind{8, 'i'}, true
			case 4, 6:
				return memKind{108, 'e'}, true
			case 7:
				return memKind{2, 'w'}, true
			}
		case 6:
			return memKind{2, 'i'}, true
		case 7:
			switch reg {
			case 0, 1, 2, 3:
				return memKind{2, 'i'}, true
			case 4, 6:
				return memKind{10, 'b'}, true
			case 5, 7:
				return memKind{8, 'i'}, true
			}
		}
		return memKind{}, false
	}
	for esc := 0; esc < 8; esc++ {
		for reg := 0; reg < 8; reg++ {
			k, ok := mk(esc, reg)
			if !ok {
				continue
			}
			esc, reg := esc, reg
			f := Form{
				Name:   fmt.Sprintf("%02X/%dm", 0xd8+esc, reg),
				Family: "x87",
				FSW:    x87FSWMask(esc, reg, true),
				Gen: func(g *Gen, st *State) []byte {
					modrm := g.ModRM(st, byte(reg), true, 1, nil)
					switch k.kind {
					case 'f':
						if k.n == 4 {
							g.PutMem(st, 4, uint64(g.F32()))
						} else {
							g.PutMem(st, 8, g.F64())
						}
					case 'i':
						g.PutMem(st, k.n, g.U64())
					case 'x':
						m, se := g.F80()
						g.PutMem(st, 8, m)
						st.Data[g.Mem+8], st.Data[g.Mem+9] = byte(se), byte(se>>8)
					case 'b':
						for i := 0; i < 9; i++ {
							st.Data[g.Mem+i] = byte(g.R.Intn(10)<<4 | g.R.Intn(10))
						}
						st.Data[g.Mem+9] = byte(g.R.Intn(2) << 7)
					case 'e':
						g.envImage(st, esc == 5)
					}
					return append([]byte{byte(0xd8 + esc)}, modrm...)
				},
			}
			forms = append(forms, f)
		}
	}
	// Register forms.
	for esc := 0; esc < 8; esc++ {
		for m := 0xc0; m < 0x100; m++ {
			reg := m >> 3 & 7
			if !x87RegDefined(esc, m) {
				continue
			}
			// One form per ModRM group of eight (random ST(i)) for the
			// ST(i) forms; one per byte otherwise.
			group := x87RegGroup(esc, reg)
			if group && m&7 != 0 {
				continue
			}
			esc, m := esc, m
			name := fmt.Sprintf("%02X %02X", 0xd8+esc, m)
			if group {
				name = fmt.Sprintf("%02X %02X+i", 0xd8+esc, m)
			}
			f := Form{
				Name:   name,
				Family: "x87",
				FSW:    x87FSWMask(esc, m, false) &^ x87ULPMask(esc, m),
				ULP:    x87Transcendental(esc, m),
				Gen: func(g *Gen, st *State) []byte {
					b := byte(m)
					if group {
						b |= byte(g.R.Intn(8))
					}
					if x87Transcendental(esc, m) {
						g.trigArgs(st, m)
					}
					if esc == 1 && m == 0xd8 {
						// D9 D8+i: Intel's FSTP1 alias; AMD executes it
						// as FSTPNCE, which differs only for an empty
						// ST(0): keep ST(0) valid.
						top := int(st.FX[3]>>3) & 7
						st.FX[4] |= 1 << uint(top)
					}
					return []byte{byte(0xd8 + esc), b}
				},
			}
			forms = append(forms, f)
		}
	}
	return forms
}

// x87RegDefined reports whether a register form is defined.
func x87RegDefined(esc, m int) bool {
	reg := m >> 3 & 7
	switch esc {
	case 0, 4:
		return true
	case 1:
		switch {
		case reg <= 1, m == 0xd0, reg == 3:
			return true
		case m >= 0xe0 && m <= 0xff:
			switch m {
			case 0xe2, 0xe3, 0xe6, 0xe7, 0xef:
				return false
			}
			return true
		}
	case 2:
		return reg < 4 || m == 0xe9
	case 3:
		return reg < 4 || m == 0xe2 || m == 0xe3 || reg == 5 || reg == 6
	case 5:
		return reg <= 5
	case 6:
		return reg != 3 || m == 0xd9
	case 7:
		return reg <= 3 || m == 0xe0 || reg == 5 || reg == 6
	}
	return false
}

func x87RegGroup(esc, reg int) bool {
	switch esc {
	case 1:
		return reg <= 1 || reg == 3
	case 2:
		return reg < 4
	case 3:
		return reg < 4 || reg == 5 || reg == 6
	case 6:
		return reg != 3
	case 7:
		return reg <= 3 || reg == 5 || reg == 6
	}
	return true
}

// x87ULPMask: for transcendentals C1 (rounded up) reflects the
// hardware's internal approximation, not the correctly rounded result.
func x87ULPMask(esc, m int) uint16 {
	if x87Transcendental(esc, m) {
		return 1 << 9
	}
	return 0
}

func x87Transcendental(esc, m int) bool {
	if esc != 1 {
		return false
	}
	switch m {
	case 0xf0, 0xf1, 0xf2, 0xf3, 0xf9, 0xfb, 0xfe, 0xff:
		return true
	}
	return false
}

// x87FSWMask masks the condition codes the manual leaves undefined.
func x87FSWMask(esc, x int, mem bool) uint16 {
	const all = 0xffff
	const c023 = 1<<8 | 1<<10 | 1<<14
	if mem {
		switch {
		case esc == 0 && (x == 2 || x == 3), esc == 2 && (x == 2 || x == 3),
			esc == 4 && (x == 2 || x == 3), esc == 6 && (x == 2 || x == 3):
			return all // compares
		case esc == 1 && (x >= 4), esc == 5 && (x >= 4), esc == 3 && x == 4:
			return all // control
		}
		return all &^ c023
	}
	m := x
	reg := m >> 3 & 7
	switch {
	case esc == 0 && (reg == 2 || reg == 3), esc == 4 && (reg == 2 || reg == 3),
		esc == 5 && (reg == 4 || reg == 5), esc == 6 && (reg == 2 || m == 0xd9),
		esc == 2 && m == 0xe9:
		return all
	case esc == 1 && (m == 0xe4 || m == 0xe5 || m == 0xf5 || m == 0xf8):
		return all
	case esc == 3 && (m == 0xe2 || m == 0xe3):
		return all
	case esc == 7 && m == 0xe0:
		return all
	case x87Transcendental(esc, m) && (m == 0xf2 || m == 0xfb || m == 0xfe || m == 0xff):
		return all &^ (1<<8 | 1<<14)
	}
	return all &^ c023
}

// trigArgs keeps FSIN/FCOS/FPTAN/FSINCOS arguments where hardware's
// reduction is exact enough to be compared within one ulp, and F2XM1's
// in its defined range.
func (g *Gen) trigArgs(st *State, m int) {
	top := int(st.FX[3]>>3) & 7
	_ = top
	r := g.R
	// ST(0) is the first register of the image.
	mant := uint64(1)<<63 | r.Uint64()
	exp := uint16(16383 - 1 - r.Intn(20))
	switch m {
	case 0xf1, 0xf3:
		if r.Intn(2) == 0 {
			return
		}
	case 0xf9: // FYL2XP1: |x| < 1 - √2/2 (else undefined)
		exp = uint16(16383 - 2 - r.Intn(30))
	case 0xf0: // F2XM1: -1 ≤ x ≤ 1 (else undefined)
	default:
		if r.Intn(8) == 0 {
			return
		}
		if r.Intn(4) == 0 {
			exp = uint16(16383 + r.Intn(63)) // large: the 66-bit π reduction
		}
	}
	s := uint16(r.Intn(2)) << 15
	st.FX[4] |= 1
	putST(st, 0, mant, s|exp)
}

func putST(st *State, i int, m uint64, se uint16) {
	for k := 0; k < 8; k++ {
		st.FX[32+16*i+k] = byte(m >> (8 * k))
	}
	st.FX[40+16*i], st.FX[41+16*i] = byte(se), byte(se>>8)
	top := int(st.FX[3]>>3) & 7
	st.FX[4] |= 1 << uint((top+i)&7)
}

// envImage writes a plausible FLDENV/FRSTOR image at the operand: random
// registers and a control word with every exception masked or a status
// word without pending exceptions.
func (g *Gen) envImage(st *State, save bool) {
	r := g.R
	o := g.Mem
	put16 := func(at int, v uint16) { st.Data[o+at], st.Data[o+at+1] = byte(v), byte(v>>8) }
	masks := uint16(0x3f)
	if r.Intn(4) == 0 {
		masks = uint16(r.Intn(64))
	}
	put16(0, 0x40|masks|uint16(r.Intn(16))<<8)
	put16(4, uint16(r.Intn(0x10000))&^0x80)
	if r.Intn(2) == 0 {
		put16(4, uint16(r.Intn(0x10000))&^0xff|uint16(r.Intn(64))&masks)
	}
	put16(8, uint16(r.Intn(0x10000)))
	if save {
		for i := 0; i < 8; i++ {
			m, se := g.F80()
			for k := 0; k < 8; k++ {
				st.Data[o+28+10*i+k] = byte(m >> (8 * k))
			}
			put16(28+10*i+8, se)
		}
	}
}

func TestX87(t *testing.T) {
	counts := runForms(t, x87Forms())
	logCounts(t, counts)
}
