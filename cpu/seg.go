package cpu

// segLimits is the per-segment-register check data derived from the
// descriptor cache at every load: the offsets that may be read and
// written, and the effective base (zero for ES/CS/SS/DS in 64-bit mode).
// An unusable (null) segment has empty ranges.
type segLimits struct {
	base     uint64
	rlo, rhi uint64
	wlo, whi uint64
}

// Bits of CPU.flatSegs: segment i is flat for reads (bit 2i) or writes
// (bit 2i+1) when its base is zero and every 32-bit offset passes its
// limit check; FlatCSLimit when CS's limit passes every 32-bit target;
// FlatUser or FlatSuper by CPL.
// The JIT drops the checks these make redundant in 16- and 32-bit code
// (accel.go).
const (
	FlatCSLimit = 1 << 12
	// The privilege the TLB tags carry: user (CPL 3) or supervisor.
	FlatUser  = 1 << 13
	FlatSuper = 1 << 14
)

func flatBits(i int, l *segLimits) uint16 {
	var b uint16
	if l.base == 0 && l.rlo == 0 && l.rhi >= 0xffffffff {
		b |= 1 << (2 * i)
	}
	if l.base == 0 && l.wlo == 0 && l.whi >= 0xffffffff {
		b |= 2 << (2 * i)
	}
	return b
}

// segLoaded recomputes the check data of segment register i.
func (c *CPU) segLoaded(i int) {
	s := &c.Seg[i]
	l := &c.seg[i]
	l.base = s.Base
	switch {
	case c.mode == Mode64 || (c.EFER&EFERLMA != 0 && c.Seg[CS].Attr&AttrL != 0 && c.CR0&CR0PE != 0):
		if i < FS {
			l.base = 0
		}
		l.rlo, l.rhi, l.wlo, l.whi = 0, ^uint64(0), 0, ^uint64(0)
	case c.CR0&CR0PE == 0 || c.flags&FlagVM != 0:
		// Real and v86 mode: the cached limit applies (unreal mode keeps
		// a big limit), everything is readable and writable.
		l.rlo, l.rhi, l.wlo, l.whi = 0, uint64(s.Limit), 0, uint64(s.Limit)
		if s.Attr&AttrDC != 0 && s.Attr&AttrCode == 0 && s.Attr&AttrS != 0 {
			l.rlo, l.rhi = uint64(s.Limit)+1, 0xffff
			if s.Attr&AttrDB != 0 {
				l.rhi = 0xffffffff
			}
			l.wlo, l.whi = l.rlo, l.rhi
		}
	case s.Attr&AttrP == 0 || s.Attr&AttrS == 0:
		l.rlo, l.rhi, l.wlo, l.whi = 1, 0, 1, 0
	case s.Attr&AttrCode != 0:
		l.wlo, l.whi = 1, 0
		if s.Attr&AttrRW != 0 || i == CS {
			l.rlo, l.rhi = 0, uint64(s.Limit)
		} else {
			l.rlo, l.rhi = 1, 0
		}
		if i == CS && s.Attr&AttrRW == 0 {
			// Execute-only CS: data reads through CS are not allowed
			// (fetches use their own check).
			l.rlo, l.rhi = 1, 0
		}
	default:
		lo, hi := uint64(0), uint64(s.Limit)
		if s.Attr&AttrDC != 0 {
			lo, hi = uint64(s.Limit)+1, 0xffff
			if s.Attr&AttrDB != 0 {
				hi = 0xffffffff
			}
		}
		l.rlo, l.rhi = lo, hi
		if s.Attr&AttrRW != 0 {
			l.wlo, l.whi = lo, hi
		} else {
			l.wlo, l.whi = 1, 0
		}
	}
	// Translations depend on which segments are flat: a change must
	// break chains, as a CS change does (accel.go).
	f := c.flatSegs&^(3<<(2*i)) | flatBits(i, l)
	if i == CS {
		f &^= FlatCSLimit
		if s.Limit == 0xffffffff {
			f |= FlatCSLimit
		}
	}
	if f != c.flatSegs {
		c.flatSegs = f
		c.chainGen++
	}
}

// setSeg loads a segment register's selector and cache as is and
// refreshes what depends on it.
func (c *CPU) setSeg(i int, s Segment) {
	c.Seg[i] = s
	c.segLoaded(i)
	if i == CS || i == SS {
		c.updateMode()
		if i == CS {
			for j := range c.Seg {
				c.segLoaded(j)
			}
		}
	}
}

// loadSegReal loads a segment register in real or v86 mode: the base is
// the selector times 16; the limit and attributes stay as cached in real
// mode, and are those of a 64 KiB DPL-3 data segment in v86 mode.
func (c *CPU) loadSegReal(i int, sel uint16) {
	s := c.Seg[i]
	s.Sel = sel
	s.Base = uint64(sel) << 4
	if c.inV86() {
		s.Limit = 0xffff
		s.Attr = AttrP | AttrS | AttrRW | AttrAccessed | 3<<AttrDPLShift
		if i == CS {
			s.Attr |= AttrCode
		}
	}
	c.setSeg(i, s)
}

