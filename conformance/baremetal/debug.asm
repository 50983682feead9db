; Debug registers: instruction breakpoints (fault), data breakpoints
; (trap after the access), general detect, DR4/DR5 aliasing.
%include "lib.inc"

main:
    ; Execute breakpoint on bp_here.
    mov eax, bp_here
    mov dr0, eax
    mov eax, 0x1                ; L0, R/W0 = 00, LEN0 = 00
    mov dr7, eax
    TRY
    nop
bp_here:
    nop
    EXPECT "instruction breakpoint: #DB", 1, NOERR
    CHECK "instruction breakpoint: fault at the instruction", dword [last_eip], bp_here
    mov eax, dr6
    and eax, 0xf
    CHECK "instruction breakpoint: DR6.B0", eax, 1
    xor eax, eax
    mov dr7, eax
    mov dr6, eax

    ; Write breakpoint on a dword.
    mov eax, watched
    mov dr1, eax
    mov eax, (1 << 2) | (1 << 20) | (3 << 22)   ; L1, write, 4 bytes
    mov dr7, eax
    TRY
    mov eax, [watched]
    EXPECT "write breakpoint: no #DB on a read", NOEXC, NOERR
    TRY
    mov dword [watched], 5
db_after:
    nop
    EXPECT "write breakpoint: #DB", 1, NOERR
    CHECK "write breakpoint: trap after the instruction", dword [last_eip], db_after
    CHECK "write breakpoint: the write happened", dword [watched], 5
    mov eax, dr6
    and eax, 0xf
    CHECK "write breakpoint: DR6.B1", eax, 2
    TRY
    mov byte [watched+3], 1
    EXPECT "write breakpoint: byte inside the range", 1, NOERR
    TRY
    mov byte [watched+4], 1
    EXPECT "write breakpoint: byte past the range", NOEXC, NOERR
    xor eax, eax
    mov dr7, eax

    ; DR4/DR5 alias DR6/DR7 without CR4.DE.
    mov eax, dr6
    mov ebx, dr4
    CHECK "DR4 aliases DR6", ebx, eax
    mov eax, cr4
    or eax, 8
    mov cr4, eax
    TRY
    mov eax, dr4
    EXPECT "#UD DR4 with CR4.DE", 6, NOERR
    mov eax, cr4
    and eax, ~8
    mov cr4, eax

    ; General detect.
    mov eax, 1 << 13
    mov dr7, eax
    TRY
    mov eax, dr0
    EXPECT "general detect: #DB", 1, NOERR
    mov eax, dr6
    and eax, 1 << 13
    CHECK "general detect: DR6.BD", eax, 1 << 13
    mov eax, dr7
    and eax, 1 << 13
    CHECK "general detect: GD cleared", eax, 0

    RING3 .r3
.r3:
    TRY
    mov eax, dr7
    EXPECT "#GP MOV DR at CPL 3", 13, 0
    RING0 .r0
.r0:
    DONE

    align 4
watched: dd 0, 0
