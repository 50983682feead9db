package chipset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"time"

	"fuji/mem"
)

// The Motorola MC146818 real-time clock and CMOS RAM at 0x70/0x71, with
// QEMU's extended bank (bytes 128-255) at 0x72/0x73. Port 0x70 bit 7 is
// the PC's NMI mask.
//
// Time is kept as arithmetic on the virtual clock: while the clock runs
// (divider running, SET clear) the time registers are computed from
// baseSec and baseNs, the virtual time of an update instant; while it is
// stopped they are plain bytes in cmos[] that the guest may edit. Flags
// (PF, AF, UF) are computed lazily for the interval since lastEval.

const (
	rtcRegA = 0x0A
	rtcRegB = 0x0B
	rtcRegC = 0x0C
	rtcRegD = 0x0D

	rtcCentury = 0x32

	rtcUIP = 0x80

	rtcSET  = 0x80
	rtcPIE  = 0x40
	rtcAIE  = 0x20
	rtcUIE  = 0x10
	rtcSQWE = 0x08
	rtcDM   = 0x04 // binary (1) or BCD (0)
	rtc24H  = 0x02

	rtcIRQF = 0x80
	rtcPF   = 0x40
	rtcAF   = 0x20
	rtcUF   = 0x10

	// rtcUIPHold is how long before an update UIP reads 1: 8 cycles of
	// the 32.768 kHz time base (244 µs).
	rtcUIPHold = 8 * 1000000000 / 32768
)

// RTC is the MC146818 with 256 bytes of CMOS.
type RTC struct {
	clk       Clock
	irq       IRQLine
	cmos      [256]byte
	index     uint8 // 0x70 index (0-127)
	index2    uint8 // 0x72 index (selects 128-255)
	nmiMasked bool
	irqLevel  bool

	baseNs   int64 // virtual time of an update instant
	baseSec  int64 // civil seconds (Unix count of UTC fields) after that update
	wdayOff  int64 // guest day-of-week minus the computed one, mod 7
	lastEval int64
}

// NewRTC returns an RTC whose clock reads start at virtual time clk.Now().
// The fields of start (in its own location) become the RTC's wall time.
func NewRTC(start time.Time, clk Clock, irq IRQLine) *RTC {
	if irq == nil {
		irq = NoIRQ{}
	}
	r := &RTC{clk: clk, irq: irq}
	now := clk.Now()
	r.cmos[rtcRegA] = 0x26 // 32.768 kHz time base, 1024 Hz periodic rate
	r.cmos[rtcRegB] = rtc24H
	r.cmos[rtcRegD] = 0x80
	r.baseNs, r.lastEval = now, now
	r.baseSec = time.Date(start.Year(), start.Month(), start.Day(),
		start.Hour(), start.Minute(), start.Second(), 0, time.UTC).Unix()
	return r
}

// Register claims ports 0x70-0x73.
func (r *RTC) Register(b *mem.PortBus) { b.Register(0x70, 0x73, r) }

// NMIMasked reports port 0x70 bit 7 (1 = NMI disabled).
func (r *RTC) NMIMasked() bool { return r.nmiMasked }

// Reset models the chip's RESET pin: interrupt enables, SQWE and the
// flags clear; time, date and RAM are kept.
func (r *RTC) Reset() {
	r.catchUp(r.clk.Now())
	r.cmos[rtcRegB] &^= rtcPIE | rtcAIE | rtcUIE | rtcSQWE
	r.cmos[rtcRegC] = 0
	r.drive()
}

// divRunning reports whether the divider chain runs (DV2-0 = 000, 001,
// 010; QEMU treats all three as the 32.768 kHz base).
func (r *RTC) divRunning() bool { return r.cmos[rtcRegA]&0x70 <= 0x20 }

// ticking reports whether the time registers advance.
func (r *RTC) ticking() bool { return r.divRunning() && r.cmos[rtcRegB]&rtcSET == 0 }

// periodCycles returns the periodic interrupt period in 32.768 kHz
// cycles, or 0 when RS3-0 select none.
func (r *RTC) periodCycles() int64 {
	rs := int64(r.cmos[rtcRegA] & 15)
	if rs == 0 {
		return 0
	}
	if rs <= 2 {
		rs += 7 // 256 and 128 Hz with a 32.768 kHz time base
	}
	return 1 << (rs - 1)
}

