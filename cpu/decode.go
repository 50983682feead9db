package cpu

import "errors"

// Decode errors.
var (
	// ErrTruncated: b ended before the instruction did. Fetch more bytes
	// (across the page boundary) and decode again.
	ErrTruncated = errors.New("cpu: instruction truncated")
	// ErrTooLong: the instruction would be longer than 15 bytes (#GP(0)).
	ErrTooLong = errors.New("cpu: instruction longer than 15 bytes")
	// ErrInvalid: an encoding whose length the manuals do not define
	// (blank opcode slots, i64 opcodes in 64-bit mode, VEX/EVEX/XOP,
	// AMD 3DNow!). Raise #UD. Len and Op hold what was consumed so far.
	ErrInvalid = errors.New("cpu: invalid instruction encoding")
)

// maxInstLen is the architectural limit (SDM Vol. 2A 2.3.11).
const maxInstLen = 15

// Decode decodes the instruction at b[0:] in the given mode into *in,
// overwriting every field (fn is zeroed). It never reads past len(b).
//
// On success in.Len <= 15 and in.Len <= len(b). Errors are ErrTruncated,
// ErrTooLong and ErrInvalid; in.Len then holds the bytes consumed so far.
// Undefined opcodes whose length the manuals define (unassigned group
// slots, wrong mandatory prefixes, 0F FF UD0 ...) decode normally: the
// interpreter raises #UD for them.
func Decode(b []byte, mode Mode, in *Inst) error {
	*in = Inst{Base: NoReg, Index: NoReg, Seg: DS}
	n := len(b)
	pos := 0

	// Legacy prefixes and REX (SDM Vol. 2A 2.1.1, 2.2.1).
	var pfx uint16
	var rex uint8
	seg := -1
	for {
		if pos >= maxInstLen {
			in.Len = uint8(pos)
			return ErrTooLong
		}
		if pos >= n {
			in.Len = uint8(pos)
			return ErrTruncated
		}
		c := b[pos]
		switch c {
		case 0x66:
			pfx |= PfxOpSize
		case 0x67:
			pfx |= PfxAddrSize
		case 0xF0:
			pfx |= PfxLock
		case 0xF2: // the last of F2/F3 wins
			pfx = pfx&^PfxRep | PfxRepne
		case 0xF3:
			pfx = pfx&^PfxRepne | PfxRep
		case 0x26, 0x2E, 0x36, 0x3E:
			// 64-bit mode treats ES/CS/SS/DS overrides as null prefixes
			// (Vol. 1 3.3.7.1); they do not cancel an earlier FS/GS.
			if mode != Mode64 {
				seg = int(c>>3) & 3
			}
		case 0x64:
			seg = FS
		case 0x65:
			seg = GS
		default:
			if mode == Mode64 && c&0xF0 == 0x40 {
				rex = c // only counts if the opcode comes next
				pos++
				continue
			}
			goto opcode
		}
		rex = 0 // a REX followed by a legacy prefix is ignored
		pos++
	}

opcode:
	var osz, asz uint8
	switch mode {
	case Mode16:
		osz, asz = 2, 2
	case Mode32:
		osz, asz = 4, 4
	default:
		osz, asz = 4, 8
	}
	if pfx&PfxOpSize != 0 {
		osz = 6 - osz
	}
	if pfx&PfxAddrSize != 0 {
		if mode == Mode64 {
			asz = 4
		} else {
			asz = 6 - asz
		}
	}
	if rex != 0 {
		pfx |= PfxRex
		in.Rex = rex
		if rex&RexW != 0 {
			osz = 8
		}
	}
	if seg >= 0 {
		pfx |= PfxSeg
		in.Seg = uint8(seg)
	}
	in.Prefixes = pfx
	in.AddrSize = asz

	// Opcode bytes. pos < n and pos < 15 here.
	t := decodeTables
	op := b[pos]
	pos++
	var f dflags
	var opw uint16
	if op != 0x0F {
		f = t.map1[op]
		opw = uint16(op)
	} else {
		if err := need(pos, 1, n); err != nil {
			in.Len = uint8(pos)
			return err
		}
		op = b[pos]
		pos++
		switch op {
		case 0x38, 0x3A:
			if err := need(pos, 1, n); err != nil {
				in.Len = uint8(pos)
				return err
			}
			if op == 0x38 {
				opw = Map0F38 | uint16(b[pos])
				f = t.map0F38[b[pos]]
			} else {
				opw = Map0F3A | uint16(b[pos])
				f = t.map0F3A[b[pos]]
			}
			pos++
		default:
			opw = Map0F | uint16(op)
			f = t.map0F[op]
		}
	}
	in.Op = opw
	if f&dBad != 0 || f&dI64 != 0 && mode == Mode64 {
		in.OpSize = osz
		in.Len = uint8(pos)
		return ErrInvalid
	}
	if mode == Mode64 {
		if f&dF64 != 0 {
			osz = 8
		} else if f&dD64 != 0 && osz == 4 {
			osz = 8
		}
	}
	immKind := int(f>>dImmShift) & 0xF

	if f&dModRM != 0 {
		if err := need(pos, 1, n); err != nil {
			in.OpSize = osz
			in.Len = uint8(pos)
			return err
		}
		m := b[pos]
		mod, reg, rm := m>>6, m>>3&7, m&7
		if f&dSpecial != 0 {
			switch opw {
			case 0x62, 0xC4, 0xC5:
				// mod=3 makes these EVEX/VEX prefixes outside 64-bit mode
				// (Vol. 2A 2.3.5); BOUND/LES/LDS need memory anyway.
				if mod == 3 {
					in.OpSize = osz
					in.Len = uint8(pos)
					return ErrInvalid
				}
			case 0x8F:
				if reg != 0 { // AMD XOP escape; blank on Intel
					in.OpSize = osz
					in.Len = uint8(pos)
					return ErrInvalid
				}
			case 0xC6, 0xC7:
				// Grp11: only /0 MOV and /7 with ModRM F8 (XABORT/XBEGIN).
				if reg != 0 && m != 0xF8 {
					in.OpSize = osz
					in.Len = uint8(pos)
					return ErrInvalid
				}
			case 0xF6, 0xF7:
				if reg < 2 { // TEST Ib/Iz
					immKind = iB
					if opw == 0xF7 {
						immKind = iZ
					}
				} else {
					immKind = iNone
				}
			case 0xFF:
				if mode == Mode64 {
					if reg == 2 || reg == 4 { // near CALL/JMP Ev: f64
						osz = 8
					} else if reg == 6 && osz == 4 { // PUSH Ev: d64
						osz = 8
					}
				}
			case Map0F | 0x20, Map0F | 0x21, Map0F | 0x22, Map0F | 0x23:
				// MOV CR/DR: "the 2 bits in the mod field are ignored"
				// (Vol. 2B MOV-Move to/from Control Registers): always
				// registers, no SIB or displacement; 32- or 64-bit.
				mod = 3
				osz = 4
				if mode == Mode64 {
					osz = 8
				}
			case Map0F | 0xB8:
				if pfx&PfxRep == 0 { // JMPE (IA-64 only) has no defined form
					in.OpSize = osz
					in.Len = uint8(pos)
					return ErrInvalid
				}
			}
		}
		pos++
		in.HasModRM = true
		in.ModRM = m
		in.Mod = mod
		in.Reg = reg | rex>>2&1<<3
		in.RM = rm | rex&1<<3
		if mod != 3 {
			var err error
			if pos, err = decodeMem(b, pos, mode, asz, rex, mod, rm, seg, in); err != nil {
				in.OpSize = osz
				in.Len = uint8(pos)
				return err
			}
		}
	}
	in.OpSize = osz

	// Immediates.
	var isz int
	switch immKind {
	case iNone:
	case iB:
		isz = 1
	case iW:
		isz = 2
	case iZ:
		isz = 4
		if osz == 2 {
			isz = 2
		}
	case iV:
		isz = int(osz)
	case iMoffs:
		isz = int(asz)
	case iAp:
		isz = 4
		if osz == 2 {
			isz = 2
		}
		if err := need(pos, isz+2, n); err != nil {
			in.Len = uint8(pos)
			return err
		}
		in.Imm2 = uint16(b[pos+isz]) | uint16(b[pos+isz+1])<<8
	case iEnter:
		isz = 2
		if err := need(pos, 3, n); err != nil {
			in.Len = uint8(pos)
			return err
		}
		in.Imm2 = uint16(b[pos+2])
	}
	if isz != 0 {
		if err := need(pos, isz, n); err != nil {
			in.Len = uint8(pos)
			return err
		}
		var v uint64
		for i := isz - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[pos+i])
		}
		in.Imm = v
		in.ImmSize = uint8(isz)
		pos += isz
		switch immKind {
		case iAp:
			pos += 2
		case iEnter:
			pos++
		}
	}
	in.Len = uint8(pos)
	return nil
}

