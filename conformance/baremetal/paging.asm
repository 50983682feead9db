; Paging: 4 KiB and 4 MiB pages, accessed/dirty bits, CR0.WP, user/
; supervisor, INVLPG, CR3 reload vs global pages, PAE with NX.
%include "lib.inc"

PD  equ 0x100000
PT  equ 0x101000

main:
    ; Identity map 0-4 MiB with 4 KiB user pages; PDE 2 is a 4 MiB page
    ; at linear 8 MiB mapping physical 4 MiB.
    mov edi, PD
    mov ecx, 2048
    xor eax, eax
    rep stosd
    mov edi, PT
    mov eax, 0x7
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    loop .pt
    mov dword [PD], PT | 7
    mov dword [PD+8], 0x400000 | 0x87       ; PS, U, W, P
    mov dword [PT+0x3ff*4], 0x200000 | 7    ; 3FF000 -> 200000
    mov dword [PT+0x3fe*4], 0x201000 | 5    ; 3FE000 -> 201000 read-only
    mov dword [PT+0x3fd*4], 0x202000 | 3    ; 3FD000 supervisor only
    mov dword [0x400100], 0xcafe4444
    mov dword [0x200000], 0xaaaa0000
    mov dword [0x201000], 0xaaaa1000
    mov dword [0x203000], 0xaaaa3000
    mov eax, cr4
    or eax, 0x10                            ; PSE
    mov cr4, eax
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    mov eax, [0x800100]
    CHECK "4 MiB page read", eax, 0xcafe4444
    mov eax, [PD+8]
    and eax, 0x60
    CHECK "4 MiB page: A set, D clear after a read", eax, 0x20
    mov dword [0x800104], 1
    mov eax, [PD+8]
    and eax, 0x60
    CHECK "4 MiB page: D set after a write", eax, 0x60
    mov eax, [0x3ff000]
    CHECK "4 KiB page read", eax, 0xaaaa0000
    mov eax, [PT+0x3ff*4]
    and eax, 0x60
    CHECK "4 KiB page: A set, D clear", eax, 0x20
    mov eax, [PD]
    and eax, 0x20
    CHECK "PDE A set by the walk", eax, 0x20
    mov dword [0x3ff004], 1
    mov eax, [PT+0x3ff*4]
    and eax, 0x60
    CHECK "4 KiB page: D set after a write", eax, 0x60

    TRY
    mov dword [0x3fe000], 1
    EXPECT "supervisor write to read-only page, WP=0", NOEXC, NOERR
    mov eax, cr0
    or eax, 1 << 16
    mov cr0, eax
    TRY
    mov dword [0x3fe000], 2
    EXPECT "#PF supervisor write to read-only page, WP=1", 14, 3
    mov eax, cr2
    CHECK "#PF CR2 (WP)", eax, 0x3fe000

    ; INVLPG: remap 3FF000 to 203000.
    mov dword [PT+0x3ff*4], 0x203000 | 7
    invlpg [0x3ff000]
    mov eax, [0x3ff000]
    CHECK "INVLPG: new mapping seen", eax, 0xaaaa3000

    ; Global page survives a CR3 reload; a PGE toggle flushes it.
    mov eax, cr4
    or eax, 0x80                            ; PGE
    mov cr4, eax
    mov dword [PT+0x3ff*4], 0x200000 | 0x107   ; global
    invlpg [0x3ff000]
    mov eax, [0x3ff000]
    CHECK "global page mapped", eax, 0xaaaa0000
    mov dword [PT+0x3ff*4], 0x203000 | 0x107
    mov eax, cr3
    mov cr3, eax
    mov eax, [0x3ff000]
    CHECK "CR3 reload keeps the global TLB entry", eax, 0xaaaa0000
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    mov eax, [0x3ff000]
    CHECK "clearing CR4.PGE flushes global entries", eax, 0xaaaa3000

    RING3 .r3
.r3:
    TRY
    mov eax, [0x3fd000]
    EXPECT "#PF user read of a supervisor page", 14, 5
    TRY
    mov dword [0x3fe000], 1
    EXPECT "#PF user write to a read-only page", 14, 7
    RING0 .r0
.r0:
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax

    ; PAE: PDPT at 110000, PD at 111000, PT at 112000 (first 2 MiB),
    ; PDE 1 a 2 MiB NX page identity-mapping 2-4 MiB.
PDPT equ 0x110000
PAEPD equ 0x111000
PAEPT equ 0x112000
    mov edi, PDPT
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov dword [PDPT], PAEPD | 1
    mov dword [PAEPD], PAEPT | 7
    mov dword [PAEPD+8], 0x200000 | 0x87
    mov dword [PAEPD+12], 0x80000000        ; NX
    mov edi, PAEPT
    mov eax, 7
    mov ecx, 512
.pae:
    mov [edi], eax
    mov dword [edi+4], 0
    add edi, 8
    add eax, 0x1000
    loop .pae
    mov byte [0x200000], 0xc3               ; RET
    mov ecx, 0xc0000080
    rdmsr
    or eax, 1 << 11                         ; NXE
    wrmsr
    mov eax, cr4
    or eax, 0x20                            ; PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    movzx eax, byte [0x200000]
    CHECK "PAE: read from an NX page", eax, 0xc3
    TRY
    call 0x200000
    EXPECT "#PF PAE fetch from an NX page", 14, 0x11
    mov eax, cr2
    CHECK "#PF CR2 (NX)", eax, 0x200000
    mov dword [PAEPD+12], 0
    invlpg [0x200000]
    TRY
    call 0x200000
    EXPECT "PAE: fetch after clearing NX", NOEXC, NOERR
    mov dword [PDPT+4], 0x00000000
    mov dword [PDPT+8], 0x1e6               ; reserved bits, not present
    mov eax, PDPT
    mov cr3, eax
    mov dword [PDPT+8], 0x1e7               ; reserved bits, present
    TRY
    mov eax, PDPT
    mov cr3, eax
    EXPECT "#GP CR3 load with a reserved PDPTE bit", 13, 0
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    DONE
