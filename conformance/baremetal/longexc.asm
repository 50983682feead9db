; model: x86-64-v2
; Exceptions in 64-bit mode: #GP(0) and #SS(0) for non-canonical
; addresses, #UD for the opcodes 64-bit mode removes, #PF with CR2, near
; branches to non-canonical targets, IST stacks, the 16-byte-aligned
; interrupt frame, the ring-3 -> ring-0 stack switch through TSS.RSP0,
; gate checks of the long-mode IDT.
%include "long.inc"

NONCANON equ 0x0000800000000000

main:
    mov rbx, NONCANON
    TRY
.gp1:
    mov rax, [rbx]
    EXPECT "non-canonical load #GP(0)", 13, 0
    mov rax, .gp1
    CHECK "#GP RIP is the faulting instruction", [last_rip], rax
    TRY
    mov [rbx + 8], eax
    EXPECT "non-canonical store #GP(0)", 13, 0
    mov rbx, 0x7ffffffffffc
    TRY
    mov rax, [rbx]
    EXPECT "load crossing into non-canonical space #GP(0)", 13, 0
    mov rbp, NONCANON
    TRY
    mov rax, [rbp]
    EXPECT "non-canonical RBP-based load #SS(0)", 12, 0
    mov rbp, NONCANON
    TRY
    mov rax, [fs:rbp]
    EXPECT "FS override of RBP-based load #GP(0)", 13, 0
    TRY
    mov [resume_rsp], rsp
    mov rsp, NONCANON + 8
    push rax
    EXPECT "PUSH with non-canonical RSP #SS(0)", 12, 0
    mov rax, IST1_TOP - 40
    CHECK "#SS delivered on IST1", [last_frame], rax
    mov rax, NONCANON + 8
    CHECK "#SS frame holds the bad RSP", [last_rsp], rax

    ; Near branches check the target before changing RIP/RSP.
    mov rax, NONCANON
    TRY
.jmp:
    jmp rax
    EXPECT "JMP to non-canonical #GP(0)", 13, 0
    mov rax, .jmp
    CHECK "JMP fault RIP is the JMP", [last_rip], rax
    mov rbx, rsp
    mov rax, NONCANON
    TRY
    call rax
    EXPECT "CALL to non-canonical #GP(0)", 13, 0
    mov rax, rsp
    CHECK "faulting CALL leaves RSP", rax, rbx
    mov rax, NONCANON
    push rax
    TRY
    ret
    EXPECT "RET to non-canonical #GP(0)", 13, 0
    pop rax
    mov rax, rsp
    CHECK "faulting RET leaves RSP", rax, rbx
    mov rax, NONCANON
    mov [scratch], rax
    TRY
    jmp [scratch]
    EXPECT "JMP m64 to non-canonical #GP(0)", 13, 0

    ; Page faults and CR2.
    mov rbx, 0x8000000000
    TRY
    mov rax, [rbx]
    EXPECT "#PF not-present read", 14, 0
    CHECK "CR2 of the read", [last_cr2], rbx
    TRY
    mov [rbx], rax
    EXPECT "#PF not-present write", 14, 2
    mov rbx, 0xffff800000001000
    TRY
    mov rax, [rbx]
    EXPECT "#PF in the upper half", 14, 0
    CHECK "CR2 holds the full canonical address", [last_cr2], rbx
    mov rbx, 0x8000000000
    TRY
    call rbx
    EXPECT "#PF instruction fetch (I/D)", 14, 0x10
    CHECK "CR2 of the fetch", [last_cr2], rbx

    ; Other exceptions.
    xor ecx, ecx
    TRY
    div rcx
    EXPECT "#DE from DIV r64", 0, NOERR
    mov rax, 0x8000000000000000
    cqo
    mov rcx, -1
    TRY
    idiv rcx
    EXPECT "#DE from IDIV overflow", 0, NOERR
    TRY
    int3
