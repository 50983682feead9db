package cpu

import "testing"

// TestCodeFilter checks the TLB's filter of code pages: an INVLPG or a
// flush moves the link epoch exactly when chained code may rely on the
// mapping it drops (false positives are allowed, false negatives never).
func TestCodeFilter(t *testing.T) {
	var tl tlb
	pages := []uint64{0x3fd000, 0xffffffff81000000, 0x7f0000401000, 0x1234000}
	for _, la := range pages {
		tl.noteCode(la, true)
	}
	for _, la := range pages {
		if !tl.codeAt(la+0x123, false) {
			t.Errorf("code page %#x not in the filter", la)
		}
		// Another 4 KiB page of the same 2 MiB region: only a large
		// translation can cover both.
		if !tl.codeAt(la^0x1000, true) {
			t.Errorf("the large region around %#x not in the filter", la)
		}
	}
	misses := 0
	for p := uint64(0); p < 4096; p++ {
		if !tl.codeAt(0x500000000000+p<<12, false) {
			misses++
		}
	}
	if misses < 3900 {
		t.Errorf("filter hits %d of 4096 unrelated pages: too many false positives", 4096-misses)
	}

	e := tl.epoch
	tl.invlpg(0x500000000000) // a data page
	if tl.epoch != e && !tl.codeAt(0x500000000000, false) {
		t.Errorf("INVLPG of a data page moved the epoch")
	}
	tl.invlpg(0x3fd000)
	if tl.epoch == e {
		t.Fatalf("INVLPG of a code page kept the epoch")
	}
	if tl.codeAt(0xffffffff81000000, false) {
		t.Errorf("the filter survived the epoch")
	}

	// CR3 loads keep global translations: links to global code stay,
	// links to any non-global code do not.
	tl.noteCode(0xffffffff81000000, true)
	e = tl.epoch
	tl.flush(true)
	if tl.epoch != e {
		t.Errorf("a flush that keeps global pages broke links to global code")
	}
	tl.noteCode(0x401000, false)
	tl.flush(true)
	if tl.epoch == e {
		t.Errorf("a flush kept links to non-global code")
	}
	e = tl.epoch
	tl.noteCode(0xffffffff81000000, true)
	tl.flush(false)
	if tl.epoch == e {
		t.Errorf("a full flush kept links")
	}
}
