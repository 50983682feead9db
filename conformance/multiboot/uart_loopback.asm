; The 16550A on COM1: divisor latch, scratch, loopback (MCR bit 4) with
; the modem lines looped, 16450-mode receive and overrun, FIFO mode (16
; bytes, trigger levels, character timeout), IIR reasons and LSR bits,
; break, modem status; IRQ 4 stays inside the chip in loopback (the
; modem outputs, OUT2 among them, are forced inactive). Then, out of
; loopback, an interrupt-driven receive (IRQ 4 enabled through OUT2) of a
; line the host types after "uart: ready", echoed on COM1.
%include "lib.inc"

RBR equ COM1
IER equ COM1 + 1
IIR equ COM1 + 2
FCR equ COM1 + 2
LCR equ COM1 + 3
MCR equ COM1 + 4
LSR equ COM1 + 5
MSR equ COM1 + 6
SCR equ COM1 + 7

%macro IN8 1
    mov dx, %1
    in al, dx
    movzx eax, al
%endmacro
%macro OUT8 2
    mov dx, %1
    mov al, %2
    out dx, al
%endmacro

; uart_irq: drain the receiver into rxbuf, EOI.
uart_irq:
    IN8 IIR
    mov [last_iir], eax
.more:
    IN8 LSR
    test al, 1
    jz .done
    IN8 RBR
    mov ecx, [rxlen]
    cmp ecx, 63
    jae .more
    mov [rxbuf + ecx], al
    inc dword [rxlen]
    jmp .more
.done:
    jmp eoi

; drain: read RBR while LSR.DR.
drain:
    IN8 LSR
    test al, 1
    jz .e
    IN8 RBR
    jmp drain
.e: ret

serial_puts:
    push eax
    push esi
.l: mov al, [esi]
    test al, al
    jz .e
    call serial_putc
    inc esi
    jmp .l
.e: pop esi
    pop eax
    ret

main:
    call pic_init
    call pit_stop               ; only COM1 may wake a HLT below
    mov dword [irq_handler + 4*4], uart_irq
    OUT8 IER, 0
    OUT8 LCR, 0x80              ; DLAB
    OUT8 RBR, 0x01              ; 115200 baud
    OUT8 IER, 0x00
    IN8 RBR
    CHECK "uart: divisor latch low reads back with DLAB", eax, 1
    OUT8 LCR, 0x03              ; 8N1, DLAB off
    IN8 LCR
    CHECK "uart: LCR reads back", eax, 3
    OUT8 SCR, 0x5A
    IN8 SCR
    CHECK "uart: scratch register", eax, 0x5A
    OUT8 FCR, 0
    IN8 IIR
    CHECK "uart: IIR: no interrupt, FIFOs off", eax, 0x01
    IN8 LSR
    CHECK "uart: LSR: transmitter empty (THRE, TEMT)", eax, 0x60

    ; Loopback, modem outputs looped to the inputs.
    OUT8 MCR, 0x10
    IN8 MSR
    and eax, 0xF0
    CHECK "uart: loopback with outputs off: CTS DSR RI DCD clear", eax, 0
    OUT8 MCR, 0x1F
    IN8 MSR
    CHECK "uart: loopback: RTS->CTS DTR->DSR OUT1->RI OUT2->DCD, with deltas", eax, 0xFB
    IN8 MSR
    CHECK "uart: reading MSR clears the deltas", eax, 0xF0
    OUT8 MCR, 0x10

    ; 16450 mode.
    OUT8 RBR, 'A'
    IN8 LSR
    CHECK "uart: loopback byte received: LSR DR, THRE, TEMT", eax, 0x61
    IN8 RBR
    CHECK "uart: RBR returns the byte", eax, 'A'
    IN8 LSR
    CHECK "uart: LSR DR clear after the read", eax, 0x60
    OUT8 RBR, 'B'
    OUT8 RBR, 'C'
    IN8 LSR
    CHECK "uart: second byte without FIFO: overrun (OE)", eax, 0x63
    IN8 LSR
    CHECK "uart: reading LSR clears OE", eax, 0x61
    IN8 RBR
    CHECK "uart: 16450 overrun keeps the newest byte", eax, 'C'

    ; FIFO mode.
    OUT8 FCR, 0x07              ; enable, reset both, trigger 1
    IN8 IIR
    CHECK "uart: IIR bits 7-6 show the FIFOs enabled", eax, 0xC1
    mov ebx, 0
.fill:
    mov dx, RBR
    mov al, bl
    add al, 0x40
    out dx, al
    inc ebx
    cmp ebx, 16
    jb .fill
    IN8 LSR
    CHECK "uart: 16 bytes fit the FIFO without overrun", eax, 0x61
    mov ebx, 0
    mov dword [bad], 0
.empty:
    IN8 RBR
    mov ecx, ebx
    add ecx, 0x40
    cmp eax, ecx
    je .same
    inc dword [bad]