// rtcCycles converts ns to whole 32.768 kHz cycles, rounding down.
func rtcCycles(d int64) int64 {
	if d >= 0 {
		return int64(pitMulDiv(uint64(d), 32768, 1e9))
	}
	return pitFloorDiv(d*32768, 1e9)
}

// rtcCycleTime returns the first ns offset whose rtcCycles reaches c.
func rtcCycleTime(c int64) int64 {
	if c < 0 {
		return -((-c * 1e9) / 32768)
	}
	hi, lo := bits.Mul64(uint64(c), 1e9)
	if hi >= 32768 {
		return NoDeadline
	}
	q, rem := bits.Div64(hi, lo, 32768)
	if rem != 0 {
		q++
	}
	return int64(q)
}

// sec returns the RTC's civil seconds at now (when ticking).
func (r *RTC) sec(now int64) int64 { return r.baseSec + pitFloorDiv(now-r.baseNs, 1e9) }

// catchUp sets the flags of the events between lastEval and now.
func (r *RTC) catchUp(now int64) {
	if now <= r.lastEval {
		return
	}
	a := r.lastEval
	r.lastEval = now
	if !r.divRunning() {
		return
	}
	var f uint8
	if p := r.periodCycles(); p != 0 {
		if pitFloorDiv(rtcCycles(now-r.baseNs), p) > pitFloorDiv(rtcCycles(a-r.baseNs), p) {
			f |= rtcPF
		}
	}
	k1, k2 := pitFloorDiv(a-r.baseNs, 1e9), pitFloorDiv(now-r.baseNs, 1e9)
	if r.cmos[rtcRegB]&rtcSET == 0 && k2 > k1 {
		f |= rtcUF
		if s := r.nextAlarm(r.baseSec + k1); s >= 0 && s <= r.baseSec+k2 {
			f |= rtcAF
		}
	}
	// Keep baseNs within the last second so the arithmetic stays small.
	if k2 > 0 {
		r.baseNs += k2 * 1e9
		r.baseSec += k2
	}
	r.setFlags(f)
}

// setFlags ORs flags into register C and recomputes IRQF and the line.
func (r *RTC) setFlags(f uint8) {
	c := r.cmos[rtcRegC]&^rtcIRQF | f
	if c&r.cmos[rtcRegB]&(rtcPF|rtcAF|rtcUF) != 0 {
		c |= rtcIRQF
	}
	r.cmos[rtcRegC] = c
	r.drive()
}

func (r *RTC) drive() {
	if l := r.cmos[rtcRegC]&rtcIRQF != 0; l != r.irqLevel {
		r.irqLevel = l
		r.irq.Set(l)
	}
}

// Deadline returns when the next enabled interrupt is due, or
// NoDeadline (also while IRQF is still set: the line cannot change until
// register C is read).
func (r *RTC) Deadline() int64 {
	if r.cmos[rtcRegC]&rtcIRQF != 0 || !r.divRunning() {
		return NoDeadline
	}
	b := r.cmos[rtcRegB]
	d := NoDeadline
	if p := r.periodCycles(); p != 0 && b&rtcPIE != 0 {
		c := (pitFloorDiv(rtcCycles(r.lastEval-r.baseNs), p) + 1) * p
		if t := rtcCycleTime(c); t != NoDeadline {
			d = min(d, r.baseNs+t)
		}
	}
	if b&rtcSET == 0 {
		k := pitFloorDiv(r.lastEval-r.baseNs, 1e9)
		if b&rtcUIE != 0 {
			d = min(d, r.baseNs+(k+1)*1e9)
		}
		if b&rtcAIE != 0 {
			if s := r.nextAlarm(r.baseSec + k); s >= 0 {
				d = min(d, r.baseNs+(s-r.baseSec)*1e9)
			}
		}
	}
	return d
}

// Advance raises the flags (and IRQ 8) of everything due up to now.
func (r *RTC) Advance(now int64) { r.catchUp(now) }

