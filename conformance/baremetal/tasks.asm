; Hardware task switches through CALL, INT (task gate), IRET (NT) and
; JMP: busy bits, NT, the back link, the saved state, CR0.TS.
%include "lib.inc"

TSS1 equ 0x30000

main:
    ; TSS1: a ring-0 task starting at task1.
    mov dword [TSS1+0x20], task1
    mov dword [TSS1+0x24], 2
    mov dword [TSS1+0x38], 0x8a000          ; ESP
    mov dword [TSS1+0x48], SEL_DATA0        ; ES
    mov dword [TSS1+0x4c], SEL_CODE0        ; CS
    mov dword [TSS1+0x50], SEL_DATA0        ; SS
    mov dword [TSS1+0x54], SEL_DATA0        ; DS
    mov dword [TSS1+0x58], SEL_DATA0        ; FS
    mov dword [TSS1+0x5c], SEL_DATA0        ; GS
    mov dword [TSS1+0x66], 0x68
    SETDESC 0x40, TSS1, 0x67, 0x0089
    SETGATE IDT+0x50*8, 0, 0x40, 0x85, 0    ; task gate

    mov ebx, 0x12345678
    call 0x40:0
after_call:
    ; back from task1's IRET
    CHECK "CALL: new task's TR", dword [t_str], 0x40
    mov eax, [t_flags]
    and eax, 0x4000
    CHECK "CALL: NT set in the new task", eax, 0x4000
    CHECK "CALL: back link", dword [t_link], SEL_TSS0
    CHECK "CALL: new TSS busy", dword [t_busy], 0x8b
    CHECK "CALL: new task's EBX from TSS", dword [t_ebx], 0
    CHECK "IRET: EBX restored from old TSS", ebx, 0x12345678
    CHECK "IRET: old task's EIP saved", dword [TSS0+0x20], after_call
    xor eax, eax
    mov al, [gdt+0x45]
    CHECK "IRET: task1 no longer busy", eax, 0x89
    pushfd
    pop eax
    and eax, 0x4000
    CHECK "IRET: NT clear in the old task", eax, 0
    mov eax, cr0
    and eax, 8
    CHECK "task switch sets CR0.TS", eax, 8
    clts

    int 0x50
    CHECK "INT task gate: back link", dword [t_link], SEL_TSS0
    CHECK "INT task gate: phase", dword [t_phase], 2

    jmp 0x40:0
after_jmp:
    CHECK "JMP: phase", dword [t_phase], 3
    mov eax, [t_flags]
    and eax, 0x4000
    CHECK "JMP: NT clear in the new task", eax, 0
    CHECK "JMP: old TSS not busy during task1", dword [t_busy], 0x89
    xor eax, eax
    mov al, [gdt+0x2d]
    CHECK "JMP back: main TSS busy again", eax, 0x8b
    xor eax, eax
    mov al, [gdt+0x45]
    CHECK "JMP back: task1 not busy", eax, 0x89
    clts

    TRY
    jmp SEL_TSS0:0
    EXPECT "#GP JMP to a busy TSS", 13, SEL_TSS0

    ; IRET with NT and a back link to a TSS that is not busy.
    mov word [TSS0], 0x40
    TRY
    pushfd
    or dword [esp], 0x4000
    popfd
    iretd
    EXPECT "#TS IRET to a non-busy task", 10, 0x40
    pushfd
    and dword [esp], ~0x4000
    popfd
    DONE


task1:
    call record
    mov dword [t_phase], 1
    iretd
    call record
    mov dword [t_phase], 2
    iretd
    call record
    mov al, [gdt+0x2d]
    movzx eax, al
    mov [t_busy], eax
    mov dword [t_phase], 3
    jmp SEL_TSS0:0

record:
    xor eax, eax
    str ax
    mov [t_str], eax
    pushfd
    pop dword [t_flags]
    movzx eax, word [TSS1]
    mov [t_link], eax
    movzx eax, byte [gdt+0x45]
    mov [t_busy], eax
    mov [t_ebx], ebx
    ret

    align 4
t_str:   dd 0
t_flags: dd 0
t_link:  dd 0
t_busy:  dd 0
t_ebx:   dd 0
t_phase: dd 0
