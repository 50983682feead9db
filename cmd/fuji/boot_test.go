package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBootFlag: -boot chooses direct (default) or firmware; anything else,
// firmware without -kernel, and firmware for a multiboot kernel are
// command-line errors (status 2, one line).
func TestBootFlag(t *testing.T) {
	mb := kernel(t, "exitcode")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bogus", runArgs("-boot", "bios", "-kernel", mb), `-boot "bios": want direct or firmware`},
		{"firmware-no-kernel", runArgs("-boot", "firmware"), "-boot firmware needs -kernel"},
	}
	if _, err := os.Stat("/usr/share/seabios/bios-256k.bin"); err == nil {
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"firmware-multiboot", runArgs("-boot", "firmware", "-kernel", mb), "boots directly only (use -boot direct)"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _, stderr := fuji(t, c.args...)
			if st != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("status %d, stderr %q; want %d and one line with %q", st, stderr, exitUsage, c.want)
			}
		})
	}
}

// TestBootFirmware boots machine/testdata/bzimage.asm through SeaBIOS with
// -boot firmware: it prints the command line it received and exits with
// isa-debug-exit value 0 (status 1).
func TestBootFirmware(t *testing.T) {
	if _, err := os.Stat("/usr/share/seabios/bios-256k.bin"); err != nil {
		t.Skipf("SeaBIOS is not installed (%v)", err)
	}
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm is not installed (make test installs it: apt-get install nasm)")
	}
	k := filepath.Join(t.TempDir(), "bzimage")
	if b, err := exec.Command(nasm, "-f", "bin", "-o", k, "../../machine/testdata/bzimage.asm").CombinedOutput(); err != nil {
		t.Fatalf("nasm: %v\n%s", err, b)
	}
	st, stdout, stderr := fuji(t, runArgs("-boot", "firmware", "-kernel", k, "-append", "via firmware",
		"-serial", "none", "-debugcon", "stdio")...)
	if st != 1 {
		t.Errorf("status %d, want 1; stderr %q", st, stderr)
	}
	for _, want := range []string{"LBT rm cmdline=via firmware\n", "LBT pm cmdline=via firmware\n", "LBT pm done"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("debug console lacks %q:\n%s", want, stdout)
		}
	}
}
