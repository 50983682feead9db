package machine

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"fuji/cpu"
)

// sliceState is what the lock-step test compares after every slice.
type sliceState struct {
	R     [16]uint64
	RIP   uint64
	Flags uint64
	Insts uint64
	CR3   uint64
	Time  int64
}

func (m *Machine) sliceState() sliceState {
	c := m.CPU
	return sliceState{R: c.R, RIP: c.RIP, Flags: c.Flags() &^ cpu.FlagRF, Insts: c.Instructions(), CR3: c.CR3, Time: m.Clock.Now()}
}

// TestLinuxJITLockstep boots Debian's kernel twice in deterministic mode,
// with the JIT and with the interpreter only, in lock-step: after every
// slice of the run loop both machines must be in the same state
// (registers, flags, instructions retired, virtual time), from reset to
// power-off. The JIT's translations must be exact, instruction counts
// and the interpreter's choice of undefined flags included, so that
// deterministic runs do not depend on the engine. FUJI_LOCKSTEP_SLICES
// bounds the number of slices compared; FUJI_LOCKSTEP_BISECT=N steps
// both machines a block at a time after slice N to find the first
// block that differs.
func TestLinuxJITLockstep(t *testing.T) {
	kernel := "../build/guest/vmlinuz-amd64"
	initrd := "../build/guest/initramfs-amd64-test.cpio.gz"
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s missing: run `make guest`", f)
		}
	}
	limit := 1 << 30
	if v, err := strconv.Atoi(os.Getenv("FUJI_LOCKSTEP_SLICES")); err == nil {
		limit = v
	}
	type run struct {
		m      *Machine
		states chan sliceState
		resume chan bool
		done   chan Result
	}
	start := func(accel string) *run {
		m, err := New(Config{RAM: 512 << 20, Kernel: kernel, Initrd: initrd, Cmdline: "console=ttyS0", NoReboot: true, Accel: accel})
		if err != nil {
			t.Fatal(err)
		}
		r := &run{m: m, states: make(chan sliceState), resume: make(chan bool), done: make(chan Result, 1)}
		m.afterSlice = func() {
			r.states <- m.sliceState()
			if !<-r.resume {
				m.Stop()
			}
		}
		go func() { r.done <- m.Run(0) }()
		return r
	}
	jr, ir := start(AccelJIT), start(AccelInterp)
	defer func() {
		for _, r := range []*run{jr, ir} {
			r.m.afterSlice = nil
			select {
			case <-r.states:
				r.resume <- false
			default:
			}
		}
	}()
	var prev sliceState
	for n := 0; n < limit; n++ {
		var js, is sliceState
		select {
		case js = <-jr.states:
		case res := <-jr.done:
			select {
			case ires := <-ir.done:
				if ires != res {
					t.Fatalf("after %d slices: jit ended with %+v, the interpreter with %+v", n, res, ires)
				}
			case <-ir.states:
				t.Fatalf("after %d slices the jit ended (%+v) and the interpreter ran on", n, res)
			}
			t.Logf("both machines ended after %d identical slices: %+v", n, res)
			return
		}
		is = <-ir.states
		if js != is {
			t.Fatalf("slice %d: the JIT and the interpreter differ\nbefore:      %s\njit:         %s\ninterpreter: %s", n, fmtState(prev), fmtState(js), fmtState(is))
		}
		prev = js
		if v, err := strconv.Atoi(os.Getenv("FUJI_LOCKSTEP_BISECT")); err == nil && v == n {
			// Both machines are paused in afterSlice: step their CPUs
			// a block at a time and find the first block that differs.
			for k := 0; k < 2000000; k++ {
				before := jr.m.sliceState()
				var code []byte
				for i := uint64(0); i < 96; i++ {
					code = append(code, byte(jr.m.Bus.Read(jr.m.CPU.RIP+i, 1)))
				}
				jr.m.CPU.Run(1)
				ir.m.CPU.Run(1)
				if a, b := jr.m.sliceState(), ir.m.sliceState(); a != b {
					t.Fatalf("slice %d block %d differs; block at %#x code % x\nbefore:      %s\njit:         %s\ninterpreter: %s", n, k, before.RIP, code, fmtState(before), fmtState(a), fmtState(b))
				}
			}
		}
		more := n+1 < limit
		jr.resume <- more
		ir.resume <- more
		if !more {
			break
		}
	}
	<-jr.done
	<-ir.done
}

func fmtState(s sliceState) string {
	return fmt.Sprintf("insts=%d time=%d rip=%#x flags=%#x cr3=%#x\n  rax=%#x rcx=%#x rdx=%#x rbx=%#x rsp=%#x rbp=%#x rsi=%#x rdi=%#x\n  r8=%#x r9=%#x r10=%#x r11=%#x r12=%#x r13=%#x r14=%#x r15=%#x",
		s.Insts, s.Time, s.RIP, s.Flags, s.CR3, s.R[0], s.R[1], s.R[2], s.R[3], s.R[4], s.R[5], s.R[6], s.R[7],
		s.R[8], s.R[9], s.R[10], s.R[11], s.R[12], s.R[13], s.R[14], s.R[15])
}
