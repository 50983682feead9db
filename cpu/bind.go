package cpu

// bind selects the handler of a decoded instruction. It runs once per
// decode (blocks are cached), so it may look at prefixes, ModRM and mode
// to pick a specialised handler; the handler itself then does no such
// dispatch.
func (c *CPU) bind(in *Inst) {
	fn := c.handlerFor(in)
	if in.Prefixes&PfxLock != 0 && !lockable(in) {
		fn = opUD
	} else if !isUD(fn) {
		if f := fastHandler(in, c.mode == Mode64); f != nil {
			fn = f
		}
	}
	in.fn = fn
}

// lockable reports whether LOCK is allowed: only on the read-modify-write
// instructions with a memory destination (SDM Vol. 2A, LOCK).
func lockable(in *Inst) bool {
	if in.Mod == 3 || !in.HasModRM {
		return false
	}
	op := in.Op
	switch {
	case op < 0x40 && op&7 < 2 && op&0x7 != 6 && op&0x38 != 0x38:
		return true // ADD..XOR with a memory destination (not CMP)
	case op >= 0x80 && op <= 0x83:
		return in.Reg&7 != 7
	case op == 0x86 || op == 0x87:
		return true
	case op == 0xf6 || op == 0xf7:
		return in.Reg&7 == 2 || in.Reg&7 == 3
	case op == 0xfe || op == 0xff:
		return in.Reg&7 < 2
	case op == Map0F|0xab, op == Map0F|0xb3, op == Map0F|0xbb,
		op == Map0F|0xb0, op == Map0F|0xb1, op == Map0F|0xc0, op == Map0F|0xc1:
		return true
	case op == Map0F|0xba:
		return in.Reg&7 >= 5
	case op == Map0F|0xc7:
		return in.Reg&7 == 1
	}
	return false
}

