package cpu

// The decoded-block cache. A block is a run of decoded instructions that
// starts at a physical address and ends at a control transfer, an
// instruction that changes how later ones decode or run (mode, CPL,
// interrupt flag, ...), the end of a page, or maxBlockInsts. Blocks are
// keyed by physical address and decoding mode. Pages holding blocks are
// marked in mem's code-page bitmap; a write to such a page invalidates its
// blocks (self-modifying code), and the TLB gives such pages no write fast
// path so that every write to them is seen.

const (
	maxBlockInsts = 64
	fastBits      = 12
	noPage        = ^uint64(0)
)

type block struct {
	key   uint64 // phys<<2 | mode
	insts []Inst
	size  uint64 // bytes covered
	la2   uint64 // linear address of the second page if the block crosses one
	page2 uint64 // physical address of that page, or noPage
	valid bool
	// 64-byte granules of the first and the second page that the
	// block's code covers (bit i = bytes 64i..64i+63).
	mask1, mask2 uint64
	// Successor cache: the blocks that followed this one, at which RIP,
	// under which CPU.chainGen.
	succ    [2]*block
	succRIP [2]uint64
	succGen uint64
	// JIT: runs counted towards JITThreshold (all ones: never compile),
	// and the translation once compiled (accel.go).
	hits   uint32
	native *NativeCode
}

type blockCache struct {
	fast   [1 << fastBits]*block
	all    map[uint64]*block
	byPage map[uint64]*pageBlocks
	cur    *block
	// Stats.
	built, invalidated uint64
}

// pageBlocks lists the blocks with code on one physical page and the
// granules they cover together.
type pageBlocks struct {
	blocks []*block
	mask   uint64
}

func (bc *blockCache) init() {
	bc.all = make(map[uint64]*block)
	bc.byPage = make(map[uint64]*pageBlocks)
}

// granules returns the 64-byte granule mask of [off, off+n) in a page.
func granules(off, n uint64) uint64 {
	if n == 0 {
		return 0
	}
	first, last := off>>6, (off+n-1)>>6
	if last > 63 {
		last = 63
	}
	return (^uint64(0) >> (63 - last)) &^ (1<<first - 1)
}

func (bc *blockCache) addToPage(page uint64, b *block, mask uint64) {
	pb := bc.byPage[page]
	if pb == nil {
		pb = &pageBlocks{}
		bc.byPage[page] = pb
	}
	pb.blocks = append(pb.blocks, b)
	pb.mask |= mask
}

func fastIndex(key uint64) uint64 {
	return (key ^ key>>fastBits ^ key>>(2*fastBits)) & (1<<fastBits - 1)
}

func (bc *blockCache) flushAll(c *CPU) {
	for p, pb := range bc.byPage {
		c.bus.ClearCodePage(p)
		for _, b := range pb.blocks {
			// Chained translations may still jump to it.
			b.valid = false
		}
	}
	c.flushNative()
	clear(bc.fast[:])
	clear(bc.all)
	clear(bc.byPage)
	bc.cur = nil
}

// FlushBlocks drops every decoded block (after the memory map changed
// under code, e.g. a snapshot load).
func (c *CPU) FlushBlocks() { c.blocks.flushAll(c) }

// codeWritten is mem's hook for a write to a page holding blocks. Only
// the blocks whose code the write overlaps (at 64-byte granularity) are
// invalidated, so data that shares a page with code costs a slow write,
// not a retranslation.
func (c *CPU) codeWritten(addr uint64, n int) {
	bc := &c.blocks
	page := addr >> 12
	pb := bc.byPage[page]
	if pb == nil {
		c.bus.ClearCodePage(page)
		return
	}
	w := granules(addr&0xfff, uint64(n))
	if w&pb.mask == 0 {
		return
	}
	keep := pb.blocks[:0]
	var mask uint64
	for _, b := range pb.blocks {
		if !b.valid {
			continue
		}
		bm := b.mask1
		if b.key>>14 != page {
			bm = b.mask2
		}
		if bm&w == 0 {
			keep = append(keep, b)
			mask |= bm
			continue
		}
		b.valid = false
		c.invalidateNative(b)
		bc.invalidated++
		delete(bc.all, b.key)
		if i := fastIndex(b.key); bc.fast[i] == b {
			bc.fast[i] = nil
		}
		if b == bc.cur {
			// The running block changed under us: finish this
			// instruction and decode afresh.
			c.stop = true
		}
	}
	clear(pb.blocks[len(keep):])
	pb.blocks, pb.mask = keep, mask
	if len(keep) == 0 {
		delete(bc.byPage, page)
		c.bus.ClearCodePage(page)
	}
}

// csLimitOK reports whether [rip, rip+n) lies within CS's limit.
func (c *CPU) csLimitOK(rip, n uint64) bool {
	if c.mode == Mode64 {
		return true
	}
	return rip+n-1 <= uint64(c.Seg[CS].Limit)
}

// codeLinear is the linear address of a code offset.
func (c *CPU) codeLinear(rip uint64) uint64 {
	if c.mode == Mode64 {
		return rip
	}
	return (c.Seg[CS].Base + rip) & 0xffffffff
}

// blockAt returns the block to run at CS:RIP, building it if needed.
func (c *CPU) blockAt() *block {
	c.ip0 = c.RIP
	if !c.csLimitOK(c.RIP, 1) {
		c.raise(ExcGP, 0)
	}
	la := c.codeLinear(c.RIP)
	if c.mode == Mode64 && uint64(int64(la<<16)>>16) != la {
		c.raise(ExcGP, 0)
	}
	phys := c.fetchPhys(la)
	c.noteCode(la)
	key := phys<<2 | uint64(c.mode)
	bc := &c.blocks
	b := bc.fast[fastIndex(key)]
	if b == nil || b.key != key || !b.valid {
		b = bc.all[key]
		if b == nil {
			b = c.buildBlock(la, phys)
		}
		bc.fast[fastIndex(key)] = b
	}
	if b.page2 != noPage && c.fetchPhys(b.la2) != b.page2 || !c.csLimitOK(c.RIP, b.size) {
		// The second page moved, or CS's limit cuts the block: use a
		// fresh, uncached block.
		b = c.buildUncached(la, phys)
	}
	if b.page2 != noPage {
		c.noteCode(b.la2)
	}
	bc.cur = b
	return b
}

// fetchInst decodes the instruction at linear address la (physical phys)
// into in. If it continues onto the next page and mayCross is false, it
// reports ok=false without faulting; otherwise it translates the next page
// (which may fault) and returns its physical address in page2.
func (c *CPU) fetchInst(la, phys uint64, in *Inst, mayCross bool) (ok bool, page2 uint64) {
	var buf [16]byte
	n := int(0x1000 - la&0xfff)
	if n > 15 {
		n = 15
	}
	c.readCode(phys, buf[:n])
	err := Decode(buf[:n], c.mode, in)
	page2 = noPage
	if err == ErrTruncated {
		if !mayCross {
			return false, noPage
		}
		page2 = c.fetchPhys(la + uint64(n))
		c.readCode(page2, buf[n:15])
		err = Decode(buf[:15], c.mode, in)
	}
	switch err {
	case nil:
		c.bind(in)
	case ErrTooLong:
		in.Len = 15
		in.fn = opTooLong
	default:
		in.fn = opUD
		if in.Len == 0 {
			in.Len = 1
		}
	}
	return true, page2
}

// readCode copies code bytes from physical memory.
func (c *CPU) readCode(phys uint64, dst []byte) {
	if hp := c.bus.HostPage(phys &^ 0xfff); hp != nil && int(phys&0xfff)+len(dst) <= 0x1000 {
		copy(dst, hp[phys&0xfff:])
		return
	}
	c.bus.ReadBytes(phys, dst)
}

func (c *CPU) buildBlock(la, phys uint64) *block {
	b := c.decodeBlock(la, phys, true)
	bc := &c.blocks
	bc.built++
	bc.all[b.key] = b
	p := phys >> 12
	first := min(b.size, 0x1000-phys&0xfff)
	b.mask1 = granules(phys&0xfff, first)
	bc.addToPage(p, b, b.mask1)
	c.bus.MarkCodePage(p)
	c.tlb.flushPhysWrite(p << 12)
	if b.page2 != noPage {
		p2 := b.page2 >> 12
		b.mask2 = granules(0, b.size-first)
		bc.addToPage(p2, b, b.mask2)
		c.bus.MarkCodePage(p2)
		c.tlb.flushPhysWrite(p2 << 12)
	}
	return b
}

func (c *CPU) buildUncached(la, phys uint64) *block {
	b := c.decodeBlock(la, phys, false)
	b.valid = false
	return b
}

// decodeBlock decodes instructions from la until the block ends.
func (c *CPU) decodeBlock(la, phys uint64, honourLimitOnly bool) *block {
	b := &block{key: phys<<2 | uint64(c.mode), page2: noPage, valid: true}
	insts := make([]Inst, 0, 8)
	rip := c.RIP
	limit := maxBlockInsts
	if c.jit.maxBlock > 0 {
		limit = c.jit.maxBlock
	}
	for len(insts) < limit {
		var in Inst
		first := len(insts) == 0
		ok, p2 := c.fetchInst(la, phys, &in, first)
		if !ok {
			break
		}
		if !c.csLimitOK(rip, uint64(in.Len)) {
			if !first {
				break
			}
			in.fn = opCSLimit
		}
		insts = append(insts, in)
		b.size += uint64(in.Len)
		if p2 != noPage {
			b.page2 = p2
			b.la2 = (la + 0x1000) &^ 0xfff
			break
		}
		if blockEnds(&in) || in.fn == nil {
			break
		}
		next := la + uint64(in.Len)
		if next&^0xfff != la&^0xfff {
			break
		}
		rip += uint64(in.Len)
		phys += uint64(in.Len)
		la = next
	}
	b.insts = insts
	return b
}

// decodeAt decodes the single instruction at CS:rip for stepOne.
func (c *CPU) decodeAt(rip uint64, in *Inst) {
	c.ip0 = rip
	if !c.csLimitOK(rip, 1) {
		c.raise(ExcGP, 0)
	}
	la := c.codeLinear(rip)
	phys := c.fetchPhys(la)
	c.fetchInst(la, phys, in, true)
	if !c.csLimitOK(rip, uint64(in.Len)) {
		in.fn = opCSLimit
	}
}

func opCSLimit(c *CPU, in *Inst) { c.raise(ExcGP, 0) }
func opTooLong(c *CPU, in *Inst) { c.raise(ExcGP, 0) }
func opUD(c *CPU, in *Inst)      { c.raise(ExcUD, 0) }

// isUD reports whether h is the #UD handler.
func isUD(h handler) bool {
	return h != nil && funcID(h) == funcID(opUD)
}
