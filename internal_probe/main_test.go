package probe

import (
	"os"
	"testing"
	"time"

	"fuji/machine"
)

func TestProbe(t *testing.T) {
	m, err := machine.New(machine.Config{RAM: 64 << 20, Serial: os.Stdout, DebugCon: os.Stdout, SerialCon: true, NoReboot: true})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Run(3 * time.Second)
	t.Logf("%+v icount=%d\n%v", r, m.CPU.Instructions(), m.CPU)
}
