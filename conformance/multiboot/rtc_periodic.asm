; The MC146818 RTC: register A rate select, register B PIE and UIE, IRQ 8
; through the slave 8259A (cascade on IR2), register C read acknowledge;
; the periodic rate measured against PIT counter 0 (mode 2, 100 Hz); the
; time registers (BCD) read after update-ended interrupts, valid and
; advancing. Prints "info time YYYY-MM-DD hh:mm:ss" twice, 3 s apart.
%include "lib.inc"

PIT_100HZ   equ 11932

%macro CMOS_READ 1
    mov al, %1
    out 0x70, al
    in al, 0x71
%endmacro
%macro CMOS_WRITE 2
    mov al, %1
    out 0x70, al
    mov al, %2
    out 0x71, al
%endmacro

; rtc_irq: acknowledge by reading register C (kept in last_c), count the
; flags, EOI.
rtc_irq:
    CMOS_READ 0x0C
    movzx eax, al
    mov [last_c], eax
    test al, 0x40
    jz .npf
    inc dword [pf_count]
.npf:
    test al, 0x10
    jz .nuf
    inc dword [uf_count]
.nuf:
    jmp eoi

; rtc_irq_noack: EOI without reading register C.
rtc_irq_noack:
    jmp eoi

; wait_ticks: ecx = PIT periods (IRQ 0s) to sleep through.
wait_ticks:
    add ecx, [irq_count]
.w: hlt
    cmp [irq_count], ecx
    jb .w
    ret

; bcd_check: al = a time register; returns eax = the value, or
; 0xFFFFFFFF if a digit is not decimal.
bcd_check:
    movzx eax, al
    mov edx, eax
    and edx, 0x0F
    cmp edx, 9
    ja .bad
    mov edx, eax
    shr edx, 4
    cmp edx, 9
    ja .bad
    ret
.bad:
    mov eax, 0xFFFFFFFF
    ret

; read_time: the time registers into t_* (BCD bytes) and checks them.
read_time:
    CMOS_READ 0x00
    mov [t_sec], al
    CMOS_READ 0x02
    mov [t_min], al
    CMOS_READ 0x04
    mov [t_hour], al
    CMOS_READ 0x06
    mov [t_wday], al
    CMOS_READ 0x07
    mov [t_day], al
    CMOS_READ 0x08
    mov [t_mon], al
    CMOS_READ 0x09
    mov [t_year], al
    CMOS_READ 0x32
    mov [t_cent], al
    mov al, [t_sec]
    call bcd_check
    CHECK_RANGE "rtc: seconds register is BCD 00-59", eax, 0, 0x59
    mov al, [t_min]
    call bcd_check
    CHECK_RANGE "rtc: minutes register is BCD 00-59", eax, 0, 0x59
    mov al, [t_hour]
    call bcd_check
    CHECK_RANGE "rtc: hours register is BCD 00-23 (24-hour mode)", eax, 0, 0x23
    mov al, [t_wday]
    call bcd_check
    CHECK_RANGE "rtc: day of week is 1-7", eax, 1, 7
    mov al, [t_day]
    call bcd_check
    CHECK_RANGE "rtc: day of month is BCD 01-31", eax, 1, 0x31
    mov al, [t_mon]
    call bcd_check
    CHECK_RANGE "rtc: month is BCD 01-12", eax, 1, 0x12
    mov al, [t_year]
    call bcd_check
    CHECK_RANGE "rtc: year is BCD 00-99", eax, 0, 0x99
    mov al, [t_cent]
    call bcd_check
    CHECK_RANGE "rtc: century (CMOS 0x32) is BCD 19-20", eax, 0x19, 0x20
    PRINT "info time "
    mov al, [t_cent]
    call put2
    mov al, [t_year]
    call put2
    mov al, '-'
    call putc
    mov al, [t_mon]
    call put2
    mov al, '-'
    call putc
    mov al, [t_day]
    call put2
    mov al, ' '
    call putc
    mov al, [t_hour]
    call put2
    mov al, ':'
    call putc
    mov al, [t_min]
    call put2
    mov al, ':'
    call putc
    mov al, [t_sec]
    call put2
    mov al, 10
    call putc
    ret

; put2: al as two hex (BCD) digits.
put2:
    push eax
    shr al, 4
    add al, '0'
    call putc
    pop eax
    and al, 15
    add al, '0'
    call putc
    ret

main:
    call pic_init
    mov dword [irq_handler + 8*4], rtc_irq
    ; PIT counter 0: mode 2 at 100 Hz, the reference interval.
    mov al, 0x34
    out 0x43, al
    mov al, PIT_100HZ & 0xFF
    out 0x40, al
    mov al, PIT_100HZ >> 8
    out 0x40, al

    CMOS_WRITE 0x0A, 0x26       ; divider 32.768 kHz, rate 6: 1024 Hz
    CMOS_READ 0x0A
    and eax, 0x7F
    CHECK "rtc: register A reads back (without UIP)", eax, 0x26
    CMOS_READ 0x0B
    and al, 0x07                ; keep DSE, 24/12 and DM; PIE UIE AIE off
    mov bl, al
    movzx eax, al
    CHECK "rtc: register B is in 24-hour BCD mode", eax, 0x02
    or bl, 0x40                 ; PIE
    CMOS_WRITE 0x0B, bl
    CMOS_READ 0x0C              ; clear pending flags

    mov al, 0xFA                ; master: IRQ 0 and the cascade
    out 0x21, al
    mov al, 0xFE                ; slave: IRQ 8
    out 0xA1, al
    sti
