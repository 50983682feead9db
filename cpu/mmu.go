package cpu

import "unsafe"

// The software TLB maps linear pages to host pointers into guest RAM.
// There are three direct-mapped arrays: reads, writes and instruction
// fetches. A tag is the linear page address with the user bit (CPL 3) in
// bit 0, so supervisor and user translations never share an entry. Pages that are not plain RAM (ROM, MMIO, unmapped) are
// never entered: their accesses take the slow path every time. Write
// entries are made only for pages that are writable at the current
// privilege, already dirty in the page tables, and hold no translated code.
const (
	tlbBits = 10
	tlbSize = 1 << tlbBits
	tlbNone = ^uint64(0)
)

type tlbEntry struct {
	tag  uint64
	host unsafe.Pointer // start of the host page
	// addend is the host page's address minus the linear page's: the
	// JIT's probe adds the linear address to it.
	addend uintptr
	phys   uint64 // physical page address, bit 0 set for a global page
}

type tlb struct {
	r, w, x   [tlbSize]tlbEntry
	haveLarge bool // some entry came from a 2/4 MiB or 1 GiB page
	// largeIdx lists the indices whose entries came from a large page
	// (largeSet: the same as a bitmap), so that an INVLPG looks at them
	// only, not the whole TLB. It may name indices refilled since.
	largeIdx []uint16
	largeSet [tlbSize / 64]uint64
	// epoch moves when the mapping of a page that chained code relies on
	// may have changed: block chaining and JIT links must not survive it.
	epoch uint64
	// code is a filter (a hashed bitmap, false positives allowed) of the
	// linear pages blocks were looked up on since epoch last moved, and
	// of the 2 MiB, 4 MiB and 1 GiB regions around them: every link and
	// successor cached since then leads to one of them. codeLocal: one
	// of those pages is not global. A flush or INVLPG that spares them
	// all leaves the links alone: the kernel's INVLPGs of data pages, and
	// CR3 loads while only global (kernel) code ran, no longer break
	// every link.
	code      [64]uint64
	codeLocal bool
	// lastCode is the page noteCode entered last (tlbNone: none since
	// the epoch moved): blocks mostly follow blocks on the same page.
	lastCode uint64
	// sites is the JIT's access-site cache: each memory access of
	// generated code has a slot (shared, direct-mapped by the site's
	// number) holding the last translation it used, {tag, addend}, as a
	// copy of a TLB entry, checked before the TLB itself: the check needs
	// no index arithmetic, and the host address no longer waits for a
	// load indexed by the guest address (table lookups and pointer
	// chasing). Any invalidation of TLB entries empties the slots filled
	// since the last one (siteList, written by generated code).
	sites    [NumSites]siteEntry
	siteList [NumSites]uint16
	siteN    uint32
}

// NumSites is the number of access-site cache slots.
const NumSites = 8192

type siteEntry struct{ tag, addend uint64 }

// init empties every access-site slot (clearSites empties only those
// filled since it last ran).
func (t *tlb) init() {
	t.lastCode = tlbNone
	for i := range t.sites {
		t.sites[i].tag = tlbNone
	}
}

// clearSites empties the slots filled since the last call.
func (t *tlb) clearSites() {
	for _, k := range t.siteList[:t.siteN] {
		t.sites[k].tag = tlbNone
	}
	t.siteN = 0
}

// codeShifts are the page sizes the code filter records a page under.
var codeShifts = [...]uint{12, 21, 22, 30}

// codeBit is the filter's word and bit for linear address la at page
// size 1<<s.
func codeBit(la uint64, s uint) (int, uint64) {
	h := ((la>>s)<<2 | uint64(s&3)) * 0x9e3779b97f4a7c15 >> 58
	b := ((la>>s)<<2 | uint64(s&3)) * 0xc2b2ae3d27d4eb4f >> 58
	return int(h), 1 << b
}

// noteCode records that chained code may come to rely on the mapping of
// the page at la (global: the translation is global).
func (t *tlb) noteCode(la uint64, global bool) {
	for _, s := range codeShifts {
		i, m := codeBit(la, s)
		t.code[i] |= m
	}
	if !global {
		t.codeLocal = true
	}
}

// codeAt reports whether the filter may hold the page at la, or, with
// large, a page in a large region around la.
func (t *tlb) codeAt(la uint64, large bool) bool {
	for _, s := range codeShifts {
		if i, m := codeBit(la, s); t.code[i]&m != 0 {
			return true
		}
		if !large {
			break
		}
	}
	return false
}

// moveEpoch breaks every link and successor cache.
func (t *tlb) moveEpoch() {
	t.epoch++
	clear(t.code[:])
	t.codeLocal = false
	t.lastCode = tlbNone
}

