; model: x86-64-v2
; Long-mode system architecture: SYSCALL/SYSRET (64-bit and to
; compatibility mode, SFMASK, the non-canonical RCX #GP), SYSENTER/SYSEXIT
; in IA-32e mode, SWAPGS, FS/GS bases through the MSRs and through MOV,
; IRETQ (same level with the SS:RSP pop, to ring 3, to compatibility
; mode), compatibility-mode code calling back into 64-bit code, a 64-bit
; call gate from ring 3, and leaving and re-entering IA-32e mode.
%include "long.inc"

NONCANON equ 0x0000800000000000
MSR_STAR    equ 0xc0000081
MSR_LSTAR   equ 0xc0000082
MSR_SFMASK  equ 0xc0000084
MSR_FSBASE  equ 0xc0000100
MSR_GSBASE  equ 0xc0000101
MSR_KGSBASE equ 0xc0000102

main:
    ; SYSCALL / SYSRET round trip from 64-bit ring 3.
    mov rbx, 0x0018000800000000         ; SYSRET base 0x18, SYSCALL CS 0x08
    WRMSR64 MSR_STAR, rbx
    lea rbx, [syscall_entry]
    WRMSR64 MSR_LSTAR, rbx
    WRMSR64 MSR_SFMASK, 0x400           ; clear DF on entry
    RING3 .u_sys
.u_sys:
    std
    syscall
.u_after:
    cld
    mov ax, cs
    mov [u_cs], ax
    mov ax, ss
    mov [u_ss], ax
    RING0 .k_sys
.k_sys:
    mov rax, .u_after
    CHECK "SYSCALL saves RIP in RCX", [sc_rcx], rax
    mov rax, [sc_r11]
    and eax, 0x400
    CHECK "SYSCALL saves RFLAGS in R11", rax, 0x400
    mov rax, [sc_flags]
    and eax, 0x400
    CHECK "SYSCALL applies SFMASK", rax, 0
    movzx eax, word [sc_cs]
    CHECK "SYSCALL CS = STAR[47:32]", rax, SEL_CODE64
    movzx eax, word [sc_ss]
    CHECK "SYSCALL SS = STAR[47:32] + 8", rax, SEL_DATA
    movzx eax, word [u_cs]
    CHECK "SYSRETQ CS = STAR[63:48] + 16 | 3", rax, SEL_UCODE64
    movzx eax, word [u_ss]
    CHECK "SYSRET SS = STAR[63:48] + 8 | 3", rax, SEL_UDATA

    ; SYSRET to compatibility mode (32-bit ring 3).
    mov [ring0_rsp], rsp
    mov ecx, compat_user
    mov r11d, 0x2
    mov rsp, STACK3
    sysret
.k_compat:
    CHECK "SYSRET to compatibility mode ran 32-bit code", [scratch], 0x1234
    movzx eax, word [scratch + 8]
    CHECK "compatibility-mode CS", rax, SEL_UCODE32
    CHECK "32-bit PUSH in compatibility mode", [scratch + 16], 4

    ; SYSRET faults.
    mov rcx, NONCANON
    mov r11d, 2
    TRY
    o64 sysret
    EXPECT "SYSRETQ to non-canonical RCX #GP(0) at CPL 0", 13, 0
    CHECK "the #GP is taken at CPL 0", [last_cs], SEL_CODE64
    UTRY
    o64 sysret
    UEXPECT "SYSRET at CPL 3 #GP(0)", 13, 0
    mov ecx, 0xc0000080
    rdmsr
    btr eax, 0
    wrmsr
    TRY
    syscall
    EXPECT "SYSCALL with EFER.SCE clear #UD", 6, NOERR
    TRY
    o64 sysret
    EXPECT "SYSRET with EFER.SCE clear #UD", 6, NOERR
    mov ecx, 0xc0000080
    rdmsr
    bts eax, 0
    wrmsr

    ; SYSENTER / SYSEXIT in IA-32e mode.
    WRMSR64 0x174, SEL_CODE64
    WRMSR64 0x175, RSP0_TOP
    lea rbx, [sysenter_entry]
    WRMSR64 0x176, rbx
    RING3 .u_sysenter
.u_sysenter:
    mov rbx, rsp
    sysenter
.u_sysexit:
    mov ax, cs
    mov [u_cs], ax
    mov [u_rsp], rsp
    RING0 .k_sysenter
.k_sysenter:
    movzx eax, word [sc_cs]
    CHECK "SYSENTER CS from SYSENTER_CS", rax, SEL_CODE64
    CHECK "SYSENTER RSP from SYSENTER_ESP", [sc_rsp], RSP0_TOP
    movzx eax, word [u_cs]
    CHECK "SYSEXIT (REX.W) to 64-bit CS + 32", rax, SEL_CODE64 + 32 + 3
    CHECK "SYSEXIT RSP from RCX", [u_rsp], STACK3

    ; SWAPGS and the GS/FS base MSRs.
    lea rbx, [gsbuf_a]
    WRMSR64 MSR_GSBASE, rbx
    lea rbx, [gsbuf_b]
    WRMSR64 MSR_KGSBASE, rbx
    mov rax, [gs:0]
    CHECK "GS base from the MSR", rax, 0xaaaa
    swapgs
    mov rax, [gs:0]
    CHECK "SWAPGS exchanges GS base", rax, 0xbbbb
    RDMSR64 rbx, MSR_KGSBASE
    lea rax, [gsbuf_a]
    CHECK "SWAPGS: KERNEL_GS_BASE holds the old base", rbx, rax
    RDMSR64 rbx, MSR_GSBASE
    lea rax, [gsbuf_b]
    CHECK "SWAPGS: GS_BASE reads the new base", rbx, rax
    swapgs
    lea rbx, [gsbuf_b]
    WRMSR64 MSR_FSBASE, rbx
    mov rax, [fs:8]
    CHECK "FS base from the MSR", rax, 0xbbbc
    mov rbx, NONCANON
    mov rax, rbx
    mov rdx, rbx
    shr rdx, 32
    mov ecx, MSR_FSBASE
    TRY
    wrmsr
    EXPECT "non-canonical FS_BASE #GP(0)", 13, 0
    mov ax, SEL_DATAB
    mov fs, ax
    RDMSR64 rbx, MSR_FSBASE
    CHECK "MOV FS loads the descriptor base", rbx, 0x30000
    mov qword [abs 0x30010], 0x6666
    mov rax, [fs:0x10]
    CHECK "FS-relative access uses the new base", rax, 0x6666
    mov rbx, 0x123400000000
    WRMSR64 MSR_GSBASE, rbx
    mov ax, SEL_DATAB
    mov gs, ax
    RDMSR64 rbx, MSR_GSBASE
    CHECK "MOV GS zeroes base bits 32-63", rbx, 0x30000
    xor eax, eax
    mov fs, ax
    RDMSR64 rbx, MSR_FSBASE
    CHECK "null selector in FS zeroes the base", rbx, 0
    mov ax, SEL_DATAB
    mov ds, ax
    mov rax, [qval]
    mov ecx, SEL_DATA
    mov ds, ecx
    CHECK "DS base is ignored in 64-bit mode", rax, 0x7777
    xor eax, eax
    mov ds, ax
    mov rax, [qval]
    mov ecx, SEL_DATA
    mov ds, ecx
    CHECK "null DS is usable in 64-bit mode", rax, 0x7777
    xor eax, eax
    TRY
    mov ss, ax
    EXPECT "null SS at CPL 0 in 64-bit mode", NOEXC, 0
    mov eax, SEL_DATA
    mov ss, eax

    ; IRETQ at the same level pops SS:RSP.
    mov rbx, rsp
    push qword SEL_DATA
    push qword STACK0 - 0x200
    pushfq
    push qword SEL_CODE64
    push qword .iret_same
    iretq
.iret_same:
    mov rax, rsp
    mov rsp, rbx
    CHECK "IRETQ to the same level loads RSP", rax, STACK0 - 0x200

    ; IRETQ to compatibility mode, far call back into 64-bit code,
    ; exceptions from compatibility mode, far jump back.
    mov [ring0_rsp], rsp
    push qword SEL_DATA
    push qword STACK0 - 0x400
    pushfq
    push qword SEL_CODE32
    push qword compat_kernel
    iretq
.back64:
    mov rsp, [ring0_rsp]
    CHECK "IRETQ to compatibility mode", [scratch], 0x4321
    CHECK "compatibility-mode ESP from the IRETQ frame", [scratch + 8], STACK0 - 0x400
    CHECK "far call from compatibility into 64-bit code", [scratch + 16], 0x64
    CHECK "RETF back to compatibility mode", [scratch + 24], 1
    CHECK "INC is 40h in compatibility mode", [scratch + 32], 1
    CHECK "#UD for SYSRET in compatibility mode", [scratch + 40], 6
    CHECK "#UD for SWAPGS in compatibility mode", [scratch + 48], 6
    CHECK "#UD for SYSCALL in compatibility mode (Intel)", [scratch + 56], 6
    CHECK "#GP in compatibility mode, resumed by IRETQ", [scratch + 64], 13
    CHECK "EFER.LMA clear after CR0.PG=0", [scratch + 72], 0
    CHECK "EFER.LMA set again after CR0.PG=1", [scratch + 80], 1

    ; 64-bit call gate from ring 3.
    lea rax, [cgate_target]
    mov rdi, gdt + (SEL_CGATE & ~7)
    mov [rdi], ax
    mov word [rdi + 2], SEL_CODE64
    mov word [rdi + 4], 0xec00          ; P, DPL 3, 64-bit call gate
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], rax
    RING3 .u_gate
