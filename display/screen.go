package display

import (
	"image"
	"math/bits"
	"sync"
	"time"

	"fuji/chipset"
)

const pageSize = 4096

// Screen hands the VGA's state from the machine goroutine, which owns the
// VGA, to one display goroutine (the window), without ever making the
// guest wait for rendering:
//
//   - the machine calls Publish from its own goroutine, at most 60 times
//     a second (each call copies the pages of video memory written since
//     the previous one into the Screen's shadow, plus the registers);
//     when the display goroutine happens to hold the lock, Publish does
//     nothing and returns false, and the VGA keeps its dirty bits for
//     the next call;
//   - the display goroutine calls Fetch, which copies what changed into
//     its own Frame under the same short lock, then renders the Frame
//     with no lock held.
//
// A Screen is the only consumer of the VGA's dirty bitmap (TakeDirty):
// give each VGA at most one Screen. Render direct views (screenshots)
// with a nil dirty bitmap instead.
type Screen struct {
	mu    sync.Mutex
	disp  chipset.Display // VRAM nil: the shadow is vram
	vram  []byte          // shadow of video memory
	dirty []uint64        // pages changed in vram since the last Fetch
	take  []uint64        // scratch for TakeDirty
	now   time.Duration
	seq   uint64
}

// NewScreen returns a Screen with nothing published yet.
func NewScreen() *Screen { return &Screen{} }

// Publish snapshots v's display state at machine time now. Call it only
// from the goroutine that runs v. It never blocks; it returns false when
// it skipped because the display was copying (call again next tick).
func (s *Screen) Publish(v *chipset.VGA, now time.Duration) bool {
	if !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	s.take = v.TakeDirty(s.take)
	src := v.VRAM()
	if len(s.vram) != len(src) {
		s.vram = make([]byte, len(src))
		s.dirty = make([]uint64, len(s.take))
		copy(s.vram, src)
		for i := range s.dirty {
			s.dirty[i] = ^uint64(0)
		}
	} else {
		copyPages(s.vram, src, s.take)
		for i, w := range s.take {
			s.dirty[i] |= w
		}
	}
	s.disp = v.Display()
	s.disp.VRAM = nil
	s.now = now
	s.seq++
	return true
}

// Frame is a display state a Renderer can draw: the registers, a private
// copy of video memory, and the pages that changed since the frame was
// last filled (Dirty is nil when everything must be redrawn).
type Frame struct {
	Display chipset.Display
	Dirty   []uint64
	Time    time.Duration // machine time of the snapshot
	Seq     uint64        // publication number; 0: never filled

	vram     []byte
	dirtyBuf []uint64
}

// RenderFrame draws f (see Render).
func (r *Renderer) RenderFrame(f *Frame) (*image.RGBA, bool) {
	return r.Render(&f.Display, f.Dirty, f.Time)
}

// Fetch brings f up to the newest published state and reports whether
// there was one newer than f. Only the pages written since f's previous
// Fetch are copied. Use one Frame per Screen.
func (s *Screen) Fetch(f *Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq == 0 || s.seq == f.Seq {
		return false
	}
	if len(f.vram) != len(s.vram) {
		f.vram = make([]byte, len(s.vram))
		f.dirtyBuf = make([]uint64, len(s.dirty))
		copy(f.vram, s.vram)
		f.Dirty = nil
	} else {
		copyPages(f.vram, s.vram, s.dirty)
		copy(f.dirtyBuf, s.dirty)
		f.Dirty = f.dirtyBuf
		if f.Seq == 0 {
			f.Dirty = nil
		}
	}
	clear(s.dirty)
	f.Display = s.disp
	f.Display.VRAM = f.vram
	f.Time = s.now
	f.Seq = s.seq
	return true
}

// copyPages copies the 4 KiB pages set in dirty from src to dst, runs of
// adjacent pages in one copy.
func copyPages(dst, src []byte, dirty []uint64) {
	for i, w := range dirty {
		for w != 0 {
			lo := bits.TrailingZeros64(w)
			n := bits.TrailingZeros64(^(w >> lo)) // length of the run of ones
			if lo+n >= 64 {
				w = 0
			} else {
				w &^= (uint64(1)<<n - 1) << lo
			}
			a := (i*64 + lo) * pageSize
			b := min(a+n*pageSize, len(src), len(dst))
			if a < b {
				copy(dst[a:b], src[a:b])
			}
		}
	}
}
