package cpu

// Interrupt and exception delivery in protected mode (SDM Vol. 3A 6.12,
// Vol. 2 INT n pseudo-code) and through the long-mode IDT (6.14).
// Everything that can fault is checked or written before any register is
// committed, so a fault during delivery leaves the interrupted state
// intact for the double-fault logic.

// System descriptor types (descriptor bits 40-43 with S = 0).
const (
	sysTSS16Avail  = 1
	sysLDT         = 2
	sysTSS16Busy   = 3
	sysCallGate16  = 4
	sysTaskGate    = 5
	sysIntGate16   = 6
	sysTrapGate16  = 7
	sysTSS32Avail  = 9
	sysTSS32Busy   = 11
	sysCallGate32  = 12
	sysIntGate32   = 14
	sysTrapGate32  = 15
	descTypeBusy   = 2 // the busy bit within a TSS type
	tssTBitOffset  = 0x64
	tssIOMapOffset = 0x66
)

// fetchDesc reads the descriptor of sel, raising vec with the selector
// error code (plus EXT) if it lies beyond its table's limit.
func (c *CPU) fetchDesc(sel uint16, vec uint8, ext uint32) (descriptor, uint64) {
	a, ok := c.descAddr(sel)
	if !ok {
		c.raise(vec, uint32(sel&^3)|ext)
	}
	return descriptor{uint32(c.sysRead(a, 4)), uint32(c.sysRead(a+4, 4))}, a
}

func (d descriptor) isCode() bool       { return !d.isSystem() && d.hi&(1<<11) != 0 }
func (d descriptor) isConforming() bool { return d.isCode() && d.hi&(1<<10) != 0 }
func (d descriptor) isWritableData() bool {
	return !d.isSystem() && d.hi&(1<<11) == 0 && d.hi&(1<<9) != 0
}
func (d descriptor) long() bool { return d.hi&(1<<21) != 0 }
func (d descriptor) big() bool  { return d.hi&(1<<22) != 0 }

// gateSel and gateOff decode a call, interrupt or trap gate.
func (d descriptor) gateSel() uint16 { return uint16(d.lo >> 16) }
func (d descriptor) gateOff() uint64 {
	if d.typ()&8 == 0 {
		return uint64(d.lo & 0xffff) // 286 gate
	}
	return uint64(d.lo&0xffff | d.hi&0xffff0000)
}

// stackWriter pushes onto a stack that may not be loaded yet (the inner
// stack of a privilege change), checking against its own descriptor.
type stackWriter struct {
	seg  Segment
	mask uint64
	sp   uint64
	code uint32 // #SS error code
	user bool
	long bool
}

// curStack is a writer for the current stack.
func (c *CPU) curStack(code uint32) stackWriter {
	return stackWriter{seg: c.Seg[SS], mask: c.stackMask, sp: c.R[RSP], code: code,
		user: c.CPL == 3, long: c.mode == Mode64}
}

// newStack is a writer for a stack described by a descriptor, used at cpl.
func newStack(seg Segment, sp uint64, code uint32, cpl uint8) stackWriter {
	mask := uint64(0xffff)
	if seg.Attr&AttrDB != 0 {
		mask = 0xffffffff
	}
	return stackWriter{seg: seg, mask: mask, sp: sp & mask, code: code, user: cpl == 3}
}

// segOffsetOK checks n bytes at off against a segment's limit (expand-down
// data segments included).
func segOffsetOK(s *Segment, off uint64, n int) bool {
	end := off + uint64(n) - 1
	if end < off {
		return false
	}
	if s.Attr&AttrCode == 0 && s.Attr&AttrDC != 0 {
		hi := uint64(0xffff)
		if s.Attr&AttrDB != 0 {
			hi = 0xffffffff
		}
		return off > uint64(s.Limit) && end <= hi
	}
	return end <= uint64(s.Limit)
}

