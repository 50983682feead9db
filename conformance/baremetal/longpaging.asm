; model: x86-64-v2
; 4-level paging: 4 KiB, 2 MiB and 1 GiB pages, accessed and dirty bits,
; CR0.WP, user/supervisor, NX at the PTE and PDE levels, reserved bits
; (above MAXPHYADDR, in large-page frames, NX without EFER.NXE), #PF
; error codes (P, W/R, U/S, RSVD, I/D), INVLPG and CR3 reloads, code
; running at an upper-half canonical address.
%include "long.inc"

; PT2 maps linear 2-4 MiB; entry for linear address a is at PT2 + (a-2M)/512.
%define PTE(a) (PT2 + (((a) - 0x200000) >> 9))

main:
    ; 4 KiB pages: an alias.
    mov qword [0x200000], 0x1111
    mov qword [PTE(0x3ff000)], 0x200007
    invlpg [0x3ff000]
    mov rax, [0x3ff000]
    CHECK "4 KiB page alias", rax, 0x1111
    mov qword [PTE(0x3ff000)], 0x201007
    mov qword [0x201000], 0x2222
    invlpg [0x3ff000]
    mov rax, [0x3ff000]
    CHECK "INVLPG picks up the new mapping", rax, 0x2222
    mov qword [PTE(0x3ff000)], 0x200007
    mov rax, cr3
    mov cr3, rax
    mov rax, [0x3ff000]
    CHECK "CR3 reload flushes the TLB", rax, 0x1111

    ; Accessed and dirty bits.
    mov qword [PTE(0x201000)], 0x201007
    invlpg [0x201000]
    mov rax, [0x201000]
    mov rax, [PTE(0x201000)]
    and eax, 0x60
    CHECK "read sets A only", rax, 0x20
    mov [0x201000], rax
    mov rax, [PTE(0x201000)]
    and eax, 0x60
    CHECK "write sets D", rax, 0x60
    mov rax, [PT + 8*(STACK0 >> 12) - 8]
    and eax, 0x60
    CHECK "stack page is accessed and dirty", rax, 0x60
    mov rax, [PD + 8]
    and eax, 0x20
    CHECK "PDE accessed", rax, 0x20

    ; Not present.
    mov qword [PTE(0x202000)], 0x202006
    invlpg [0x202000]
    TRY
    mov rax, [0x202000]
    EXPECT "#PF read not present", 14, 0
    mov rax, 0x202000
    CHECK "CR2", [last_cr2], rax
    TRY
    mov [0x202008], rax
    EXPECT "#PF write not present", 14, 2

    ; Read-only page and CR0.WP.
    mov qword [PTE(0x203000)], 0x203005
    invlpg [0x203000]
    TRY
    mov [0x203000], rax
    EXPECT "supervisor write to read-only page with WP #PF", 14, 3
    mov rax, cr0
    btr rax, 16
    mov cr0, rax
    TRY
    mov qword [0x203000], 0x3333
    EXPECT "supervisor write to read-only page without WP", NOEXC, 0
    mov rax, cr0
    bts rax, 16
    mov cr0, rax
    mov rax, [0x203000]
    CHECK "the write went through", rax, 0x3333
    UTRY
    mov [0x203000], rax
    UEXPECT "user write to read-only page #PF", 14, 7

    ; Supervisor page.
    mov qword [PTE(0x204000)], 0x204003
    invlpg [0x204000]
    UTRY
    mov rax, [0x204000]
    UEXPECT "user read of supervisor page #PF", 14, 5
    mov rax, 0x204000
    CHECK "CR2 of the user fault", [last_cr2], rax
    UTRY
    mov [0x204000], rax
    UEXPECT "user write of supervisor page #PF", 14, 7
    mov qword [PD + 8], PT2 + 3         ; U clear at the PDE level
    mov rax, cr3
    mov cr3, rax
    UTRY
    mov rax, [0x3ff000]
    UEXPECT "U/S clear in the PDE #PF", 14, 5
    mov qword [PD + 8], PT2 + 7
    mov rax, cr3
    mov cr3, rax

    ; NX.
    mov byte [0x205000], 0xc3           ; ret
    mov rax, 0x8000000000205007
    mov [PTE(0x205000)], rax
    invlpg [0x205000]
    TRY
    mov al, [0x205000]
    EXPECT "NX page is readable", NOEXC, 0
    mov rbx, 0x205000
    TRY
    call rbx
    EXPECT "fetch from NX page #PF (I/D)", 14, 0x11
    CHECK "CR2 of the NX fault", [last_cr2], rbx
    UTRY
    mov rbx, 0x205000
    call rbx
    UEXPECT "user fetch from NX page #PF", 14, 0x15
    mov qword [PTE(0x205000)], 0x205007
    invlpg [0x205000]
    mov rbx, 0x205000
    TRY
    call rbx
    EXPECT "fetch after clearing NX", NOEXC, 0
    mov byte [0x600000], 0xc3
    mov rax, 0x8000000000600087
    mov [PD + 3*8], rax
    invlpg [0x600000]
    mov rbx, 0x600000
    TRY
    call rbx
    EXPECT "fetch from NX 2 MiB page #PF", 14, 0x11
    mov rax, 0x8000000000000000
    or [PML4 + 511*8], rax              ; NX in the PML4E of the upper half
    mov rax, cr3
    mov cr3, rax
    mov rbx, HIGH_BASE + high_code
    TRY
    call rbx
    EXPECT "NX in the PML4E applies below", 14, 0x11
    btr qword [PML4 + 511*8], 63
    mov rax, 0x8000000000000000
    or [PDPT + 8], rax                  ; NX on the 1 GiB page
    mov rax, cr3
    mov cr3, rax
    mov rbx, 0x40000000 + high_code
    TRY
    call rbx
    EXPECT "fetch from NX 1 GiB page #PF", 14, 0x11
    btr qword [PDPT + 8], 63
    mov qword [PD + 3*8], 0x600087
    mov rax, cr3
    mov cr3, rax

    ; Reserved bits.
    mov rax, 0x0000200000206007         ; bit 45: above MAXPHYADDR (40)
    mov [PTE(0x206000)], rax
    invlpg [0x206000]
    TRY
    mov rax, [0x206000]
    EXPECT "PTE bit 45 #PF RSVD", 14, 9
    TRY
    mov [0x206000], rax
    EXPECT "PTE bit 45 write #PF RSVD", 14, 0xb
    mov rbx, 0x206000
    TRY
    call rbx
    EXPECT "PTE bit 45 fetch #PF RSVD I/D", 14, 0x19
    UTRY
    mov rax, [0x206000]
    UEXPECT "PTE bit 45 user read #PF RSVD", 14, 0xd
    mov qword [PTE(0x206000)], 0x206007
    mov qword [PD + 4*8], 0x802087      ; 2 MiB page with bit 13 set
    invlpg [0x800000]
    TRY
    mov rax, [0x800000]
    EXPECT "2 MiB PDE bit 13 #PF RSVD", 14, 9
    mov qword [PD + 4*8], 0x800087
    invlpg [0x800000]
    mov qword [PDPT + 8], 0x2087        ; 1 GiB page with bit 13 set
    mov rax, cr3
    mov cr3, rax
    mov rbx, 0x40000000
    TRY
    mov rax, [rbx]
    EXPECT "1 GiB PDPTE bit 13 #PF RSVD", 14, 9
    mov qword [PDPT + 8], 0x87
    mov qword [PML4 + 8], PDPT + 0x87   ; PS in a PML4E is reserved
    mov rax, cr3
    mov cr3, rax
    mov rbx, 0x8000000000
    TRY
    mov rax, [rbx]
    EXPECT "PML4E PS #PF RSVD", 14, 9
    mov qword [PML4 + 8], 0
    mov rax, 0x8000000000207007
    mov [PTE(0x207000)], rax
    mov ecx, 0xc0000080
    rdmsr
    btr eax, 11                         ; NXE off: bit 63 is reserved
    wrmsr
    TRY
    mov rax, [0x207000]
    EXPECT "NX bit without EFER.NXE #PF RSVD", 14, 9
    mov ecx, 0xc0000080
    rdmsr
    bts eax, 11
    wrmsr
    TRY
    mov rax, [0x207000]
    EXPECT "NX bit with EFER.NXE is fine", NOEXC, 0

    ; 2 MiB pages.
    mov qword [PD + 511*8], 0x1000087   ; linear 0x3fe00000 -> 16 MiB
    mov rax, cr3
    mov cr3, rax
    mov qword [0x1000010], 0x4444
    mov rax, [0x3fe00010]
    CHECK "2 MiB page alias", rax, 0x4444
    mov rax, [PD + 511*8]
    and eax, 0x60
    CHECK "2 MiB page accessed, not dirty", rax, 0x20
    mov qword [0x3fe00018], 1
    mov rax, [PD + 511*8]
    and eax, 0x60
    CHECK "2 MiB page dirty after write", rax, 0x60
    mov qword [0x11ffff8], 0x5555
    mov rax, [0x3ffffff8]
    CHECK "2 MiB page last qword", rax, 0x5555

    ; 1 GiB pages.
    mov rbx, 0x40000000 + qval
    mov rax, [rbx]
    CHECK "1 GiB page at 1 GiB", rax, [qval]
    mov rbx, HIGH_BASE + qval
    mov rax, [rbx]
    CHECK "1 GiB page in the upper half", rax, [qval]
    mov rax, [PDPT_HI + 510*8]
    and eax, 0x20
    CHECK "1 GiB PDPTE accessed", rax, 0x20
    mov rbx, HIGH_BASE + high_code
    call rbx
    mov rbx, HIGH_BASE + high_code.here
    CHECK "code runs at an upper-half RIP", rax, rbx
    mov rbx, 0xffffff8000000000
    TRY
    mov rax, [rbx]
    EXPECT "#PF at the bottom of PML4[511]", 14, 0
    CHECK "CR2 upper-half address", [last_cr2], rbx

    ; Code follows its page's mapping, however often it ran (the JIT
    ; translates and links it): linear 0x3fd000 maps physical 0x208000
    ; ("mov eax, 1; ret"), then 0x209000 ("mov eax, 2; ret").
    mov rax, 0xc300000001b8
    mov [0x208000], rax
    mov rax, 0xc300000002b8
    mov [0x209000], rax
    mov qword [PTE(0x3fd000)], 0x208007
    invlpg [0x3fd000]
    call remap_calls
    CHECK "code at its first mapping", rax, 0x101
    mov qword [PTE(0x3fd000)], 0x209007
    invlpg [0x3fd000]
    call remap_calls
    CHECK "INVLPG remaps hot code", rax, 0x202
    invlpg [0x3fc000]
    call remap_calls
    CHECK "INVLPG of another page keeps it", rax, 0x202
    mov qword [PTE(0x3fd000)], 0x208007
    mov rax, cr3
    mov cr3, rax
    call remap_calls
    CHECK "CR3 reload remaps hot code", rax, 0x101
    ; In a 2 MiB page (linear 0x3fe00000): an INVLPG of another 4 KiB
    ; page inside it drops the whole large translation.
    mov rax, 0xc300000003b8
    mov [0x1000100], rax
    mov rax, 0xc300000004b8
    mov [0x1200100], rax
    mov rbx, 0x3fe00100
    call remap_loop
    CHECK "code in a 2 MiB page", rax, 3
    mov qword [PD + 511*8], 0x1200087
    invlpg [0x3fe01000]
    mov rbx, 0x3fe00100
    call remap_loop
    CHECK "INVLPG inside a 2 MiB page remaps its code", rax, 4
    mov qword [PD + 511*8], 0x1000087
    invlpg [0x3fe00000]
    DONE

; remap_calls calls the code at 0x3fd000 through a register and directly,
; 50 times each, and returns the two results in AH and AL.
remap_calls:
    mov rbx, 0x3fd000
    call remap_loop
    push rax
    mov ecx, 50
.direct:
    push rcx
    call 0x3fd000
    pop rcx
    dec ecx
    jnz .direct
    pop rbx
    shl ebx, 8
    or eax, ebx
    ret

; remap_loop calls RBX 50 times and returns its last result.
remap_loop:
    mov ecx, 50
.loop:
    push rcx
    call rbx
    pop rcx
    dec ecx
    jnz .loop
    ret

high_code:
    lea rax, [rel .here]
.here:
    ret

    align 8
qval: dq 0x0102030405060708
