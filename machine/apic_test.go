package machine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fuji/cpu"
)

func TestPICOnlyWithoutAPIC(t *testing.T) {
	// p6 advertises no local APIC.
	m, err := New(Config{RAM: 16 << 20, NoBIOS: true, NoVGA: true, CPUModel: "p6"})
	if err != nil {
		t.Fatal(err)
	}
	if m.LAPIC != nil || m.IOAPIC != nil || m.HPET != nil || m.hasAPIC() {
		t.Fatal("APIC platform built for a model without an APIC")
	}
	if m.Bus.Read(0xfee00030, 4) != 0xffffffff {
		t.Error("something answers at the local APIC address")
	}
}

// TestAPICPlatform boots a bare-metal program that takes interrupts from
// the LAPIC timer, the HPET through the I/O APIC, and the PIT through the
// 8259 in virtual-wire mode.
func TestAPICPlatform(t *testing.T) {
	nasm, err := exec.LookPath("nasm")
	if err != nil {
		t.Skip("nasm not installed (apt-get install nasm)")
	}
	bin := filepath.Join(t.TempDir(), "apic_timers.bin")
	if out, err := exec.Command(nasm, "-f", "bin", "-o", bin, "testdata/apic_timers.asm").CombinedOutput(); err != nil {
		t.Fatalf("nasm: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var con strings.Builder
	m, err := New(Config{RAM: 16 << 20, NoBIOS: true, NoVGA: true, ForceAPIC: true, DebugCon: &con})
	if err != nil {
		t.Fatal(err)
	}
	if m.LAPIC == nil || !m.hasAPIC() {
		t.Fatal("ForceAPIC did not build the APIC platform")
	}
	copy(m.Bus.RAM()[0x7c00:], code)
	m.CPU.SetSegReal(cpu.CS, 0)
	m.CPU.RIP = 0x7c00
	res := m.Run(30 * time.Second)
	if res.Kind != ExitDebugExit || res.Status != 7<<1|1 {
		t.Fatalf("run ended %+v; CPU:\n%v", res, m.CPU)
	}
	counts := con.String()
	if len(counts) != 3 {
		t.Fatalf("console %q", counts)
	}
	t.Logf("counts %s, virtual time %d ns", counts, m.Clock.Now())
	for i, what := range []string{"LAPIC timer", "HPET via IOAPIC", "PIT via 8259 virtual wire"} {
		if c := counts[i]; c < '5' || c > '6' {
			t.Errorf("%s: %c interrupts", what, c)
		}
	}
	// 5 LAPIC periods of 100 us, 5 HPET periods of 100 us, 5 PIT
	// periods of 1 ms (1193 PIT ticks): about 6 ms of virtual time.
	if now := m.Clock.Now(); now < 5_900_000 || now > 6_500_000 {
		t.Errorf("virtual time at the end %d ns", now)
	}
}