// enc formats a value for a time register (BCD or binary per DM).
func (r *RTC) enc(v int) byte {
	if r.cmos[rtcRegB]&rtcDM != 0 {
		return byte(v)
	}
	return byte(v/10<<4 | v%10)
}

func (r *RTC) dec(b byte) int {
	if r.cmos[rtcRegB]&rtcDM != 0 {
		return int(b)
	}
	return int(b>>4)*10 + int(b&15)
}

// encHour formats an hour 0-23, in 12-hour mode as 1-12 plus the PM bit.
func (r *RTC) encHour(h int) byte {
	if r.cmos[rtcRegB]&rtc24H != 0 {
		return r.enc(h)
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	v := r.enc(h12)
	if h >= 12 {
		v |= 0x80
	}
	return v
}

func (r *RTC) decHour(b byte) int {
	if r.cmos[rtcRegB]&rtc24H != 0 {
		return r.dec(b)
	}
	h := r.dec(b&0x7F) % 12
	if b&0x80 != 0 {
		h += 12
	}
	return h
}

// timeReg returns time register idx for civil seconds s.
func (r *RTC) timeReg(idx uint8, s int64) byte {
	t := time.Unix(s, 0).UTC()
	switch idx {
	case 0:
		return r.enc(t.Second())
	case 2:
		return r.enc(t.Minute())
	case 4:
		return r.encHour(t.Hour())
	case 6:
		return byte(pitFloorMod(int64(t.Weekday())+r.wdayOff, 7) + 1)
	case 7:
		return r.enc(t.Day())
	case 8:
		return r.enc(int(t.Month()))
	case 9:
		return r.enc(t.Year() % 100)
	default: // century
		return r.enc(t.Year() / 100)
	}
}

func rtcIsTimeReg(idx uint8) bool {
	switch idx {
	case 0, 2, 4, 6, 7, 8, 9, rtcCentury:
		return true
	}
	return false
}

// freeze copies the running time into the time registers.
func (r *RTC) freeze(now int64) {
	s := r.sec(now)
	for _, idx := range [...]uint8{0, 2, 4, 6, 7, 8, 9, rtcCentury} {
		r.cmos[idx] = r.timeReg(idx, s)
	}
}

// regsTime reads the time registers (normalising out-of-range values as
// mktime does).
func (r *RTC) regsTime() time.Time {
	c := &r.cmos
	return time.Date(r.dec(c[rtcCentury])*100+r.dec(c[9]), time.Month(r.dec(c[8])), r.dec(c[7]),
		r.decHour(c[4]), r.dec(c[2]), r.dec(c[0]), 0, time.UTC)
}

// thaw starts the clock from the time registers, keeping the divider
// phase (baseNs).
func (r *RTC) thaw(now int64) {
	t := r.regsTime()
	r.baseSec = t.Unix() - pitFloorDiv(now-r.baseNs, 1e9)
	r.wdayOff = pitFloorMod(int64(r.cmos[6])-1-int64(t.Weekday()), 7)
}

// rtcAlarmMatch compares an alarm byte with a time byte; 11xxxxxx matches
// anything.
func rtcAlarmMatch(alarm, v byte) bool { return alarm&0xC0 == 0xC0 || alarm == v }

// nextAlarm returns the first civil second after s at which the alarm
// registers match the time, or -1 if none within two days (never).
func (r *RTC) nextAlarm(s int64) int64 {
	as, am, ah := r.cmos[1], r.cmos[3], r.cmos[5]
	day := pitFloorDiv(s, 86400) * 86400
	for d := int64(0); d < 2; d++ {
		for h := 0; h < 24; h++ {
			hs := day + d*86400 + int64(h)*3600
			if hs+3599 <= s || !rtcAlarmMatch(ah, r.encHour(h)) {
				continue
			}
			for m := 0; m < 60; m++ {
				ms := hs + int64(m)*60
				if ms+59 <= s || !rtcAlarmMatch(am, r.enc(m)) {
					continue
				}
				for x := 0; x < 60; x++ {
					if ms+int64(x) > s && rtcAlarmMatch(as, r.enc(x)) {
						return ms + int64(x)
					}
				}
			}
		}
	}
	return -1
}

// read returns register idx (0-127) as the guest sees it.
func (r *RTC) read(idx uint8, now int64) byte {
	switch {
	case idx == rtcRegA:
		v := r.cmos[rtcRegA]
		if r.ticking() && pitFloorMod(now-r.baseNs, 1e9) >= 1e9-rtcUIPHold {
			v |= rtcUIP
		}
		return v
	case idx == rtcRegC:
		r.catchUp(now)
		v := r.cmos[rtcRegC]
		r.cmos[rtcRegC] = 0
		r.drive()
		return v
	case idx == rtcRegD:
		return 0x80 // VRT: the battery is fine
	case rtcIsTimeReg(idx) && r.ticking():
		return r.timeReg(idx, r.sec(now))
	}
	return r.cmos[idx]
}

// write sets register idx (0-127).
func (r *RTC) write(idx uint8, v byte, now int64) {
	r.catchUp(now)
	switch {
	case idx == rtcRegA:
		wasTick, wasRun := r.ticking(), r.divRunning()
		newRun := v&0x70 <= 0x20
		if wasTick && !newRun {
			r.freeze(now)
		}
		r.cmos[rtcRegA] = v & 0x7F
		if newRun && !wasRun {
			// The divider chain leaves reset: the first update comes
			// half a second later.
			r.baseNs = now + 5e8
		}
		if r.ticking() && !wasTick {
			r.thaw(now)
		}
	case idx == rtcRegB:
		wasTick := r.ticking()
		if v&rtcSET != 0 {
			if wasTick {
				r.freeze(now)
			}
			v &^= rtcUIE // as the datasheet and QEMU: SET clears UIE
		}
		r.cmos[rtcRegB] = v
		if r.ticking() && !wasTick {
			r.thaw(now)
		}
		r.setFlags(0)
	case idx == rtcRegC || idx == rtcRegD:
		// read only
	case rtcIsTimeReg(idx) && r.ticking():
		r.freeze(now)
		r.cmos[idx] = v
		r.thaw(now)
	default:
		r.cmos[idx] = v
	}
}

// In reads ports 0x70-0x73; wider accesses read consecutive ports.
func (r *RTC) In(port uint16, size int) uint32 {
	var v uint32
	for i := 0; i < size; i++ {
		v |= uint32(r.in8(port+uint16(i))) << (8 * i)
	}
	return v
}

// Out writes ports 0x70-0x73; wider accesses write consecutive ports.
func (r *RTC) Out(port uint16, size int, val uint32) {
	for i := 0; i < size; i++ {
		r.out8(port+uint16(i), uint8(val>>(8*i)))
	}
}

func (r *RTC) in8(port uint16) uint8 {
	switch port {
	case 0x71:
		return r.read(r.index, r.clk.Now())
	case 0x73:
		return r.cmos[128+int(r.index2)]
	}
	return 0xFF // the index ports are write-only
}

func (r *RTC) out8(port uint16, v uint8) {
	switch port {
	case 0x70:
		r.index = v & 0x7F
		r.nmiMasked = v&0x80 != 0
	case 0x71:
		r.write(r.index, v, r.clk.Now())
	case 0x72:
		r.index2 = v & 0x7F
	case 0x73:
		r.cmos[128+int(r.index2)] = v
	}
}

// Time returns the RTC's current wall time (its fields, in UTC).
func (r *RTC) Time() time.Time {
	if r.ticking() {
		return time.Unix(r.sec(r.clk.Now()), 0).UTC()
	}
	return r.regsTime()
}

// Byte returns CMOS byte idx (0-255) as the guest would read it, without
// the side effects of reading register C.
func (r *RTC) Byte(idx int) byte {
	if idx < 0 || idx > 255 {
		return 0
	}
	now := r.clk.Now()
	if idx < 128 && idx != rtcRegC {
		return r.read(uint8(idx), now)
	}
	return r.cmos[idx]
}

// SetByte stores a CMOS byte for the firmware (0x10-0x2D keep the
// checksum right). Clock registers are better set through the guest's
// view; this writes raw storage.
func (r *RTC) SetByte(idx int, v byte) {
	if idx < 0 || idx > 255 {
		return
	}
	r.cmos[idx] = v
	if idx >= 0x10 && idx <= 0x2D {
		r.UpdateChecksum()
	}
}

// UpdateChecksum recomputes the standard checksum of bytes 0x10-0x2D
// into 0x2E (high) and 0x2F (low).
func (r *RTC) UpdateChecksum() {
	var sum uint16
	for i := 0x10; i <= 0x2D; i++ {
		sum += uint16(r.cmos[i])
	}
	r.cmos[0x2E] = byte(sum >> 8)
	r.cmos[0x2F] = byte(sum)
}

// SetMemorySize fills the memory size bytes as QEMU's PC machine does for
// SeaBIOS: base memory (KiB, at most 640), extended memory above 1 MiB
// (KiB, capped at 0xFFFF) at 0x17/0x18 and 0x30/0x31, memory above 16 MiB
// in 64 KiB units at 0x34/0x35 and above 4 GiB in 64 KiB units at
// 0x5B-0x5D.
func (r *RTC) SetMemorySize(below4G, above4G uint64) {
	const kib, mib = 1024, 1024 * 1024
	put := func(idx int, v uint64, n int) {
		for i := 0; i < n; i++ {
			r.cmos[idx+i] = byte(v >> (8 * i))
		}
	}
	put(0x15, min(below4G/kib, 640), 2)
	var ext, high uint64
	if below4G > mib {
		ext = min((below4G-mib)/kib, 0xFFFF)
	}
	if below4G > 16*mib {
		high = min((below4G-16*mib)/(64*kib), 0xFFFF)
	}
	put(0x17, ext, 2)
	put(0x30, ext, 2)
	put(0x34, high, 2)
	put(0x5B, above4G/(64*kib), 3)
	r.UpdateChecksum()
}

// SetEquipment fills the equipment byte 0x14 as QEMU does: floppy drives
// present (bit 0) and their count less one (bits 7-6), maths coprocessor
// (bit 1), PS/2 mouse (bit 2); display bits 5-4 = 00 (EGA/VGA).
func (r *RTC) SetEquipment(floppies int, fpu, ps2Mouse bool) {
	var v byte
	switch {
	case floppies == 1:
		v |= 0x01
	case floppies >= 2:
		v |= 0x41
	}
	if fpu {
		v |= 0x02
	}
	if ps2Mouse {
		v |= 0x04
	}
	r.cmos[0x14] = v
	r.UpdateChecksum()
}

type rtcSnapshot struct {
	Version                            uint8
	CMOS                               [256]byte
	Index, Index2                      uint8
	NMIMasked, IRQLevel                bool
	BaseNs, BaseSec, WdayOff, LastEval int64
}

const rtcSnapVersion = 1

// Save returns the RTC's state, CMOS included.
func (r *RTC) Save() ([]byte, error) {
	s := rtcSnapshot{rtcSnapVersion, r.cmos, r.index, r.index2, r.nmiMasked, r.irqLevel,
		r.baseNs, r.baseSec, r.wdayOff, r.lastEval}
	var b bytes.Buffer
	err := binary.Write(&b, binary.LittleEndian, &s)
	return b.Bytes(), err
}

// Load restores state from Save and re-drives IRQ 8.
func (r *RTC) Load(data []byte) error {
	var s rtcSnapshot
	if len(data) != binary.Size(&s) {
		return errors.New("chipset: RTC snapshot has the wrong size")
	}
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &s); err != nil {
		return err
	}
	if s.Version != rtcSnapVersion || s.Index > 127 || s.Index2 > 127 ||
		s.WdayOff < 0 || s.WdayOff > 6 || s.CMOS[rtcRegA]&0x80 != 0 {
		return errors.New("chipset: RTC snapshot invalid")
	}
	r.cmos, r.index, r.index2, r.nmiMasked = s.CMOS, s.Index, s.Index2, s.NMIMasked
	r.baseNs, r.baseSec, r.wdayOff, r.lastEval = s.BaseNs, s.BaseSec, s.WdayOff, s.LastEval
	r.irqLevel = s.IRQLevel
	r.irq.Set(r.irqLevel)
	return nil
}