func (c *CPU) swPush(w *stackWriter, n int, v uint64) {
	sp := (w.sp - uint64(n)) & w.mask
	var la uint64
	if w.long {
		la = sp
		if uint64(int64(la<<16)>>16) != la {
			c.raise(ExcSS, w.code)
		}
	} else {
		if !segOffsetOK(&w.seg, sp, n) {
			c.raise(ExcSS, w.code)
		}
		la = (w.seg.Base + sp) & 0xffffffff
	}
	c.linWriteAs(la, n, v, w.user)
	w.sp = sp
}

// linWriteAs writes linear memory with user or supervisor privilege
// whatever the current CPL (stack pushes at the new privilege level).
func (c *CPU) linWriteAs(la uint64, n int, v uint64, user bool) {
	saved := c.userTag
	c.userTag = 0
	if user {
		c.userTag = 1
	}
	defer func() { c.userTag = saved }()
	c.linWrite(la, n, v)
}

// tssStack returns the SS:ESP for privilege level pl from the current
// TSS (16- or 32-bit), raising #TS(TR) if it lies beyond the TSS limit.
func (c *CPU) tssStack(pl uint8, ext uint32) (uint16, uint64) {
	switch c.TR.Attr & 0xf {
	case sysTSS32Avail, sysTSS32Busy:
		off := uint64(pl)*8 + 4
		if off+5 > uint64(c.TR.Limit) {
			c.raise(ExcTS, uint32(c.TR.Sel&^3)|ext)
		}
		esp := c.sysRead(c.TR.Base+off, 4)
		ss := c.sysRead(c.TR.Base+off+4, 2)
		return uint16(ss), esp
	}
	off := uint64(pl)*4 + 2
	if off+3 > uint64(c.TR.Limit) {
		c.raise(ExcTS, uint32(c.TR.Sel&^3)|ext)
	}
	sp := c.sysRead(c.TR.Base+off, 2)
	ss := c.sysRead(c.TR.Base+off+2, 2)
	return uint16(ss), sp
}

// checkInnerSS validates the stack segment of an inner privilege level
// (interrupts and call gates) and returns its cache, with #TS/#SS as the
// manual gives them. The accessed bit is set.
func (c *CPU) checkInnerSS(ss uint16, cpl uint8, ext uint32) Segment {
	if ss&^3 == 0 {
		c.raise(ExcTS, ext)
	}
	if uint8(ss&3) != cpl {
		c.raise(ExcTS, uint32(ss&^3)|ext)
	}
	d, a := c.fetchDesc(ss, ExcTS, ext)
	if !d.isWritableData() || d.dpl() != cpl {
		c.raise(ExcTS, uint32(ss&^3)|ext)
	}
	if !d.present() {
		c.raise(ExcSS, uint32(ss&^3)|ext)
	}
	c.setAccessed(&d, a)
	return d.segment(ss)
}

// loadCSDesc commits a code segment at privilege cpl (RPL := cpl).
func (c *CPU) loadCSDesc(d descriptor, sel uint16, cpl uint8) {
	c.CPL = cpl
	c.setSeg(CS, d.segment(sel&^3|uint16(cpl)))
}

