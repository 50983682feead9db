package machine

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fuji/chipset"
)

// The Linux boot-protocol test image (testdata/bzimage.asm) reports on the
// debug console in "LBT rm ..." lines from its real-mode setup and "LBT pm
// ..." lines from its 32-bit code; see the source.

// buildBzImage assembles testdata/bzimage.asm with the given -D defines.
func buildBzImage(t *testing.T, defines ...string) string {
	t.Helper()
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm is not installed (make test installs it: apt-get install nasm)")
	}
	out := filepath.Join(t.TempDir(), "bzimage")
	args := []string{"-f", "bin", "-o", out}
	for _, d := range defines {
		args = append(args, "-D"+d)
	}
	args = append(args, "testdata/bzimage.asm")
	if b, err := exec.Command(nasm, args...).CombinedOutput(); err != nil {
		t.Fatalf("nasm %v: %v\n%s", args, err, b)
	}
	return out
}

// lbtReport is what the test image printed: "rm" and "pm" fields, and
// the command lines each stage read.
type lbtReport struct {
	rm, pm             map[string]string
	rmCmdline, pmCmdln string
	done               bool
}

func parseLBT(t *testing.T, debug string) lbtReport {
	t.Helper()
	r := lbtReport{rm: map[string]string{}, pm: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(debug))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "LBT ")
		if !ok {
			continue
		}
		stage, rest, _ := strings.Cut(line, " ")
		if c, ok := strings.CutPrefix(rest, "cmdline="); ok {
			if stage == "rm" {
				r.rmCmdline = c
			} else {
				r.pmCmdln = c
			}
			continue
		}
		if stage == "pm" && rest == "done" {
			r.done = true
			continue
		}
		m := r.rm
		if stage == "pm" {
			m = r.pm
		}
		for _, f := range strings.Fields(rest) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				t.Errorf("bad report field %q in %q", f, line)
				continue
			}
			m[k] = v
		}
	}
	return r
}

func fnv32a(b []byte) string {
	h := fnv.New32a()
	h.Write(b)
	return fmt.Sprintf("%08x", h.Sum32())
}

// expectFields fails for each field of got that differs from want.
func expectFields(t *testing.T, stage string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %s = %q, want %q", stage, k, got[k], v)
		}
	}
}

func hexField(t *testing.T, m map[string]string, k string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(m[k], 16, 64)
	if err != nil {
		t.Errorf("field %s = %q: %v", k, m[k], err)
	}
	return v
}

