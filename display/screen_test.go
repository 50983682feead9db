package display

import (
	"testing"

	"fuji/chipset"
)

func TestScreenPublishFetch(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode13)
	s := NewScreen()
	var f Frame
	if s.Fetch(&f) {
		t.Fatal("fetch before publish")
	}
	v.WriteMMIO(10, 1, 0x3f)
	if !s.Publish(v, 5) {
		t.Fatal("publish failed")
	}
	if !s.Fetch(&f) || f.Dirty != nil || f.Time != 5 {
		t.Fatalf("first fetch: dirty %v time %v", f.Dirty != nil, f.Time)
	}
	r := NewRenderer()
	img, _ := r.RenderFrame(&f)
	wantPix(t, img, 10, 0, white)
	if s.Fetch(&f) {
		t.Error("fetch without a new publish")
	}
	// A later write reaches the frame through the dirty pages only.
	v.WriteMMIO(199*320, 1, 0x3f)
	s.Publish(v, 6)
	if !s.Fetch(&f) || f.Dirty == nil {
		t.Fatal("second fetch")
	}
	if img, changed := r.RenderFrame(&f); !changed {
		t.Error("change not drawn")
	} else {
		wantPix(t, img, 0, 199, white)
	}
	// The guest's memory changing after Publish does not touch the frame.
	v.WriteMMIO(11, 1, 0x3f)
	if img, _ := r.RenderFrame(&f); pix(img, 11, 0) != black {
		t.Error("frame aliases the guest's video memory")
	}
	// Publish never blocks: while the display holds the lock it skips,
	// and the dirty bits wait for the next call.
	s.mu.Lock()
	if s.Publish(v, 7) {
		t.Error("publish while locked succeeded")
	}
	s.mu.Unlock()
	s.Publish(v, 8)
	s.Fetch(&f)
	if img, _ := r.RenderFrame(&f); pix(img, 11, 0) != white {
		t.Error("write during a skipped publish lost")
	}
}

func TestScreenPublishDoesNotAllocate(t *testing.T) {
	v := chipset.NewVGA()
	setMode(t, v, mode13)
	s := NewScreen()
	var f Frame
	s.Publish(v, 0)
	s.Fetch(&f)
	r := NewRenderer()
	allocs := testing.AllocsPerRun(20, func() {
		v.WriteMMIO(100, 1, 7)
		s.Publish(v, 0)
		s.Fetch(&f)
		r.RenderFrame(&f)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame", allocs)
	}
}

type recorder struct{ ev []InputEvent }

func (r *recorder) KeyDown(k chipset.Key) {
	r.ev = append(r.ev, InputEvent{Kind: InputKeyDown, Key: k})
}
func (r *recorder) KeyUp(k chipset.Key) { r.ev = append(r.ev, InputEvent{Kind: InputKeyUp, Key: k}) }
func (r *recorder) Move(dx, dy, dz int, b uint8) {
	r.ev = append(r.ev, InputEvent{Kind: InputMouse, DX: int32(dx), DY: int32(dy), DZ: int32(dz), Buttons: b})
}

func TestInputQueue(t *testing.T) {
	q := NewInput()
	q.KeyDown(chipset.KeyA)
	q.Mouse(1, 2, 0, 0)
	q.Mouse(3, -1, 1, 0) // merges
	q.Mouse(0, 0, 0, chipset.MouseLeft)
	q.KeyUp(chipset.KeyA)
	select {
	case <-q.Ready():
	default:
		t.Error("Ready not signalled")
	}
	var r recorder
	if n := q.Drain(&r, &r); n != 4 {
		t.Fatalf("drained %d", n)
	}
	want := []InputEvent{
		{Kind: InputKeyDown, Key: chipset.KeyA},
		{Kind: InputMouse, DX: 4, DY: 1, DZ: 1},
		{Kind: InputMouse, Buttons: chipset.MouseLeft},
		{Kind: InputKeyUp, Key: chipset.KeyA},
	}
	for i := range want {
		if r.ev[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, r.ev[i], want[i])
		}
	}
	// Wrap around the ring and overflow it.
	for i := 0; i < inputQueueSize+10; i++ {
		q.KeyDown(chipset.Key(1 + i%100))
	}
	if q.Dropped() != 10 {
		t.Errorf("dropped %d", q.Dropped())
	}
	r.ev = nil
	if n := q.Drain(&r, nil); n != inputQueueSize || r.ev[255].Key != chipset.Key(1+255%100) {
		t.Errorf("drained %d", n)
	}
}

// TestInputReachesPS2 drives the real keyboard model: a key press
// becomes the set 2 scancode in its queue.
func TestInputReachesPS2(t *testing.T) {
	kbd := chipset.NewPS2Keyboard(nil)
	q := NewInput()
	q.KeyDown(chipset.KeyA)
	q.KeyUp(chipset.KeyA)
	q.Drain(kbd, nil)
	// No public queue view: the keyboard must at least accept them
	// without panicking; the scancodes are chipset's tests' business.
	if kbd.ScancodeSet() != 2 {
		t.Errorf("set %d", kbd.ScancodeSet())
	}
}
