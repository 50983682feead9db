// Command fuji runs an x86 PC emulator.
//
//	fuji run [flags]     boot a PC (QEMU-style flags; see fuji run -h)
//	fuji version         print the version
//
// Exit status of fuji run:
//
//	0     the guest powered off (ACPI S5), or the user quit (Ctrl-A x)
//	N     odd N: the guest wrote V to isa-debug-exit (port 0xf4): N = (V<<1)|1
//	2     bad command line or input file (one line on stderr says which)
//	4     triple fault with -no-reboot
//	6     the guest reset the machine with -no-reboot
//	70    an emulator error (a bug: the CPU state is printed)
//	124   -timeout expired
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"fuji/cpu"
	"fuji/display"
	"fuji/machine"
)

// Exit statuses (see the package comment).
const (
	exitOK          = 0
	exitUsage       = 2
	exitTripleFault = 4
	exitReset       = 6
	exitInternal    = 70
	exitTimeout     = 124
)

const version = "0.1.0"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fuji run [flags]   (fuji run -h lists the flags)")
	fmt.Fprintln(w, "       fuji version")
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "fuji", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	// One line, as for every bad command line (status 2).
	fmt.Fprintf(stderr, "fuji: unknown command %q (want run or version)\n", args[0])
	return exitUsage
}

// parseSize reads a QEMU-style memory size: a number with an optional
// K, M, G or T suffix (no suffix means MiB).
func parseSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	mult := uint64(1 << 20)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, s = 1<<30, s[:n-1]
		case 't', 'T':
			mult, s = 1<<40, s[:n-1]
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v > (1<<50)/mult {
		return 0, fmt.Errorf("-m: %q is not a memory size (e.g. 256, 512M, 2G)", s)
	}
	return v * mult, nil
}

type runFlags struct {
	mem, bios, kernel, initrd, appendLine string
	serial, display, debugcon, clock      string
	noReboot, dumpScreen                  bool
	timeout                               time.Duration
	cpuModel                              string
	accel                                 string
	jitStats                              bool
	jitDump                               string
	jitPerfMap                            bool
	trace                                 string
	traceExc                              bool
	screenshot                            string
	cpuprofile                            string
	boot                                  string // -boot direct|firmware
}

