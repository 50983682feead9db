package conformance

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fuji/cpu"
	"fuji/jit"
	"fuji/mem"
)

// Bare-metal test programs (conformance/baremetal/*.asm): each is
// assembled with nasm at test time, loaded at 0x7C00 and entered in real
// mode through a far jump at the reset vector. Programs report one line
// per check on port 0xE9 ("ok - name" or "FAIL - name: detail") and exit
// through port 0xF4 (QEMU isa-debug-exit: status = value<<1 | 1). A
// program whose first line is "; expect: shutdown" must end in a triple
// fault after its checks. A line "; model: NAME" in the program's header
// comment selects the CPU model (cpu.Config.Model); the default is p6.
// The long*.asm programs use the 64-bit model and long.inc.

const (
	loadAddr  = 0x7c00
	ramSize   = 32 << 20
	instrCap  = 50_000_000
	portDebug = 0xe9
	portExit  = 0xf4
)

// testPorts collects console output and the exit request.
type testPorts struct {
	out    strings.Builder
	exited bool
	status uint32
	cpu    *cpu.CPU
}

func (p *testPorts) In(port uint16, size int) uint32 { return 0xffffffff }

func (p *testPorts) Out(port uint16, size int, val uint32) {
	switch port {
	case portDebug:
		p.out.WriteByte(byte(val))
	case portExit:
		p.exited = true
		p.status = (val&0xff)<<1 | 1
		p.cpu.RequestStop()
	}
}

// runProgram boots one flat binary and returns the console text, how the
// run ended and the exit status. withJIT attaches the block JIT with
// compile threshold 1, so that every block runs as compiled code.
func runProgram(t *testing.T, bin []byte, model string, withJIT bool) (string, cpu.Exit, *testPorts) {
	t.Helper()
	bus, err := mem.New(ramSize)
	if err != nil {
		t.Fatal(err)
	}
	copy(bus.RAM()[loadAddr:], bin)
	// Reset vector: JMP 0000:7C00.
	rom := make([]byte, 0x1000)
	for i := range rom {
		rom[i] = 0xf4
	}
	copy(rom[0xff0:], []byte{0xea, 0x00, 0x7c, 0x00, 0x00})
	if err := bus.MapROM("reset", 0xfffff000, rom); err != nil {
		t.Fatal(err)
	}
	ports := mem.NewPortBus()
	tp := &testPorts{}
	ports.Register(portDebug, portDebug, tp)
	ports.Register(portExit, portExit, tp)
	c, err := cpu.New(bus, ports, cpu.Config{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	tp.cpu = c
	if withJIT {
		j, err := jit.New(c)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			st, cs := j.Stats(), c.JITStats()
			t.Logf("jit: %d blocks compiled (%d instructions natively, %d as helper exits), %d entries into compiled code",
				st.Compiled, st.NativeInsts, st.HelperInsts, cs.Entries)
			c.SetAccelerator(nil)
			j.Close()
		}()
		c.SetJITThreshold(1)
	}
	var exit cpu.Exit
	for done := int64(0); done < instrCap; done += 1_000_000 {
		exit = c.Run(1_000_000)
		if exit != cpu.ExitBudget {
			break
		}
	}
	if exit == cpu.ExitBudget {
		t.Errorf("no exit within %d instructions\n%s", instrCap, c)
	}
	return tp.out.String(), exit, tp
}

func TestBareMetal(t *testing.T) { runBareMetal(t, false) }

// TestBareMetalJIT boots every program with the block JIT (every block
// compiled the first time it runs) and requires what TestBareMetal
// requires, and the interpreter's console output, exit and status,
// check for check.
func TestBareMetalJIT(t *testing.T) { runBareMetal(t, true) }

func runBareMetal(t *testing.T, withJIT bool) {
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm not installed (apt-get install nasm)")
	}
	files, err := filepath.Glob("baremetal/*.asm")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bare-metal programs: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".asm")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wantShutdown := strings.HasPrefix(string(src), "; expect: shutdown")
			model := headerValue(string(src), "; model:")
			bin := filepath.Join(t.TempDir(), name+".bin")
			cmd := exec.Command(nasm, "-f", "bin", "-I", "baremetal/", "-o", bin, f)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nasm: %v\n%s", err, out)
			}
			code, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			out, exit, tp := runProgram(t, code, model, withJIT)
			if withJIT {
				iout, iexit, itp := runProgram(t, code, model, false)
				if out != iout || exit != iexit || tp.exited != itp.exited || tp.status != itp.status {
					t.Errorf("the JIT and the interpreter differ: jit exit %v exited=%v status %d, interpreter exit %v exited=%v status %d\njit output:\n%s\ninterpreter output:\n%s",
						exit, tp.exited, tp.status, iexit, itp.exited, itp.status, out, iout)
				}
			}
			pass, done := 0, false
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "ok - "):
					pass++
				case strings.HasPrefix(line, "FAIL"):
					t.Error(line)
				case line == "done":
					done = true
				}
			}
			t.Logf("%d checks passed", pass)
			if pass == 0 {
				t.Errorf("no check reported\n%s", out)
			}
			if wantShutdown {
				if exit != cpu.ExitShutdown {
					t.Errorf("want shutdown (triple fault), got exit %v, output:\n%s", exit, out)
				}
				return
			}
			if !done || !tp.exited || tp.status != 1 {
				t.Errorf("program did not finish cleanly (done=%v exited=%v status=%d exit=%v); output:\n%s",
					done, tp.exited, tp.status, exit, out)
			}
		})
	}
}

// headerValue returns the value of a "; key: value" line among the
// leading comment lines of a program, or "".
func headerValue(src, key string) string {
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(line, ";") {
			break
		}
		if v, ok := strings.CutPrefix(line, key); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