func (t *tlb) flush(keepGlobal bool) {
	if !keepGlobal || t.codeLocal {
		t.moveEpoch()
	}
	t.drop(keepGlobal)
}

// noteLarge records that the entry at index i came from a large page.
func (t *tlb) noteLarge(i uint64) {
	t.haveLarge = true
	if t.largeSet[i/64]&(1<<(i%64)) == 0 {
		t.largeSet[i/64] |= 1 << (i % 64)
		t.largeIdx = append(t.largeIdx, uint16(i))
	}
}

// drop empties the TLB (but for global entries if keepGlobal).
func (t *tlb) drop(keepGlobal bool) {
	t.clearSites()
	for _, arr := range []*[tlbSize]tlbEntry{&t.r, &t.w, &t.x} {
		for i := range arr {
			if !keepGlobal || arr[i].phys&1 == 0 {
				arr[i].tag = tlbNone
			}
		}
	}
	if !keepGlobal {
		t.haveLarge = false
		t.largeIdx = t.largeIdx[:0]
		clear(t.largeSet[:])
	}
}

// flushPhys drops write entries for a physical page (it now holds code).
func (t *tlb) flushPhysWrite(phys uint64) {
	t.clearSites()
	for i := range t.w {
		if t.w[i].tag != tlbNone && t.w[i].phys&^1 == phys {
			t.w[i].tag = tlbNone
		}
	}
}

func (t *tlb) invlpg(la uint64) {
	large := t.haveLarge
	if t.codeAt(la, large) {
		t.moveEpoch()
	}
	t.clearSites()
	i := (la >> 12) & (tlbSize - 1)
	t.r[i].tag, t.w[i].tag, t.x[i].tag = tlbNone, tlbNone, tlbNone
	if !large {
		return
	}
	// A large page is cached as many 4 KiB entries, and la may lie in
	// one: drop the entries from large pages in la's 1 GiB region, which
	// holds any large page around la (global or not: INVLPG drops global
	// translations too). Other entries stay: only la's translation
	// changed.
	keep := t.largeIdx[:0]
	for _, k := range t.largeIdx {
		live := false
		for _, e := range [...]*tlbEntry{&t.r[k], &t.w[k], &t.x[k]} {
			if (e.tag^la)>>30 == 0 {
				e.tag = tlbNone
			}
			live = live || e.tag != tlbNone
		}
		if live {
			keep = append(keep, k)
		} else {
			t.largeSet[k/64] &^= 1 << (k % 64)
		}
	}
	t.largeIdx = keep
}

// Access kinds for translation.
const (
	accRead  = 0
	accWrite = 1
	accExec  = 2
)

// Page-fault error code bits.
const (
	pfP    = 1 << 0
	pfW    = 1 << 1
	pfU    = 1 << 2
	pfRSVD = 1 << 3
	pfI    = 1 << 4
)

// pte bits.
const (
	pteP   = 1 << 0
	pteRW  = 1 << 1
	pteUS  = 1 << 2
	pteA   = 1 << 5
	pteD   = 1 << 6
	ptePS  = 1 << 7
	pteG   = 1 << 8
	pteNX  = 1 << 63
	pteAdr = 0x000ffffffffff000
)

// translate maps a linear address to a physical one for an access of the
// given kind, at user privilege if user is set, walking the page tables
// and setting accessed/dirty bits. It raises #PF on failure. It also
// returns whether the page may be entered in the write TLB (writable at
// this privilege and already dirty) and whether it is global/large.
func (c *CPU) translate(la uint64, kind int, user bool) (phys uint64, writable, global, large bool) {
	if c.CR0&CR0PG == 0 {
		return la & 0xffffffff, true, false, false
	}
	if c.CR4&CR4PAE == 0 {
		return c.walk32(la, kind, user)
	}
	return c.walkPAE(la, kind, user)
}

func (c *CPU) pageFault(la uint64, code uint32) {
	c.CR2 = la
	c.raise(ExcPF, code)
}

func (c *CPU) pfCode(kind int, user bool, present bool) uint32 {
	var code uint32
	if present {
		code |= pfP
	}
	if kind == accWrite {
		code |= pfW
	}
	if user {
		code |= pfU
	}
	if kind == accExec && c.EFER&EFERNXE != 0 && c.CR4&CR4PAE != 0 {
		code |= pfI
	}
	return code
}

func (c *CPU) readPhys32(a uint64) uint32     { return uint32(c.bus.Read(a, 4)) }
func (c *CPU) readPhys64(a uint64) uint64     { return c.bus.Read(a, 8) }
func (c *CPU) writePhys32(a uint64, v uint32) { c.bus.Write(a, 4, uint64(v)) }
func (c *CPU) writePhys64(a uint64, v uint64) { c.bus.Write(a, 8, v) }

// walk32 is the two-level walk of 32-bit paging (4 KiB and, with PSE,
// 4 MiB pages).
func (c *CPU) walk32(la uint64, kind int, user bool) (uint64, bool, bool, bool) {
	la &= 0xffffffff
	pdeAddr := c.CR3&0xfffff000 | (la>>22)<<2
	pde := c.readPhys32(pdeAddr)
	if pde&pteP == 0 {
		c.pageFault(la, c.pfCode(kind, user, false))
	}
	if pde&ptePS != 0 && c.CR4&CR4PSE != 0 {
		// 4 MiB page; bits 13-20 of the PDE give physical bits 32-39.
		rw, us := pde&pteRW != 0, pde&pteUS != 0
		c.checkPerm(la, kind, user, rw, us, false)
		nv := pde | pteA
		if kind == accWrite {
			nv |= pteD
		}
		if nv != pde {
			c.writePhys32(pdeAddr, nv)
		}
		phys := uint64(pde&0xffc00000) | uint64(pde>>13&0xff)<<32 | la&0x3fffff
		return phys, c.canWrite(user, rw, us) && nv&pteD != 0, pde&pteG != 0 && c.CR4&CR4PGE != 0, true
	}
	pteAddr := uint64(pde&0xfffff000) | (la>>12&0x3ff)<<2
	pte := c.readPhys32(pteAddr)
	if pte&pteP == 0 {
		c.pageFault(la, c.pfCode(kind, user, false))
	}
	rw := pde&pteRW != 0 && pte&pteRW != 0
	us := pde&pteUS != 0 && pte&pteUS != 0
	c.checkPerm(la, kind, user, rw, us, false)
	if pde&pteA == 0 {
		c.writePhys32(pdeAddr, pde|pteA)
	}
	nv := pte | pteA
	if kind == accWrite {
		nv |= pteD
	}
	if nv != pte {
		c.writePhys32(pteAddr, nv)
	}
	return uint64(pte&0xfffff000) | la&0xfff, c.canWrite(user, rw, us) && nv&pteD != 0, pte&pteG != 0 && c.CR4&CR4PGE != 0, false
}

// checkPerm raises #PF for a protection violation on a present page.
func (c *CPU) checkPerm(la uint64, kind int, user, rw, us, nx bool) {
	ok := true
	if user && !us {
		ok = false
	}
	if kind == accWrite && !rw && (user || c.CR0&CR0WP != 0) {
		ok = false
	}
	if kind == accExec && nx {
		ok = false
	}
	if !ok {
		c.pageFault(la, c.pfCode(kind, user, true))
	}
}

func (c *CPU) canWrite(user, rw, us bool) bool {
	if user {
		return rw && us
	}
	return rw || c.CR0&CR0WP == 0
}

// physAddrMask is the physical address width Fuji reports (CPUID
// 80000008h): 40 bits.
const physAddrMask = 1<<40 - 1

// walkPAE handles PAE paging (3 levels, PDPTEs cached at CR3 load) and
// 4-level paging in long mode (EFER.LMA).
func (c *CPU) walkPAE(la uint64, kind int, user bool) (uint64, bool, bool, bool) {
	nxe := c.EFER&EFERNXE != 0
	rsvd := func(e uint64, level int) bool {
		// Bits above the physical width, and NX when NXE is clear.
		m := uint64(0x000fffffffffffff) &^ physAddrMask
		if !nxe {
			m |= pteNX
		}
		return e&m != 0
	}
	var entries [4]uint64
	var addrs [4]uint64
	n := 0
	rw, us, nx := true, true, false
	var table uint64
	level := 3 // levels below the PDPT: 2 = PD, 1 = PT
	if c.EFER&EFERLMA != 0 {
		la &= 0xffffffffffff
		pml4Addr := c.CR3&pteAdr | (la>>39&0x1ff)<<3
		e := c.readPhys64(pml4Addr)
		if e&pteP == 0 {
			c.pageFault(la|c.canonHigh(la), c.pfCode(kind, user, false))
		}
		if rsvd(e, 4) || e&ptePS != 0 {
			c.pageFault(la|c.canonHigh(la), c.pfCode(kind, user, true)|pfRSVD)
		}
		entries[n], addrs[n] = e, pml4Addr
		n++
		rw, us, nx = rw && e&pteRW != 0, us && e&pteUS != 0, nx || (nxe && e&pteNX != 0)
		pdpteAddr := e&pteAdr&physAddrMask | (la>>30&0x1ff)<<3
		e = c.readPhys64(pdpteAddr)
		if e&pteP == 0 {
			c.pageFault(la|c.canonHigh(la), c.pfCode(kind, user, false))
		}
		// longmode: a 1 GiB page needs the model's support (PS is
		// reserved otherwise) and has bits 13-29 reserved.
		if rsvd(e, 3) || e&ptePS != 0 && (!c.model.page1G || e&0x3fffe000 != 0) {
			c.pageFault(la|c.canonHigh(la), c.pfCode(kind, user, true)|pfRSVD)
		}
		entries[n], addrs[n] = e, pdpteAddr
		n++
		rw, us, nx = rw && e&pteRW != 0, us && e&pteUS != 0, nx || (nxe && e&pteNX != 0)
		if e&ptePS != 0 {
			// 1 GiB page.
			return c.finishWalk(la|c.canonHigh(la), kind, user, rw, us, nx, entries[:n], addrs[:n],
				e&pteAdr&physAddrMask&^0x3fffffff|la&0x3fffffff, true)
		}
		table = e & pteAdr & physAddrMask
		level = 2
	} else {
		la &= 0xffffffff
		e := c.pdpte[la>>30]
		if e&pteP == 0 {
			c.pageFault(la, c.pfCode(kind, user, false))
		}
		table = e & pteAdr & physAddrMask
		level = 2
	}
	full := la | c.canonHigh(la)
	for ; level >= 1; level-- {
		shift := 12 + 9*uint(level-1)
		ea := table | (la>>shift&0x1ff)<<3
		e := c.readPhys64(ea)
		if e&pteP == 0 {
			c.pageFault(full, c.pfCode(kind, user, false))
		}
		// A 2 MiB page has bits 13-20 reserved.
		if rsvd(e, level) || level == 2 && e&ptePS != 0 && e&0x1fe000 != 0 {
			c.pageFault(full, c.pfCode(kind, user, true)|pfRSVD)
		}
		entries[n], addrs[n] = e, ea
		n++
		rw, us, nx = rw && e&pteRW != 0, us && e&pteUS != 0, nx || (nxe && e&pteNX != 0)
		if level == 2 && e&ptePS != 0 {
			return c.finishWalk(full, kind, user, rw, us, nx, entries[:n], addrs[:n],
				e&pteAdr&physAddrMask&^0x1fffff|la&0x1fffff, true)
		}
		table = e & pteAdr & physAddrMask
	}
	return c.finishWalk(full, kind, user, rw, us, nx, entries[:n], addrs[:n], table|la&0xfff, false)
}

// canonHigh returns the sign-extension bits of a 48-bit linear address so
// that CR2 holds the full canonical address.
func (c *CPU) canonHigh(la uint64) uint64 {
	if c.EFER&EFERLMA != 0 && la&(1<<47) != 0 {
		return 0xffff000000000000
	}
	return 0
}

func (c *CPU) finishWalk(la uint64, kind int, user, rw, us, nx bool, entries, addrs []uint64, phys uint64, large bool) (uint64, bool, bool, bool) {
	c.checkPerm(la, kind, user, rw, us, nx)
	last := len(entries) - 1
	for i, e := range entries {
		nv := e | pteA
		if i == last && kind == accWrite {
			nv |= pteD
		}
		if nv != e {
			c.writePhys64(addrs[i], nv)
		}
	}
	dirty := entries[last]&pteD != 0 || kind == accWrite
	global := entries[last]&pteG != 0 && c.CR4&CR4PGE != 0
	return phys, c.canWrite(user, rw, us) && dirty, global, large
}

// loadPDPTEs reads the four PAE page-directory-pointer entries at a CR3
// load in legacy PAE mode, as the processor does (raising #GP(0) on
// reserved bits).
func (c *CPU) loadPDPTEs() {
	base := c.CR3 & 0xffffffe0
	for i := range c.pdpte {
		e := c.readPhys64(base + uint64(i)*8)
		if e&pteP != 0 && e&(0x1e6|^uint64(physAddrMask)&0x000fffffffffffff|pteNX) != 0 {
			c.raise(ExcGP, 0)
		}
		c.pdpte[i] = e
	}
}

// Linear-address access through the TLB. la is a linear address; the
// caller has done the segment checks.

func (c *CPU) tlbKey(la uint64) uint64 { return la&^0xfff | c.userTag }

// fill translates la for kind, enters it in the TLB if it is plain RAM,
// and returns the entry (host may be nil: use the bus) and phys address.
func (c *CPU) fill(la uint64, kind int) (*tlbEntry, uint64) {
	user := c.userTag != 0
	phys, writable, global, large := c.translate(la, kind, user)
	phys &= c.bus.A20Mask()
	page := phys &^ 0xfff
	i := (la >> 12) & (tlbSize - 1)
	var e *tlbEntry
	switch kind {
	case accRead:
		e = &c.tlb.r[i]
	case accWrite:
		e = &c.tlb.w[i]
	default:
		e = &c.tlb.x[i]
	}
	hp := c.bus.HostPage(page)
	ok := hp != nil
	if kind == accWrite {
		ok = ok && writable && !c.bus.IsCodePage(page>>12)
		if ok && c.bus.DirtyLogging() {
			c.bus.NoteWrite(page, 1)
		}
	}
	if ok {
		e.tag = c.tlbKey(la)
		e.host = unsafe.Pointer(&hp[0])
		e.addend = uintptr(e.host) - uintptr(la&^0xfff)
		e.phys = page
		if global {
			e.phys |= 1
		}
		if large {
			c.tlb.noteLarge(i)
		}
	}
	return e, phys
}

func (c *CPU) linRead(la uint64, n int) uint64 {
	if la&0xfff > uint64(0x1000-n) {
		// Crosses a page: byte by byte, each translated (faults are
		// raised for the first page that fails, as hardware does).
		var v uint64
		for i := 0; i < n; i++ {
			v |= c.linRead(la+uint64(i), 1) << (8 * i)
		}
		return v
	}
	e := &c.tlb.r[(la>>12)&(tlbSize-1)]
	if e.tag != c.tlbKey(la) {
		var phys uint64
		e, phys = c.fill(la, accRead)
		if e.tag != c.tlbKey(la) {
			return c.bus.Read(phys, n)
		}
	}
	p := unsafe.Add(e.host, la&0xfff)
	switch n {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	default:
		return *(*uint64)(p)
	}
}

func (c *CPU) linWrite(la uint64, n int, v uint64) {
	if la&0xfff > uint64(0x1000-n) {
		// Check both pages before writing anything, so that a fault on
		// the second page leaves memory untouched.
		c.probeWrite(la)
		c.probeWrite(la + uint64(n) - 1)
		for i := 0; i < n; i++ {
			c.linWrite(la+uint64(i), 1, v>>(8*i))
		}
		return
	}
	e := &c.tlb.w[(la>>12)&(tlbSize-1)]
	if e.tag != c.tlbKey(la) {
		var phys uint64
		e, phys = c.fill(la, accWrite)
		if e.tag != c.tlbKey(la) {
			c.bus.Write(phys, n, v)
			return
		}
	}
	p := unsafe.Add(e.host, la&0xfff)
	switch n {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
}

// probeWrite translates la for writing (raising any fault) without
// writing.
func (c *CPU) probeWrite(la uint64) {
	e := &c.tlb.w[(la>>12)&(tlbSize-1)]
	if e.tag != c.tlbKey(la) {
		c.fill(la, accWrite)
	}
}

// probeRead translates la for reading (raising any fault).
func (c *CPU) probeRead(la uint64) {
	e := &c.tlb.r[(la>>12)&(tlbSize-1)]
	if e.tag != c.tlbKey(la) {
		c.fill(la, accRead)
	}
}

// noteCode enters the code page at la in the TLB's code filter, after a
// fetch translated it.
func (c *CPU) noteCode(la uint64) {
	if la&^0xfff == c.tlb.lastCode {
		return
	}
	e := &c.tlb.x[(la>>12)&(tlbSize-1)]
	c.tlb.noteCode(la, e.tag == c.tlbKey(la) && e.phys&1 != 0)
	c.tlb.lastCode = la &^ 0xfff
}

// fetchPhys translates a code address (linear) for execution and returns
// its physical address.
func (c *CPU) fetchPhys(la uint64) uint64 {
	e := &c.tlb.x[(la>>12)&(tlbSize-1)]
	if e.tag == c.tlbKey(la) {
		return e.phys&^1 | la&0xfff
	}
	_, phys := c.fill(la, accExec)
	return phys
}

// Supervisor-privileged (system) accesses: descriptor tables, TSS, IDT.
// They are made with user=false whatever the CPL.

func (c *CPU) sysRead(la uint64, n int) uint64 {
	saved := c.userTag
	c.userTag = 0
	defer func() { c.userTag = saved }()
	return c.linRead(la, n)
}

func (c *CPU) sysWrite(la uint64, n int, v uint64) {
	saved := c.userTag
	c.userTag = 0
	defer func() { c.userTag = saved }()
	c.linWrite(la, n, v)
}
