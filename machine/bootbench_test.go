package machine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// BenchmarkLinuxBootVsQEMU boots Debian's kernel with the test initramfs
// in Fuji (-accel jit, then -accel interp) and in QEMU TCG
// (qemu-system-x86_64 -accel tcg) side by side and reports, for each: the
// guest's own uptime at the shell marker, the wall time to the marker and
// to power-off; then each Fuji engine's ratios to QEMU and the JIT's
// speed-up over the interpreter. It is a benchmark (make bench), not a
// timed test.
func BenchmarkLinuxBootVsQEMU(b *testing.B) {
	kernel := "../build/guest/vmlinuz-amd64"
	initrd := "../build/guest/initramfs-amd64-test.cpio.gz"
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			b.Skipf("%s missing: run `make guest`", f)
		}
	}
	const cmdline = "console=ttyS0"
	uptimeRe := regexp.MustCompile(`FUJI-UPTIME: (\S+)`)
	// boot is one engine's figures: the guest's uptime at the marker
	// (seconds), the wall time to the marker and to power-off.
	type boot struct {
		uptime      float64
		marker, off time.Duration
	}
	// Fuji runs on the real-time clock so that the guest's uptime is wall
	// time.
	fuji := func(accel string) boot {
		pr, pw := io.Pipe()
		m, err := New(Config{RAM: 512 << 20, Kernel: kernel, Initrd: initrd, Cmdline: cmdline, Serial: pw, NoReboot: true, RealTime: true, Accel: accel})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		markerCh := make(chan time.Duration, 1)
		uptimeCh := make(chan string, 1)
		go scanMarkers(pr, start, markerCh, uptimeCh, uptimeRe)
		res := m.Run(30 * time.Minute)
		off := time.Since(start)
		pw.Close()
		if res.Kind != ExitPowerOff {
			b.Fatalf("fuji -accel %s: %+v", accel, res)
		}
		r := boot{marker: <-markerCh, off: off}
		fmt.Sscan(<-uptimeCh, &r.uptime)
		return r
	}
	row := func(name string, r boot) {
		fmt.Fprintf(os.Stderr, "  %-22s %8.2f s               %8.2f s       %8.2f s\n", name, r.uptime, r.marker.Seconds(), r.off.Seconds())
	}
	ratio := func(name string, f, q boot) {
		fmt.Fprintf(os.Stderr, "  %-22s %8.2f                 %8.2f         %8.2f\n", name, f.uptime/q.uptime, f.marker.Seconds()/q.marker.Seconds(), f.off.Seconds()/q.off.Seconds())
	}
	for i := 0; i < b.N; i++ {
		jit := fuji(AccelJIT)
		interp := fuji(AccelInterp)
		b.ReportMetric(jit.marker.Seconds(), "fuji-jit-marker-s")
		b.ReportMetric(interp.marker.Seconds(), "fuji-interp-marker-s")
		b.ReportMetric(interp.marker.Seconds()/jit.marker.Seconds(), "jit-speedup")

		qemu, err := exec.LookPath("qemu-system-x86_64")
		if err != nil {
			b.Logf("Fuji -accel jit: marker %v wall, %.2f s guest uptime, power-off %v; -accel interp: marker %v wall, %.2f s guest uptime, power-off %v (qemu-system-x86 not installed)",
				jit.marker, jit.uptime, jit.off, interp.marker, interp.uptime, interp.off)
			continue
		}
		cmd := exec.Command(qemu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot", "-monitor", "none",
			"-kernel", kernel, "-initrd", initrd, "-append", cmdline)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		qstart := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		qMarkerCh := make(chan time.Duration, 1)
		qUptimeCh := make(chan string, 1)
		go scanMarkers(out, qstart, qMarkerCh, qUptimeCh, uptimeRe)
		q := boot{marker: <-qMarkerCh}
		fmt.Sscan(<-qUptimeCh, &q.uptime)
		cmd.Wait()
		q.off = time.Since(qstart)
		b.ReportMetric(q.marker.Seconds(), "qemu-marker-s")
		b.ReportMetric(jit.marker.Seconds()/q.marker.Seconds(), "marker-ratio-jit/qemu")
		b.ReportMetric(interp.marker.Seconds()/q.marker.Seconds(), "marker-ratio-interp/qemu")
		fmt.Fprintf(os.Stderr, "linux boot               guest uptime at marker   wall to marker   wall to power-off\n")
		row("fuji -accel jit", jit)
		row("fuji -accel interp", interp)
		row("qemu tcg", q)
		ratio("fuji-jit/qemu", jit, q)
		ratio("fuji-interp/qemu", interp, q)
		ratio("interp/jit (speed-up)", interp, jit)
	}
}

// scanMarkers reads serial output and reports when the shell marker
// appears and the uptime line's value.
func scanMarkers(r io.Reader, start time.Time, marker chan<- time.Duration, uptime chan<- string, re *regexp.Regexp) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sentM, sentU := false, false
	for sc.Scan() {
		l := sc.Text()
		if !sentM && strings.Contains(l, "FUJI-MARKER: shell reached") {
			marker <- time.Since(start)
			sentM = true
		}
		if m := re.FindStringSubmatch(l); m != nil && !sentU {
			uptime <- m[1]
			sentU = true
		}
	}
	io.Copy(io.Discard, r)
	if !sentM {
		marker <- 0
	}
	if !sentU {
		uptime <- "?"
	}
}
