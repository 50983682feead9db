package chipset

import (
	"bytes"
	"testing"
)

func mouseDrain(m *PS2Mouse) []byte {
	var out []byte
	for {
		b, ok := m.pop()
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

func mouseCmd(t *testing.T, m *PS2Mouse, what string, cmd []byte, want ...byte) {
	t.Helper()
	for _, c := range cmd {
		m.command(c)
	}
	if got := mouseDrain(m); !bytes.Equal(got, want) {
		t.Fatalf("%s: got % X, want % X", what, got, want)
	}
}

func TestPS2MouseResetAndID(t *testing.T) {
	m := NewPS2Mouse()
	mouseCmd(t, m, "reset", []byte{0xFF}, 0xFA, 0xAA, 0x00)
	mouseCmd(t, m, "get ID", []byte{0xF2}, 0xFA, 0x00)
	// A knock with the wrong rates does nothing.
	mouseCmd(t, m, "wrong knock", []byte{0xF3, 200, 0xF3, 100, 0xF3, 60, 0xF2}, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x00)
	mouseCmd(t, m, "IntelliMouse knock", []byte{0xF3, 200, 0xF3, 100, 0xF3, 80, 0xF2}, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03)
	mouseCmd(t, m, "Explorer knock", []byte{0xF3, 200, 0xF3, 200, 0xF3, 80, 0xF2}, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x04)
	mouseCmd(t, m, "status", []byte{0xE9}, 0xFA, 0x00, 0x02, 80)
	mouseCmd(t, m, "reset to ID 0", []byte{0xFF, 0xF2}, 0xFA, 0xAA, 0x00, 0xFA, 0x00)
	mouseCmd(t, m, "invalid", []byte{0x42}, 0xFE)
	mouseCmd(t, m, "bad resolution", []byte{0xE8, 9}, 0xFA, 0xFE)
}

func TestPS2MousePackets(t *testing.T) {
	m := NewPS2Mouse()
	m.Move(5, 5, 0, MouseLeft)
	if m.pending() {
		t.Fatal("disabled mouse reported motion")
	}
	mouseCmd(t, m, "enable", []byte{0xF4}, 0xFA)
	// Right 10, down 5 (PS/2: y -5), left button.
	m.Move(10, 5, 0, MouseLeft)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x29, 0x0A, 0xFB}) {
		t.Fatalf("packet % X", got)
	}
	// Left 3, up 2, right + middle buttons.
	m.Move(-3, -2, 0, MouseRight|MouseMiddle)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x1E, 0xFD, 0x02}) {
		t.Fatalf("packet % X", got)
	}
	// A large move is split into 9-bit pieces.
	m.Move(600, 0, 0, 0)
	want := []byte{0x08, 0xFF, 0x00, 0x08, 0xFF, 0x00, 0x08, 90, 0x00}
	if got := mouseDrain(m); !bytes.Equal(got, want) {
		t.Fatalf("split move % X, want % X", got, want)
	}
	m.Move(-300, 0, 0, 0)
	want = []byte{0x18, 0x00, 0x00, 0x18, 256 - 44, 0x00}
	if got := mouseDrain(m); !bytes.Equal(got, want) {
		t.Fatalf("split negative move % X, want % X", got, want)
	}
	// A huge move only fills the queue; the rest waits, nothing is lost.
	m.Move(10000, 0, 0, 0)
	total := 0
	for i := 0; i < 100 && m.pending(); i++ {
		p := mouseDrain(m)
		for j := 0; j+2 < len(p); j += 3 {
			total += int(p[j+1])
			if p[j]&0x10 != 0 {
				total -= 256
			}
		}
		m.flush()
	}
	if total != 10000 {
		t.Fatalf("huge move delivered %d", total)
	}
	// Button-only change is a packet with no motion.
	m.Move(0, 0, 0, MouseLeft)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x09, 0, 0}) {
		t.Fatalf("button packet % X", got)
	}
	// 2:1 scaling.
	mouseCmd(t, m, "scale 2:1", []byte{0xE7}, 0xFA)
	m.Move(4, 0, 0, MouseLeft)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x09, 6, 0}) {
		t.Fatalf("scaled packet % X", got)
	}
}

func TestPS2MouseWheelAndButtons45(t *testing.T) {
	m := NewPS2Mouse()
	mouseCmd(t, m, "knock", []byte{0xF3, 200, 0xF3, 100, 0xF3, 80, 0xF4}, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA)
	m.Move(0, 0, -1, 0)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x08, 0, 0, 0xFF}) {
		t.Fatalf("wheel packet % X", got)
	}
	mouseCmd(t, m, "knock 4", []byte{0xF3, 200, 0xF3, 200, 0xF3, 80}, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA)
	m.Move(0, 0, 2, MouseButton4|MouseButton5)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x08, 0, 0, 0x32}) {
		t.Fatalf("ID 4 packet % X", got)
	}
}

func TestPS2MouseRemoteAndWrap(t *testing.T) {
	m := NewPS2Mouse()
	mouseCmd(t, m, "remote", []byte{0xF0}, 0xFA)
	m.Move(300, -10, 0, MouseMiddle)
	if m.pending() {
		t.Fatal("remote mode streamed")
	}
	// X overflowed: clamped with the overflow bit; Y up 10.
	mouseCmd(t, m, "read data", []byte{0xEB}, 0xFA, 0x4C, 0xFF, 0x0A)
	mouseCmd(t, m, "read again", []byte{0xEB}, 0xFA, 0x0C, 0x00, 0x00)
	mouseCmd(t, m, "status", []byte{0xE9}, 0xFA, 0x42, 0x02, 100)
	mouseCmd(t, m, "wrap", []byte{0xEE, 0x12, 0xF4, 0xEC}, 0xFA, 0x12, 0xF4, 0xFA)
	mouseCmd(t, m, "stream", []byte{0xEA, 0xF4}, 0xFA, 0xFA)
	m.Move(1, 0, 0, 0)
	if got := mouseDrain(m); !bytes.Equal(got, []byte{0x08, 1, 0}) {
		t.Fatalf("stream packet % X", got)
	}
}

func TestPS2MouseSaveLoad(t *testing.T) {
	m := NewPS2Mouse()
	mouseCmd(t, m, "setup", []byte{0xF3, 200, 0xF3, 100, 0xF3, 80}, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA)
	data, err := m.Save()
	if err != nil {
		t.Fatal(err)
	}
	m2 := NewPS2Mouse()
	if err := m2.Load(data); err != nil || m2.ID() != 3 {
		t.Fatalf("load: %v, ID %d", err, m2.ID())
	}
	for i := range data {
		_ = m2.Load(data[:i])
	}
	if m2.Load(data[:len(data)/2]) == nil {
		t.Fatal("truncated snapshot accepted")
	}
}
