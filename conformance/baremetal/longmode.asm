; model: x86-64-v2
; Long mode: entry into IA-32e mode, 64-bit instruction semantics (REX,
; RIP-relative addressing, operand sizes, 32-bit writes zero-extend,
; 8-bit REX registers, 64-bit stack operations, string operations with
; RCX/RSI/RDI, 128-bit MUL/DIV, CMPXCHG16B), 10-byte SGDT/SIDT, CR8 and
; the control-register and EFER rules of IA-32e mode, CPUID.
%include "long.inc"

main:
    RDMSR64 rbx, 0xc0000080
    CHECK "EFER has LMA LME NXE SCE", rbx, 0xd01
    mov rax, cr0
    shr rax, 31
    CHECK "CR0.PG", rax, 1
    mov ax, cs
    CHECK "CS is the 64-bit segment", rax, SEL_CODE64

    ; RIP-relative addressing.
    lea rax, [rel rip_here]
rip_here:
    mov rbx, rip_here
    CHECK "LEA RIP-relative", rax, rbx
    mov rax, [rel qval]
    mov rbx, 0x0123456789abcdef
    CHECK "MOV RIP-relative load", rax, rbx
    mov dword [rel scratch], 0x5555aaaa
    mov eax, [abs scratch]
    CHECK "MOV RIP-relative store", rax, 0x5555aaaa

    ; Operand sizes and zero extension.
    mov rax, -1
    mov eax, 0x12345678
    CHECK "MOV r32 zero-extends", rax, 0x12345678
    mov rax, -1
    add eax, 1
    CHECK "ADD r32 zero-extends", rax, 0
    mov rax, -1
    mov ax, 0x1234
    mov rbx, 0xffffffffffff1234
    CHECK "MOV r16 keeps bits 16-63", rax, rbx
    mov rax, -1
    xor al, al
    mov rbx, 0xffffffffffffff00
    CHECK "XOR r8 keeps bits 8-63", rax, rbx
    mov rsi, 0x1122334455667788
    mov sil, 0x99
    mov rbx, 0x1122334455667799
    CHECK "MOV SIL (REX)", rsi, rbx
    mov rsp, STACK0
    mov rbp, 0
    mov bpl, 0x7f
    CHECK "MOV BPL (REX)", rbp, 0x7f
    mov rax, 0x1234
    xor ecx, ecx
    mov ch, ah
    CHECK "MOV CH, AH (no REX)", rcx, 0x1200
    mov r8, -1
    mov r8b, 0
    mov rbx, 0xffffffffffffff00
    CHECK "MOV R8B", r8, rbx
    mov r9, 0x100
    mov r10, 0x200
    xchg r9b, r10b
    CHECK "XCHG R9B, R10B", r9, 0x100
    mov eax, 1
    mov r8d, 2
    xchg rax, r8
    CHECK "XCHG RAX, R8", rax, 2
    CHECK "XCHG RAX, R8 (R8)", r8, 1
    mov r15, 0x123456789abcdef0
    mov rbx, r15
    shr rbx, 32
    CHECK "MOV r64, imm64", rbx, 0x12345678
    mov rax, [abs qword qval]
    mov rbx, 0x0123456789abcdef
    CHECK "MOV RAX, moffs64", rax, rbx
    mov ecx, 0x80000000
    movsxd rax, ecx
    mov rbx, 0xffffffff80000000
    CHECK "MOVSXD", rax, rbx
    mov rax, -1
    mov ecx, 0x80000000
    movsxd rax, ecx
    mov eax, eax
    mov ebx, 0x80000000
    CHECK "MOV EAX, EAX clears bits 32-63", rax, rbx
    mov rax, 0xffffffff00000000
    xor ecx, ecx
    cmp ecx, 1
    cmove eax, ecx
    CHECK "CMOVcc r32 false zero-extends", rax, 0
    mov eax, 0x80000000
    cdqe
    mov rbx, 0xffffffff80000000
    CHECK "CDQE", rax, rbx
    cqo
    CHECK "CQO", rdx, -1
    mov rax, 0x0102030405060708
    bswap rax
    mov rbx, 0x0807060504030201
    CHECK "BSWAP r64", rax, rbx
    mov rbx, 0x100000000
    lea rax, [rbx + rbx*2 + 8]
    mov rcx, 0x300000008
    CHECK "LEA 64-bit", rax, rcx
    mov ebx, 0xffffffff
    mov ecx, 2
    lea rax, [ebx + ecx]
    CHECK "LEA with 32-bit address size wraps", rax, 1
    mov r12, 0x10
    mov r13, 3
    lea rax, [r12 + r13*8 + 1]
    CHECK "LEA REX.B/REX.X base and index", rax, 0x29

    ; Shifts with 6-bit counts.
    mov rax, 1
    mov cl, 63
    shl rax, cl
    mov rbx, 0x8000000000000000
    CHECK "SHL r64 by 63", rax, rbx
    mov rax, 5
    mov cl, 64
    shl rax, cl
    CHECK "SHL r64 count masked to 6 bits", rax, 5
    mov eax, 5
    mov cl, 33
    shl eax, cl
    CHECK "SHL r32 count masked to 5 bits", rax, 10
    mov rax, -1
    xor ecx, ecx
    shl eax, cl
    mov ebx, 0xffffffff
    CHECK "SHL r32 by 0 zero-extends", rax, rbx
    mov rax, -1
    shrd eax, edx, cl
    CHECK "SHRD r32 by 0 zero-extends", rax, rbx
    mov rax, 0x8000000000000000
    sar rax, 60
    CHECK "SAR r64", rax, -8
    mov rax, 1
    ror rax, 1
    mov rbx, 0x8000000000000000
    CHECK "ROR r64", rax, rbx
    mov rax, 0x00000000ffffffff
    mov rdx, 0xf
    shld rax, rdx, 4
    mov rbx, 0x0000000ffffffff0
    CHECK "SHLD r64", rax, rbx

    ; 128-bit multiply and divide.
    mov rax, -1
    mov rcx, -1
    mul rcx
    CHECK "MUL r64 low", rax, 1
    mov rbx, 0xfffffffffffffffe
    CHECK "MUL r64 high", rdx, rbx
    mov rax, -1
    mov rcx, 2
    imul rcx
    CHECK "IMUL r64 low", rax, -2
    CHECK "IMUL r64 high", rdx, -1
    mov edx, 1
    xor eax, eax
    mov ecx, 2
    div rcx
    mov rbx, 0x8000000000000000
    CHECK "DIV r64 quotient", rax, rbx
    CHECK "DIV r64 remainder", rdx, 0
    mov rax, -7
    cqo
    mov rcx, 2
    idiv rcx
    CHECK "IDIV r64 quotient", rax, -3
    CHECK "IDIV r64 remainder", rdx, -1
    mov rax, 0x100000000
    imul rax, rax, 3
    mov rbx, 0x300000000
    CHECK "IMUL r64, r/m64, imm", rax, rbx

    ; Stack operations.
    mov rax, 0x1122334455667788
    mov rbx, rsp
    push rax
    sub rbx, rsp
    CHECK "PUSH r64 is 8 bytes", rbx, 8
    pop rcx
    CHECK "POP r64", rcx, rax
    push -2
    pop rax
    CHECK "PUSH imm32 sign-extends", rax, -2
    mov rbx, rsp
    push ax
    sub rbx, rsp
    pop ax
    CHECK "PUSH r16 is 2 bytes", rbx, 2
    mov r14, 0x77
    push r14
    pop r11
    CHECK "PUSH R14 / POP R11", r11, 0x77
    mov rbx, rsp
    call .callee
