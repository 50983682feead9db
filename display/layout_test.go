package display

import "testing"

func TestWindowGeometry(t *testing.T) {
	for _, c := range []struct {
		w, h   int
		aspect float64
		ww, wh int
	}{
		{720, 400, 4.0 / 3, 720, 540},
		{320, 200, 4.0 / 3, 640, 480},
		{640, 480, 4.0 / 3, 640, 480},
		{360, 480, 4.0 / 3, 640, 480},
		{1024, 768, 1024.0 / 768, 1024, 768},
		{800, 600, 800.0 / 600, 800, 600},
	} {
		if ww, wh := windowSize(c.w, c.h, c.aspect); ww != c.ww || wh != c.wh {
			t.Errorf("windowSize(%d,%d) = %dx%d, want %dx%d", c.w, c.h, ww, wh, c.ww, c.wh)
		}
	}
	// A wide window letterboxes a 4:3 picture left and right.
	x, y, w, h := fitRect(1600, 900, 4.0/3)
	if x != 200 || y != 0 || w != 1200 || h != 900 {
		t.Errorf("fitRect = %v,%v %vx%v", x, y, w, h)
	}
}
