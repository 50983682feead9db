package chipset

import (
	"bytes"
	"testing"
)

type kbdFakeClock struct{ t int64 }

func (c *kbdFakeClock) Now() int64 { return c.t }

func kbdDrain(k *PS2Keyboard) []byte {
	var out []byte
	for {
		b, ok := k.pop()
		if !ok {
			return out
		}
		out = append(out, b)
	}
}

func kbdExpect(t *testing.T, k *PS2Keyboard, what string, want ...byte) {
	t.Helper()
	if got := kbdDrain(k); !bytes.Equal(got, want) {
		t.Fatalf("%s: got % X, want % X", what, got, want)
	}
}

func kbdSetSet(t *testing.T, k *PS2Keyboard, set uint8) {
	t.Helper()
	k.command(0xF0)
	k.command(set)
	kbdExpect(t, k, "set scancode set", 0xFA, 0xFA)
}

func TestPS2KeyboardSet2(t *testing.T) {
	k := NewPS2Keyboard(nil)
	k.KeyDown(KeyA)
	k.KeyUp(KeyA)
	kbdExpect(t, k, "A", 0x1C, 0xF0, 0x1C)
	k.KeyDown(KeyUp)
	k.KeyUp(KeyUp)
	kbdExpect(t, k, "Up", 0xE0, 0x75, 0xE0, 0xF0, 0x75)
	k.KeyDown(KeyKPEnter)
	k.KeyUp(KeyKPEnter)
	kbdExpect(t, k, "KP Enter", 0xE0, 0x5A, 0xE0, 0xF0, 0x5A)
	k.KeyDown(KeyPause)
	k.KeyUp(KeyPause)
	kbdExpect(t, k, "Pause", 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77)
	k.KeyDown(KeyPrintScreen)
	k.KeyUp(KeyPrintScreen)
	kbdExpect(t, k, "PrintScreen", 0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12)
	k.KeyDown(KeyLeftCtrl)
	k.KeyDown(KeyPause)
	k.KeyUp(KeyPause)
	k.KeyUp(KeyLeftCtrl)
	kbdExpect(t, k, "Ctrl+Pause", 0x14, 0xE0, 0x7E, 0xE0, 0xF0, 0x7E, 0xF0, 0x14)
	k.KeyDown(KeyLeftAlt)
	k.KeyDown(KeyPrintScreen)
	k.KeyUp(KeyPrintScreen)
	k.KeyUp(KeyLeftAlt)
	kbdExpect(t, k, "Alt+SysRq", 0x11, 0x84, 0xF0, 0x84, 0xF0, 0x11)
	// A second KeyDown (host auto-repeat) is not a new press.
	k.KeyDown(KeyB)
	k.KeyDown(KeyB)
	kbdExpect(t, k, "held B", 0x32)
}

func TestPS2KeyboardSet1And3(t *testing.T) {
	k := NewPS2Keyboard(nil)
	kbdSetSet(t, k, 1)
	k.KeyDown(KeyUp)
	k.KeyUp(KeyUp)
	kbdExpect(t, k, "set 1 Up", 0xE0, 0x48, 0xE0, 0xC8)
	k.KeyDown(KeyPause)
	k.KeyUp(KeyPause)
	kbdExpect(t, k, "set 1 Pause", 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5)
	k.KeyDown(KeyPrintScreen)
	k.KeyUp(KeyPrintScreen)
	kbdExpect(t, k, "set 1 PrintScreen", 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA)
	k.command(0xF0)
	k.command(0x00)
	kbdExpect(t, k, "get set", 0xFA, 0xFA, 0x01)

	kbdSetSet(t, k, 3)
	k.KeyDown(KeyRightCtrl)
	k.KeyUp(KeyRightCtrl)
	kbdExpect(t, k, "set 3 RCtrl", 0x58, 0xF0, 0x58)
	// FD: A becomes make-only; the list ends with the next command.
	k.command(0xFD)
	k.command(0x1C)
	kbdExpect(t, k, "FD list", 0xFA, 0xFA)
	k.command(0xF4)
	kbdExpect(t, k, "end of FD list", 0xFA)
	k.KeyDown(KeyA)
	k.KeyUp(KeyA)
	kbdExpect(t, k, "make-only A", 0x1C)
	k.command(0xF8) // all make/break
	kbdExpect(t, k, "F8", 0xFA)
	k.KeyDown(KeyA)
	k.KeyUp(KeyA)
	kbdExpect(t, k, "make/break A", 0x1C, 0xF0, 0x1C)
}

func TestPS2KeyboardCommands(t *testing.T) {
	k := NewPS2Keyboard(nil)
	k.command(0xF2)
	kbdExpect(t, k, "identify", 0xFA, 0xAB, 0x83)
	k.command(0xEE)
	kbdExpect(t, k, "echo", 0xEE)
	k.command(0xED)
	k.command(0x05)
	kbdExpect(t, k, "LEDs", 0xFA, 0xFA)
	if k.LEDs() != 5 {
		t.Fatalf("LEDs = %d", k.LEDs())
	}
	k.command(0xFE)
	kbdExpect(t, k, "resend", 0xFA)
	k.command(0x42)
	kbdExpect(t, k, "invalid", 0xFE)
	k.command(0xF5)
	kbdExpect(t, k, "disable", 0xFA)
	k.KeyDown(KeyA)
	kbdExpect(t, k, "disabled keyboard")
	k.KeyUp(KeyA)
	k.command(0xF4)
	kbdExpect(t, k, "enable", 0xFA)
	k.command(0xED) // a command where the parameter belongs is a command
	k.command(0xF2)
	kbdExpect(t, k, "ED then F2", 0xFA, 0xFA, 0xAB, 0x83)
	k.command(0xFF)
	kbdExpect(t, k, "reset", 0xFA, 0xAA)
	if k.LEDs() != 0 || k.ScancodeSet() != 2 {
		t.Fatal("reset did not restore defaults")
	}
}