// testInitrd writes n deterministic pseudo-random bytes to a file.
func testInitrd(t *testing.T, n int) (string, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(t.TempDir(), "initrd")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func kernelFNV(t *testing.T, path string) string {
	t.Helper()
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fnv32a(img[(int(img[0x1f1])+1)*512:])
}

// TestFirmwareLinuxBoot boots the test image through SeaBIOS and Fuji's
// Linux loader ROM, and checks everything the loader handed it: the
// real-mode entry state the boot protocol prescribes, the header fields
// patched as QEMU's loader does, the command line, and (hashed) the
// whole initrd and protected-mode kernel.
func TestFirmwareLinuxBoot(t *testing.T) {
	if _, err := os.Stat(seabiosPath); err != nil {
		t.Skipf("SeaBIOS is not installed (%v): make test installs Debian's seabios package", err)
	}
	const ram = 64 << 20
	cases := []struct {
		name    string
		defines []string
		cmdline string
		noDMA   bool // hide fw_cfg DMA: SeaBIOS and the loader use the data port
		initrd  int
		// initrdMax: the image's initrd_addr_max when below RAM: the
		// initrd ends in its page and stays where the machine put it.
		initrdMax uint64
		vidMode   string
	}{
		{name: "dma", cmdline: "console=ttyS0 fuji=fw_cfg root=/dev/ram0", initrd: 300001, vidMode: "ffff"},
		{name: "dataport", cmdline: "console=ttyS0 via=port", noDMA: true, initrd: 70000, vidMode: "ffff"},
		{name: "initrd_max", defines: []string{"INITRD_MAX=0x01ffffff"}, cmdline: "vga=0x317 quiet", initrd: 123457,
			initrdMax: 0x01ffffff, vidMode: "0317"},
		{name: "no_initrd", cmdline: "", vidMode: "ffff"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kernel := buildBzImage(t, tc.defines...)
			cfg := Config{RAM: ram, Kernel: kernel, Cmdline: tc.cmdline, Boot: BootFirmware,
				SerialCon: true, NoReboot: true, BootTimeout: time.Second}
			var initrd []byte
			if tc.initrd > 0 {
				cfg.Initrd, initrd = testInitrd(t, tc.initrd)
			}
			out := bootKernel(t, cfg, func(m *Machine, _, _ *hookBuffer) {
				if tc.noDMA {
					m.FWCfg.SetUint(chipset.FWCfgID, 4, 1)
				}
			})
			t.Logf("%d instructions, virtual time %v, result %+v", out.m.CPU.Instructions(), time.Duration(out.m.Clock.Now()), out.res)
			if out.res.Kind != ExitDebugExit || out.res.Status != 1 {
				t.Errorf("result %+v, want isa-debug-exit status 1", out.res)
			}
			r := parseLBT(t, out.debug)
			if !r.done {
				t.Fatalf("the test kernel did not finish; debug console:\n%s\nserial:\n%s", tail(out.debug, 3000), tail(out.serial, 2000))
			}
			expectFields(t, "rm", r.rm, map[string]string{
				"cs": "1020", "ds": "1000", "es": "1000", "fs": "1000", "gs": "1000", "ss": "1000",
				"sp": "fff0", "if": "0",
				"loader": "b0", "loadflags": "81", "heap_end": "fe00", "cmd_line_ptr": "00020000",
				"ramdisk_size": fmt.Sprintf("%08x", len(initrd)), "vid_mode": tc.vidMode,
			})
			if r.rmCmdline != tc.cmdline || r.pmCmdln != tc.cmdline {
				t.Errorf("command line: real mode %q, protected mode %q, want %q", r.rmCmdline, r.pmCmdln, tc.cmdline)
			}
			// Where the initrd must be: below initrd_addr_max when that
			// is below RAM, else moved by the loader under the top of
			// memory the BIOS reports.
			top := hexField(t, r.rm, "e801_top")
			if top > ram || top < ram-(1<<20) {
				t.Errorf("BIOS top of memory %#x, want just below %#x", top, ram)
			}
			var wantImage uint64
			switch {
			case len(initrd) == 0:
			case tc.initrdMax != 0:
				wantImage = (tc.initrdMax - uint64(len(initrd))) &^ 0xfff
			default:
				wantImage = (top - uint64(len(initrd))) &^ 0xfff
			}
			if got := hexField(t, r.rm, "ramdisk_image"); got != wantImage {
				t.Errorf("ramdisk_image %#x, want %#x", got, wantImage)
			}
			expectFields(t, "pm", r.pm, map[string]string{
				"esi": "00010000", "cs": "0010", "ds": "0018", "ss": "0018",
				"loader": "b0", "loadflags": "81", "cmd_line_ptr": "00020000",
				"ramdisk_image": r.rm["ramdisk_image"], "ramdisk_size": r.rm["ramdisk_size"],
				"initrd_fnv": fnv32a(initrd), "kernel_fnv": kernelFNV(t, kernel),
			})
			if !strings.Contains(out.serial, "Booting from ROM") {
				t.Errorf("SeaBIOS did not boot the loader ROM; serial:\n%s", tail(out.serial, 2000))
			}
		})
	}
}

// TestFirmwareLinuxBootDMAError: when a transfer fails (here the kernel's
// address lies outside RAM), the loader says so and returns to SeaBIOS,
// which finds no other boot device and resets after boot-fail-wait.
func TestFirmwareLinuxBootDMAError(t *testing.T) {
	if _, err := os.Stat(seabiosPath); err != nil {
		t.Skipf("SeaBIOS is not installed (%v)", err)
	}
	kernel := buildBzImage(t)
	out := bootKernel(t, Config{RAM: 32 << 20, Kernel: kernel, Boot: BootFirmware, SerialCon: true, NoReboot: true,
		BootTimeout: time.Second}, func(m *Machine, _, _ *hookBuffer) {
		m.FWCfg.SetUint(chipset.FWCfgKernelAddr, 4, 0xf0000000)
	})
	if out.res.Kind != ExitReset {
		t.Errorf("result %+v, want the reset after boot-fail-wait", out.res)
	}
	for _, want := range []string{"Linux loader: fw_cfg DMA transfer failed", "No bootable device"} {
		if !strings.Contains(out.serial, want) {
			t.Errorf("serial console lacks %q:\n%s", want, tail(out.serial, 2000))
		}
	}
	if strings.Contains(out.debug, "LBT ") {
		t.Errorf("the kernel ran:\n%s", out.debug)
	}
}