.same:
    inc ebx
    cmp ebx, 16
    jb .empty
    CHECK "uart: the FIFO returns the 16 bytes in order", [bad], 0
    IN8 LSR
    CHECK "uart: FIFO empty after 16 reads", eax, 0x60
    mov ecx, 17
.over:
    OUT8 RBR, 'x'
    loop .over
    IN8 LSR
    and eax, 0x03
    CHECK "uart: the 17th byte overruns the FIFO", eax, 0x03
    OUT8 FCR, 0x03              ; reset the receive FIFO
    IN8 LSR
    CHECK "uart: FCR receive reset empties the FIFO", eax, 0x60

    ; Trigger level 14 and the received-data interrupt reason.
    OUT8 FCR, 0xC1
    OUT8 IER, 0x01
    mov ecx, 13
.t13:
    OUT8 RBR, 't'
    loop .t13
    IN8 IIR
    CHECK "uart: 13 bytes below trigger 14: no interrupt yet", eax, 0xC1
    OUT8 RBR, 't'
    IN8 IIR
    CHECK "uart: 14 bytes: IIR received data available", eax, 0xC4
    call drain
    IN8 IIR
    CHECK "uart: drained: no interrupt", eax, 0xC1
    ; One byte below the trigger: character timeout after four
    ; character times (4 x 10 bits at 115200 baud = 347 us).
    OUT8 RBR, 'z'
    IN8 IIR
    CHECK "uart: one byte, before the timeout: no interrupt", eax, 0xC1
    mov ecx, 500000
    call spin
    IN8 IIR
    CHECK "uart: character timeout indication after 4 character times", eax, 0xCC
    IN8 RBR
    IN8 IIR
    CHECK "uart: reading RBR clears the timeout", eax, 0xC1

    ; Transmitter holding register empty.
    OUT8 IER, 0x02
    IN8 IIR
    CHECK "uart: enabling ETBEI with THR empty: IIR THRE", eax, 0xC2
    IN8 IIR
    CHECK "uart: reading IIR acknowledged THRE", eax, 0xC1

    ; Break in loopback: a zero byte with BI, receiver line status.
    OUT8 IER, 0x05
    OUT8 LCR, 0x43
    OUT8 RBR, 'q'
    OUT8 LCR, 0x03
    IN8 IIR
    CHECK "uart: break: IIR receiver line status", eax, 0xC6
    IN8 LSR
    CHECK "uart: LSR: BI, FIFO error, DR, THRE, TEMT", eax, 0xF1
    IN8 RBR
    CHECK "uart: a break reads as a zero byte", eax, 0
    IN8 LSR
    CHECK "uart: LSR clean after the break byte", eax, 0x60

    ; Modem status interrupt from the looped outputs.
    OUT8 IER, 0x08
    IN8 MSR                     ; clear deltas
    OUT8 MCR, 0x12              ; RTS -> CTS changes
    IN8 IIR
    CHECK "uart: loopback RTS change: IIR modem status", eax, 0xC0
    IN8 MSR
    CHECK "uart: MSR: CTS with its delta", eax, 0x11
    IN8 IIR
    CHECK "uart: reading MSR clears the modem status interrupt", eax, 0xC1

    ; In loopback, OUT2 does not reach the IRQ gate: the reason shows in
    ; IIR, but IRQ 4 is not raised.
    in al, 0x21
    and al, 0xEF                ; unmask IRQ 4
    out 0x21, al
    sti
    OUT8 IER, 0x01
    OUT8 FCR, 0x07
    OUT8 MCR, 0x18              ; loopback + OUT2
    OUT8 RBR, 'L'
    IN8 IIR
    CHECK "uart: loopback + OUT2: IIR received data", eax, 0xC4
    mov ecx, 100
    call spin
    CHECK "uart: no IRQ 4 from a UART in loopback", [irq_count + 4*4], 0
    call drain

    ; Out of loopback: a real line on COM1, then interrupt-driven
    ; receive of what the host types.
    OUT8 MCR, 0x0B              ; DTR, RTS, OUT2
    OUT8 FCR, 0x07              ; trigger 1
    mov esi, msg_rx_hello
    call serial_puts
    PRINT {"uart: ready", 10}
.rx:
    hlt
    mov ecx, [rxlen]
    test ecx, ecx
    jz .rx
    cmp byte [rxbuf + ecx - 1], 10
    jne .rx
    CHECK_RANGE "uart: IRQ 4 delivered the host's bytes", [irq_count + 4*4], 1, 32
    mov eax, [last_iir]
    and eax, 0x0F
    CHECK_RANGE "uart: IRQ 4 handler saw a receive reason (RDA or timeout)", eax, 0x04, 0x0C
    mov esi, msg_rx_got
    call serial_puts
    mov esi, rxbuf
    call serial_puts
    DONE

msg_rx_hello:  db "uart: hello on COM1", 13, 10, 0
msg_rx_got:    db "uart: got ", 0
    align 4
bad:        dd 0
last_iir:   dd 0
rxlen:      dd 0
rxbuf:      times 64 db 0
image_end:
