package cpu

import (
	"bytes"
	"fmt"
	"testing"
)

// TestStringBulk checks REP STOS and REP MOVS, whose page-sized runs go
// through the bulk paths, against a model that does one element at a
// time: runs across pages, unaligned, overlapping copies (a forward copy
// onto itself repeats a pattern), DF set, and an ES limit inside the
// run (#GP at the element that crosses it, earlier elements written).
func TestStringBulk(t *testing.T) {
	type tc struct {
		op        byte // 0xaa/0xab STOS, 0xa4/0xa5 MOVS
		pfx       []byte
		src, dst  uint64
		count     uint64
		df        bool
		esLimit   uint32
		wantFault bool
	}
	cases := []tc{
		{op: 0xab, src: 0, dst: 0x20000, count: 3000},
		{op: 0xaa, dst: 0x20ffd, count: 9000},
		{op: 0xab, pfx: []byte{0x66}, dst: 0x21001, count: 5000},
		{op: 0xa5, src: 0x30000, dst: 0x40000, count: 2500},
		{op: 0xa4, src: 0x30003, dst: 0x41ff0, count: 10000},
		{op: 0xa4, src: 0x30000, dst: 0x30001, count: 6000}, // overlapping forward
		{op: 0xa5, src: 0x30000, dst: 0x30008, count: 3000}, // overlapping forward
		{op: 0xa5, src: 0x30010, dst: 0x30000, count: 3000}, // overlapping backward
		{op: 0xab, dst: 0x23000, count: 2000, df: true},
		{op: 0xa5, src: 0x38000, dst: 0x48000, count: 2000, df: true},
		{op: 0xab, dst: 0x20000, count: 3000, esLimit: 0x21233, wantFault: true},
	}
	for k, c0 := range cases {
		t.Run(fmt.Sprintf("%d", k), func(t *testing.T) {
			code := append(append([]byte{}, c0.pfx...), 0xf3, c0.op, 0xf4)
			c := newFlat32(t, code)
			ram := c.Bus().RAM()
			for i := 0x30000; i < 0x50000; i++ {
				ram[i] = byte(i*7 + i>>8)
			}
			if c0.esLimit != 0 {
				c.SetSegment(ES, Segment{Sel: 16, Limit: c0.esLimit, Attr: AttrP | AttrS | AttrRW | AttrAccessed | AttrDB})
			}
			c.R[RAX] = 0x1122334455667788
			c.R[RSI], c.R[RDI], c.R[RCX] = c0.src, c0.dst, c0.count
			if c0.df {
				c.flags |= FlagDF
			}
			want := append([]byte{}, ram...)
			sz := uint64(4)
			switch {
			case c0.op&1 == 0:
				sz = 1
			case len(c0.pfx) > 0:
				sz = 2
			}
			d := sz
			if c0.df {
				d = -sz
			}
			src, dst, n := c0.src, c0.dst, c0.count
			for ; n > 0; n-- {
				if c0.esLimit != 0 && dst+sz-1 > uint64(c0.esLimit) {
					break
				}
				for b := uint64(0); b < sz; b++ {
					if c0.op >= 0xaa {
						want[dst+b] = byte(c.R[RAX] >> (8 * b))
					} else {
						want[dst+b] = want[src+b]
					}
				}
				src, dst = src+d, dst+d
			}
			for i := 0; i < 100 && !c.Halted && c.ShutdownReason == ""; i++ {
				c.Run(1 << 20)
			}
			if c0.wantFault != (c.ShutdownReason != "") {
				t.Fatalf("fault: got %q, want %v", c.ShutdownReason, c0.wantFault)
			}
			if c.R[RCX] != n || c.R[RDI] != dst || c0.op < 0xaa && c.R[RSI] != src {
				t.Fatalf("RCX=%#x RSI=%#x RDI=%#x, want %#x %#x %#x", c.R[RCX], c.R[RSI], c.R[RDI], n, src, dst)
			}
			if !bytes.Equal(ram, want) {
				for i := range ram {
					if ram[i] != want[i] {
						t.Fatalf("memory differs first at %#x: %#x, want %#x", i, ram[i], want[i])
					}
				}
			}
		})
	}
}