// TestDirectLinuxBootTestImage runs the same image through Fuji's direct
// boot: the 32-bit code must see the same command line, initrd and
// kernel, with ESI at the zero page.
func TestDirectLinuxBootTestImage(t *testing.T) {
	kernel := buildBzImage(t)
	const cmdline = "console=ttyS0 fuji=direct root=/dev/ram0"
	initrdPath, initrd := testInitrd(t, 300001)
	out := bootKernel(t, Config{NoBIOS: true, Kernel: kernel, Initrd: initrdPath, Cmdline: cmdline}, nil)
	if out.res.Kind != ExitDebugExit || out.res.Status != 1 {
		t.Errorf("result %+v, want isa-debug-exit status 1", out.res)
	}
	r := parseLBT(t, out.debug)
	if !r.done {
		t.Fatalf("the test kernel did not finish; debug console:\n%s", tail(out.debug, 3000))
	}
	if len(r.rm) != 0 {
		t.Errorf("the real-mode setup ran in a direct boot: %v", r.rm)
	}
	if r.pmCmdln != cmdline {
		t.Errorf("command line %q, want %q", r.pmCmdln, cmdline)
	}
	expectFields(t, "pm", r.pm, map[string]string{
		"esi": fmt.Sprintf("%08x", linuxBootParams), "cs": "0010", "ds": "0018", "ss": "0018",
		"loader": "ff", "cmd_line_ptr": fmt.Sprintf("%08x", linuxCmdlineAddr),
		"ramdisk_size": fmt.Sprintf("%08x", len(initrd)),
		"initrd_fnv":   fnv32a(initrd), "kernel_fnv": kernelFNV(t, kernel),
	})
}

// TestBootConfigErrors checks the -boot choices and their errors.
func TestBootConfigErrors(t *testing.T) {
	if _, err := New(Config{RAM: 16 << 20, NoBIOS: true, Boot: "bios"}); err == nil || !strings.Contains(err.Error(), "want direct or firmware") {
		t.Errorf("-boot bios: %v", err)
	}
	if _, err := New(Config{RAM: 16 << 20, NoBIOS: true, Boot: BootFirmware}); err == nil || !strings.Contains(err.Error(), "needs a BIOS") {
		t.Errorf("-boot firmware without a BIOS: %v", err)
	}
	if _, err := os.Stat(seabiosPath); err != nil {
		t.Skipf("SeaBIOS is not installed (%v)", err)
	}
	mb := buildKernel(t, "irq_pit_pic", fmtAout)
	_, err := New(Config{RAM: 16 << 20, Kernel: mb, Boot: BootFirmware})
	if err == nil || !strings.Contains(err.Error(), "multiboot kernel boots directly only") {
		t.Errorf("-boot firmware with a multiboot kernel: %v", err)
	}
	bz := buildBzImage(t)
	_, err = New(Config{RAM: 16 << 20, Kernel: bz, Boot: BootFirmware, Cmdline: strings.Repeat("x", 2048)})
	if err == nil || !strings.Contains(err.Error(), "exceeds the kernel's limit of 2047") {
		t.Errorf("-append longer than cmdline_size: %v", err)
	}
	// The fw_cfg contents: the items a loader reads, and the ROM named
	// first in bootorder.
	m, err := New(Config{RAM: 16 << 20, Kernel: bz, Boot: BootFirmware, Cmdline: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.FWCfg.File("bootorder")); got != "/rom@genroms/linuxboot_dma.bin\x00" {
		t.Errorf("bootorder %q", got)
	}
	if m.FWCfg.File("genroms/linuxboot_dma.bin") == nil {
		t.Error("no genroms/linuxboot_dma.bin")
	}
	// A reset keeps them (and must not try to add them twice).
	m.Reset()
	if m.CPU.ShutdownReason != "" {
		t.Errorf("reset: %s", m.CPU.ShutdownReason)
	}
}

// TestFirmwareRealKernel boots Debian's kernel (fetched by make test into
// build/guest) through SeaBIOS and the loader, and reports how far it
// gets on the serial console. It is informational: the CPU's long mode
// and FPU are still being finished, so it never fails on the kernel's
// progress.
// TestFirmwareRealKernel boots Debian's amd64 kernel through SeaBIOS and
// Fuji's Linux-loader option ROM (the kernel handed over in fw_cfg, as
// QEMU's -kernel does) to the test initramfs's shell and power-off.
func TestFirmwareRealKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux (about a minute)")
	}
	kernel, initrd := guestFiles(t, "amd64")
	if _, err := os.Stat(seabiosPath); err != nil {
		t.Skipf("SeaBIOS is not installed (%v)", err)
	}
	var serial hookBuffer
	m, err := New(Config{RAM: 512 << 20, Kernel: kernel, Initrd: initrd, Boot: BootFirmware, Serial: &serial,
		SerialCon: true, NoReboot: true, Cmdline: "console=ttyS0"})
	if err != nil {
		t.Fatal(err)
	}
	// A hang guard only; the run ends with the guest's power-off.
	res := m.Run(20 * time.Minute)
	out := serial.String()
	if !strings.Contains(out, "SeaBIOS (version") || !strings.Contains(out, "Booting from ROM") {
		t.Errorf("SeaBIOS did not boot the Linux loader ROM; serial head:\n%.2000s", out)
	}
	checkLinuxBoot(t, out, res, "x86_64")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
