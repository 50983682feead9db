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
// in Fuji and in QEMU TCG (qemu-system-x86_64 -accel tcg) side by side and
// reports, for each: the guest's own uptime at the shell marker, the wall
// time to the marker and to power-off, and the ratios Fuji/QEMU. It is a
// benchmark (make bench), not a timed test.
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
	for i := 0; i < b.N; i++ {
		// Fuji, real-time clock so that the guest's uptime is wall time.
		pr, pw := io.Pipe()
		m, err := New(Config{RAM: 512 << 20, Kernel: kernel, Initrd: initrd, Cmdline: cmdline, Serial: pw, NoReboot: true, RealTime: true})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		markerCh := make(chan time.Duration, 1)
		uptimeCh := make(chan string, 1)
		go scanMarkers(pr, start, markerCh, uptimeCh, uptimeRe)
		res := m.Run(30 * time.Minute)
		fujiOff := time.Since(start)
		pw.Close()
		if res.Kind != ExitPowerOff {
			b.Fatalf("fuji: %+v", res)
		}
		fujiMarker, fujiUptime := <-markerCh, <-uptimeCh

		qemu, err := exec.LookPath("qemu-system-x86_64")
		if err != nil {
			b.Logf("Fuji: marker %v wall, %s s guest uptime, power-off %v (qemu-system-x86 not installed)", fujiMarker, fujiUptime, fujiOff)
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
		qMarker, qUptime := <-qMarkerCh, <-qUptimeCh
		cmd.Wait()
		qOff := time.Since(qstart)
		var fu, qu float64
		fmt.Sscan(fujiUptime, &fu)
		fmt.Sscan(qUptime, &qu)
		b.ReportMetric(fujiMarker.Seconds(), "fuji-marker-s")
		b.ReportMetric(qMarker.Seconds(), "qemu-marker-s")
		b.ReportMetric(fujiMarker.Seconds()/qMarker.Seconds(), "marker-ratio")
		fmt.Fprintf(os.Stderr, "linux boot        guest uptime at marker   wall to marker   wall to power-off\n")
		fmt.Fprintf(os.Stderr, "  fuji (interp)   %8s s               %8.2f s       %8.2f s\n", fujiUptime, fujiMarker.Seconds(), fujiOff.Seconds())
		fmt.Fprintf(os.Stderr, "  qemu tcg        %8s s               %8.2f s       %8.2f s\n", qUptime, qMarker.Seconds(), qOff.Seconds())
		fmt.Fprintf(os.Stderr, "  fuji/qemu       %8.2f                 %8.2f         %8.2f\n", fu/qu, fujiMarker.Seconds()/qMarker.Seconds(), fujiOff.Seconds()/qOff.Seconds())
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