// need reports whether k more bytes at pos fit the 15-byte limit and b.
func need(pos, k, n int) error {
	if pos+k > maxInstLen {
		return ErrTooLong
	}
	if pos+k > n {
		return ErrTruncated
	}
	return nil
}

// decodeMem decodes the memory form of ModRM (mod != 3) starting with the
// byte after ModRM, filling Base, Index, Scale, Disp and the default Seg.
// It returns the position after the displacement.
func decodeMem(b []byte, pos int, mode Mode, asz, rex, mod, rm uint8, seg int, in *Inst) (int, error) {
	n := len(b)
	dispSize := 0
	ss := false // default segment SS (BP/SP based)
	if asz == 2 {
		// 16-bit forms (Vol. 2A Table 2-1).
		switch rm {
		case 0:
			in.Base, in.Index = RBX, RSI
		case 1:
			in.Base, in.Index = RBX, RDI
		case 2:
			in.Base, in.Index, ss = RBP, RSI, true
		case 3:
			in.Base, in.Index, ss = RBP, RDI, true
		case 4:
			in.Base = RSI
		case 5:
			in.Base = RDI
		case 6:
			if mod == 0 {
				dispSize = 2 // [disp16]
			} else {
				in.Base, ss = RBP, true
			}
		case 7:
			in.Base = RBX
		}
		switch mod {
		case 1:
			dispSize = 1
		case 2:
			dispSize = 2
		}
	} else {
		// 32/64-bit forms (Vol. 2A Tables 2-2, 2-3, 2-7; REX 2.2.1.2).
		switch mod {
		case 1:
			dispSize = 1
		case 2:
			dispSize = 4
		}
		switch rm {
		case 4:
			if err := need(pos, 1, n); err != nil {
				return pos, err
			}
			sib := b[pos]
			pos++
			in.Scale = sib >> 6
			if idx := sib>>3&7 | rex>>1&1<<3; idx != RSP {
				in.Index = idx // index 100 without REX.X means none
			}
			base := sib & 7
			if base == 5 && mod == 0 {
				dispSize = 4 // no base, disp32
			} else {
				in.Base = base | rex&1<<3
				ss = in.Base == RSP || in.Base == RBP
			}
		case 5:
			if mod == 0 {
				dispSize = 4
				if mode == Mode64 {
					in.Base = RegRIP // REX.B does not matter here
				}
			} else {
				in.Base = rm | rex&1<<3
				ss = in.Base == RBP // not R13
			}
		default:
			in.Base = rm | rex&1<<3
		}
	}
	if err := need(pos, dispSize, n); err != nil {
		return pos, err
	}
	switch dispSize {
	case 1:
		in.Disp = int32(int8(b[pos]))
	case 2:
		in.Disp = int32(int16(uint16(b[pos]) | uint16(b[pos+1])<<8))
	case 4:
		in.Disp = int32(uint32(b[pos]) | uint32(b[pos+1])<<8 | uint32(b[pos+2])<<16 | uint32(b[pos+3])<<24)
	}
	pos += dispSize
	if ss && seg < 0 {
		in.Seg = SS
	}
	return pos, nil
}