.ret_addr:
    jmp .after_call
.callee:
    mov rax, [rsp]
    mov rcx, rsp
    ret
.after_call:
    mov rdx, .ret_addr
    CHECK "CALL pushes a 64-bit RIP", rax, rdx
    sub rbx, rcx
    CHECK "CALL uses 8 bytes of stack", rbx, 8
    mov rbp, 0x1234
    mov rbx, rsp
    enter 16, 0
    mov rax, rbx
    sub rax, rbp
    CHECK "ENTER: RBP = RSP - 8", rax, 8
    mov rax, rbx
    sub rax, rsp
    CHECK "ENTER: RSP = RSP - 24", rax, 24
    mov rax, [rbp]
    CHECK "ENTER saved RBP", rax, 0x1234
    leave
    CHECK "LEAVE restores RBP", rbp, 0x1234
    mov rax, rsp
    CHECK "LEAVE restores RSP", rax, rbx
    mov rbx, rsp
    enter 8, 2
    mov rax, rbx
    sub rax, rsp
    CHECK "ENTER level 2", rax, 8+8+8+8
    leave
    pushfq
    pop rax
    and eax, 2
    CHECK "PUSHFQ", rax, 2
    mov eax, 0x801
    push rax
    popfq
    setc al
    seto bl
    add al, bl
    movzx eax, al
    CHECK "POPFQ", rax, 2
    mov ah, 0xd5
    sahf
    lahf
    shr eax, 8
    and eax, 0xff
    CHECK "SAHF/LAHF in 64-bit mode", rax, 0xd7

    ; String operations with RCX/RSI/RDI.
    lea rsi, [rel qval]
    lea rdi, [rel scratch]
    mov rcx, 2
    cld
    rep movsq
    CHECK "REP MOVSQ: RCX", rcx, 0
    lea rax, [rel scratch + 16]
    CHECK "REP MOVSQ: RDI", rdi, rax
    mov rax, [rel scratch + 8]
    mov rbx, 0xfedcba9876543210
    CHECK "REP MOVSQ: data", rax, rbx
    lea rdi, [rel scratch]
    mov rax, 0x4242424242424242
    mov ecx, 3
    rep stosq
    mov rax, [rel scratch + 16]
    mov rbx, 0x4242424242424242
    CHECK "REP STOSQ", rax, rbx
    lea rdi, [rel scratch]
    mov byte [rdi + 5], 0
    mov rcx, 100
    xor eax, eax
    repne scasb
    CHECK "REPNE SCASB: RCX", rcx, 94
    lea rsi, [rel qval]
    lodsq
    mov rbx, 0x0123456789abcdef
    CHECK "LODSQ", rax, rbx
    mov rcx, 0x100000001
    mov rax, 0
.loop:
    inc rax
    loop .loop_exit
.loop_exit:
    mov rbx, 0x100000000
    CHECK "LOOP decrements RCX", rcx, rbx
    mov rcx, 0x100000000
    mov eax, 1
    jrcxz .jz_taken
    mov eax, 0
.jz_taken:
    CHECK "JRCXZ uses all of RCX", rax, 0

    ; CMPXCHG16B.
    lea rdi, [rel cx16buf]
    mov qword [rdi], 1
    mov qword [rdi + 8], 2
    mov eax, 1
    mov edx, 2
    mov ebx, 3
    mov ecx, 4
    lock cmpxchg16b [rdi]
    setz al
    movzx eax, al
    CHECK "CMPXCHG16B equal: ZF", rax, 1
    mov rax, [rdi + 8]
    CHECK "CMPXCHG16B equal: stored", rax, 4
    xor eax, eax
    xor edx, edx
    cmpxchg16b [rdi]
    CHECK "CMPXCHG16B unequal: RAX", rax, 3
    CHECK "CMPXCHG16B unequal: RDX", rdx, 4
    TRY
    cmpxchg16b [rdi + 8]
    EXPECT "CMPXCHG16B misaligned #GP(0)", 13, 0

    ; Descriptor-table registers: 10-byte images.
    sgdt [rel scratch]
    mov rax, [rel scratch + 2]
    mov rbx, gdt
    CHECK "SGDT stores a 64-bit base", rax, rbx
    movzx eax, word [rel scratch]
    CHECK "SGDT limit", rax, gdt_end - gdt - 1
    sidt [rel scratch]
    mov rax, [rel scratch + 2]
    CHECK "SIDT stores a 64-bit base", rax, IDT64
    mov word [rel scratch], 0xfff
    mov rax, 0x1234567000
    mov [rel scratch + 2], rax
    lidt [rel scratch]
    sidt [rel scratch + 32]
    mov rbx, [rel scratch + 34]
    lidt [idtr]
    mov rax, 0x1234567000
    CHECK "LIDT loads a 64-bit base", rbx, rax
    mov word [rel scratch], 0xfff
    mov rax, 0x0000800000000000
    mov [rel scratch + 2], rax
    TRY
    lgdt [rel scratch]
    EXPECT "LGDT non-canonical base #GP(0)", 13, 0

    ; CR8 (TPR).
    mov eax, 5
    mov cr8, rax
    mov rbx, cr8
    CHECK "MOV CR8", rbx, 5
    mov eax, 16
    TRY
    mov cr8, rax
    EXPECT "MOV CR8 reserved bits #GP(0)", 13, 0
    xor eax, eax
    mov cr8, rax

    ; IA-32e rules for CR0, CR3, CR4 and EFER.
    mov rax, cr4
    and eax, ~0x20
    TRY
    mov cr4, rax
    EXPECT "clear CR4.PAE with LMA #GP(0)", 13, 0
    mov rax, cr0
    btr eax, 31
    TRY
    mov cr0, rax
    EXPECT "clear CR0.PG in 64-bit mode #GP(0)", 13, 0
    mov rax, cr0
    bts rax, 32
    TRY
    mov cr0, rax
    EXPECT "CR0 bit 32 #GP(0)", 13, 0
    mov rax, cr3
    bts rax, 45
    TRY
    mov cr3, rax
    EXPECT "CR3 beyond MAXPHYADDR #GP(0)", 13, 0
    mov ecx, 0xc0000080
    rdmsr
    and eax, ~0x100
    TRY
    wrmsr
    EXPECT "clear EFER.LME with paging on #GP(0)", 13, 0
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x400
    TRY
    wrmsr
    EXPECT "EFER write with LMA set is accepted", NOEXC, 0
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x4000
    TRY
    wrmsr
    EXPECT "EFER reserved bit #GP(0)", 13, 0
    mov ecx, 0x12345
    TRY
    rdmsr
    EXPECT "RDMSR of a missing MSR #GP(0)", 13, 0
    mov ecx, 0x3a
    TRY
    rdmsr
    EXPECT "RDMSR FEATURE_CONTROL #GP(0) (rdmsr_safe)", 13, 0
    mov ecx, 0x8b
    TRY
    xor eax, eax
    xor edx, edx
    wrmsr
    rdmsr
    EXPECT "BIOS_SIGN_ID write/read", NOEXC, 0
    RDMSR64 rbx, 0x277
    mov rax, 0x0007040600070406
    CHECK "PAT reset value", rbx, rax
    WRMSR64 0x2ff, 0xc06
    RDMSR64 rbx, 0x2ff
    CHECK "MTRRdefType", rbx, 0xc06
    WRMSR64 0xc0000103, 0x42
    rdtscp
    CHECK "RDTSCP loads TSC_AUX into ECX", rcx, 0x42

    ; CPUID.
    mov eax, 0x80000001
    cpuid
    mov eax, edx
    and eax, (1 << 29) | (1 << 20) | (1 << 11) | (1 << 26) | (1 << 27)
    CHECK "CPUID 80000001h: LM NX SYSCALL 1G RDTSCP", rax, (1 << 29) | (1 << 20) | (1 << 11) | (1 << 26) | (1 << 27)
    and ecx, 1
    CHECK "CPUID 80000001h: LAHF-SAHF", rcx, 1
    mov eax, 1
    cpuid
    bt ecx, 13
    setc al
    movzx eax, al
    CHECK "CPUID 1: CMPXCHG16B", rax, 1
    mov eax, 0x80000008
    cpuid
    and eax, 0xffff
    CHECK "CPUID 80000008h: 48/40 address bits", rax, 0x3028

    DONE

    align 16
qval:   dq 0x0123456789abcdef
        dq 0xfedcba9876543210
cx16buf: dq 0, 0, 0, 0
