package machine

import (
	"fuji/chipset"
)

// The APIC platform: local APIC, I/O APIC and HPET, as QEMU's pc machine
// has them, built when the CPU model advertises a local APIC
// (CPUID.1:EDX[9]) or Config.ForceAPIC asks for it. Without it the
// machine keeps the PIC-only wiring (8259 INTR → CPU).
//
// With it:
//
//	ISA IRQ n ──┬─> 8259 input n ──> INTR ──> LAPIC LINT0 (ExtINT: virtual wire, power-on default)
//	            └─> I/O APIC pin n (IRQ0 → pin 2) ──> APIC bus ──> LAPIC
//	LAPIC ──> CPU INTR pin (Set) and NMI; the CPU's INTA (Acknowledge) goes to the LAPIC,
//	          which passes ExtINT acknowledges to the 8259.
//	PIT IRQ0 and RTC IRQ8 pass through the HPET, which cuts them off in
//	legacy replacement mode (timer 0 → IRQ0, timer 1 → IRQ8).

// ioapicVersion is QEMU's pc machine default for the 82093AA-compatible
// I/O APIC: 0x11, without the EOI register.
const ioapicVersion = 0x11

// cpuAPICBit is CPUID.1:EDX[9], the on-chip APIC.
const cpuAPICBit = 1 << 9

// apicWanted reports whether to build the APIC platform.
func (m *Machine) apicWanted() bool {
	_, _, _, edx := m.CPU.CPUID(1, 0)
	return m.cfg.ForceAPIC || edx&cpuAPICBit != 0
}

// buildAPIC creates the local APIC, I/O APIC and HPET when the machine
// has them and returns the interrupt router the other devices get their
// IRQ lines from. It runs in build right after the PIC is connected to
// the CPU.
func (m *Machine) buildAPIC() (*irqShare, error) {
	if !m.apicWanted() {
		return newIRQShare(m.PIC, nil), nil
	}
	bus := chipset.NewAPICBus()
	// The LAPIC has the optional modes the model advertises:
	// TSC-deadline (CPUID.1:ECX[24]) and x2APIC (CPUID.1:ECX[21]). TSC
	// rate: the deterministic clock's 1 instruction = 1 ns = 1 TSC tick.
	_, _, ecx, _ := m.CPU.CPUID(1, 0)
	m.LAPIC = chipset.NewLAPIC(chipset.LAPICConfig{
		ID: 0, BSP: true, TSCHz: 1e9 / NsPerInstr,
		TSCDeadline: ecx&(1<<24) != 0,
		X2APIC:      ecx&(1<<21) != 0,
	}, m.Clock, bus)
	if err := m.LAPIC.Map(m.Bus); err != nil {
		return nil, err
	}
	m.LAPIC.SetProcessor(m.CPU)
	m.CPU.SetLocalAPIC(m.LAPIC)
	m.LAPIC.SetExtINT(m.PIC)
	m.LAPIC.SetDeadlineChanged(m.CPU.RequestStop)
	m.PIC.SetOutput(m.LAPIC.LINT0())
	m.CPU.SetInterruptController(m.LAPIC)

	m.IOAPIC = chipset.NewIOAPIC(bus, ioapicVersion)
	if err := m.IOAPIC.Map(m.Bus); err != nil {
		return nil, err
	}
	bus.AddEOIListener(m.IOAPIC)
	share := newIRQShare(m.PIC, m.IOAPIC)

	m.HPET = chipset.NewHPET(m.Clock, chipset.HPETIntCapPIIX, share.gsi)
	if err := m.HPET.Map(m.Bus); err != nil {
		return nil, err
	}
	m.HPET.SetDeadlineChanged(m.CPU.RequestStop)
	return share, nil
}

// timerIRQ returns the line for the PIT (irq 0) or the RTC (irq 8): the
// HPET's legacy input when there is an HPET, else the ISA IRQ.
func (m *Machine) timerIRQ(share *irqShare, irq int) chipset.IRQLine {
	if m.HPET != nil {
		if irq == 0 {
			return m.HPET.PITInput()
		}
		return m.HPET.RTCInput()
	}
	return share.line(irq)
}

// apicTimed returns the APIC platform's timed devices.
func (m *Machine) apicTimed() []chipset.Timed {
	if m.LAPIC == nil {
		return nil
	}
	return []chipset.Timed{m.LAPIC, m.HPET}
}

// resetAPIC performs the hardware reset of the APIC platform.
func (m *Machine) resetAPIC() {
	if m.LAPIC == nil {
		return
	}
	m.LAPIC.Reset()
	m.IOAPIC.Reset()
	m.HPET.Reset()
}
