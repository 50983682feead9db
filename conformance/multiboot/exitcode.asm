; Ends the run the way its command line says (the last words of -append):
;   exit N     write N (decimal) to isa-debug-exit as a 32-bit OUT
;   triple     triple fault (a fault with an empty IDT)
;   spin       loop forever (jmp $)
;   halt       stop the PIT, CLI, HLT: nothing ever wakes the CPU
;   reset      pulse the reset line through the 8042 (command 0xFE)
;   reset92    reset through port 0x92 bit 0
%include "lib.inc"

main:
    mov esi, [boot_ebx]
    mov esi, [esi+16]
.path:                              ; skip the kernel path
    lodsb
    test al, al
    jz bad
    cmp al, ' '
    jne .path
    cmp dword [esi], 'exit'
    je do_exit
    cmp dword [esi], 'trip'
    je do_triple
    cmp dword [esi], 'spin'
    je do_spin
    cmp dword [esi], 'halt'
    je do_halt
    cmp dword [esi], 'rese'
    je do_reset
bad:
    PRINT {"FAIL - exitcode: unknown command line", 10}
    EXIT_WITH 0x55

do_exit:
    add esi, 5
    xor eax, eax
.digit:
    movzx ecx, byte [esi]
    sub ecx, '0'
    cmp ecx, 9
    ja .done
    imul eax, eax, 10
    add eax, ecx
    inc esi
    jmp .digit
.done:
    out 0xF4, eax
    cli
    hlt

do_triple:
    lidt [null_idtr]
    int3
    PRINT {"FAIL - survived a triple fault", 10}
    EXIT_WITH 0x55

do_spin:
    jmp $

do_halt:
    call pit_stop
    cli
    hlt
    PRINT {"FAIL - woke from CLI; HLT", 10}
    EXIT_WITH 0x55

do_reset:
    cmp byte [esi+5], '9'
    je .p92
    call kbc_wait_in
    mov al, 0xFE
    out 0x64, al
    jmp .wait
.p92:
    in al, 0x92
    or al, 1
    out 0x92, al
.wait:
    mov ecx, 1000000
    call spin
    PRINT {"FAIL - no reset", 10}
    EXIT_WITH 0x55

null_idtr:
    dw 0
    dd 0
image_end:
