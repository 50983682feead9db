// Package machine assembles a PC from Fuji's parts: the memory map, the
// CPU, the chipset devices and their wiring, the firmware and kernel
// loaders, the virtual clock and the run loop.
package machine

import (
	"errors"
	"fmt"
	"io"
	"time"

	"fuji/chipset"
	"fuji/cpu"
	"fuji/jit"
	"fuji/mem"
	"fuji/roms"
)

// Config describes the PC to build.
type Config struct {
	RAM     uint64 // bytes of guest RAM
	BIOS    string // system BIOS file; "" = Debian's SeaBIOS
	NoBIOS  bool   // build without firmware (direct kernel boot, tests)
	VGABIOS string // VGA option ROM; "" = Debian's vgabios-stdvga.bin
	NoVGA   bool   // no VGA adapter

	Kernel  string // multiboot kernel (QEMU's -kernel)
	Initrd  string // modules, comma-separated, each "path[ args]" (QEMU's -initrd)
	Cmdline string // kernel command line (QEMU's -append)
	// Boot is how a Linux -kernel boots: BootDirect ("" too), Fuji
	// loads and enters it; BootFirmware, SeaBIOS boots it through
	// fw_cfg and Fuji's Linux loader option ROM (fwboot.go).
	Boot string

	Serial      io.Writer // COM1 output; nil discards it
	DebugCon    io.Writer // output of the debug console ports 0x402 and 0xE9
	SerialCon   bool      // ask SeaBIOS for its serial console on COM1 (etc/sercon-port)
	CPUModel    string
	NoReboot    bool // exit instead of resetting on a guest reset or triple fault
	RealTime    bool // follow the host clock instead of instructions retired
	Epoch       time.Time
	BootMenu    bool
	BootTimeout time.Duration // SeaBIOS's boot-fail-wait
	// ForceAPIC builds the local APIC, I/O APIC and HPET even when the
	// CPU model does not advertise an APIC (apic.go).
	ForceAPIC bool
	// Accel selects the execution engine: AccelJIT ("" too) compiles hot
	// blocks to host code; AccelInterp only interprets.
	Accel string
	// JITStats, when set, receives the JIT's statistics when Run returns.
	JITStats io.Writer
	// JITDump, when set, receives every translation the JIT makes,
	// disassembled.
	JITDump io.Writer
	// JITPerfMap, when set, receives perf's map of generated code.
	JITPerfMap io.Writer
}

// Execution engines (Config.Accel, -accel).
const (
	AccelJIT    = "jit"
	AccelInterp = "interp"
)

// DefaultCPUModel is the CPU model of a machine whose Config names none.
const DefaultCPUModel = "x86-64-v2"

// Guest-visible limits.
const (
	MinRAM = 1 << 20
	// MaxRAM is the largest RAM that fits below the PCI hole at
	// 0xB0000000 (RAM above 4 GiB is not modelled yet).
	MaxRAM = 0xB0000000
)

// ExitKind says why Run returned.
type ExitKind int

// Run results.
const (
	ExitPowerOff    ExitKind = iota // ACPI S5 or equivalent
	ExitDebugExit                   // isa-debug-exit: Status holds (value<<1)|1
	ExitTripleFault                 // triple fault with NoReboot
	ExitReset                       // a guest reset with NoReboot
	ExitTimeout                     // the wall-clock limit passed
	ExitStopped                     // Stop was called (e.g. Ctrl-A x)
)

// Result is how a run ended.
type Result struct {
	Kind   ExitKind
	Status int
	Reason string
}

// Machine is one PC.
type Machine struct {
	cfg   Config
	Bus   *mem.Bus
	Ports *mem.PortBus
	CPU   *cpu.CPU
	Clock *Clock

	PIC      *chipset.PIC
	PIT      *chipset.PIT
	Port61   *chipset.Port61
	RTC      *chipset.RTC
	COM      [4]*chipset.UART
	KBC      *chipset.I8042
	Port92   *chipset.Port92
	POST     *chipset.POSTPort
	FERR     *chipset.FERR
	DebugCon [2]*chipset.DebugCon
	DebugExt *chipset.DebugExit
	PCI      *chipset.PCIBus
	Host     *chipset.I440FX
	ISA      *chipset.PIIX3
	IDE      *chipset.PIIXIDE
	PM       *chipset.ACPIPM
	FWCfg    *chipset.FWCfg
	VGA      *chipset.StdVGA
	LAPIC    *chipset.LAPIC  // nil without the APIC platform (apic.go)
	IOAPIC   *chipset.IOAPIC // nil without the APIC platform
	HPET     *chipset.HPET   // nil without the APIC platform

	timed []chipset.Timed

	bios   []byte
	vgaROM []byte

	// Requests raised by devices during an instruction, handled by the
	// run loop between CPU runs.
	resetReq    bool
	powerOffReq bool
	debugExit   int
	haveDebug   bool
	stopReq     bool

	inject   chan func()
	serialIn []byte

	rsdp uint64 // guest address of the ACPI RSDP once built

	front  *frontend
	status machineStatus
	jit    *jit.JIT // nil with -accel interp
	// afterSlice, when set (tests), runs after every CPU slice.
	afterSlice func()
}

// New builds a machine in its power-on state.
func New(cfg Config) (*Machine, error) {
	if cfg.RAM < MinRAM {
		return nil, fmt.Errorf("-m: %d MiB is too small (at least 1 MiB)", cfg.RAM>>20)
	}
	if cfg.RAM > MaxRAM {
		return nil, fmt.Errorf("-m: %d MiB is more than Fuji supports (%d MiB)", cfg.RAM>>20, uint64(MaxRAM)>>20)
	}
	if err := checkBoot(cfg); err != nil { // -boot direct|firmware (fwboot.go)
		return nil, err
	}
	switch cfg.Accel {
	case "", AccelJIT, AccelInterp:
	default:
		return nil, fmt.Errorf("-accel %q: want jit or interp", cfg.Accel)
	}
	m := &Machine{cfg: cfg, inject: make(chan func(), 1024)}
	if cfg.Serial == nil {
		m.cfg.Serial = io.Discard
	}
	if cfg.DebugCon == nil {
		m.cfg.DebugCon = io.Discard
	}
	if cfg.Epoch.IsZero() {
		m.cfg.Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if cfg.RealTime {
			m.cfg.Epoch = time.Now()
		}
	}
	if !cfg.NoBIOS {
		b, _, err := roms.BIOS(cfg.BIOS)
		if err != nil {
			return nil, err
		}
		if len(b) > 16<<20 || len(b) < 64<<10 {
			return nil, errors.New("-bios: a system BIOS must be between 64 KiB and 16 MiB")
		}
		m.bios = b
	}
	if !cfg.NoVGA {
		b, _, err := roms.VGABIOS(cfg.VGABIOS)
		if err != nil && !cfg.NoBIOS {
			return nil, err
		}
		m.vgaROM = b
	}
	bus, err := mem.New(cfg.RAM)
	if err != nil {
		return nil, err
	}
	m.Bus = bus
	m.Ports = mem.NewPortBus()
	m.Clock = newClock(cfg.RealTime)
	model := cfg.CPUModel
	if model == "" {
		// A 64-bit processor by default, as QEMU's default CPU is.
		model = DefaultCPUModel
	}
	c, err := cpu.New(bus, m.Ports, cpu.Config{Model: model})
	if err != nil {
		return nil, err
	}
	m.CPU = c
	m.Clock.cpu = c
	if cfg.Accel != AccelInterp {
		j, err := jit.New(c)
		if err != nil {
			return nil, err
		}
		m.jit = j
		if cfg.JITDump != nil {
			j.SetDump(cfg.JITDump)
		}
		if cfg.JITPerfMap != nil {
			j.SetPerfMap(cfg.JITPerfMap)
		}
		if cfg.JITStats != nil {
			j.CountHelpers()
			c.EnableJITTiming()
		}
	}
	// The TSC runs at 1 GHz on the virtual clock, halted time included
	// (an invariant TSC), so RDTSC, the PIT, the PM timer and the APIC
	// timer agree.
	c.SetTSCSource(func() uint64 { return uint64(m.Clock.Now()) * (1 / NsPerInstr) })
	c.SetIOHook(m.Clock.ioCycle)
	if err := m.build(); err != nil {
		return nil, err
	}
	if cfg.Kernel != "" {
		if err := m.loadKernel(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// build creates and wires the devices and maps the firmware.
func (m *Machine) build() error {
	clk := m.Clock
	ports, bus := m.Ports, m.Bus

	m.PIC = chipset.NewPIC()
	m.PIC.Register(ports)
	m.PIC.SetOutput(m.CPU)
	m.CPU.SetInterruptController(m.PIC)
	// With an APIC, the LAPIC sits between the PIC and the CPU and ISA
	// IRQs reach the I/O APIC as well (apic.go).
	shared, err := m.buildAPIC()
	if err != nil {
		return err
	}

	m.PIT = chipset.NewPIT(clk, m.timerIRQ(shared, 0))
	m.PIT.Register(ports)
	m.Port61 = chipset.NewPort61(clk, m.PIT)
	m.Port61.Register(ports)
	m.RTC = chipset.NewRTC(m.cfg.Epoch, clk, m.timerIRQ(shared, 8))
	m.RTC.Register(ports)
	m.RTC.SetMemorySize(m.cfg.RAM, 0)
	m.RTC.SetEquipment(0, false, true)

	bases := [4]uint16{chipset.COM1Base, chipset.COM2Base, chipset.COM3Base, chipset.COM4Base}
	irqs := [4]int{chipset.COM1IRQ, chipset.COM2IRQ, chipset.COM3IRQ, chipset.COM4IRQ}
	for i := range m.COM {
		var out io.Writer = io.Discard
		if i == 0 {
			out = m.cfg.Serial
		}
		m.COM[i] = chipset.NewUART(bases[i], shared.line(irqs[i]), out, clk)
		m.COM[i].Register(ports)
	}

	m.KBC = chipset.NewI8042(shared.line(1), shared.line(12), bus, m.requestReset)
	m.KBC.SetClock(clk)
	m.KBC.Register(ports)
	m.Port92 = chipset.NewPort92(bus, m.requestReset)
	m.Port92.Register(ports)
	// x87 errors with CR0.NE = 0 go to IRQ 13 (cleared by port 0xF0).
	m.FERR = chipset.NewFERR(shared.line(13))
	m.FERR.Register(ports)
	m.CPU.SetFPUHooks(cpu.FPUHooks{FERR: m.FERR.Set})
	m.POST = chipset.NewPOSTPort()
	m.POST.Register(ports)
	m.DebugCon[0] = chipset.NewDebugCon(chipset.DebugConPort, m.cfg.DebugCon)
	m.DebugCon[0].Register(ports)
	m.DebugCon[1] = chipset.NewDebugCon(chipset.BochsE9Port, m.cfg.DebugCon)
	m.DebugCon[1].Register(ports)
	m.DebugExt = chipset.NewDebugExit(chipset.DebugExitPort, func(status int) {
		m.debugExit, m.haveDebug = status, true
		m.CPU.RequestStop()
	})
	m.DebugExt.Register(ports)

	m.PCI = chipset.NewPCIBus()
	m.PCI.Register(ports)
	m.Host = chipset.NewI440FX(bus)
	if err := m.PCI.Attach(0, 0, m.Host); err != nil {
		return err
	}
	m.ISA = chipset.NewPIIX3(shared.line, func(hard bool) { m.requestReset() })
	if err := m.ISA.Attach(m.PCI); err != nil {
		return err
	}
	m.IDE = chipset.NewPIIXIDE(ports)
	if err := m.PCI.Attach(1, 1, m.IDE); err != nil {
		return err
	}
	m.PM = chipset.NewACPIPM(ports, clk, shared.line(9), m.requestPowerOff)
	if err := m.PCI.Attach(1, 3, m.PM); err != nil {
		return err
	}
	if !m.cfg.NoVGA {
		v, err := chipset.NewStdVGA(bus, ports, m.vgaROM)
		if err != nil {
			return err
		}
		m.VGA = v
		if err := m.PCI.Attach(2, 0, v); err != nil {
			return err
		}
	}
	m.FWCfg = chipset.NewFWCfg(bus)
	m.FWCfg.Register(ports)
	if err := m.setupFWCfg(); err != nil {
		return err
	}
	m.timed = []chipset.Timed{m.PIT, m.RTC, m.KBC, m.PM, m.COM[0], m.COM[1], m.COM[2], m.COM[3]}
	m.timed = append(m.timed, m.apicTimed()...)
	return m.mapFirmware()
}

// mapFirmware maps the BIOS at the top of 4 GiB and its last 128 KiB below
// 1 MiB, and the option-ROM area, as ROM regions the i440FX's PAM
// registers shadow.
func (m *Machine) mapFirmware() error {
	if m.bios == nil {
		return nil
	}
	n := uint64(len(m.bios))
	if err := m.Bus.MapROM("bios", 1<<32-n, m.bios); err != nil {
		return err
	}
	low := m.bios
	if len(low) > 128<<10 {
		low = low[len(low)-128<<10:]
	}
	// 0xC0000-0xDFFFF: option ROM space, empty ROM (reads as zero until
	// the BIOS shadows it).
	if err := m.Bus.MapROM("isa-option-roms", 0xc0000, make([]byte, 0x100000-0xc0000-uint64(len(low)))); err != nil {
		return err
	}
	return m.Bus.MapROM("isa-bios", 0x100000-uint64(len(low)), low)
}

// setupFWCfg fills the fw_cfg items and files SeaBIOS reads.
func (m *Machine) setupFWCfg() error {
	f := m.FWCfg
	f.SetCPUs(1, 1)
	e820 := []chipset.E820Entry{{Addr: 0, Len: m.cfg.RAM, Type: 1}}
	if err := f.SetE820(e820); err != nil {
		return err
	}
	if m.cfg.SerialCon {
		if err := f.AddFileUint("etc/sercon-port", 8, uint64(chipset.COM1Base)); err != nil {
			return err
		}
	}
	wait := m.cfg.BootTimeout
	if wait == 0 {
		wait = 60 * time.Second
	}
	if err := f.AddFileUint("etc/boot-fail-wait", 4, uint64(wait/time.Millisecond)); err != nil {
		return err
	}
	if !m.cfg.BootMenu {
		if err := f.AddFileUint("etc/show-boot-menu", 2, 0); err != nil {
			return err
		}
	}
	return nil
}

func (m *Machine) requestReset() {
	m.resetReq = true
	m.CPU.RequestStop()
}

func (m *Machine) requestPowerOff() {
	m.powerOffReq = true
	m.CPU.RequestStop()
}

// Stop asks Run to return ExitStopped at the next opportunity. It must be
// called on the run loop's goroutine (input handlers go through Inject).
func (m *Machine) Stop() { m.stopReq = true; m.CPU.RequestStop() }

// Reset performs a hardware reset: CPU, devices, A20, shadowing.
func (m *Machine) Reset() {
	m.CPU.Reset()
	m.PIC.Reset()
	m.resetAPIC()
	m.PIT.Reset()
	m.Port61.Reset()
	m.RTC.Reset()
	for _, u := range m.COM {
		u.Reset()
	}
	m.KBC.Reset()
	m.Port92.Reset()
	m.FERR.Reset()
	m.PCI.Reset()
	m.Host.Reset()
	m.ISA.Reset()
	m.IDE.Reset()
	m.PM.Reset()
	m.FWCfg.Reset()
	if m.VGA != nil {
		m.VGA.Reset()
	}
	m.Bus.SetA20(true)
	m.CPU.FlushBlocks()
	if m.cfg.Kernel != "" {
		// Direct boot again, as QEMU's -kernel does on a reboot. The
		// image loaded before, so it loads again.
		if err := m.loadKernel(); err != nil {
			m.CPU.ShutdownReason = "reloading the kernel: " + err.Error()
		}
	}
}

// TextScreen returns the VGA text screen as lines of text (code page 437
// printable ASCII kept, other glyphs shown as '.'), or "" when the VGA is
// not in a text mode.
func (m *Machine) TextScreen() string {
	if m.VGA == nil {
		return ""
	}
	ts, ok := m.VGA.VGA.TextScreen()
	if !ok {
		return ""
	}
	var b []byte
	for r := 0; r < ts.Rows; r++ {
		line := make([]byte, 0, ts.Cols)
		for c := 0; c < ts.Cols; c++ {
			ch := ts.Cells[r*ts.Cols+c].Char
			switch {
			case ch == 0:
				ch = ' '
			case ch < 0x20 || ch > 0x7e:
				ch = '.'
			}
			line = append(line, ch)
		}
		for len(line) > 0 && line[len(line)-1] == ' ' {
			line = line[:len(line)-1]
		}
		b = append(b, line...)
		b = append(b, '\n')
	}
	return string(b)
}

// setupDirectBoot does what firmware would have done before a boot
// loader runs, for a kernel Fuji boots directly: the PIIX4 PM block at
// pmIOBase, PCI interrupt routing (PIRQA-D → IRQ 10, 10, 11, 11, level in
// the ELCR, as SeaBIOS programs), and the ACPI tables.
func (m *Machine) setupDirectBoot() {
	m.PM.ConfigWrite(0x40, 4, pmIOBase|1)
	m.PM.ConfigWrite(0x80, 1, 1)
	m.ISA.ConfigWrite(0x60, 4, 0x0b0b0a0a)
	m.Ports.Out(0x4d0, 1, 0x00)
	m.Ports.Out(0x4d1, 1, 1<<(9-8)|1<<(10-8)|1<<(11-8))
	m.setupMTRRs()
	m.installSMBIOS()
	m.buildACPI(m.hasAPIC())
}

// setupMTRRs programs the memory type ranges as SeaBIOS does: write-back
// by default, the VGA window uncacheable, the option-ROM/BIOS area
// write-protect, and the PCI hole below 4 GiB uncacheable.
func (m *Machine) setupMTRRs() {
	r := &m.CPU.MSR
	const wb, wp, uc = 0x06, 0x05, 0x00
	rep := func(t uint64) uint64 { return t * 0x0101010101010101 }
	r.MTRRFix[0] = rep(wb) // 0x00000-0x7ffff
	r.MTRRFix[1] = rep(wb) // 0x80000-0x9ffff
	r.MTRRFix[2] = rep(uc) // 0xa0000-0xbffff
	for i := 3; i < 11; i++ {
		r.MTRRFix[i] = rep(wp) // 0xc0000-0xfffff
	}
	const physMask = 1<<40 - 1
	varRange := func(i int, base, size uint64) {
		r.MTRRVar[2*i] = base | uc
		r.MTRRVar[2*i+1] = ^(size-1)&physMask | 1<<11
	}
	if m.cfg.RAM <= 0x80000000 {
		varRange(0, 0x80000000, 0x80000000)
	} else {
		varRange(0, 0xc0000000, 0x40000000)
		varRange(1, 0xb0000000, 0x10000000)
	}
	r.MTRRDefType = 1<<11 | 1<<10 | wb // enabled, fixed ranges enabled, WB
}

// hasAPIC reports whether the machine has a local APIC and IOAPIC to
// describe (MADT, HPET).
func (m *Machine) hasAPIC() bool { return m.LAPIC != nil }
