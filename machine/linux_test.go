package machine

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// guestDir is where `make guest` puts Debian's kernel and the busybox
// initramfs (scripts/fetch-guest.sh, scripts/mkinitramfs.sh).
func guestFiles(t *testing.T, arch string) (kernel, initrd string) {
	dir := filepath.Join("..", "build", "guest")
	kernel = filepath.Join(dir, "vmlinuz-"+arch)
	initrd = filepath.Join(dir, "initramfs-"+arch+"-test.cpio.gz")
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s missing: run `make guest` (make test does) to fetch Debian's kernel and build the initramfs", f)
		}
	}
	return kernel, initrd
}

// bootLinux boots the test initramfs in deterministic mode and returns the
// serial output and the result.
func bootLinux(t *testing.T, arch, model string) (string, Result, *Machine) {
	kernel, initrd := guestFiles(t, arch)
	var serial bytes.Buffer
	m, err := New(Config{RAM: 512 << 20, CPUModel: model, Kernel: kernel, Initrd: initrd,
		Cmdline: "console=ttyS0", Serial: &serial, NoReboot: true})
	if err != nil {
		t.Fatal(err)
	}
	// A hang guard only; the run ends with the guest's power-off.
	res := m.Run(20 * time.Minute)
	return serial.String(), res, m
}

// Lines a real PC's boot log does not contain.
var badBootLog = regexp.MustCompile(`(?i)kernel panic|firmware bug|\[Firmware Bug\]|unknown nmi|Uhhuh|\bBUG:|\bWARNING:|\bOops\b|timer doesn't work|falling back|fallback to|IO-APIC \+ timer doesn't`)

func checkLinuxBoot(t *testing.T, out string, res Result, wantArch string) {
	t.Helper()
	if res.Kind != ExitPowerOff {
		t.Fatalf("run ended %+v, want the guest's ACPI power-off; serial tail:\n%s", res, tail(out, 3000))
	}
	if !strings.Contains(out, "FUJI-MARKER: shell reached") {
		t.Fatalf("no shell marker; serial tail:\n%s", tail(out, 3000))
	}
	m := regexp.MustCompile(`FUJI-UNAME: (Linux \S+ 6\.1\.\S+ .*)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(m[1], wantArch) {
		t.Fatalf("uname -a missing or not %s: %q", wantArch, m)
	}
	t.Logf("uname -a: %s", m[1])
	if u := regexp.MustCompile(`FUJI-UPTIME: (\S+)`).FindStringSubmatch(out); u != nil {
		t.Logf("guest uptime at the shell marker: %s s", u[1])
	}
	dmesg := out
	if i := strings.Index(out, "FUJI-DMESG-BEGIN"); i >= 0 {
		dmesg = out[i:]
	}
	for _, l := range strings.Split(dmesg, "\n") {
		if badBootLog.MatchString(l) {
			t.Errorf("boot log line a real PC would not print: %s", strings.TrimSpace(l))
		}
	}
}

// TestLinuxAMD64Boot boots Debian's stock amd64 kernel with the busybox
// initramfs to its shell, twice: the deterministic clock must give the
// same serial output, bit for bit.
func TestLinuxAMD64Boot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux twice (about a minute each)")
	}
	out1, res1, m1 := bootLinux(t, "amd64", "x86-64-v2")
	checkLinuxBoot(t, out1, res1, "x86_64")
	t.Logf("instructions: %d, virtual time %v", m1.CPU.Instructions(), time.Duration(m1.Clock.Now()))
	out2, res2, m2 := bootLinux(t, "amd64", "x86-64-v2")
	if out1 != out2 || res1 != res2 || m1.CPU.Instructions() != m2.CPU.Instructions() {
		t.Fatalf("two deterministic runs differ: %d vs %d instructions, serial equal: %v", m1.CPU.Instructions(), m2.CPU.Instructions(), out1 == out2)
	}
}

// TestLinuxI386Boot boots Debian's i386 686-pae kernel (PAE paging, NX)
// with an i386 busybox initramfs to its shell.
func TestLinuxI386Boot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux (about a minute)")
	}
	out, res, m := bootLinux(t, "i386", "x86-64-v2")
	checkLinuxBoot(t, out, res, "i686")
	if !strings.Contains(out, "NX (Execute Disable) protection: active") {
		t.Error("the 686-pae kernel did not enable NX through PAE paging")
	}
	t.Logf("instructions: %d, virtual time %v", m.CPU.Instructions(), time.Duration(m.Clock.Now()))
}