// descriptor is a raw 8-byte segment descriptor.
type descriptor struct {
	lo, hi uint32
}

func (d descriptor) base() uint64 {
	return uint64(d.lo>>16) | uint64(d.hi&0xff)<<16 | uint64(d.hi&0xff000000)
}

func (d descriptor) limit() uint32 {
	l := d.lo&0xffff | d.hi&0xf0000
	if d.hi&(1<<23) != 0 {
		l = l<<12 | 0xfff
	}
	return l
}

func (d descriptor) attr() uint16  { return uint16(d.hi>>8&0xff) | uint16(d.hi>>20&0xf)<<8 }
func (d descriptor) present() bool { return d.hi&(1<<15) != 0 }
func (d descriptor) dpl() uint8    { return uint8(d.hi>>13) & 3 }
func (d descriptor) isSystem() bool {
	return d.hi&(1<<12) == 0
}
func (d descriptor) typ() uint8 { return uint8(d.hi>>8) & 0xf }

func (d descriptor) segment(sel uint16) Segment {
	return Segment{Sel: sel, Base: d.base(), Limit: d.limit(), Attr: d.attr()}
}

// descAddr returns the linear address of a selector's descriptor and
// whether it lies within its table's limit.
func (c *CPU) descAddr(sel uint16) (uint64, bool) {
	idx := uint64(sel &^ 7)
	if sel&4 != 0 {
		if c.LDTR.Sel&^3 == 0 || c.LDTR.Attr&AttrP == 0 {
			return 0, false
		}
		return c.LDTR.Base + idx, idx+7 <= uint64(c.LDTR.Limit)
	}
	return c.GDTR.Base + idx, idx+7 <= uint64(c.GDTR.Limit)
}

// readDesc reads the descriptor of sel, raising #GP(sel) (or excVec) if
// it lies beyond the table limit.
func (c *CPU) readDesc(sel uint16, excVec uint8) (descriptor, uint64) {
	a, ok := c.descAddr(sel)
	if !ok {
		c.raise(excVec, uint32(sel&^3))
	}
	return descriptor{uint32(c.sysRead(a, 4)), uint32(c.sysRead(a+4, 4))}, a
}

// setAccessed sets a code/data descriptor's accessed bit in memory.
func (c *CPU) setAccessed(d *descriptor, addr uint64) {
	if d.hi&(1<<8) == 0 {
		d.hi |= 1 << 8
		c.sysWrite(addr+4, 4, uint64(d.hi))
	}
}

// loadSeg loads a data or stack segment register (MOV, POP, LDS..., not
// CS) with the checks of the current mode.
func (c *CPU) loadSeg(i int, sel uint16) {
	if c.inRealMode() || c.inV86() {
		c.loadSegReal(i, sel)
		if i == SS {
			c.IntShadow = true
		}
		return
	}
	rpl := uint8(sel & 3)
	if sel&^3 == 0 {
		if i == SS && !(c.mode == Mode64 && c.CPL != 3 && rpl == c.CPL) {
			c.raise(ExcGP, 0)
		}
		// A null selector loads an unusable segment.
		c.setSeg(i, Segment{Sel: sel, Attr: uint16(rpl) << AttrDPLShift})
		if i == SS {
			c.IntShadow = true
		}
		return
	}
	d, addr := c.readDesc(sel, ExcGP)
	code := d.hi&(1<<11) != 0
	if i == SS {
		if rpl != c.CPL || d.isSystem() || code || d.hi&(1<<9) == 0 || d.dpl() != c.CPL {
			c.raise(ExcGP, uint32(sel&^3))
		}
		if !d.present() {
			c.raise(ExcSS, uint32(sel&^3))
		}
		c.setAccessed(&d, addr)
		c.setSeg(i, d.segment(sel))
		c.IntShadow = true
		return
	}
	if d.isSystem() || (code && d.hi&(1<<9) == 0) {
		c.raise(ExcGP, uint32(sel&^3))
	}
	conforming := code && d.hi&(1<<10) != 0
	if !conforming && (rpl > d.dpl() || c.CPL > d.dpl()) {
		c.raise(ExcGP, uint32(sel&^3))
	}
	if !d.present() {
		c.raise(ExcNP, uint32(sel&^3))
	}
	c.setAccessed(&d, addr)
	c.setSeg(i, d.segment(sel))
}

// checkSegsOnCPLChange nulls data segment registers the new (outer)
// privilege may not use, as RET far and IRET do when returning outward.
func (c *CPU) checkSegsOnCPLChange() {
	for _, i := range []int{ES, DS, FS, GS} {
		s := &c.Seg[i]
		if s.Sel&^3 == 0 && c.mode == Mode64 {
			continue
		}
		code := s.Attr&AttrCode != 0
		conforming := code && s.Attr&AttrDC != 0
		if s.Attr&AttrS == 0 || (!conforming && s.DPL() < c.CPL) {
			c.setSeg(i, Segment{Sel: 0})
		}
	}
}
