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
// multiboot kernel in Fuji and in QEMU TCG (qemu-system-i386 -accel tcg)
// side by side, and reports both speeds and their ratio. Each emulator
// runs the loop at two iteration counts so that its fixed start-up cost
// cancels out: MIPS = 8 × (n2 − n1) / (t2 − t1). It is a benchmark, not a
// timed test.
func BenchmarkLoopVsQEMU(b *testing.B) {
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		b.Skip("nasm not installed")
	}
	dir := b.TempDir()
	// Iteration counts per emulator: enough that the run-time difference
	// dwarfs the start-up jitter (QEMU's JIT runs about ten times faster
	// than the interpreter, so it gets ten times the work).
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
	fuji := func(kernel string) time.Duration {
		m, err := New(Config{RAM: 32 << 20, NoBIOS: true, NoVGA: true, Kernel: kernel, NoReboot: true})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r := m.Run(10 * time.Minute)
		d := time.Since(start)
		if r.Kind != ExitDebugExit || r.Status != 0x21 {
			b.Fatalf("fuji: loop kernel ended with %+v", r)
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
		f1, f2 := fuji(k1), fuji(k2)
		fm := 8 * float64(n2-n1) / (f2 - f1).Seconds() / 1e6
		b.ReportMetric(fm, "fuji-MIPS")
		if qerr != nil {
			b.Logf("QEMU not installed (qemu-system-x86): Fuji %.0f MIPS", fm)
			continue
		}
		t1, t2 := qemu(kq1), qemu(kq2)
		qm := 8 * float64(q2-q1) / (t2 - t1).Seconds() / 1e6
		b.ReportMetric(qm, "qemu-MIPS")
		b.ReportMetric(qm/fm, "time-ratio-fuji/qemu")
		fmt.Fprintf(os.Stderr, "loop32: Fuji %.0f MIPS, QEMU TCG %.0f MIPS, Fuji time / QEMU time = %.2f\n", fm, qm, qm/fm)
	}
}
