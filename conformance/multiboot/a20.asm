; The A20 gate: with A20 off, address bit 20 is forced to zero (a write at
; 0x000000+x shows at 0x100000+x). Toggled through the 8042 output port
; (command 0xD1, bit 1), the 8042's 0xDD/0xDF commands and port 0x92 bit
; 1; the state read back through 8042 command 0xD0 and port 0x92. The
; kernel lives at 2 MiB so that no address it uses has bit 20 set.
%define LOAD_ADDR 0x200000
%include "lib.inc"

LOW     equ 0x7000              ; free low memory
HIGH    equ LOW + 0x100000

; wraps: eax = 1 if 0x100000+x aliases x now, else 0. Each test stores
; new values, so that a stale cached translation shows.
wraps:
    inc dword [seq]
    mov eax, [seq]
    mov dword [HIGH], eax
    not eax
    mov dword [LOW], eax
    cmp [HIGH], eax
    sete al
    movzx eax, al
    ret

; kbc_outport: the 8042 output port (command 0xD0), bit 1 (A20) in eax.
kbc_a20:
    call kbc_wait_in
    mov al, 0xD0
    out 0x64, al
    call kbc_read
    movzx eax, al
    and eax, 2
    shr eax, 1
    ret

p92_a20:
    in al, 0x92
    movzx eax, al
    and eax, 2
    shr eax, 1
    ret

; kbc_write_outport: al = value for the output port (bit 0, the reset
; line, must stay 1).
kbc_write_outport:
    push eax
    call kbc_wait_in
    mov al, 0xD1
    out 0x64, al
    call kbc_wait_in
    pop eax
    out 0x60, al
    call kbc_wait_in
    ret

kbc_command:
    push eax
    call kbc_wait_in
    pop eax
    out 0x64, al
    call kbc_wait_in
    ret

main:
    call wraps
    CHECK "a20: on at entry (multiboot): no wrap at 1 MiB", eax, 0
    call kbc_a20
    CHECK "a20: 8042 output port bit 1 reads 1", eax, 1
    call p92_a20
    CHECK "a20: port 0x92 bit 1 reads 1", eax, 1

    ; 8042 output port write, A20 off (bit 0 stays 1: no reset).
    mov al, 0xDD
    call kbc_write_outport
    call wraps
    CHECK "a20: off via 8042 output port (0xD1, 0xDD): wraps at 1 MiB", eax, 1
    call kbc_a20
    CHECK "a20: 8042 output port bit 1 reads 0", eax, 0
    call p92_a20
    CHECK "a20: port 0x92 bit 1 reads 0 after the 8042 turned A20 off", eax, 0
    mov al, 0xDF
    call kbc_write_outport
    call wraps
    CHECK "a20: on via 8042 output port (0xD1, 0xDF): no wrap", eax, 0
    call kbc_a20
    CHECK "a20: 8042 output port bit 1 reads 1 again", eax, 1

    ; The 8042's own commands.
    mov al, 0xDD
    call kbc_command
    call wraps
    CHECK "a20: off via 8042 command 0xDD: wraps", eax, 1
    call kbc_a20
    CHECK "a20: 8042 output port reports off after 0xDD", eax, 0
    mov al, 0xDF
    call kbc_command
    call wraps
    CHECK "a20: on via 8042 command 0xDF: no wrap", eax, 0

    ; Port 0x92 (bit 0 is the reset: keep it clear).
    in al, 0x92
    and al, 0xFC
    out 0x92, al
    call wraps
    CHECK "a20: off via port 0x92 bit 1: wraps", eax, 1
    call p92_a20
    CHECK "a20: port 0x92 bit 1 reads 0", eax, 0
    call kbc_a20
    CHECK "a20: 8042 output port reports the gate off too", eax, 0
    ; Code and stack keep running with A20 off (nothing at bit 20).
    push dword 0x12345678
    pop eax
    CHECK "a20: stack works with A20 off", eax, 0x12345678
    in al, 0x92
    and al, 0xFC
    or al, 2
    out 0x92, al
    call wraps
    CHECK "a20: on via port 0x92: no wrap", eax, 0
    call p92_a20
    CHECK "a20: port 0x92 bit 1 reads 1 again", eax, 1
    DONE

    align 4
seq:    dd 0x5A5A0000
image_end:
