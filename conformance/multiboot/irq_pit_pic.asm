; The 8259A pair and the 8254: initialization (ICW1-4, vector base
; 0x20/0x28), PIT counter 0 in mode 2 at 1193182/1193 Hz (about 1 kHz)
; on IRQ 0, HLT between interrupts, the period measured against RTC
; seconds and the counter read back (latch and read-back commands), EOI
; handling (no second IRQ 0 while the first is in service; specific EOI)
; and masking (a masked request waits in IRR and is delivered on unmask).
%include "lib.inc"

PIT_COUNT   equ 1193

; Read PIC register: OCW3 %2 (0x0A IRR, 0x0B ISR) on the chip at %1.
%macro PIC_READ 2
    mov al, %2
    out %1, al
    in al, %1
    movzx eax, al
%endmacro

main:
    call pic_init
    in al, 0x21
    movzx eax, al
    CHECK "pic: master IMR reads back 0xff", eax, 0xFF
    in al, 0xA1
    movzx eax, al
    CHECK "pic: slave IMR reads back 0xff", eax, 0xFF
    PIC_READ 0x20, 0x0B
    CHECK "pic: master ISR empty after init", eax, 0
    PIC_READ 0xA0, 0x0B
    CHECK "pic: slave ISR empty after init", eax, 0

    ; Counter 0: mode 2, lobyte/hibyte, binary.
    mov al, 0x34
    out 0x43, al
    mov al, PIT_COUNT & 0xFF
    out 0x40, al
    mov al, PIT_COUNT >> 8
    out 0x40, al
    ; Read-back command: latch the status of counter 0 only.
    mov al, 0xE2
    out 0x43, al
    in al, 0x40
    and eax, 0x3F
    CHECK "pit: read-back status shows mode 2, lobyte/hibyte, binary", eax, 0x34

    mov al, 0xFE                ; unmask IRQ 0
    out 0x21, al
    sti
.first:
    hlt
    cmp dword [irq_count], 0
    je .first
    ; Just after the interrupt the counter has been reloaded: latch it
    ; before printing anything (each port access is an I/O cycle of
    ; about 1 us on the virtual clock, as on a PC).
    xor eax, eax
    out 0x43, al                ; counter latch command, counter 0
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    mov [latched], eax
    CHECK "pic: IRQ 0 arrives on vector 0x20", [irq_count], 1
    CHECK_RANGE "pit: latched count just after IRQ 0 is near the reload value", [latched], PIT_COUNT - 8, PIT_COUNT

    ; The rate: IRQ 0s between two RTC update-ended flags (one second of
    ; virtual time), with HLT in between.
    mov al, 0x0C
    out 0x70, al
    in al, 0x71                 ; clear the flags
.sync:
    hlt
    mov al, 0x0C
    out 0x70, al
    in al, 0x71
    test al, 0x10
    jz .sync
    mov ebx, [irq_count]
.second:
    hlt
    mov al, 0x0C
    out 0x70, al
    in al, 0x71
    test al, 0x10
    jz .second
    mov eax, [irq_count]
    sub eax, ebx
    CHECK_RANGE "pit: IRQ 0s in one RTC second (1000.15 expected)", eax, 999, 1001

    ; EOI: a handler that sends none keeps IR0 in service.
    cli
    mov dword [irq_handler], no_eoi
    mov ebx, [irq_count]
    sti
.noeoi:
    hlt
    cmp [irq_count], ebx
    je .noeoi
    mov ecx, 5000000            ; 5 ms: five more PIT periods
    call spin
    mov eax, [irq_count]
    sub eax, ebx
    CHECK "pic: no further IRQ 0 while IR0 is in service (no EOI)", eax, 1
    PIC_READ 0x20, 0x0B
    CHECK "pic: ISR bit 0 set while in service", eax, 1
    PIC_READ 0x20, 0x0A
    and eax, 1
    CHECK "pic: IRR bit 0 holds the next request", eax, 1
    mov dword [irq_handler], eoi
    mov al, 0x60                ; specific EOI, IR0
    out 0x20, al
    mov ecx, 10
    call spin
    mov eax, [irq_count]
    sub eax, ebx
    CHECK "pic: the held request is delivered after a specific EOI", eax, 2
    PIC_READ 0x20, 0x0B
    CHECK "pic: ISR empty after the handler's EOI", eax, 0

    ; Masking: a masked IRQ 0 is not delivered but waits in IRR.
    mov al, 0xFF
    out 0x21, al
    mov ebx, [irq_count]
    mov ecx, 5000000
    call spin
    mov eax, [irq_count]
    sub eax, ebx
    CHECK "pic: a masked IRQ 0 is not delivered", eax, 0
    PIC_READ 0x20, 0x0A
    and eax, 1
    CHECK "pic: IRR latches the masked request", eax, 1
    mov al, 0xFE
    out 0x21, al
    mov ecx, 10
    call spin
    mov eax, [irq_count]
    sub eax, ebx
    CHECK "pic: the request is delivered on unmask", eax, 1

    ; CLI holds the request too.
    cli
    mov ebx, [irq_count]
    mov ecx, 3000000
    call spin
    mov eax, [irq_count]
    sub eax, ebx
    CHECK "cpu: no IRQ with EFLAGS.IF clear", eax, 0
    sti
    nop
    nop
    mov eax, [irq_count]
    sub eax, ebx
    CHECK "cpu: the pending IRQ is taken after STI", eax, 1

    ; Counter 0 counts down between interrupts.
    cli
    xor eax, eax
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    mov ebx, eax
    mov ecx, 5000               ; 5 us: about 6 PIT ticks
    call spin
    xor eax, eax
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    mov edx, ebx
    sub edx, eax
    jns .pos
    add edx, PIT_COUNT
.pos:
    ; Between the two latch commands: two port reads and the second
    ; latch's own I/O cycle (1 us each) and 5000 instructions (5 us):
    ; 8 us, 9.5 PIT ticks.
    CHECK_RANGE "pit: 5000 instructions and 3 I/O cycles (8 us) are 9-10 PIT ticks", edx, 9, 10
    DONE

    align 4
latched:    dd 0
image_end:
