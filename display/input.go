package display

import (
	"sync"

	"fuji/chipset"
)

// KeySink receives key presses and releases; *chipset.PS2Keyboard is one
// (it turns them into scancodes of the guest's set and does typematic
// repeat itself, so only real press and release edges are sent).
type KeySink interface {
	KeyDown(chipset.Key)
	KeyUp(chipset.Key)
}

// MouseSink receives relative mouse motion; *chipset.PS2Mouse is one.
type MouseSink interface {
	Move(dx, dy, dz int, buttons uint8)
}

// InputKind says what an InputEvent is.
type InputKind uint8

// Input event kinds.
const (
	InputKeyDown InputKind = iota + 1
	InputKeyUp
	InputMouse
)

// InputEvent is one host input event for the guest. For InputMouse, DX
// and DY are the motion in host pixels (right and down positive), DZ the
// wheel (towards the user positive), Buttons the chipset.Mouse* mask.
type InputEvent struct {
	Kind       InputKind
	Key        chipset.Key
	DX, DY, DZ int32
	Buttons    uint8
}

// inputQueueSize bounds the events waiting for the machine; mouse motion
// merges, so only a paused machine with a typist fills it.
const inputQueueSize = 256

// Input is the queue from the window (or any host input source) to the
// machine: the window pushes on its goroutine; the machine calls Drain
// on its own, so the PS/2 devices are only touched by the goroutine that
// runs the guest. Ready signals a machine that waits (HLT) that events
// arrived.
type Input struct {
	mu      sync.Mutex
	buf     [inputQueueSize]InputEvent
	head, n int
	dropped int
	ready   chan struct{}
}

// NewInput returns an empty queue.
func NewInput() *Input { return &Input{ready: make(chan struct{}, 1)} }

// Ready returns a channel that receives a value when events are queued
// after the previous Drain.
func (q *Input) Ready() <-chan struct{} { return q.ready }

// Dropped returns how many events were lost to a full queue.
func (q *Input) Dropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// KeyDown queues a key press.
func (q *Input) KeyDown(k chipset.Key) { q.push(InputEvent{Kind: InputKeyDown, Key: k}) }

// KeyUp queues a key release.
func (q *Input) KeyUp(k chipset.Key) { q.push(InputEvent{Kind: InputKeyUp, Key: k}) }

// Mouse queues motion, wheel and the button state. Motion with unchanged
// buttons merges into a queued mouse event that has not been drained.
func (q *Input) Mouse(dx, dy, dz int, buttons uint8) {
	q.push(InputEvent{Kind: InputMouse, DX: sat32(dx), DY: sat32(dy), DZ: sat32(dz), Buttons: buttons})
}

func sat32(v int) int32 {
	const lim = 1 << 24 // far beyond any real motion; keeps sums from overflowing
	return int32(max(-lim, min(lim, v)))
}

func (q *Input) push(e InputEvent) {
	q.mu.Lock()
	if e.Kind == InputMouse && q.n > 0 {
		last := &q.buf[(q.head+q.n-1)%inputQueueSize]
		if last.Kind == InputMouse && last.Buttons == e.Buttons {
			last.DX = sat32(int(last.DX) + int(e.DX))
			last.DY = sat32(int(last.DY) + int(e.DY))
			last.DZ = sat32(int(last.DZ) + int(e.DZ))
			q.mu.Unlock()
			return
		}
	}
	if q.n == inputQueueSize {
		q.dropped++
		q.mu.Unlock()
		return
	}
	q.buf[(q.head+q.n)%inputQueueSize] = e
	q.n++
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Drain delivers the queued events in order to the keyboard and mouse
// (either may be nil to discard its events) and returns how many there
// were. Call it on the machine goroutine.
func (q *Input) Drain(kbd KeySink, mouse MouseSink) int {
	var batch [32]InputEvent
	total := 0
	for {
		q.mu.Lock()
		n := copy(batch[:], q.buf[q.head:min(q.head+q.n, inputQueueSize)])
		n = min(n, q.n)
		q.head = (q.head + n) % inputQueueSize
		q.n -= n
		q.mu.Unlock()
		if n == 0 {
			return total
		}
		for _, e := range batch[:n] {
			switch e.Kind {
			case InputKeyDown:
				if kbd != nil {
					kbd.KeyDown(e.Key)
				}
			case InputKeyUp:
				if kbd != nil {
					kbd.KeyUp(e.Key)
				}
			case InputMouse:
				if mouse != nil {
					mouse.Move(int(e.DX), int(e.DY), int(e.DZ), e.Buttons)
				}
			}
		}
		total += n
	}
}