.u_gate:
    call far qword [rel gate_ptr]
.u_gate_ret:
    mov [u_rsp], rsp
    mov ax, cs
    mov [u_cs], ax
    RING0 .k_gate
.k_gate:
    CHECK "call gate: new RSP from TSS.RSP0", [cg_rsp], RSP0_TOP - 32
    mov rax, .u_gate_ret
    CHECK "call gate: pushed RIP", [cg_rip], rax
    CHECK "call gate: pushed CS", [cg_cs], SEL_UCODE64
    CHECK "call gate: pushed RSP", [cg_oldrsp], STACK3
    CHECK "call gate: pushed SS", [cg_ss], SEL_UDATA
    CHECK "call gate: target CS", [cg_newcs], SEL_CODE64
    CHECK "RETFQ to ring 3 pops RSP", [u_rsp], STACK3
    movzx eax, word [u_cs]
    CHECK "RETFQ to ring 3 CS", rax, SEL_UCODE64
    mov eax, SEL_CODE64L
    mov [rel far_ptr + 4], ax
    mov dword [rel far_ptr], .bad_ld
    TRY
    jmp far dword [rel far_ptr]
.bad_ld:
    EXPECT "far JMP to a code segment with L and D #GP", 13, SEL_CODE64L
    DONE

syscall_entry:
    mov [sc_rcx], rcx
    mov [sc_r11], r11
    mov ax, cs
    mov [sc_cs], ax
    mov ax, ss
    mov [sc_ss], ax
    pushfq
    pop rax
    mov [sc_flags], rax
    o64 sysret