.after_int3:
    EXPECT "#BP", 3, NOERR
    mov rax, .after_int3
    CHECK "#BP RIP is after INT3", [last_rip], rax
    TRY
    ud2
    EXPECT "UD2", 6, NOERR
    UD "PUSH ES #UD", 0x06
    UD "POP ES #UD", 0x07
    UD "PUSH CS #UD", 0x0e
    UD "PUSH SS #UD", 0x16
    UD "POP SS #UD", 0x17
    UD "PUSH DS #UD", 0x1e
    UD "POP DS #UD", 0x1f
    UD "DAA #UD", 0x27
    UD "DAS #UD", 0x2f
    UD "AAA #UD", 0x37
    UD "AAS #UD", 0x3f
    UD "PUSHA #UD", 0x60
    UD "POPA #UD", 0x61
    UD "BOUND #UD", 0x62, 0x00
    UD "82 /0 #UD", 0x82, 0xc0, 0x01
    UD "CALL far ptr #UD", 0x9a, 0, 0, 0, 0, 0x08, 0
    UD "LES #UD", 0xc4, 0x00
    UD "LDS #UD", 0xc5, 0x00
    UD "INTO #UD", 0xce
    UD "AAM #UD", 0xd4, 0x0a
    UD "AAD #UD", 0xd5, 0x0a
    UD "SALC #UD", 0xd6
    UD "JMP far ptr #UD", 0xea, 0, 0, 0, 0, 0x08, 0
    UD "LOCK on a register #UD", 0xf0, 0x48, 0x01, 0xc0
    UD "MOV from CR9 #UD", 0x44, 0x0f, 0x20, 0xc8

    ; The interrupt frame is aligned to 16 bytes.
    sub rsp, 8
    mov rbx, rsp
    TRY
    int3
    EXPECT "INT3 with RSP = 8 mod 16", 3, NOERR
    and rbx, ~15
    sub rbx, 40
    CHECK "frame aligned to 16 bytes", [last_frame], rbx
    add rsp, 8

    ; IDT gate checks.
    mov rdi, IDT64 + 0x40*16
    lea rax, [back_to_ring0]
    mov ecx, 0x0e00                     ; not present
    call set_gate64
    TRY
    int 0x40
    EXPECT "INT n through a not-present gate #NP", 11, 0x40*8 + 2
    mov rdi, IDT64 + 0x41*16
    lea rax, [back_to_ring0]
    mov ecx, 0x8600                     ; 16-bit interrupt gate
    call set_gate64
    TRY
    int 0x41
    EXPECT "16-bit gate in the long-mode IDT #GP", 13, 0x41*8 + 2
    mov rdi, IDT64 + 0x42*16
    lea rax, [back_to_ring0]
    mov ecx, 0x8500                     ; task gate
    call set_gate64
    TRY
    int 0x42
    EXPECT "task gate in the long-mode IDT #GP", 13, 0x42*8 + 2
    mov rdi, IDT64 + 0x43*16
    lea rax, [gate43]
    mov ecx, 0x8e00
    call set_gate64
    mov word [IDT64 + 0x43*16 + 2], SEL_CODE32
    TRY
    int 0x43
    EXPECT "gate to a 32-bit code segment #GP", 13, SEL_CODE32
    mov rdi, IDT64 + 0x44*16
    lea rax, [gate44]
    mov ecx, 0x8f00                     ; trap gate
    call set_gate64
    mov rbx, rsp
    int 0x44
    CHECK "trap gate runs the handler", rax, 0x44
    mov rax, rsp
    CHECK "IRETQ restores RSP", rax, rbx

    ; Ring 3.
    UTRY
    mov rax, [rel STACK0 - 8]
    UEXPECT "ring 3 reads a user page", NOEXC, 0
    UTRY
    hlt
    UEXPECT "HLT at CPL 3 #GP(0)", 13, 0
    mov rax, RSP0_TOP - 40
    CHECK "CPL 3 -> 0 exception on TSS.RSP0", [last_frame], rax
    mov rax, SEL_UCODE64
    CHECK "frame CS is the ring-3 selector", [last_cs], rax
    UTRY
    int 0x0d
    UEXPECT "INT 0Dh from CPL 3 (gate DPL 0) #GP", 13, 0x0d*8 + 2
    UTRY
    mov rax, cr0
    UEXPECT "MOV from CR0 at CPL 3 #GP(0)", 13, 0
    UTRY
    swapgs
    UEXPECT "SWAPGS at CPL 3 #GP(0)", 13, 0
    UTRY
    rdmsr
    UEXPECT "RDMSR at CPL 3 #GP(0)", 13, 0
    UTRY
    mov rbx, NONCANON
    mov rax, [rbx]
    UEXPECT "non-canonical load at CPL 3 #GP(0)", 13, 0
    DONE

gate43:
    iretq
gate44:
    mov eax, 0x44
    iretq
