; Segment loads and their checks, limits, expand-down segments, accessed
; bits, LAR, LSL, VERR, VERW, ARPL, LLDT/LTR, SGDT.
%include "lib.inc"

main:
    SETDESC 0x40, 0x80000, 0xff, 0x4092        ; small data, DPL 0
    SETDESC 0x48, 0x80000, 0xfff, 0x4090       ; read-only data
    SETDESC 0x50, 0x80000, 0xff, 0x0096        ; expand-down, 16-bit, limit FF
    SETDESC 0x58, 0, 0xfffff, 0xc098           ; execute-only code
    SETDESC 0x60, 0, 0xfffff, 0xc012           ; data, not present
    SETDESC 0x68, 0, 0xfffff, 0xc0d2           ; data, DPL 2
    SETDESC 0x70, 0x50000, 0x17, 0x0082        ; LDT
    SETDESC 0x78, 0, 0xfffff, 0xc09a           ; readable code

    TRY
    mov ax, 0x58
    mov ds, ax
    EXPECT "#GP DS <- execute-only code", 13, 0x58
    TRY
    mov ax, 0x28
    mov ds, ax
    EXPECT "#GP DS <- TSS descriptor", 13, 0x28
    TRY
    mov ax, 0x60
    mov ds, ax
    EXPECT "#NP DS <- not-present data", 11, 0x60
    TRY
    mov ax, 0x48
    mov ss, ax
    EXPECT "#GP SS <- read-only data", 13, 0x48
    TRY
    mov ax, SEL_DATA3
    mov ss, ax
    EXPECT "#GP SS <- DPL-3 data at CPL 0", 13, 0x20
    TRY
    xor eax, eax
    mov ss, ax
    EXPECT "#GP SS <- null", 13, 0
    TRY
    mov ax, 0x0c
    mov ds, ax
    EXPECT "#GP LDT selector with a null LDTR", 13, 0x0c
    mov ax, SEL_DATA0
    mov ds, ax
    TRY
    mov ax, 0x7b
    mov es, ax
    EXPECT "ES <- readable code, RPL 3 (DPL 0 code: #GP)", 13, 0x78
    TRY
    mov ax, 0x78
    mov es, ax
    EXPECT "ES <- readable code", NOEXC, NOERR
    mov ax, SEL_DATA0
    mov es, ax

    and byte [gdt+0x40+5], ~1
    mov ax, 0x40
    mov fs, ax
    movzx eax, byte [gdt+0x40+5]
    CHECK "segment load sets the accessed bit", eax, 0x93
    TRY
    mov eax, [fs:0xfc]
    EXPECT "read at the limit", NOEXC, NOERR
    TRY
    mov eax, [fs:0xfd]
    EXPECT "#GP read crossing the limit", 13, 0
    mov ax, 0x48
    mov fs, ax
    TRY
    mov byte [fs:0], 1
    EXPECT "#GP write to read-only data", 13, 0
    mov ax, 0x50
    mov fs, ax
    TRY
    mov eax, [fs:0x80]
    EXPECT "#GP expand-down: offset within the limit", 13, 0
    TRY
    mov al, [fs:0x100]
    mov al, [fs:0xffff]
    EXPECT "expand-down: offsets above the limit", NOEXC, NOERR
    TRY
    mov al, [fs:0x10000]
    EXPECT "#GP expand-down 16-bit: beyond FFFF", 13, 0
    mov ax, SEL_DATA0
    mov fs, ax

    ; LAR / LSL / VERR / VERW
    mov ebx, 0
    mov eax, 0x40
    lar ebx, eax
    CHECK "LAR data segment", ebx, 0x00409300
    mov eax, 0x40
    lsl ebx, eax
    CHECK "LSL data segment", ebx, 0xff
    mov eax, SEL_CODE0
    lsl ebx, eax
    CHECK "LSL 4 GiB code segment", ebx, 0xffffffff
    mov ebx, 0x55
    mov eax, 0x1f8
    lar ebx, eax
    setz al
    movzx eax, al
    CHECK "LAR beyond the GDT: ZF=0", eax, 0
    mov eax, 0x70
    lsl ebx, eax
    CHECK "LSL of an LDT descriptor", ebx, 0x17
    SETGATE gdt+0x80, 0, SEL_CODE0, 0x8c, 0
    mov eax, 0x80
    lsl ebx, eax
    setz al
    movzx eax, al
    CHECK "LSL of a call gate: ZF=0", eax, 0
    mov eax, 0x80
    lar ebx, eax
    setz al
    movzx eax, al
    CHECK "LAR of a call gate: ZF=1", eax, 1
    mov eax, 0x58
    verr ax
    setz al
    movzx eax, al
    CHECK "VERR execute-only code: ZF=0", eax, 0
    mov eax, 0x78
    verr ax
    setz al
    movzx eax, al
    CHECK "VERR readable code: ZF=1", eax, 1
    mov eax, 0x48
    verw ax
    setz al
    movzx eax, al
    CHECK "VERW read-only data: ZF=0", eax, 0
    mov eax, 0x60
    verw ax
    setz al
    movzx eax, al
    CHECK "VERW not-present writable data: ZF=1", eax, 1

    ; ARPL
    mov ax, 0x10
    mov bx, 0x23
    arpl ax, bx
    setz cl
    movzx ecx, cl
    movzx eax, ax
    CHECK "ARPL raises RPL", eax, 0x13
    CHECK "ARPL ZF", ecx, 1

    ; LLDT and an LDT selector.
    mov dword [0x50000], 0
    mov dword [0x50004], 0
    mov dword [0x50008], 0x0000ffff
    mov dword [0x5000c], 0x00cf9200
    mov ax, 0x70
    lldt ax
    mov ax, 0x0c
    mov ds, ax
    mov ax, SEL_DATA0
    mov ds, ax
    CHECK "DS <- LDT data selector", 1, 1
    sldt ax
    movzx eax, ax
    CHECK "SLDT", eax, 0x70
    TRY
    mov ax, 0x14
    mov ds, ax
    EXPECT "#GP LDT selector beyond the LDT limit", 13, 0x14
    mov ax, SEL_DATA0
    mov ds, ax
    TRY
    mov ax, 0x40
    lldt ax
    EXPECT "#GP LLDT of a data descriptor", 13, 0x40
    TRY
    mov ax, SEL_TSS0
    ltr ax
    EXPECT "#GP LTR of a busy TSS", 13, SEL_TSS0

    sgdt [scratch]
    movzx eax, word [scratch]
    CHECK "SGDT limit", eax, gdt_end - gdt - 1
    CHECK "SGDT base", dword [scratch+2], gdt

    RING3 .r3
.r3:
    TRY
    mov ax, 0x68
    mov ds, ax
    EXPECT "#GP DS <- DPL-2 data at CPL 3", 13, 0x68
    TRY
    lgdt [scratch]
    EXPECT "#GP LGDT at CPL 3", 13, 0
    mov eax, 0x40
    lar ebx, eax
    setz al
    movzx eax, al
    CHECK "LAR DPL-0 data at CPL 3: ZF=0", eax, 0
    RING0 .r0
.r0:
    DONE
