package cpu

import "unsafe"

// Bulk paths of REP STOS and REP MOVS: with DF clear, the elements that
// lie on one page of plain RAM are stored (or copied) at once, through
// the same TLB entries the element-wise path uses. Anything unusual (DF
// set, a segment limit inside the run, MMIO or a code page, overlapping
// copies, per-access checks) leaves the work to the element-wise path,
// which raises whatever it raises at the element it raises it. Firmware
// and kernels clear and copy memory this way all the time.

// bulkRun returns how many elements of sz bytes, at most n, a string
// operation may do at once from offset off of segment s, and the linear
// address of the first: the run stays inside one page, inside the
// segment's limits for that kind of access, and does not wrap the
// address size.
func (c *CPU) bulkRun(in *Inst, s uint8, off, sz, n uint64, write bool) (uint64, uint64) {
	m := addrMask(in)
	l := &c.seg[s]
	lo, hi := l.rlo, l.rhi
	if write {
		lo, hi = l.wlo, l.whi
	}
	la := l.base + off
	if c.mode != Mode64 {
		la &= 0xffffffff
	} else if uint64(int64(la<<16)>>16) != la {
		return 0, 0
	}
	n = min(n, (0x1000-la&0xfff)/sz, (m-off)/sz+1)
	if n == 0 || off < lo || off+n*sz-1 > hi {
		return 0, 0
	}
	return n, la
}

// bulkHost returns the host address of la on a page the TLB maps for
// the access (filling the entry, which may raise the fault the first
// element would raise), or nil.
func (c *CPU) bulkHost(la uint64, write bool) unsafe.Pointer {
	arr, kind := &c.tlb.r, accRead
	if write {
		arr, kind = &c.tlb.w, accWrite
	}
	e := &arr[(la>>12)&(tlbSize-1)]
	if e.tag != c.tlbKey(la) {
		e, _ = c.fill(la, kind)
		if e.tag != c.tlbKey(la) {
			return nil
		}
	}
	return unsafe.Add(e.host, la&0xfff)
}

// stosBulk stores a run of at most max elements of REP STOS at once and
// returns how many it stored (0: none, the element-wise path goes on).
func (c *CPU) stosBulk(in *Inst, max uint64) uint64 {
	if c.flags&FlagDF != 0 || c.extraChecks {
		return 0
	}
	sz := uint64(opSize(in))
	off := c.R[RDI] & addrMask(in)
	n, la := c.bulkRun(in, ES, off, sz, min(counter(c, in), max), true)
	if n < 2 {
		return 0
	}
	p := c.bulkHost(la, true)
	if p == nil {
		return 0
	}
	dst := unsafe.Slice((*byte)(p), n*sz)
	v := c.R[RAX]
	for i := range sz {
		dst[i] = byte(v >> (8 * i))
	}
	for k := sz; k < uint64(len(dst)); k *= 2 {
		copy(dst[k:], dst[:k])
	}
	advance(c, in, RDI, n*sz)
	setCounter(c, in, counter(c, in)-n)
	return n
}

// movsBulk copies a run of at most max elements of REP MOVS at once and
// returns how many it copied (0: none). Overlapping runs go element by
// element (a forward copy onto itself repeats a pattern, which a block
// copy would not).
func (c *CPU) movsBulk(in *Inst, max uint64) uint64 {
	if c.flags&FlagDF != 0 || c.extraChecks {
		return 0
	}
	sz := uint64(opSize(in))
	m := addrMask(in)
	soff, doff := c.R[RSI]&m, c.R[RDI]&m
	n, sla := c.bulkRun(in, in.Seg, soff, sz, min(counter(c, in), max), false)
	n, dla := c.bulkRun(in, ES, doff, sz, n, true)
	if n < 2 {
		return 0
	}
	// The source is read first, as the first element would be.
	src := c.bulkHost(sla, false)
	if src == nil {
		return 0
	}
	dst := c.bulkHost(dla, true)
	if dst == nil {
		return 0
	}
	nb := uintptr(n * sz)
	if s, d := uintptr(src), uintptr(dst); s < d+nb && d < s+nb {
		return 0
	}
	copy(unsafe.Slice((*byte)(dst), nb), unsafe.Slice((*byte)(src), nb))
	advance(c, in, RSI, n*sz)
	advance(c, in, RDI, n*sz)
	setCounter(c, in, counter(c, in)-n)
	return n
}
