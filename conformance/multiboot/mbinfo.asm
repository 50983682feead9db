; The multiboot information: entry state, flags, memory sizes, the memory
; map, modules and the command line. Checks what the kernel can check by
; itself; prints "info ..." lines (also on COM1) that the Go test compares
; with the machine's configuration.
%include "lib.inc"

%macro NL 0
    mov al, 10
    call putc
%endmacro

main:
    mov dword [echo_serial], 1
    CHECK "entry: EAX holds the multiboot boot magic", [boot_eax], MB_BOOT
    mov eax, [boot_cr0]
    and eax, 0x80000001
    CHECK "entry: CR0.PE set, CR0.PG clear", eax, 1
    mov eax, [boot_eflags]
    and eax, 0x20200
    CHECK "entry: EFLAGS.IF and EFLAGS.VM clear", eax, 0
    mov ebx, [boot_ebx]
    CHECK_RANGE "entry: EBX (the MBI) below 1 MiB", ebx, 0x500, 0x9F000

    PRINT "info flags="
    mov eax, [ebx]
    call puthex
    NL
    mov eax, [ebx]
    and eax, 0x245
    CHECK "flags: mem, cmdline, mmap and boot loader name", eax, 0x245
    mov eax, [ebx]
    and eax, 0x30
    CHECK_RANGE "flags: not both a.out and ELF symbols", eax, 0, 0x20
    CHECK "mem_lower is 640 KiB", [ebx+4], 640
    PRINT "info mem_upper="
    mov eax, [ebx+8]
    call putdec
    NL
    PRINT "info cmdline="
    mov esi, [ebx+16]
    call puts
    NL
    PRINT "info loader="
    mov esi, [ebx+64]
    call puts
    NL

    ; The memory map: entries of [size] bytes after the size field.
    mov esi, [ebx+48]
    mov ecx, [ebx+44]
    add ecx, esi
    xor edx, edx
.mm:
    cmp esi, ecx
    jae .mmdone
    CHECK "mmap: entry size is 20", [esi], 20
    PRINT "info mmap "
    mov eax, [esi+8]
    call puthex
    mov eax, [esi+4]
    call puthex
    mov al, ' '
    call putc
    mov eax, [esi+16]
    call puthex
    mov eax, [esi+12]
    call puthex
    mov al, ' '
    call putc
    mov eax, [esi+20]
    call putdec
    NL
    cmp dword [esi+4], 0x100000
    jne .next
    cmp dword [esi+8], 0
    jne .next
    cmp dword [esi+20], 1
    jne .next
    mov eax, [esi+12]
    shr eax, 10
    mov [upper_from_mmap], eax
.next:
    inc edx
    mov eax, [esi]
    lea esi, [esi+eax+4]
    jmp .mm
.mmdone:
    CHECK_RANGE "mmap: at least the low RAM, the BIOS area and high RAM", edx, 3, 32
    CHECK "mmap: the RAM entry at 1 MiB agrees with mem_upper", [upper_from_mmap], [ebx+8]

    ; Modules.
    xor ecx, ecx
    test dword [ebx], 8
    jz .modsdone
    mov ecx, [ebx+20]
.modsdone:
    PRINT "info mods="
    mov eax, ecx
    call putdec
    NL
    test ecx, ecx
    jz .nomods
    mov esi, [ebx+24]
    mov dword [prev_end], image_end
.mod:
    mov eax, [esi]
    and eax, 0xFFF
    CHECK "module: start is page aligned", eax, 0
    mov eax, [esi]
    CHECK_RANGE "module: start after the kernel and the previous module", eax, [prev_end], 0xFFFFFFFF
    CHECK_RANGE "module: end not before start", [esi+4], [esi], 0xFFFFFFFF
    mov eax, [esi+4]
    mov [prev_end], eax
    PRINT "info mod "
    mov eax, [esi+4]
    sub eax, [esi]
    call putdec
    mov al, ' '
    call putc
    push esi
    mov esi, [esi+8]
    call puts
    pop esi
    NL
    ; The contents, up to 64 bytes, non-printable bytes as '.'.
    PRINT "info data "
    push ecx
    push esi
    mov edi, [esi+4]
    mov esi, [esi]
    mov ecx, 64
.byte:
    cmp esi, edi
    jae .bytes_done
    mov al, [esi]
    cmp al, 0x20
    jb .dot
    cmp al, 0x7E
    jbe .put
.dot:
    mov al, '.'
.put:
    call putc
    inc esi
    loop .byte
.bytes_done:
    pop esi
    pop ecx
    NL
    add esi, 16
    dec ecx
    jnz .mod
.nomods:
    DONE

    align 4
upper_from_mmap: dd 0xFFFFFFFF
prev_end:        dd 0
image_end:
