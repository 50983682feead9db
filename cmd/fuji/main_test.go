package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The fuji run command, called in-process through run with the exit
// statuses documented at the top of main.go.

const mbDir = "../../conformance/multiboot"

// kernel assembles conformance/multiboot/name.asm (a.out kludge format).
func kernel(t *testing.T, name string) string {
	t.Helper()
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm is not installed (make test installs it: apt-get install nasm)")
	}
	out := filepath.Join(t.TempDir(), name+".bin")
	cmd := exec.Command(nasm, "-f", "bin", "-I"+mbDir+"/", "-o", out, filepath.Join(mbDir, name+".asm"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nasm: %v\n%s", err, b)
	}
	return out
}

// fuji runs the command with args; stdin is the null device.
func fuji(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var o, e bytes.Buffer
	status = run(args, null, &o, &e)
	return status, o.String(), e.String()
}

// common flags: deterministic clock, no reboot, a generous hang guard.
func runArgs(extra ...string) []string {
	return append([]string{"run", "-m", "32", "-display", "none", "-clock", "deterministic", "-no-reboot", "-timeout", "2m"}, extra...)
}

func TestDebugExitStatus(t *testing.T) {
	k := kernel(t, "exitcode")
	for _, v := range []int{0, 1, 3, 42, 0x7f} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			st, _, stderr := fuji(t, runArgs("-kernel", k, "-serial", "none", "-append", fmt.Sprintf("exit %d", v))...)
			if want := v<<1 | 1; st != want {
				t.Errorf("status %d, want %d; stderr %q", st, want, stderr)
			}
		})
	}
}

func TestExitStatuses(t *testing.T) {
	k := kernel(t, "exitcode")
	cases := []struct {
		cmd     string
		timeout string
		want    int
		stderr  string
	}{
		{"triple", "2m", exitTripleFault, "triple fault"},
		{"reset", "2m", exitReset, "reset"},
		{"spin", "300ms", exitTimeout, "timeout"},
		{"halt", "300ms", exitTimeout, "timeout"},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			args := runArgs("-kernel", k, "-serial", "none", "-append", c.cmd, "-timeout", c.timeout)
			st, _, stderr := fuji(t, args...)
			if st != c.want {
				t.Errorf("status %d, want %d; stderr %q", st, c.want, stderr)
			}
			if !strings.Contains(stderr, c.stderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line mentioning %q", stderr, c.stderr)
			}
		})
	}
}

// TestBadInput: a bad command line or input file gives status 2 and
// exactly one line on stderr, never a Go stack trace.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notMB := filepath.Join(dir, "notmb.bin")
	if err := os.WriteFile(notMB, bytes.Repeat([]byte{0x90}, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	k := filepath.Join(dir, "missing.elf")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing-kernel", runArgs("-kernel", k), "missing.elf"},
		{"not-multiboot", runArgs("-kernel", notMB), "neither a multiboot kernel"},
		{"unknown-flag", runArgs("-bogus"), "bogus"},
		{"m-zero", runArgs("-m", "0", "-kernel", notMB), "-m"},
		{"m-huge", runArgs("-m", "999999G", "-kernel", notMB), "-m"},
		{"m-garbage", runArgs("-m", "lots", "-kernel", notMB), "-m"},
		{"serial-bogus", runArgs("-serial", "bogus", "-kernel", notMB), "-serial"},
		{"debugcon-bogus", runArgs("-debugcon", "tcp:1", "-kernel", notMB), "-debugcon"},
		{"clock-bogus", runArgs("-clock", "fast", "-kernel", notMB), "-clock"},
		{"initrd-without-kernel", runArgs("-initrd", notMB), "-initrd"},
		{"missing-initrd", runArgs("-kernel", notMB, "-initrd", k), ""},
		{"extra-argument", runArgs("stray"), "stray"},
		{"unknown-command", []string{"frobnicate"}, "frobnicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _, stderr := fuji(t, c.args...)
			if st != exitUsage {
				t.Errorf("status %d, want %d; stderr %q", st, exitUsage, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("want exactly one line on stderr, got %q", stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not mention %q", stderr, c.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr: %q", stderr)
			}
		})
	}
}

// TestAppendInitrd: -append and -initrd reach the kernel, which prints
// its command line and modules on COM1 (-serial file:PATH) and the debug
// console (-debugcon stdio).
func TestAppendInitrd(t *testing.T) {
	k := kernel(t, "mbinfo")
	dir := t.TempDir()
	mod := filepath.Join(dir, "mod.txt")
	if err := os.WriteFile(mod, []byte("module contents here"), 0o644); err != nil {
		t.Fatal(err)
	}
	serial := filepath.Join(dir, "serial.out")
	st, stdout, stderr := fuji(t, runArgs("-kernel", k, "-append", "root=/dev/x quiet", "-initrd", mod+" modarg",
		"-serial", "file:"+serial, "-debugcon", "stdio")...)
	if st != 1 {
		t.Fatalf("status %d, want 1 (the kernel's clean exit); stderr %q\n%s", st, stderr, stdout)
	}
	b, err := os.ReadFile(serial)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"info cmdline=" + k + " root=/dev/x quiet\n",
		"info mods=1\n",
		"info mod 20 " + mod + " modarg\n",
		"info data module contents here\n",
		"info mem_upper=31744\n",
		"done\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("serial output lacks %q:\n%s", want, b)
		}
		if !strings.Contains(stdout, want) {
			t.Errorf("debug console (stdout) lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+string(b), "FAIL") {
		t.Errorf("kernel reported a failure:\n%s", stdout)
	}
}
