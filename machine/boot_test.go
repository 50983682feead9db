package machine

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

const seabiosPath = "/usr/share/seabios/bios-256k.bin"

// TestSeaBIOSBoot boots Debian's SeaBIOS with no disk: it must print its
// banner on the serial console and on the VGA text screen (the VGA BIOS
// ran), try to boot, and report that there is no bootable device; it
// then waits boot-fail-wait and resets, which ends the run (NoReboot).
func TestSeaBIOSBoot(t *testing.T) {
	if _, err := os.Stat(seabiosPath); err != nil {
		t.Skipf("SeaBIOS is not installed (%v): make test installs Debian's seabios package", err)
	}
	var serial bytes.Buffer
	m, err := New(Config{
		RAM:         128 << 20,
		Serial:      &serial,
		SerialCon:   true,
		NoReboot:    true,
		BootTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Run(hangGuard)
	out := serial.String()
	t.Logf("%d instructions, virtual time %v, result %+v", m.CPU.Instructions(), time.Duration(m.Clock.Now()), res)
	if res.Kind != ExitReset {
		t.Errorf("result %+v, want the reset after boot-fail-wait", res)
	}
	for _, want := range []string{"SeaBIOS (version", "No bootable device"} {
		if !strings.Contains(out, want) {
			t.Errorf("serial console lacks %q; got:\n%s", want, out)
		}
	}
	screen := m.TextScreen()
	for _, want := range []string{"SeaBIOS (version", "No bootable device"} {
		if !strings.Contains(screen, want) {
			t.Errorf("VGA text screen lacks %q; screen:\n%s", want, screen)
		}
	}
}

// TestDeterminism runs kernels twice on the deterministic clock: the
// console output, the instruction count and the virtual time must be
// identical, bit for bit, including runs with interrupts, HLT time skips
// and host serial input.
func TestDeterminism(t *testing.T) {
	type run struct {
		debug, serial string
		instr         uint64
		now           int64
		res           Result
	}
	for _, name := range []string{"irq_pit_pic", "rtc_periodic", "uart_loopback"} {
		t.Run(name, func(t *testing.T) {
			kernel := buildKernel(t, name, fmtAout)
			var runs [2]run
			for i := range runs {
				out := bootKernel(t, Config{NoBIOS: true, Kernel: kernel}, uartReady)
				runs[i] = run{out.debug, out.serial, out.m.CPU.Instructions(), out.m.Clock.Now(), out.res}
			}
			a, b := runs[0], runs[1]
			if a.debug != b.debug || a.serial != b.serial {
				t.Errorf("output differs between runs:\n%q\n%q\nserial:\n%q\n%q", a.debug, b.debug, a.serial, b.serial)
			}
			if a.instr != b.instr || a.now != b.now || a.res != b.res {
				t.Errorf("runs differ: %d vs %d instructions, %d vs %d ns, %+v vs %+v", a.instr, b.instr, a.now, b.now, a.res, b.res)
			}
			if a.res.Kind != ExitDebugExit || !strings.Contains(a.debug, "ok - ") {
				t.Errorf("kernel did not run: %+v\n%s", a.res, a.debug)
			}
		})
	}
}

// TestDeterminismSeaBIOS boots SeaBIOS twice and compares the runs.
func TestDeterminismSeaBIOS(t *testing.T) {
	if _, err := os.Stat(seabiosPath); err != nil {
		t.Skipf("SeaBIOS is not installed (%v)", err)
	}
	var outs [2]string
	var counts [2]uint64
	for i := range outs {
		var serial bytes.Buffer
		m, err := New(Config{RAM: 64 << 20, Serial: &serial, SerialCon: true, NoReboot: true, BootTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res := m.Run(hangGuard); res.Kind != ExitReset {
			t.Fatalf("result %+v", res)
		}
		outs[i], counts[i] = serial.String()+m.TextScreen(), m.CPU.Instructions()
	}
	if outs[0] != outs[1] || counts[0] != counts[1] {
		t.Errorf("SeaBIOS runs differ: %d vs %d instructions\n%q\n%q", counts[0], counts[1], outs[0], outs[1])
	}
}