func TestPS2KeyboardTypematic(t *testing.T) {
	clk := &kbdFakeClock{}
	k := NewPS2Keyboard(clk)
	k.command(0xF3)
	k.command(0x00) // 250 ms, 30 cps
	kbdExpect(t, k, "F3", 0xFA, 0xFA)
	clk.t = 1000
	k.KeyDown(KeyLeft)
	kbdExpect(t, k, "press", 0xE0, 0x6B)
	if d := k.Deadline(); d != 1000+250_000_000 {
		t.Fatalf("deadline %d", d)
	}
	k.Advance(1000 + 249_999_999)
	kbdExpect(t, k, "too early")
	k.Advance(1000 + 250_000_000)
	kbdExpect(t, k, "first repeat", 0xE0, 0x6B)
	if d := k.Deadline(); d != 1000+250_000_000+8*4_170_000 {
		t.Fatalf("period deadline %d", d)
	}
	k.Advance(k.Deadline())
	kbdExpect(t, k, "second repeat", 0xE0, 0x6B)
	k.KeyUp(KeyLeft)
	kbdExpect(t, k, "release", 0xE0, 0xF0, 0x6B)
	if k.Deadline() != NoDeadline {
		t.Fatal("repeat continues after release")
	}
	// Default rate: 500 ms delay, 10.9 cps.
	k.command(0xF6)
	kbdDrain(k)
	k.KeyDown(KeyA)
	if d := k.Deadline(); d != clk.t+500_000_000 {
		t.Fatalf("default delay: deadline %d", d)
	}
	k.Advance(k.Deadline())
	if d := k.Deadline(); d != clk.t+500_000_000+11*2*4_170_000 {
		t.Fatalf("default period: deadline %d", d)
	}
	// Pause never repeats.
	k.KeyDown(KeyPause)
	if k.Deadline() != NoDeadline {
		t.Fatal("Pause repeats")
	}
}

func TestPS2KeyboardOverflow(t *testing.T) {
	k := NewPS2Keyboard(nil)
	for key := Key1; key <= KeyL; key++ {
		k.KeyDown(key)
	}
	got := kbdDrain(k)
	if len(got) > 16 || got[len(got)-1] != 0x00 || bytes.Count(got, []byte{0}) != 1 {
		t.Fatalf("overflow: % X", got)
	}
	kbdSetSet(t, k, 1)
	for key := Key1; key <= KeyL; key++ {
		k.KeyUp(key)
	}
	kbdDrain(k)
	for key := Key1; key <= KeyL; key++ {
		k.KeyDown(key)
	}
	got = kbdDrain(k)
	if got[len(got)-1] != 0xFF {
		t.Fatalf("set 1 overflow: % X", got)
	}
}

// TestPS2KeyTable checks the key table against itself and against the
// 8042's translation table, which was built independently: every set 2
// code must translate to the key's set 1 code.
func TestPS2KeyTable(t *testing.T) {
	seen := [3]map[uint16]Key{{}, {}, {}}
	for key := Key(1); key < numKeys; key++ {
		kc := keyTable[key]
		if kc.s1 == 0 || kc.s2 == 0 {
			t.Errorf("key %d has no set 1/2 code", key)
		}
		for i, c := range []uint16{kc.s1, kc.s2, uint16(kc.s3)} {
			if c == 0 {
				continue
			}
			if other, dup := seen[i][c]; dup && !(key == KeyNumLock && other == KeyPause) {
				t.Errorf("set %d code %#x shared by keys %d and %d", i+1, c, other, key)
			}
			seen[i][c] = key
		}
		if kc.s1>>8 != kc.s2>>8 {
			t.Errorf("key %d: E0 prefix differs between sets", key)
		}
		if key == KeyPause || key == KeyPrintScreen {
			continue
		}
		if x := kbcXlat[uint8(kc.s2)]; x != uint8(kc.s1) {
			t.Errorf("key %d: set 2 %#x translates to %#x, set 1 is %#x", key, kc.s2, x, kc.s1)
		}
	}
}

func TestPS2KeyboardSaveLoad(t *testing.T) {
	k := NewPS2Keyboard(nil)
	kbdSetSet(t, k, 3)
	k.command(0xED)
	k.command(0x02)
	k.KeyDown(KeyZ)
	data, err := k.Save()
	if err != nil {
		t.Fatal(err)
	}
	k2 := NewPS2Keyboard(nil)
	if err := k2.Load(data); err != nil {
		t.Fatal(err)
	}
	if k2.ScancodeSet() != 3 || k2.LEDs() != 2 {
		t.Fatal("state not restored")
	}
	kbdExpect(t, k2, "restored queue", 0xFA, 0xFA, 0x1A)
	for i := range data {
		_ = k2.Load(data[:i])
	}
	if k2.Load(data[:len(data)-3]) == nil || k2.Load(nil) == nil {
		t.Fatal("truncated snapshot accepted")
	}
}
