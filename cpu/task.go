package cpu

// Hardware task switching (SDM Vol. 3A ch. 7) with 16- and 32-bit TSSs,
// through JMP, CALL, INT/exceptions (task gates) and IRET with NT set.

// Task switch reasons.
const (
	taskJump = iota // JMP: old task not busy, no back link
	taskCall        // CALL, INT, exception: back link and NT in the new task
	taskIret        // IRET with NT: return to the back-linked task
)

// tssImage is the state read from a new task's TSS before anything is
// committed.
type tssImage struct {
	cr3, eip, eflags uint64
	r                [8]uint64
	seg              [6]uint16
	ldt              uint16
	trap             bool
}

func isTSS32(d descriptor) bool { return d.typ()&8 != 0 }

// readTSS reads the dynamic fields of a TSS (faults happen here, before
// the switch).
func (c *CPU) readTSS(base uint64, is32 bool) tssImage {
	var t tssImage
	if is32 {
		t.cr3 = c.sysRead(base+0x1c, 4)
		t.eip = c.sysRead(base+0x20, 4)
		t.eflags = c.sysRead(base+0x24, 4)
		for i := range t.r {
			t.r[i] = c.sysRead(base+0x28+uint64(i)*4, 4)
		}
		for i := range t.seg {
			t.seg[i] = uint16(c.sysRead(base+0x48+uint64(i)*4, 2))
		}
		t.ldt = uint16(c.sysRead(base+0x60, 2))
		t.trap = c.sysRead(base+tssTBitOffset, 2)&1 != 0
		return t
	}
	t.eip = c.sysRead(base+0x0e, 2)
	t.eflags = c.sysRead(base+0x10, 2)
	for i := range t.r {
		t.r[i] = c.sysRead(base+0x12+uint64(i)*2, 2)
	}
	for i := 0; i < 4; i++ { // ES CS SS DS
		t.seg[i] = uint16(c.sysRead(base+0x22+uint64(i)*2, 2))
	}
	t.ldt = uint16(c.sysRead(base+0x2a, 2))
	return t
}

// setTSSBusy sets or clears the busy bit of the GDT descriptor of sel.
func (c *CPU) setTSSBusy(sel uint16, busy bool) {
	a, ok := c.descAddr(sel &^ 4)
	if !ok {
		return
	}
	hi := uint32(c.sysRead(a+4, 4))
	if busy {
		hi |= descTypeBusy << 8
	} else {
		hi &^= descTypeBusy << 8
	}
	c.sysWrite(a+4, 4, uint64(hi))
}