func (c *CPU) handlerFor(in *Inst) handler {
	op := in.Op
	m64 := c.mode == Mode64
	if op < 0x40 {
		switch op & 7 {
		case 0, 1, 2, 3:
			return opAluRM
		case 4, 5:
			return opAluAccImm
		}
		switch op {
		case 0x06, 0x0e, 0x16, 0x1e:
			if m64 {
				return opUD
			}
			return opPushSeg
		case 0x07, 0x17, 0x1f:
			if m64 {
				return opUD
			}
			return opPopSeg
		case 0x27:
			return bcd64(m64, opDAA)
		case 0x2f:
			return bcd64(m64, opDAS)
		case 0x37:
			return bcd64(m64, opAAA)
		case 0x3f:
			return bcd64(m64, opAAS)
		}
		return opUD
	}
	switch {
	case op >= 0x40 && op <= 0x4f:
		return opIncDecReg
	case op >= 0x50 && op <= 0x57:
		return opPushReg
	case op >= 0x58 && op <= 0x5f:
		return opPopReg
	case op >= 0x70 && op <= 0x7f:
		return opJcc
	case op >= 0x91 && op <= 0x97:
		return opXchgAcc
	case op >= 0xb0 && op <= 0xb7:
		return opMovRegImm8
	case op >= 0xb8 && op <= 0xbf:
		return opMovRegImm
	case op >= 0xd8 && op <= 0xdf:
		if c.model.fp.fpu { // the x87 when the model has one (x87.go)
			return c.x87Bind(in)
		}
		return opFPU
	case op >= Map0F|0x40 && op <= Map0F|0x4f:
		return opCmov
	case op >= Map0F|0x80 && op <= Map0F|0x8f:
		return opJcc
	case op >= Map0F|0x90 && op <= Map0F|0x9f:
		return opSetcc
	case op >= Map0F|0xc8 && op <= Map0F|0xcf:
		return opBswap
	}
	switch op {
	case 0x60:
		return not64(m64, opPusha)
	case 0x61:
		return not64(m64, opPopa)
	case 0x62:
		if m64 || in.Mod == 3 {
			return opUD
		}
		return opBound
	case 0x63:
		if m64 {
			return opMovsxd
		}
		return opArpl
	case 0x68, 0x6a:
		return opPushImm
	case 0x69, 0x6b:
		return opImulImm
	case 0x6c, 0x6d:
		return opIns
	case 0x6e, 0x6f:
		return opOuts
	case 0x80, 0x81, 0x82, 0x83:
		if op == 0x82 && m64 {
			return opUD
		}
		return opAluRMImm
	case 0x84, 0x85:
		return opTestRM
	case 0x86, 0x87:
		return opXchgRM
	case 0x88, 0x89, 0x8a, 0x8b:
		return opMovRM
	case 0x8c:
		return opMovFromSeg
	case 0x8d:
		if in.Mod == 3 {
			return opUD
		}
		return opLea
	case 0x8e:
		if in.Reg&7 == CS || in.Reg&7 > GS {
			return opUD
		}
		return opMovToSeg
	case 0x8f:
		if in.Reg&7 != 0 {
			return opUD
		}
		return opPopRM
	case 0x90:
		if in.Prefixes&PfxRex != 0 && in.Rex&RexB != 0 {
			return opXchgAcc
		}
		return opNop
	case 0x98:
		return opCbw
	case 0x99:
		return opCwd
	case 0x9a:
		return not64(m64, opFarCallAp)
	case 0x9b:
		if c.model.fp.fpu {
			return opFwaitFPU // x87.go
		}
		return opFwait
	case 0x9c:
		return opPushf
	case 0x9d:
		return opPopf
	case 0x9e:
		return opSahf
	case 0x9f:
		return opLahf
	case 0xa0, 0xa1, 0xa2, 0xa3:
		return opMovMoffs
	case 0xa4, 0xa5:
		return opMovs
	case 0xa6, 0xa7:
		return opCmps
	case 0xa8, 0xa9:
		return opTestAccImm
	case 0xaa, 0xab:
		return opStos
	case 0xac, 0xad:
		return opLods
	case 0xae, 0xaf:
		return opScas
	case 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3:
		return opShift
	case 0xc2, 0xc3:
		return opRetNear
	case 0xc4, 0xc5:
		if m64 || in.Mod == 3 {
			return opUD
		}
		return opLoadFarPtr
	case 0xc6, 0xc7:
		if in.Reg&7 != 0 {
			return opUD
		}
		return opMovRMImm
	case 0xc8:
		return opEnter
	case 0xc9:
		return opLeave
	case 0xca, 0xcb:
		return opRetFar
	case 0xcc:
		return opInt3
	case 0xcd:
		return opInt
	case 0xce:
		return not64(m64, opInto)
	case 0xcf:
		return opIret
	case 0xd4:
		return bcd64(m64, opAAM)
	case 0xd5:
		return bcd64(m64, opAAD)
	case 0xd6:
		return not64(m64, opSalc)
	case 0xd7:
		return opXlat
	case 0xe0, 0xe1, 0xe2:
		return opLoop
	case 0xe3:
		return opJcxz
	case 0xe4, 0xe5, 0xec, 0xed:
		return opIn
	case 0xe6, 0xe7, 0xee, 0xef:
		return opOut
	case 0xe8:
		return opCallRel
	case 0xe9, 0xeb:
		return opJmpRel
	case 0xea:
		return not64(m64, opFarJmpAp)
	case 0xf1:
		return opInt1
	case 0xf4:
		return opHlt
	case 0xf5:
		return opCmc
	case 0xf6, 0xf7:
		return opGrp3
	case 0xf8, 0xf9:
		return opClcStc
	case 0xfa:
		return opCli
	case 0xfb:
		return opSti
	case 0xfc, 0xfd:
		return opCldStd
	case 0xfe:
		if in.Reg&7 > 1 {
			return opUD
		}
		return opIncDecRM
	case 0xff:
		switch in.Reg & 7 {
		case 0, 1:
			return opIncDecRM
		case 2:
			return opCallInd
		case 3:
			if in.Mod == 3 {
				return opUD
			}
			return opCallFarInd
		case 4:
			return opJmpInd
		case 5:
			if in.Mod == 3 {
				return opUD
			}
			return opJmpFarInd
		case 6:
			return opPushRM
		}
		return opUD

	// Two-byte map.
	case Map0F | 0x00:
		return opGrp6
	case Map0F | 0x01:
		return opGrp7
	case Map0F | 0x02:
		return opLar
	case Map0F | 0x03:
		return opLsl
	case Map0F | 0x05:
		return opSyscall
	case Map0F | 0x06:
		return opClts
	case Map0F | 0x07:
		return opSysret
	case Map0F | 0x08, Map0F | 0x09:
		return opInvd
	case Map0F | 0x0b:
		return opUD
	case Map0F | 0x0d, Map0F | 0x18, Map0F | 0x19, Map0F | 0x1a, Map0F | 0x1b,
		Map0F | 0x1c, Map0F | 0x1d, Map0F | 0x1e, Map0F | 0x1f:
		// Hint NOPs and prefetches (a P6 has the 0F 18-1F hint space).
		return opNop
	case Map0F | 0x20:
		return opMovFromCR
	case Map0F | 0x21:
		return opMovFromDR
	case Map0F | 0x22:
		return opMovToCR
	case Map0F | 0x23:
		return opMovToDR
	case Map0F | 0x30:
		return opWrmsr
	case Map0F | 0x31:
		return opRdtsc
	case Map0F | 0x32:
		return opRdmsr
	case Map0F | 0x33:
		return opRdpmc
	case Map0F | 0x34:
		return opSysenter
	case Map0F | 0x35:
		return opSysexit
	case Map0F | 0xa0, Map0F | 0xa8:
		return opPushSeg
	case Map0F | 0xa1, Map0F | 0xa9:
		return opPopSeg
	case Map0F | 0xa2:
		return opCpuid
	case Map0F | 0xa3, Map0F | 0xab, Map0F | 0xb3, Map0F | 0xbb:
		return opBtRM
	case Map0F | 0xba:
		if in.Reg&7 < 4 {
			return opUD
		}
		return opBtImm
	case Map0F | 0xa4, Map0F | 0xa5, Map0F | 0xac, Map0F | 0xad:
		return opShxd
	case Map0F | 0xaf:
		return opImulRM
	case Map0F | 0xb0, Map0F | 0xb1:
		return opCmpxchg
	case Map0F | 0xb2, Map0F | 0xb4, Map0F | 0xb5:
		if in.Mod == 3 {
			return opUD
		}
		return opLoadFarPtr
	case Map0F | 0xb6, Map0F | 0xb7:
		return opMovzx
	case Map0F | 0xbe, Map0F | 0xbf:
		return opMovsx
	case Map0F | 0xbc, Map0F | 0xbd:
		if in.Prefixes&PfxRep != 0 { // F3: TZCNT/LZCNT by model (vec.go)
			return c.extHandler(in)
		}
		if op == Map0F|0xbc {
			return opBsf
		}
		return opBsr
	case Map0F | 0xc0, Map0F | 0xc1:
		return opXadd
	case Map0F | 0xc7:
		if in.Reg&7 == 1 && in.Mod != 3 {
			return opCmpxchg8b
		}
		return opUD
	}
	return c.extHandler(in)
}

func not64(m64 bool, h handler) handler {
	if m64 {
		return opUD
	}
	return h
}

func bcd64(m64 bool, h handler) handler { return not64(m64, h) }

// blockEnds reports whether a block must end after this instruction:
// control transfers, and instructions that change how the following ones
// decode or execute (segment loads, flags, control registers, ...) or that
// may raise an interrupt line (port I/O).
func blockEnds(in *Inst) bool {
	op := in.Op
	switch {
	case op < 0x40:
		return op&7 >= 6 // segment push/pop and BCD: pop seg changes state
	case op >= 0x40 && op <= 0x6b:
		return op == 0x62 || op == 0x63
	case op >= 0x70 && op <= 0x7f, op >= Map0F|0x80 && op <= Map0F|0x8f:
		return true
	case op >= 0x80 && op <= 0x8d, op >= 0x90 && op <= 0x99, op >= 0x9e && op <= 0xbf:
		return false
	case op >= 0xc0 && op <= 0xc1, op >= 0xd0 && op <= 0xd3:
		return false
	case op == 0xc6 || op == 0xc7 || op == 0xc8 || op == 0xc9 || op == 0xd7:
		return false
	case op == 0xf5 || op >= 0xf8 && op <= 0xf9 || op == 0xfc || op == 0xfd:
		return false
	case op == 0xf6 || op == 0xf7 || op == 0xfe:
		return false
	case op == 0xff:
		return in.Reg&7 >= 2 && in.Reg&7 <= 5
	case op >= Map0F|0x40 && op <= Map0F|0x4f, op >= Map0F|0x90 && op <= Map0F|0x9f,
		op >= Map0F|0xc8 && op <= Map0F|0xcf:
		return false
	case op == Map0F|0xa3 || op == Map0F|0xab || op == Map0F|0xb3 || op == Map0F|0xbb || op == Map0F|0xba,
		op == Map0F|0xa4 || op == Map0F|0xa5 || op == Map0F|0xac || op == Map0F|0xad || op == Map0F|0xaf,
		op == Map0F|0xb0 || op == Map0F|0xb1 || op == Map0F|0xb6 || op == Map0F|0xb7 || op == Map0F|0xbe || op == Map0F|0xbf,
		op == Map0F|0xbc || op == Map0F|0xbd || op == Map0F|0xc0 || op == Map0F|0xc1,
		op == Map0F|0x1f:
		return false
	}
	return true
}