sysenter_entry:
    mov ax, cs
    mov [sc_cs], ax
    mov [sc_rsp], rsp
    mov rcx, STACK3
    mov rdx, main.u_sysexit
    o64 sysexit

cgate_target:
    mov [cg_rsp], rsp
    mov rax, [rsp]
    mov [cg_rip], rax
    mov rax, [rsp + 8]
    mov [cg_cs], rax
    mov rax, [rsp + 16]
    mov [cg_oldrsp], rax
    mov rax, [rsp + 24]
    mov [cg_ss], rax
    mov ax, cs
    movzx eax, ax
    mov [cg_newcs], rax
    o64 retf

callback64:
    mov qword [scratch + 16], 0x64
    retf                                ; 32-bit RETF back to compatibility mode

    bits 32
compat_user:
    mov eax, SEL_UDATA                  ; IRET to ring 3 earlier nulled DS
    mov ds, eax
    mov dword [scratch], 0x1234
    mov ax, cs
    mov [scratch + 8], ax
    mov ebx, esp
    push eax
    sub ebx, esp
    pop eax
    mov [scratch + 16], ebx
    mov dword [ring0_cont], main.k_compat
    mov dword [ring0_cont + 4], 0
    int 0x30

compat_kernel:
    mov eax, SEL_DATA
    mov ds, eax
    mov es, eax
    mov dword [scratch], 0x4321
    mov [scratch + 8], esp
    call SEL_CODE64:callback64
    mov dword [scratch + 24], 1
    xor eax, eax
    db 0x40                             ; INC EAX here, REX in 64-bit mode
    mov [scratch + 32], eax
    mov dword [resume + 4], 0
    mov dword [resume], .r1
    db 0x0f, 0x07                       ; SYSRET
.r1:
    mov eax, [last_vec]
    mov [scratch + 40], eax
    mov dword [resume], .r2
    db 0x0f, 0x01, 0xf8                 ; SWAPGS
.r2:
    mov eax, [last_vec]
    mov [scratch + 48], eax
    mov dword [resume], .r3
    syscall
.r3:
    mov eax, [last_vec]
    mov [scratch + 56], eax
    mov dword [resume], .r4
    mov eax, 0x1000
    mov ds, eax                          ; selector beyond the GDT limit
.r4:
    mov eax, [last_vec]
    mov [scratch + 64], eax
    ; Leave IA-32e mode and come back.
    mov eax, cr0
    btr eax, 31
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    shr eax, 10
    and eax, 1
    mov [scratch + 72], eax
    mov eax, cr0
    bts eax, 31
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    shr eax, 10
    and eax, 1
    mov [scratch + 80], eax
    jmp SEL_CODE64:main.back64
    bits 64

    align 8
qval:       dq 0x7777
gsbuf_a:    dq 0xaaaa, 0xaaab
gsbuf_b:    dq 0xbbbb, 0xbbbc
sc_rcx:     dq 0
sc_r11:     dq 0
sc_flags:   dq 0
sc_rsp:     dq 0
sc_cs:      dw 0
sc_ss:      dw 0
u_cs:       dw 0
u_ss:       dw 0
            dd 0
u_rsp:      dq 0
cg_rsp:     dq 0
cg_rip:     dq 0
cg_cs:      dq 0
cg_oldrsp:  dq 0
cg_ss:      dq 0
cg_newcs:   dq 0
gate_ptr:   dq 0                    ; m16:64 (REX.W CALL far)
            dw SEL_CGATE
far_ptr:    dd 0
            dw 0