// interruptProtected delivers vector vec through the IDT.
func (c *CPU) interruptProtected(vec uint8, kind int, code uint32, hasCode bool) {
	var ext uint32
	if kind != intSoftware {
		ext = 1
	}
	if c.EFER&EFERLMA != 0 {
		c.interruptLong(vec, kind, code, hasCode, ext)
		return
	}
	idtCode := uint32(vec)*8 + 2 + ext
	off := uint64(vec) * 8
	if off+7 > uint64(c.IDTR.Limit) {
		c.raise(ExcGP, idtCode)
	}
	g := descriptor{uint32(c.sysRead(c.IDTR.Base+off, 4)), uint32(c.sysRead(c.IDTR.Base+off+4, 4))}
	typ := g.typ()
	if !g.isSystem() {
		c.raise(ExcGP, idtCode)
	}
	switch typ {
	case sysTaskGate, sysIntGate16, sysTrapGate16, sysIntGate32, sysTrapGate32:
	default:
		c.raise(ExcGP, idtCode)
	}
	if kind == intSoftware && g.dpl() < c.CPL {
		c.raise(ExcGP, idtCode)
	}
	if !g.present() {
		c.raise(ExcNP, idtCode)
	}
	// Faults other than #DB push RF set so that the restarted
	// instruction does not hit its own instruction breakpoint.
	flags := c.Flags()
	if kind == intException && vec != ExcDB && !c.fault.trap {
		flags |= FlagRF
	}
	if typ == sysTaskGate {
		tss := g.gateSel()
		if tss&4 != 0 {
			c.raise(ExcGP, uint32(tss&^3)|ext)
		}
		d, _ := c.fetchDesc(tss, ExcGP, ext)
		if !d.isSystem() || (d.typ() != sysTSS16Avail && d.typ() != sysTSS32Avail) {
			c.raise(ExcGP, uint32(tss&^3)|ext)
		}
		if !d.present() {
			c.raise(ExcNP, uint32(tss&^3)|ext)
		}
		trap := c.taskSwitch(tss, d, taskCall, ext)
		if hasCode {
			n := 2
			if d.typ()&8 != 0 {
				n = 4
			}
			w := c.curStack(ext)
			c.swPush(&w, n, uint64(code))
			c.setSP(w.sp)
		}
		c.taskSwitchTail(trap)
		return
	}

	sel := g.gateSel()
	if sel&^3 == 0 {
		c.raise(ExcGP, ext)
	}
	d, da := c.fetchDesc(sel, ExcGP, ext)
	if !d.isCode() || d.dpl() > c.CPL {
		c.raise(ExcGP, uint32(sel&^3)|ext)
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3)|ext)
	}
	n := 2
	if typ&8 != 0 {
		n = 4
	}
	eip := g.gateOff()
	target := d.segment(sel)
	v86 := c.inV86()
	oldCS, oldSS := c.Seg[CS].Sel, c.Seg[SS].Sel
	oldESP := c.R[RSP]

	var w stackWriter
	newCPL := c.CPL
	var newSS Segment
	switch {
	case !d.isConforming() && d.dpl() < c.CPL:
		// Inner privilege: switch to the TSS stack of the target level.
		newCPL = d.dpl()
		if v86 && newCPL != 0 {
			c.raise(ExcGP, uint32(sel&^3)|ext)
		}
		ss, esp := c.tssStack(newCPL, ext)
		newSS = c.checkInnerSS(ss, newCPL, ext)
		w = newStack(newSS, esp, uint32(ss&^3)|ext, newCPL)
		if eip > uint64(target.Limit) {
			c.raise(ExcGP, ext)
		}
		if v86 {
			c.swPush(&w, n, uint64(c.Seg[GS].Sel))
			c.swPush(&w, n, uint64(c.Seg[FS].Sel))
			c.swPush(&w, n, uint64(c.Seg[DS].Sel))
			c.swPush(&w, n, uint64(c.Seg[ES].Sel))
		}
		c.swPush(&w, n, uint64(oldSS))
		c.swPush(&w, n, oldESP)
	case v86:
		// From v86 mode only a nonconforming ring-0 target is allowed.
		c.raise(ExcGP, uint32(sel&^3)|ext)
	default:
		if eip > uint64(target.Limit) {
			c.raise(ExcGP, ext)
		}
		w = c.curStack(ext)
	}
	c.swPush(&w, n, flags)
	c.swPush(&w, n, uint64(oldCS))
	c.swPush(&w, n, c.RIP)
	if hasCode {
		c.swPush(&w, n, uint64(code))
	}
	c.setAccessed(&d, da)

	// Commit.
	c.flags &^= FlagTF | FlagNT | FlagRF | FlagVM
	if typ&1 == 0 {
		c.flags &^= FlagIF
	}
	if newCPL != c.CPL || v86 {
		c.CPL = newCPL
		c.setSeg(SS, newSS)
		if v86 {
			for _, i := range []int{ES, DS, FS, GS} {
				c.setSeg(i, Segment{})
			}
		}
	}
	// SS.B of the (new) stack decides whether ESP or SP is written.
	c.setSP(w.sp)
	c.loadCSDesc(d, sel, newCPL)
	c.RIP = eip
	c.updateMode()
}

