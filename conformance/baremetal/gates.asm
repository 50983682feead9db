; Call gates (parameter copy, stack switch, RET to an outer level),
; conforming code, JMP through a call gate, interrupt vs trap gates.
%include "lib.inc"

main:
    ; 0x40: 386 call gate, DPL 3, 2 parameters, to ring-0 gate_target.
    SETGATE gdt+0x40, gate_target, SEL_CODE0, 0xec, 2
    ; 0x48: 386 call gate, DPL 0, to ring-0 same_target.
    SETGATE gdt+0x48, same_target, SEL_CODE0, 0x8c, 0
    ; 0x50: conforming ring-0 code.
    SETDESC 0x50, 0, 0xfffff, 0xc09e

    RING3 .r3
.r3:
    mov [scratch], esp
    push dword 0x1111
    push dword 0x2222
    call 0x43:0
    ; Back in ring 3 after RETF 8.
    mov eax, [scratch]
    mov ebx, esp
    CHECK "RETF 8 to outer level restores ESP", ebx, eax
    mov eax, [g_cs]
    CHECK "call gate: CS in ring 0", eax, SEL_CODE0
    mov eax, [g_p0]
    CHECK "call gate: first parameter copied", eax, 0x2222
    mov eax, [g_p1]
    CHECK "call gate: second parameter copied", eax, 0x1111
    mov eax, [g_ss]
    CHECK "call gate: old SS pushed", eax, SEL_DATA3
    mov eax, [g_esp]
    mov ebx, [scratch]
    sub ebx, 8
    CHECK "call gate: old ESP pushed", eax, ebx
    mov eax, [g_retcs]
    CHECK "call gate: old CS pushed", eax, SEL_CODE3
    mov eax, [g_newesp]
    CHECK "call gate: ESP from TSS.ESP0", eax, STACK0_INT - 24
    xor eax, eax
    mov ax, es
    CHECK "RETF to outer level nulls DPL-0 ES", eax, 0
    mov ax, SEL_DATA3
    mov es, ax

    TRY
    call 0x48:0
    EXPECT "#GP call gate DPL 0 from CPL 3", 13, 0x48

    call 0x53:conf_target
    mov eax, [g_ccs]
    and eax, 3
    CHECK "conforming code runs at CPL 3", eax, 3

    TRY
    push dword SEL_CODE0
    push dword .r3
    retf
    EXPECT "#GP RETF to inner privilege", 13, SEL_CODE0

    TRY
    jmp SEL_CODE0:.r3
    EXPECT "#GP JMP to nonconforming DPL-0 code from CPL 3", 13, SEL_CODE0
    RING0 .r0
.r0:
    ; JMP through a call gate at the same privilege.
    jmp 0x48:0
jmp_back:
    CHECK "JMP through call gate", dword [g_jmp], 1
    mov dword [g_jmp], 2
    call 0x48:0
    CHECK "CALL through call gate, same privilege", dword [g_jmp], 3

    ; Interrupt gate clears IF, trap gate keeps it.
    SETGATE IDT+0x40*8, int_target, SEL_CODE0, 0x8e, 0
    SETGATE IDT+0x41*8, int_target, SEL_CODE0, 0x8f, 0
    sti
    int 0x40
    mov eax, [g_if]
    and eax, 0x200
    CHECK "interrupt gate clears IF", eax, 0
    pushfd
    pop eax
    and eax, 0x200
    CHECK "IRET restores IF", eax, 0x200
    int 0x41
    mov eax, [g_if]
    and eax, 0x200
    CHECK "trap gate keeps IF", eax, 0x200
    cli

    ; 286 call gate: 16-bit pushes.
    SETGATE gdt+0x58, same_target16, SEL_CODE0, 0x84, 0
    mov ebx, esp
    call 0x58:0
    CHECK "286 call gate pushes 4 bytes", dword [g_jmp], 4
    DONE

gate_target:
    mov [g_newesp], esp
    mov eax, [esp+4]
    mov [g_retcs], eax
    mov eax, [esp+8]
    mov [g_p0], eax
    mov eax, [esp+12]
    mov [g_p1], eax
    mov eax, [esp+16]
    mov [g_esp], eax
    mov eax, [esp+20]
    mov [g_ss], eax
    xor eax, eax
    mov ax, cs
    mov [g_cs], eax
    mov ax, SEL_DATA0
    mov es, ax
    retf 8

same_target:
    cmp dword [g_jmp], 2
    je .called
    mov dword [g_jmp], 1
    jmp jmp_back
.called:
    mov dword [g_jmp], 3
    retf

same_target16:
    sub ebx, esp
    mov [g_jmp], ebx
    o16 retf

conf_target:
    xor eax, eax
    mov ax, cs
    mov [g_ccs], eax
    retf

int_target:
    pushfd
    pop dword [g_if]
    iretd

    align 4
g_cs:     dd 0
g_p0:     dd 0
g_p1:     dd 0
g_ss:     dd 0
g_esp:    dd 0
g_retcs:  dd 0
g_newesp: dd 0
g_ccs:    dd 0
g_jmp:    dd 0
g_if:     dd 0
