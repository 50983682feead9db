package machine

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The bench initramfs runs scripts/cpubench.c (built into it by
// scripts/mkinitramfs.sh) and powers off. "quiet" keeps the kernel's log
// off the serial console: only the benchmark's own line matters.
const cpubenchCmdline = "console=ttyS0 quiet"

// cpubenchLine is the benchmark's one line of output.
var cpubenchLine = regexp.MustCompile(`FUJI-CPUBENCH: ([0-9]+\.[0-9]{3}) s checksum ([0-9a-f]{16})`)

// cpubenchResult is what one run of cpubench reported.
type cpubenchResult struct {
	seconds  float64 // measured by the program itself (CLOCK_MONOTONIC)
	checksum string
}

// parseCPUBench finds the FUJI-CPUBENCH line in out.
func parseCPUBench(out string) (cpubenchResult, error) {
	m := cpubenchLine.FindStringSubmatch(out)
	if m == nil {
		return cpubenchResult{}, fmt.Errorf("no FUJI-CPUBENCH line")
	}
	s, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return cpubenchResult{}, err
	}
	return cpubenchResult{seconds: s, checksum: m[2]}, nil
}

// cpubenchGuest returns Debian's amd64 kernel and the bench initramfs, or
// skips when `make guest` has not built them.
func cpubenchGuest(tb testing.TB) (kernel, initrd string) {
	dir := filepath.Join("..", "build", "guest")
	kernel = filepath.Join(dir, "vmlinuz-amd64")
	initrd = filepath.Join(dir, "initramfs-amd64-bench.cpio.gz")
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			tb.Skipf("%s missing: run `make guest` to fetch Debian's kernel and build the bench initramfs", f)
		}
	}
	return kernel, initrd
}

// cpubenchBinary copies /cpubench out of the initramfs into a temporary
// directory, so that the host runs the very binary the guests run.
func cpubenchBinary(tb testing.TB, initrd string) string {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		tb.Skipf("cpubench is an x86-64 Linux binary; the host is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	bin, err := cpioFile(initrd, "cpubench")
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "cpubench")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	return path
}

// runNativeCPUBench runs the extracted cpubench on the host.
func runNativeCPUBench(tb testing.TB, path string) cpubenchResult {
	out, err := exec.Command(path).Output()
	if err != nil {
		tb.Fatalf("cpubench on the host: %v", err)
	}
	r, err := parseCPUBench(string(out))
	if err != nil {
		tb.Fatalf("cpubench on the host: %v: %q", err, out)
	}
	return r
}

// cpioFile returns the contents of the file called name in a gzipped
// cpio archive in the newc format (an initramfs).
func cpioFile(archive, name string) ([]byte, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", archive, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", archive, err)
	}
	align4 := func(n int) int { return (n + 3) &^ 3 }
	const hdrLen = 110 // "070701" and 13 fields of 8 hex digits
	for off := 0; ; {
		if off+hdrLen > len(data) {
			return nil, fmt.Errorf("%s: truncated cpio header at %d", archive, off)
		}
		h := data[off : off+hdrLen]
		if string(h[:6]) != "070701" {
			return nil, fmt.Errorf("%s: not a newc cpio archive at %d", archive, off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return -1
			}
			return int(v)
		}
		size, nameSize := field(6), field(11) // c_filesize, c_namesize (with its NUL)
		nameEnd := off + hdrLen + nameSize
		if size < 0 || nameSize < 1 || nameEnd > len(data) {
			return nil, fmt.Errorf("%s: bad cpio header at %d", archive, off)
		}
		fname := strings.TrimPrefix(string(data[off+hdrLen:nameEnd-1]), "./")
		start := align4(nameEnd)
		if start+size > len(data) {
			return nil, fmt.Errorf("%s: %s truncated", archive, fname)
		}
		switch fname {
		case "TRAILER!!!":
			return nil, fmt.Errorf("%s: no %s in the archive", archive, name)
		case name:
			return data[start : start+size], nil
		}
		off = align4(start + size)
	}
}

// TestLinuxCPUBench boots the bench initramfs on the interpreter and the
// deterministic clock and checks that cpubench computes in the guest what
// it computes on the host: the same checksum of all its results.
func TestLinuxCPUBench(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux and runs cpubench (about a minute)")
	}
	kernel, initrd := cpubenchGuest(t)
	want := runNativeCPUBench(t, cpubenchBinary(t, initrd))
	var serial bytes.Buffer
	m, err := New(Config{RAM: 512 << 20, Kernel: kernel, Initrd: initrd, Cmdline: cpubenchCmdline,
		Serial: &serial, NoReboot: true, Accel: AccelInterp})
	if err != nil {
		t.Fatal(err)
	}
	// A hang guard only; the run ends with the guest's power-off.
	res := m.Run(20 * time.Minute)
	out := serial.String()
	if res.Kind != ExitPowerOff {
		t.Fatalf("run ended %+v, want the guest's power-off; serial tail:\n%s", res, tail(out, 3000))
	}
	got, err := parseCPUBench(out)
	if err != nil {
		t.Fatalf("%v; serial tail:\n%s", err, tail(out, 3000))
	}
	if got.checksum != want.checksum {
		t.Fatalf("cpubench checksum in Fuji %s, on the host %s", got.checksum, want.checksum)
	}
	t.Logf("checksum %s as on the host; %.3f s of virtual time in the guest (host %.3f s); %d instructions in all",
		got.checksum, got.seconds, want.seconds, m.CPU.Instructions())
}