// interruptLong delivers through the 16-byte gates of the long-mode IDT:
// interrupt and trap gates to 64-bit code only, SS:RSP always pushed, the
// stack aligned to 16 bytes, IST stacks from the 64-bit TSS.
func (c *CPU) interruptLong(vec uint8, kind int, code uint32, hasCode bool, ext uint32) {
	idtCode := uint32(vec)*8 + 2 + ext // the error code holds the vector, not the byte offset
	off := uint64(vec) * 16
	if off+15 > uint64(c.IDTR.Limit) {
		c.raise(ExcGP, idtCode)
	}
	g := descriptor{uint32(c.sysRead(c.IDTR.Base+off, 4)), uint32(c.sysRead(c.IDTR.Base+off+4, 4))}
	hi := c.sysRead(c.IDTR.Base+off+8, 8)
	typ := g.typ()
	if !g.isSystem() || (typ != sysIntGate32 && typ != sysTrapGate32) {
		c.raise(ExcGP, idtCode)
	}
	if kind == intSoftware && g.dpl() < c.CPL {
		c.raise(ExcGP, idtCode)
	}
	if !g.present() {
		c.raise(ExcNP, idtCode)
	}
	flags := c.Flags()
	if kind == intException && vec != ExcDB && !c.fault.trap {
		flags |= FlagRF
	}
	sel := g.gateSel()
	if sel&^3 == 0 {
		c.raise(ExcGP, ext)
	}
	d, da := c.fetchDesc(sel, ExcGP, ext)
	if !d.isCode() || d.dpl() > c.CPL || !d.long() || d.big() {
		c.raise(ExcGP, uint32(sel&^3)|ext)
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3)|ext)
	}
	rip := g.gateOff() | (hi&0xffffffff)<<32
	if uint64(int64(rip<<16)>>16) != rip {
		c.raise(ExcGP, ext)
	}
	newCPL := c.CPL
	if !d.isConforming() {
		newCPL = d.dpl()
	}
	ist := g.hi & 7 // gate bits 32-34
	rsp := c.R[RSP]
	if newCPL != c.CPL || ist != 0 {
		var toff uint64
		if ist != 0 {
			toff = 0x24 + uint64(ist-1)*8
		} else {
			toff = 4 + uint64(newCPL)*8
		}
		if toff+7 > uint64(c.TR.Limit) {
			c.raise(ExcTS, uint32(c.TR.Sel&^3)|ext)
		}
		rsp = c.sysRead(c.TR.Base+toff, 8)
	}
	rsp &^= 15
	w := stackWriter{mask: ^uint64(0), sp: rsp, code: ext, user: newCPL == 3, long: true}
	c.swPush(&w, 8, uint64(c.Seg[SS].Sel))
	c.swPush(&w, 8, c.R[RSP])
	c.swPush(&w, 8, flags)
	c.swPush(&w, 8, uint64(c.Seg[CS].Sel))
	c.swPush(&w, 8, c.RIP)
	if hasCode {
		c.swPush(&w, 8, uint64(code))
	}
	c.setAccessed(&d, da)

	c.flags &^= FlagTF | FlagNT | FlagRF | FlagVM
	if typ&1 == 0 {
		c.flags &^= FlagIF
	}
	if newCPL != c.CPL {
		// The new SS is a null selector with RPL = the new CPL.
		c.CPL = newCPL
		c.setSeg(SS, Segment{Sel: uint16(newCPL), Attr: uint16(newCPL) << AttrDPLShift})
	}
	c.loadCSDesc(d, sel, newCPL)
	c.R[RSP] = w.sp
	c.RIP = rip
	c.updateMode()
}