// taskSwitch switches to the task whose TSS descriptor d (at addr) was
// selected by sel. The caller has done the privilege, present and busy
// checks of the instruction. Faults raised after the commit point belong
// to the new task. It reports whether the new TSS has its T bit set; the
// caller finishes with taskSwitchTail.
func (c *CPU) taskSwitch(sel uint16, d descriptor, reason int, ext uint32) (trap bool) {
	is32 := isTSS32(d)
	min := uint32(0x2b)
	if is32 {
		min = 0x67
	}
	if d.limit() < min {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	base := d.base()
	t := c.readTSS(base, is32)

	// The outgoing TSS must hold the dynamic fields.
	old32 := c.TR.Attr&8 != 0
	oldMin := uint32(0x29)
	if old32 {
		oldMin = 0x5f
	}
	if c.TR.Limit < oldMin {
		c.raise(ExcTS, uint32(c.TR.Sel&^3)|ext)
	}
	// Probe the new TSS for writing (back link and busy bit) before
	// touching the old one.
	c.sysWrite(base, 2, c.sysRead(base, 2))

	flags := c.Flags()
	if reason == taskIret {
		flags &^= FlagNT
	}
	ob := c.TR.Base
	if old32 {
		c.sysWrite(ob+0x20, 4, c.RIP)
		c.sysWrite(ob+0x24, 4, flags)
		for i := 0; i < 8; i++ {
			c.sysWrite(ob+0x28+uint64(i)*4, 4, c.R[i])
		}
		for i := range c.Seg {
			c.sysWrite(ob+0x48+uint64(i)*4, 2, uint64(c.Seg[i].Sel))
		}
	} else {
		c.sysWrite(ob+0x0e, 2, c.RIP)
		c.sysWrite(ob+0x10, 2, flags)
		for i := 0; i < 8; i++ {
			c.sysWrite(ob+0x12+uint64(i)*2, 2, c.R[i])
		}
		for i := 0; i < 4; i++ {
			c.sysWrite(ob+0x22+uint64(i)*2, 2, uint64(c.Seg[i].Sel))
		}
	}
	if reason == taskJump || reason == taskIret {
		c.setTSSBusy(c.TR.Sel, false)
	}
	if reason == taskCall {
		c.sysWrite(base, 2, uint64(c.TR.Sel))
		t.eflags |= FlagNT
	}
	if reason != taskIret {
		c.setTSSBusy(sel, true)
		d.hi |= descTypeBusy << 8
	}

	// Commit: from here on the processor is in the new task.
	c.TR = d.segment(sel)
	c.CR0 |= CR0TS
	if is32 && c.CR0&CR0PG != 0 { // as Bochs: CR3 is loaded when paging is on
		c.CR3 = t.cr3
		if c.CR4&CR4PAE != 0 && c.EFER&EFERLMA == 0 {
			c.loadPDPTEs()
		}
		c.tlb.flush(true)
	}
	for i := range t.r {
		if is32 {
			c.R[i] = t.r[i]
		} else {
			c.R[i] = c.R[i]&^0xffff | t.r[i]
		}
	}
	if !is32 {
		t.eflags &= 0xffff
	}
	c.SetFlags(t.eflags)
	c.RIP = t.eip
	c.ip0 = c.RIP
	// Local breakpoint enables belong to the old task.
	c.DR[7] &^= 0x155
	v86 := is32 && t.eflags&FlagVM != 0
	if v86 {
		c.CPL = 3
	} else {
		c.CPL = uint8(t.seg[CS] & 3)
	}
	// Selectors first, with unusable caches, so that a fault below is
	// taken with the new task's selectors.
	for i := range c.Seg {
		c.Seg[i] = Segment{Sel: t.seg[i]}
	}
	c.LDTR = Segment{Sel: t.ldt}
	c.recompute()

	c.loadTaskLDT(t.ldt, ext)
	if v86 {
		for i := range c.Seg {
			c.loadSegReal(i, t.seg[i])
		}
	} else {
		c.loadTaskCS(t.seg[CS], ext)
		c.loadTaskSS(t.seg[SS], ext)
		for _, i := range []int{ES, DS, FS, GS} {
			c.loadTaskData(i, t.seg[i], ext)
		}
	}
	c.recompute()
	return t.trap
}

// taskSwitchTail finishes a task switch once the error code (if any) is
// pushed: the EIP limit check and the T-bit debug trap.
func (c *CPU) taskSwitchTail(trap bool) {
	if c.RIP > uint64(c.Seg[CS].Limit) {
		c.raise(ExcGP, 0)
	}
	if trap {
		c.DR[6] |= 1 << 15 // BT
		c.raiseTrap(ExcDB)
	}
}

func (c *CPU) loadTaskLDT(sel uint16, ext uint32) {
	if sel&^3 == 0 {
		return
	}
	if sel&4 != 0 {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	d, _ := c.fetchDesc(sel, ExcTS, ext)
	if !d.isSystem() || d.typ() != sysLDT || !d.present() {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	c.LDTR = d.segment(sel)
}

func (c *CPU) loadTaskCS(sel uint16, ext uint32) {
	if sel&^3 == 0 {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	d, a := c.fetchDesc(sel, ExcTS, ext)
	rpl := uint8(sel & 3)
	if !d.isCode() || (d.isConforming() && d.dpl() > rpl) || (!d.isConforming() && d.dpl() != rpl) {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3)|ext)
	}
	c.setAccessed(&d, a)
	c.setSeg(CS, d.segment(sel))
}

func (c *CPU) loadTaskSS(sel uint16, ext uint32) {
	if sel&^3 == 0 {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	d, a := c.fetchDesc(sel, ExcTS, ext)
	if uint8(sel&3) != c.CPL || !d.isWritableData() || d.dpl() != c.CPL {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	if !d.present() {
		c.raise(ExcSS, uint32(sel&^3)|ext)
	}
	c.setAccessed(&d, a)
	c.setSeg(SS, d.segment(sel))
}

func (c *CPU) loadTaskData(i int, sel uint16, ext uint32) {
	if sel&^3 == 0 {
		c.setSeg(i, Segment{Sel: sel})
		return
	}
	d, a := c.fetchDesc(sel, ExcTS, ext)
	if d.isSystem() || (d.isCode() && d.hi&(1<<9) == 0) {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	if !d.isConforming() && (d.dpl() < c.CPL || d.dpl() < uint8(sel&3)) {
		c.raise(ExcTS, uint32(sel&^3)|ext)
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3)|ext)
	}
	c.setAccessed(&d, a)
	c.setSeg(i, d.segment(sel))
}
