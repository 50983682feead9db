package machine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Multiboot test kernels (conformance/multiboot/*.asm) are assembled with
// nasm at test time and booted directly (NoBIOS). They report on the
// debug console one line per check, "ok - name" or "FAIL - name: ...",
// plus "info ..." lines the tests compare with the configuration, then
// "done", and exit through isa-debug-exit with value 0 (status 1).

const mbDir = "../conformance/multiboot"

// hangGuard bounds a run in wall-clock time only so that a hang fails
// instead of blocking the suite; no test asserts on elapsed time.
const hangGuard = 2 * time.Minute

// Kernel image formats built from the same source.
const (
	fmtAout    = "aout"    // nasm -f bin: the a.out kludge header
	fmtHandELF = "handelf" // nasm -f bin -DHANDELF: hand-written ELF headers
	fmtLdELF   = "ldelf"   // nasm -f elf32, linked by ld -T kernel.ld
)

// buildKernel assembles conformance/multiboot/name.asm in the given
// format and returns the image's path.
func buildKernel(t *testing.T, name, format string) string {
	t.Helper()
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm is not installed (make test installs it: apt-get install nasm)")
	}
	src := filepath.Join(mbDir, name+".asm")
	dir := t.TempDir()
	out := filepath.Join(dir, name+"."+format)
	run := func(name string, args ...string) {
		t.Helper()
		if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
	}
	inc := "-I" + mbDir + "/"
	switch format {
	case fmtAout:
		run(nasm, "-f", "bin", inc, "-o", out, src)
	case fmtHandELF:
		run(nasm, "-f", "bin", "-DHANDELF", inc, "-o", out, src)
	case fmtLdELF:
		ld, err := exec.LookPath("ld")
		if err != nil {
			t.Skip("ld (binutils) is not installed: the linked-ELF variant needs it")
		}
		obj := filepath.Join(dir, name+".o")
		run(nasm, "-f", "elf32", inc, "-o", obj, src)
		run(ld, "-m", "elf_i386", "-T", filepath.Join(mbDir, "kernel.ld"), "-z", "max-page-size=0x1000",
			"--build-id=none", "-o", out, obj)
	default:
		t.Fatalf("unknown kernel format %q", format)
	}
	return out
}

// hookBuffer is a bytes.Buffer that a device writes from the run loop,
// with a hook called after every write (on the run loop's goroutine, so
// no lock is needed).
type hookBuffer struct {
	bytes.Buffer
	hook func(b *hookBuffer)
}

func (h *hookBuffer) Write(p []byte) (int, error) {
	n, err := h.Buffer.Write(p)
	if h.hook != nil {
		h.hook(h)
	}
	return n, err
}

type runOut struct {
	m      *Machine
	res    Result
	debug  string
	serial string
}

// bootKernel builds a machine for cfg (64 MiB unless cfg says), runs it
// with the debug console and COM1 captured, and returns what it printed.
// setup, if not nil, runs after New and before Run.
func bootKernel(t *testing.T, cfg Config, setup func(m *Machine, debug, serial *hookBuffer)) runOut {
	t.Helper()
	if cfg.RAM == 0 {
		cfg.RAM = 64 << 20
	}
	var debug, serial hookBuffer
	cfg.DebugCon = &debug
	cfg.Serial = &serial
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if setup != nil {
		setup(m, &debug, &serial)
	}
	res := m.Run(hangGuard)
	return runOut{m: m, res: res, debug: debug.String(), serial: serial.String()}
}

// checkReport fails the test for every FAIL line, for a missing "done",
// for no passed check, and for an exit other than status 1; it returns
// the "info " lines (without the prefix).
func checkReport(t *testing.T, out runOut) []string {
	t.Helper()
	var info []string
	pass, done := 0, false
	sc := bufio.NewScanner(strings.NewReader(out.debug))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "ok - "):
			pass++
		case strings.HasPrefix(line, "FAIL"):
			t.Error(line)
		case strings.HasPrefix(line, "info "):
			info = append(info, strings.TrimPrefix(line, "info "))
		case line == "done":
			done = true
		}
	}
	t.Logf("%d checks passed, %d instructions, virtual time %v", pass, out.m.CPU.Instructions(), time.Duration(out.m.Clock.Now()))
	if pass == 0 {
		t.Errorf("no check reported; debug console:\n%s", out.debug)
	}
	if !done || out.res.Kind != ExitDebugExit || out.res.Status != 1 {
		t.Errorf("kernel did not finish cleanly: done=%v result=%+v\ndebug console:\n%s\nCPU:\n%v",
			done, out.res, out.debug, out.m.CPU)
	}
	return info
}

func infoValue(info []string, key string) (string, bool) {
	for _, l := range info {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

func infoLines(info []string, prefix string) []string {
	var r []string
	for _, l := range info {
		if v, ok := strings.CutPrefix(l, prefix+" "); ok {
			r = append(r, v)
		}
	}
	return r
}

// TestMultibootInfo boots mbinfo in every image format, with and without
// modules and at several memory sizes, and compares what the kernel read
// from the multiboot information with the configuration.
func TestMultibootInfo(t *testing.T) {
	dir := t.TempDir()
	mod1 := filepath.Join(dir, "first.txt")
	mod2 := filepath.Join(dir, "second.bin")
	if err := os.WriteFile(mod1, []byte("hello from module one"), 0o644); err != nil {
		t.Fatal(err)
	}
	// 5000 bytes: the next module must start on the following page.
	big := bytes.Repeat([]byte("0123456789abcdef"), 5000/16)
	big = append(big, "tail"...)
	if err := os.WriteFile(mod2, big, 0o644); err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name    string
		format  string
		ram     uint64
		initrd  string
		cmdline string
		mods    [][]byte
		specs   []string
	}
	cases := []tc{
		{name: "aout-64M-nomods", format: fmtAout, ram: 64 << 20},
		{name: "aout-2M", format: fmtAout, ram: 2 << 20, cmdline: "console=ttyS0 quiet"},
		{name: "aout-mods", format: fmtAout, ram: 129 << 20, cmdline: "a b  c",
			initrd: mod1 + " one two," + mod2 + "," + mod1, mods: [][]byte{[]byte("hello from module one"), big, []byte("hello from module one")},
			specs: []string{mod1 + " one two", mod2, mod1}},
		{name: "handelf-mods", format: fmtHandELF, ram: 32 << 20, cmdline: "x=1",
			initrd: mod2 + " arg", mods: [][]byte{big}, specs: []string{mod2 + " arg"}},
		{name: "ldelf-mods", format: fmtLdELF, ram: 256 << 20,
			initrd: mod1, mods: [][]byte{[]byte("hello from module one")}, specs: []string{mod1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kernel := buildKernel(t, "mbinfo", c.format)
			out := bootKernel(t, Config{RAM: c.ram, NoBIOS: true, Kernel: kernel, Initrd: c.initrd, Cmdline: c.cmdline}, nil)
			info := checkReport(t, out)
			wantFlags := uint32(0x245)
			if len(c.mods) > 0 {
				wantFlags |= 8
			}
			if v, _ := infoValue(info, "flags"); v != fmt.Sprintf("%08x", wantFlags) {
				t.Errorf("flags = %q, want %08x", v, wantFlags)
			}
			if v, _ := infoValue(info, "mem_upper"); v != fmt.Sprint((c.ram-1<<20)>>10) {
				t.Errorf("mem_upper = %q KiB, want %d", v, (c.ram-1<<20)>>10)
			}
			wantCmd := kernel
			if c.cmdline != "" {
				wantCmd += " " + c.cmdline
			}
			if v, _ := infoValue(info, "cmdline"); v != wantCmd {
				t.Errorf("cmdline = %q, want %q", v, wantCmd)
			}
			if v, _ := infoValue(info, "loader"); v != "Fuji" {
				t.Errorf("boot loader name = %q", v)
			}
			mmap := infoLines(info, "mmap")
			wantMap := []string{
				"0000000000000000 000000000009fc00 1",
				"000000000009fc00 0000000000000400 2",
				"00000000000f0000 0000000000010000 2",
				fmt.Sprintf("0000000000100000 %016x 1", c.ram-1<<20),
			}
			if out.m.LAPIC != nil {
				// The default model has a local APIC and an I/O APIC.
				wantMap = append(wantMap, "00000000fec00000 0000000000001000 2", "00000000fee00000 0000000000001000 2")
			}
			wantMap = append(wantMap, "00000000fffc0000 0000000000040000 2") // the BIOS ROM below 4 GiB, as on QEMU
			if strings.Join(mmap, "\n") != strings.Join(wantMap, "\n") {
				t.Errorf("memory map:\n%s\nwant:\n%s", strings.Join(mmap, "\n"), strings.Join(wantMap, "\n"))
			}
			if v, _ := infoValue(info, "mods"); v != fmt.Sprint(len(c.mods)) {
				t.Errorf("mods = %q, want %d", v, len(c.mods))
			}
			mods, data := infoLines(info, "mod"), infoLines(info, "data")
			if len(mods) != len(c.mods) || len(data) != len(c.mods) {
				t.Fatalf("module lines %q / %q, want %d modules", mods, data, len(c.mods))
			}
			for i, md := range c.mods {
				if want := fmt.Sprintf("%d %s", len(md), c.specs[i]); mods[i] != want {
					t.Errorf("module %d: %q, want %q", i, mods[i], want)
				}
				if want := string(md[:min(len(md), 64)]); data[i] != want {
					t.Errorf("module %d contents %q, want %q", i, data[i], want)
				}
			}
			// The kernel echoes its report on COM1 as well.
			if !strings.Contains(out.serial, "info cmdline="+wantCmd+"\n") {
				t.Errorf("COM1 output lacks the command line; got:\n%s", out.serial)
			}
		})
	}
}

// TestDebugExitStatus checks isa-debug-exit: a 32-bit write of v ends
// the run with status (v<<1)|1.
func TestDebugExitStatus(t *testing.T) {
	kernel := buildKernel(t, "exitcode", fmtAout)
	for _, v := range []uint32{0, 1, 2, 5, 0x3f, 0x7f, 0x80, 0xff, 0x1234, 0x7fffffff} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			out := bootKernel(t, Config{NoBIOS: true, Kernel: kernel, Cmdline: fmt.Sprintf("exit %d", v)}, nil)
			if out.res.Kind != ExitDebugExit || out.res.Status != int(uint64(v)<<1|1) {
				t.Errorf("result %+v, want debug exit with status %#x; console:\n%s", out.res, uint64(v)<<1|1, out.debug)
			}
		})
	}
}

// TestExitKinds covers the other ways a run ends.
func TestExitKinds(t *testing.T) {
	kernel := buildKernel(t, "exitcode", fmtAout)
	cases := []struct {
		cmd   string
		limit time.Duration
		want  ExitKind
	}{
		{"triple", hangGuard, ExitTripleFault},
		{"reset", hangGuard, ExitReset},
		{"reset92", hangGuard, ExitReset},
		{"spin", 300 * time.Millisecond, ExitTimeout},
		{"halt", 300 * time.Millisecond, ExitTimeout},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			m, err := New(Config{RAM: 16 << 20, NoBIOS: true, NoReboot: true, Kernel: kernel, Cmdline: c.cmd})
			if err != nil {
				t.Fatal(err)
			}
			// The limit here is the behaviour under test (-timeout),
			// not an assertion on speed.
			res := m.Run(c.limit)
			if res.Kind != c.want {
				t.Errorf("result %+v, want kind %d", res, c.want)
			}
		})
	}
}

// TestMultibootLoaderErrors feeds the loader bad images; each must fail
// New with an error, never panic or boot.
func TestMultibootLoaderErrors(t *testing.T) {
	dir := t.TempDir()
	le := binary.LittleEndian
	header := func(flags uint32, fields ...uint32) []byte {
		b := make([]byte, 64)
		le.PutUint32(b[0:], mbHeaderMagic)
		le.PutUint32(b[4:], flags)
		le.PutUint32(b[8:], -(mbHeaderMagic + flags))
		for i, f := range fields {
			le.PutUint32(b[12+4*i:], f)
		}
		return b
	}
	badSum := header(mbFlagAout, 0x100000, 0x100000, 0, 0, 0x100020)
	le.PutUint32(badSum[8:], 0)
	cases := []struct {
		name string
		img  []byte
		want string
	}{
		{"empty", nil, "neither a multiboot kernel"},
		{"no-header", bytes.Repeat([]byte{0x90}, 10000), "neither a multiboot kernel"},
		{"bad-checksum", badSum, "neither a multiboot kernel"},
		{"header-past-8k", append(make([]byte, 8192), header(mbFlagAout, 0x100000, 0x100000, 0, 0, 0x100000)...), "neither a multiboot kernel"},
		// Bits 0-15 are requirements: an unknown one must be refused
		// (bit 2, video, is accepted and ignored, as QEMU does).
		{"unknown-required-flag", header(1<<3 | mbFlagAout), "features"},
		{"aout-outside-ram", header(mbFlagAout, 0x7ff0000, 0x7ff0000, 0, 0, 0x7ff0000), "outside guest RAM"},
		{"aout-bss-before-end", header(mbFlagAout, 0x100000, 0x100000, 0, 0x100010, 0x100000), "bss_end_addr"},
		{"aout-in-vga-hole", header(mbFlagAout, 0xa0000, 0xa0000, 0, 0, 0xa0000), "hole"},
		{"not-elf", header(0), "neither a.out-kludge nor ELF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, c.img, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{RAM: 64 << 20, NoBIOS: true, Kernel: path})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: %v, want an error containing %q", err, c.want)
			}
		})
	}
	_, err := New(Config{RAM: 64 << 20, NoBIOS: true, Kernel: filepath.Join(dir, "missing")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing kernel: %v", err)
	}
}

// TestIRQPITPIC runs the PIC/PIT kernel.
func TestIRQPITPIC(t *testing.T) {
	kernel := buildKernel(t, "irq_pit_pic", fmtAout)
	checkReport(t, bootKernel(t, Config{NoBIOS: true, Kernel: kernel}, nil))
}

// TestRTCPeriodic runs the RTC kernel with a wall clock that crosses a
// year boundary during the run, and checks the two times it read.
func TestRTCPeriodic(t *testing.T) {
	kernel := buildKernel(t, "rtc_periodic", fmtAout)
	epoch := time.Date(2031, 12, 31, 23, 59, 57, 0, time.UTC)
	out := bootKernel(t, Config{NoBIOS: true, Kernel: kernel, Epoch: epoch}, nil)
	info := checkReport(t, out)
	times := infoLines(info, "time")
	if len(times) != 2 {
		t.Fatalf("time lines %q, want 2", times)
	}
	var tt [2]time.Time
	for i, s := range times {
		v, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatalf("time line %q: %v", s, err)
		}
		tt[i] = v
	}
	// Each read follows an update-ended interrupt: the RTC shows the
	// epoch plus whole seconds of virtual time.
	elapsed := time.Duration(out.m.Clock.Now())
	if tt[0].Before(epoch.Add(time.Second)) || tt[1].After(epoch.Add(elapsed)) {
		t.Errorf("times %v, %v outside [epoch+1s, epoch+%v]", tt[0], tt[1], elapsed)
	}
	if d := tt[1].Sub(tt[0]); d != 3*time.Second {
		t.Errorf("times %v and %v are %v apart, want 3s", tt[0], tt[1], d)
	}
	if tt[1].Year() != 2032 {
		t.Errorf("second time %v: the year should have rolled over to 2032", tt[1])
	}
}

// TestA20 runs the A20 gate kernel.
func TestA20(t *testing.T) {
	kernel := buildKernel(t, "a20", fmtAout)
	checkReport(t, bootKernel(t, Config{NoBIOS: true, Kernel: kernel}, nil))
}

// uartInput is what the host types on COM1 once the UART kernel is
// ready for it.
const uartInput = "typed by the host\n"

// uartReady hands uartInput to COM1 when the kernel prints its ready line
// on the debug console (the write happens on the run loop's goroutine).
func uartReady(m *Machine, debug, serial *hookBuffer) {
	sent := false
	debug.hook = func(b *hookBuffer) {
		if !sent && strings.HasSuffix(b.String(), "uart: ready\n") {
			sent = true
			m.SerialInput([]byte(uartInput))
		}
	}
}

// TestUARTLoopback runs the 16550A kernel and checks what reached the
// real serial line: the line out of loopback and the echo of the typed
// input, and nothing sent in loopback.
func TestUARTLoopback(t *testing.T) {
	kernel := buildKernel(t, "uart_loopback", fmtAout)
	out := bootKernel(t, Config{NoBIOS: true, Kernel: kernel}, uartReady)
	checkReport(t, out)
	want := "uart: hello on COM1\r\nuart: got " + uartInput
	if out.serial != want {
		t.Errorf("COM1 output %q, want %q (loopback bytes must not leak)", out.serial, want)
	}
}