func cmdRun(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fuji run", flag.ContinueOnError)
	// The flag package prints the error and then the whole flag list;
	// a bad command line gets one line on stderr (status 2), -h the
	// list on stdout.
	fs.SetOutput(io.Discard)
	var f runFlags
	fs.StringVar(&f.mem, "m", "128", "guest RAM: a size with optional K/M/G suffix (no suffix: MiB)")
	fs.StringVar(&f.bios, "bios", "", "system BIOS image (default: Debian's SeaBIOS, /usr/share/seabios/bios-256k.bin)")
	fs.StringVar(&f.kernel, "kernel", "", "kernel to boot: a Linux bzImage or a multiboot kernel")
	fs.StringVar(&f.initrd, "initrd", "", "Linux initrd, or multiboot modules: comma-separated \"file[ args]\"")
	fs.StringVar(&f.boot, "boot", machine.BootDirect, "how -kernel boots: direct (Fuji loads it) or firmware (SeaBIOS loads a Linux kernel through fw_cfg)")
	fs.StringVar(&f.appendLine, "append", "", "kernel command line")
	fs.StringVar(&f.serial, "serial", "stdio", "COM1: stdio, file:PATH or none")
	fs.StringVar(&f.display, "display", defaultDisplay(), "console display: window or none (window when this build has one and a display is available)")
	fs.StringVar(&f.screenshot, "screenshot", "", "write the screen to PATH.png on exit")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a Go CPU profile of the emulator to FILE (for go tool pprof)")
	fs.StringVar(&f.debugcon, "debugcon", "none", "debug console ports 0x402/0xe9: stdio, file:PATH or none")
	fs.StringVar(&f.clock, "clock", "auto", "virtual clock: realtime, deterministic, or auto (realtime with a window or when the serial console is an interactive terminal)")
	fs.BoolVar(&f.noReboot, "no-reboot", false, "exit instead of rebooting on a guest reset or triple fault")
	fs.BoolVar(&f.dumpScreen, "dump-screen", false, "print the VGA text screen on exit")
	fs.DurationVar(&f.timeout, "timeout", 0, "stop after this much wall-clock time (exit status 124)")
	fs.StringVar(&f.accel, "accel", machine.AccelJIT, "execution engine: jit (hot blocks compiled to host code) or interp (interpreter only)")
	fs.BoolVar(&f.jitStats, "jit-stats", false, "print the JIT's statistics on stderr on exit (blocks compiled, cache flushes, exits by reason, time in compiled code)")
	fs.StringVar(&f.jitDump, "jit-dump", "", "write every JIT translation, disassembled, to FILE")
	fs.BoolVar(&f.jitPerfMap, "jit-perfmap", false, "write /tmp/perf-PID.map so that perf report names the guest blocks of generated code")
	fs.StringVar(&f.cpuModel, "cpu", "", "CPU model: x86-64-v2 (default), p6 (32-bit, no FPU), max (every instruction Fuji implements)")
	fs.StringVar(&f.trace, "trace", "", "write an instruction trace to FILE (slow: one instruction at a time)")
	fs.BoolVar(&f.traceExc, "trace-exceptions", false, "print every exception the guest raises on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "usage: fuji run [flags]")
			fs.PrintDefaults()
			return exitOK
		}
		fmt.Fprintln(stderr, "fuji run:", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fuji run: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "fuji:", err)
		return exitUsage
	}
	ram, err := parseSize(f.mem)
	if err != nil {
		return fail(err)
	}
	switch f.display {
	case "none":
	case "window":
		if !display.WindowAvailable() {
			return fail(display.ErrNoWindow)
		}
	default:
		return fail(fmt.Errorf("-display %q: want window or none", f.display))
	}

	interactive := false
	var serialOut io.Writer
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	// createBuffered creates a file written through a large buffer, for
	// the outputs written a line at a time (trace, JIT dump, perf map);
	// the caller defers the Flush, which runs before the Close.
	createBuffered := func(flagName, name string) (*bufio.Writer, error) {
		fh, err := os.Create(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
		closers = append(closers, fh)
		return bufio.NewWriterSize(fh, 1<<20), nil
	}
	openSink := func(flagName, spec string) (io.Writer, error) {
		switch {
		case spec == "none":
			return io.Discard, nil
		case spec == "stdio":
			return stdout, nil
		case strings.HasPrefix(spec, "file:"):
			fh, err := os.Create(strings.TrimPrefix(spec, "file:"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", flagName, err)
			}
			closers = append(closers, fh)
			return fh, nil
		}
		return nil, fmt.Errorf("%s %q: want stdio, file:PATH or none", flagName, spec)
	}
	if serialOut, err = openSink("-serial", f.serial); err != nil {
		return fail(err)
	}
	debugOut, err := openSink("-debugcon", f.debugcon)
	if err != nil {
		return fail(err)
	}
	if f.serial == "stdio" && term.IsTerminal(int(stdin.Fd())) {
		interactive = true
	}
	realTime := false
	switch f.clock {
	case "auto":
		// A window is an interactive console too. On the deterministic
		// clock a halted guest skips straight to the next device
		// deadline, so a key held for a few host milliseconds became
		// thousands of typematic repeats before the window's release
		// arrived (found by TestWindowTypesIntoGuest).
		realTime = interactive || f.display == "window"
	case "realtime":
		realTime = true
	case "deterministic":
	default:
		return fail(fmt.Errorf("-clock %q: want realtime, deterministic or auto", f.clock))
	}

	// -boot: direct or firmware (machine/fwboot.go).
	switch f.boot {
	case machine.BootDirect:
	case machine.BootFirmware:
		if f.kernel == "" {
			return fail(errors.New("-boot firmware needs -kernel"))
		}
	default:
		return fail(fmt.Errorf("-boot %q: want direct or firmware", f.boot))
	}

	cfg := machine.Config{
		Boot:      f.boot,
		RAM:       ram,
		BIOS:      f.bios,
		Kernel:    f.kernel,
		Initrd:    f.initrd,
		Cmdline:   f.appendLine,
		Serial:    serialOut,
		DebugCon:  debugOut,
		SerialCon: f.display == "none" && f.serial != "none",
		CPUModel:  f.cpuModel,
		Accel:     f.accel,
		JITStats:  jitStatsOut(f.jitStats),
		NoReboot:  f.noReboot,
		RealTime:  realTime,
	}
	if f.initrd != "" && f.kernel == "" {
		return fail(errors.New("-initrd needs -kernel"))
	}
	if f.appendLine != "" && f.kernel == "" {
		return fail(errors.New("-append needs -kernel"))
	}
	if f.jitDump != "" {
		bw, err := createBuffered("-jit-dump", f.jitDump)
		if err != nil {
			return fail(err)
		}
		defer bw.Flush()
		cfg.JITDump = bw
	}
	if f.jitPerfMap {
		bw, err := createBuffered("-jit-perfmap", fmt.Sprintf("/tmp/perf-%d.map", os.Getpid()))
		if err != nil {
			return fail(err)
		}
		defer bw.Flush()
		cfg.JITPerfMap = bw
	}
	m, err := machine.New(cfg)
	if err != nil {
		return fail(err)
	}

	if f.trace != "" || f.traceExc {
		h := &cpu.Hooks{}
		if f.trace != "" {
			bw, err := createBuffered("-trace", f.trace)
			if err != nil {
				return fail(err)
			}
			defer bw.Flush()
			h.Instr = traceInstr(bw)
		}
		if f.traceExc {
			h.Exception = traceExceptions(stderr)
		}
		m.CPU.Hooks = h
	}
	if f.serial == "stdio" {
		restore := startInput(m, stdin, interactive, stderr)
		defer restore()
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return fail(fmt.Errorf("-cpuprofile: %w", err))
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return fail(fmt.Errorf("-cpuprofile: %w", err))
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	var res machine.Result
	if f.display == "window" {
		res = runWindow(m, f.timeout)
	} else {
		res = m.Run(f.timeout)
	}
	if f.dumpScreen && m.VGA != nil {
		if err := display.DumpText(stdout, m.VGA.VGA); err != nil {
			fmt.Fprintln(stderr, "fuji: -dump-screen:", err)
		}
	}
	if f.screenshot != "" && m.VGA != nil {
		if err := display.Screenshot(f.screenshot, m.VGA.VGA, time.Duration(m.Clock.Now())); err != nil {
			fmt.Fprintln(stderr, "fuji: -screenshot:", err)
		}
	}
	switch res.Kind {
	case machine.ExitPowerOff, machine.ExitStopped:
		return exitOK
	case machine.ExitDebugExit:
		return res.Status & 0xff
	case machine.ExitTripleFault:
		fmt.Fprintln(stderr, "fuji: triple fault (-no-reboot)")
		return exitTripleFault
	case machine.ExitReset:
		fmt.Fprintln(stderr, "fuji: guest reset (-no-reboot)")
		return exitReset
	case machine.ExitTimeout:
		fmt.Fprintln(stderr, "fuji:", res.Reason)
		return exitTimeout
	}
	fmt.Fprintln(stderr, "fuji:", res.Reason)
	return exitInternal
}

// startInput forwards standard input to COM1. On a terminal it switches to
// raw mode and implements QEMU's escape: Ctrl-A x quits, Ctrl-A h helps,
// Ctrl-A Ctrl-A sends Ctrl-A. It returns a function restoring the
// terminal.
func startInput(m *machine.Machine, stdin *os.File, interactive bool, stderr io.Writer) func() {
	restore := func() {}
	if interactive {
		if st, err := term.MakeRaw(int(stdin.Fd())); err == nil {
			restore = func() { term.Restore(int(stdin.Fd()), st) }
		}
	}
	go func() {
		buf := make([]byte, 256)
		escape := false
		for {
			n, err := stdin.Read(buf)
			if n > 0 {
				var out []byte
				for _, b := range buf[:n] {
					if !interactive {
						out = append(out, b)
						continue
					}
					switch {
					case escape:
						escape = false
						switch b {
						case 'x', 'X':
							m.Inject(m.Stop)
						case 'h', 'H':
							fmt.Fprint(stderr, "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a C-a  send C-a\r\n")
						case 1:
							out = append(out, 1)
						}
					case b == 1:
						escape = true
					default:
						out = append(out, b)
					}
				}
				if len(out) > 0 {
					data := out
					m.Inject(func() { m.SerialInput(data) })
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return restore
}

// jitStatsOut is where -jit-stats prints: stderr, or nowhere.
func jitStatsOut(on bool) io.Writer {
	if on {
		return os.Stderr
	}
	return nil
}