.first:
    hlt
    cmp dword [irq_count + 8*4], 0
    je .first
    mov eax, [last_c]
    and eax, 0xC0
    CHECK "rtc: register C shows IRQF and PF in the IRQ 8 handler", eax, 0xC0
    CMOS_READ 0x0C
    movzx eax, al
    and eax, 0x40
    CHECK "rtc: reading register C cleared PF", eax, 0

    ; The rate: IRQ 8s during 10 PIT periods (100 ms): 102.4 expected.
    mov ecx, 1
    call wait_ticks
    mov ebx, [irq_count + 8*4]
    mov ecx, 10
    call wait_ticks
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK_RANGE "rtc: IRQ 8s at rate 6 (1024 Hz) in 100 ms of PIT time", eax, 101, 104

    ; Rate 10 (64 Hz) over 50 PIT periods (500 ms): 32 expected.
    CMOS_WRITE 0x0A, 0x2A
    mov ecx, 1
    call wait_ticks
    mov ebx, [irq_count + 8*4]
    mov ecx, 50
    call wait_ticks
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK_RANGE "rtc: IRQ 8s at rate 10 (64 Hz) in 500 ms of PIT time", eax, 31, 33
    CMOS_WRITE 0x0A, 0x26

    ; Without a read of register C the flag stays set and no new
    ; interrupt edge comes.
    cli
    mov dword [irq_handler + 8*4], rtc_irq_noack
    mov ebx, [irq_count + 8*4]
    sti
    mov ecx, 5
    call wait_ticks
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK "rtc: one IRQ 8 only while register C is not read", eax, 1
    CMOS_READ 0x0C
    movzx eax, al
    and eax, 0xC0
    CHECK "rtc: register C still holds IRQF and PF", eax, 0xC0
    mov dword [irq_handler + 8*4], rtc_irq
    mov ecx, 2
    call wait_ticks
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK_RANGE "rtc: IRQ 8s resume after the read", eax, 10, 30

    ; Masked on the slave: nothing delivered, the request waits in the
    ; slave's IRR; the master's IR2 sees nothing.
    mov al, 0xFF
    out 0xA1, al
    mov ebx, [irq_count + 8*4]
    mov ecx, 3
    call wait_ticks
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK "pic: a masked IRQ 8 is not delivered", eax, 0
    mov al, 0x0A
    out 0xA0, al
    in al, 0xA0
    movzx eax, al
    and eax, 1
    CHECK "pic: the slave's IRR holds the masked IRQ 8", eax, 1
    mov al, 0x0A
    out 0x20, al
    in al, 0x20
    movzx eax, al
    and eax, 4
    CHECK "pic: the master's IR2 is quiet while the slave's input is masked", eax, 0
    mov al, 0xFE
    out 0xA1, al
    mov ecx, 10
    call spin
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK "pic: unmasking delivers the held IRQ 8", eax, 1

    ; Update-ended interrupts instead of periodic ones; read the time
    ; just after one (a whole second before the next update).
    CMOS_READ 0x0B
    and al, 0x8F
    or al, 0x10                 ; UIE
    mov bl, al
    CMOS_WRITE 0x0B, bl
    CMOS_READ 0x0C
    mov dword [uf_count], 0
    mov dword [pf_count], 0
.uf1:
    hlt
    cmp dword [uf_count], 1
    jb .uf1
    call read_time
    mov al, [t_sec]
    mov [first_sec], al
    mov ebx, [irq_count + 8*4]
.uf4:
    hlt
    cmp dword [uf_count], 4
    jb .uf4
    call read_time
    mov eax, [irq_count + 8*4]
    sub eax, ebx
    CHECK "rtc: one IRQ 8 per second with UIE", eax, 3
    ; PF is set on every tap of the divider whether or not PIE is set
    ; (MC146818 data sheet); only the interrupt needs PIE.
    CHECK "rtc: PF set independently of PIE (read with each UF)", [pf_count], 4
    movzx eax, byte [first_sec]
    movzx ebx, byte [t_sec]
    cmp eax, ebx
    setne al
    movzx eax, al
    CHECK "rtc: the seconds register advanced", eax, 1
    DONE

    align 4
last_c:     dd 0
pf_count:   dd 0
uf_count:   dd 0
t_sec:      db 0
t_min:      db 0
t_hour:     db 0
t_wday:     db 0
t_day:      db 0
t_mon:      db 0
t_year:     db 0
t_cent:     db 0
first_sec:  db 0
image_end:
