package machine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkLoopVsQEMU runs the bare-metal 8-instruction loop as a
// multiboot kernel in Fuji (-accel jit, then -accel interp) and in QEMU
// TCG (qemu-system-i386 -accel tcg) side by side, and reports the speeds,
// each Fuji engine's time ratio to QEMU and the JIT's speed-up over the
// interpreter. Each engine runs the loop at two iteration counts so that
// its fixed start-up cost cancels out: MIPS = 8 × (n2 − n1) / (t2 − t1).
// It is a benchmark, not a timed test.
func BenchmarkLoopVsQEMU(b *testing.B) {
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		b.Skip("nasm not installed")
	}
	dir := b.TempDir()
	// Iteration counts per engine: enough that the run-time difference
	// dwarfs the start-up jitter (QEMU's JIT runs about ten times faster
	// than the interpreter, so it gets ten times the work, and so does
	// Fuji's JIT, which aims at QEMU's speed).
	const n1, n2 = 20_000_000, 120_000_000
	const q1, q2 = 200_000_000, 1_200_000_000
	build := func(n int) string {
		out := filepath.Join(dir, fmt.Sprintf("loop%d.bin", n))
		cmd := exec.Command(nasm, "-f", "bin", fmt.Sprintf("-DITERS=%d", n), "-o", out, filepath.Join("testdata", "loop.asm"))
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("nasm: %v\n%s", err, msg)
		}
		return out
	}
	k1, k2 := build(n1), build(n2)
	kq1, kq2 := build(q1), build(q2)
	fuji := func(kernel, accel string) time.Duration {
		m, err := New(Config{RAM: 32 << 20, NoBIOS: true, NoVGA: true, Kernel: kernel, NoReboot: true, Accel: accel})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r := m.Run(10 * time.Minute)
		d := time.Since(start)
		if r.Kind != ExitDebugExit || r.Status != 0x21 {
			b.Fatalf("fuji -accel %s: loop kernel ended with %+v", accel, r)
		}
		return d
	}
	qemuBin, qerr := exec.LookPath("qemu-system-i386")
	qemu := func(kernel string) time.Duration {
		cmd := exec.Command(qemuBin, "-accel", "tcg", "-m", "32", "-display", "none", "-serial", "none",
			"-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", kernel)
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0x21 {
			b.Fatalf("qemu: loop kernel ended with %v", err)
		}
		return d
	}
	for i := 0; i < b.N; i++ {
		j1, j2 := fuji(kq1, AccelJIT), fuji(kq2, AccelJIT)
		jm := 8 * float64(q2-q1) / (j2 - j1).Seconds() / 1e6
		f1, f2 := fuji(k1, AccelInterp), fuji(k2, AccelInterp)
		fm := 8 * float64(n2-n1) / (f2 - f1).Seconds() / 1e6
		b.ReportMetric(jm, "fuji-jit-MIPS")
		b.ReportMetric(fm, "fuji-interp-MIPS")
		b.ReportMetric(jm/fm, "jit-speedup")
		if qerr != nil {
			b.Logf("QEMU not installed (qemu-system-x86): Fuji -accel jit %.0f MIPS, -accel interp %.0f MIPS", jm, fm)
			continue
		}
		t1, t2 := qemu(kq1), qemu(kq2)
		qm := 8 * float64(q2-q1) / (t2 - t1).Seconds() / 1e6
		b.ReportMetric(qm, "qemu-MIPS")
		b.ReportMetric(qm/jm, "time-ratio-jit/qemu")
		b.ReportMetric(qm/fm, "time-ratio-interp/qemu")
		fmt.Fprintf(os.Stderr, "loop32              MIPS   time / QEMU time\n")
		fmt.Fprintf(os.Stderr, "  fuji -accel jit    %6.0f   %6.2f\n", jm, qm/jm)
		fmt.Fprintf(os.Stderr, "  fuji -accel interp %6.0f   %6.2f\n", fm, qm/fm)
		fmt.Fprintf(os.Stderr, "  qemu tcg           %6.0f\n", qm)
		fmt.Fprintf(os.Stderr, "  jit speed-up over interp %.2fx\n", jm/fm)
	}
}