// BenchmarkCPUBenchVsQEMU runs cpubench in Fuji (-accel jit, then
// -accel interp) and in QEMU TCG, each booting Debian's kernel with the
// bench initramfs, and the same binary on the host. It checks that all
// four checksums agree and prints the seconds each took, as cpubench
// measured them itself, and their ratios. It is a benchmark (make bench),
// not a timed test.
func BenchmarkCPUBenchVsQEMU(b *testing.B) {
	kernel, initrd := cpubenchGuest(b)
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		b.Skip("qemu-system-x86_64 not installed (qemu-system-x86)")
	}
	bin := cpubenchBinary(b, initrd)
	// scanMarkers hands on the first submatch: here the whole line.
	lineRe := regexp.MustCompile(`(FUJI-CPUBENCH: .*)`)
	// fuji boots on the real-time clock, so that the guest's
	// CLOCK_MONOTONIC follows wall time.
	fuji := func(accel string) (cpubenchResult, time.Duration) {
		pr, pw := io.Pipe()
		m, err := New(Config{RAM: 512 << 20, Kernel: kernel, Initrd: initrd, Cmdline: cpubenchCmdline,
			Serial: pw, NoReboot: true, RealTime: true, Accel: accel})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		markerCh, lineCh := make(chan time.Duration, 1), make(chan string, 1)
		go scanMarkers(pr, start, markerCh, lineCh, lineRe)
		res := m.Run(30 * time.Minute) // a hang guard only
		pw.Close()
		marker, line := <-markerCh, <-lineCh
		if res.Kind != ExitPowerOff {
			b.Fatalf("fuji -accel %s: %+v", accel, res)
		}
		r, err := parseCPUBench(line)
		if err != nil {
			b.Fatalf("fuji -accel %s: %v", accel, err)
		}
		return r, marker
	}
	qemuRun := func() (cpubenchResult, time.Duration) {
		cmd := exec.Command(qemu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot", "-monitor", "none",
			"-kernel", kernel, "-initrd", initrd, "-append", cpubenchCmdline)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		markerCh, lineCh := make(chan time.Duration, 1), make(chan string, 1)
		go scanMarkers(out, start, markerCh, lineCh, lineRe)
		marker, line := <-markerCh, <-lineCh
		if err := cmd.Wait(); err != nil {
			b.Fatalf("qemu: %v", err)
		}
		r, err := parseCPUBench(line)
		if err != nil {
			b.Fatalf("qemu: %v", err)
		}
		return r, marker
	}
	for i := 0; i < b.N; i++ {
		native := runNativeCPUBench(b, bin)
		jit, jitBoot := fuji(AccelJIT)
		interp, interpBoot := fuji(AccelInterp)
		q, qBoot := qemuRun()
		rows := []struct {
			name string
			r    cpubenchResult
			boot time.Duration
		}{
			{"native", native, 0},
			{"fuji -accel jit", jit, jitBoot},
			{"fuji -accel interp", interp, interpBoot},
			{"qemu tcg", q, qBoot},
		}
		for _, row := range rows {
			if row.r.checksum != native.checksum {
				b.Fatalf("%s: cpubench checksum %s, native %s", row.name, row.r.checksum, native.checksum)
			}
			// Ratios divide by these; a zero would mean a broken clock.
			if row.r.seconds <= 0 {
				b.Fatalf("%s: cpubench reported %.3f s", row.name, row.r.seconds)
			}
		}
		b.ReportMetric(native.seconds, "native-s")
		b.ReportMetric(q.seconds, "qemu-s")
		b.ReportMetric(jit.seconds, "fuji-jit-s")
		b.ReportMetric(interp.seconds, "fuji-interp-s")
		b.ReportMetric(jit.seconds/q.seconds, "ratio-jit/qemu")
		b.ReportMetric(interp.seconds/q.seconds, "ratio-interp/qemu")
		b.ReportMetric(q.seconds/native.seconds, "ratio-qemu/native")
		b.ReportMetric(jit.seconds/native.seconds, "ratio-jit/native")
		b.ReportMetric(interp.seconds/jit.seconds, "jit-speedup")
		fmt.Fprintf(os.Stderr, "cpubench               seconds (its own clock)   wall to boot marker\n")
		for _, row := range rows {
			boot := "-"
			if row.boot > 0 {
				boot = fmt.Sprintf("%.2f s", row.boot.Seconds())
			}
			fmt.Fprintf(os.Stderr, "  %-20s %8.3f s                %10s\n", row.name, row.r.seconds, boot)
		}
		fmt.Fprintf(os.Stderr, "  fuji-jit/qemu %.2f, fuji-interp/qemu %.2f, qemu/native %.2f, fuji-jit/native %.2f, jit speed-up over interp %.2fx\n",
			jit.seconds/q.seconds, interp.seconds/q.seconds, q.seconds/native.seconds, jit.seconds/native.seconds, interp.seconds/jit.seconds)
		fmt.Fprintf(os.Stderr, "  checksum %s everywhere\n", native.checksum)
	}
}
