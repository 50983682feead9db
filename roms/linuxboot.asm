; Fuji's Linux loader option ROM.
;
; The machine hands it to SeaBIOS as the fw_cfg file
; "genroms/linuxboot_dma.bin" (with "bootorder" naming it first), for a
; Linux kernel booted through firmware (fuji run -kernel K -boot firmware).
; SeaBIOS deploys every genroms/ file as an option ROM below 1 MiB, calls
; its init vector, and lists the PnP header's Boot Entry Vector as a boot
; device. When SeaBIOS boots that entry, the code below reads the kernel
; the machine put in fw_cfg:
;
;   FW_CFG_SETUP_ADDR/SIZE/DATA    the real-mode setup sectors (boot sector
;                                  and setup header included, patched by the
;                                  machine as a boot loader would)
;   FW_CFG_INITRD_ADDR/SIZE/DATA   the initrd
;   FW_CFG_KERNEL_ADDR/SIZE/DATA   the protected-mode kernel
;   FW_CFG_CMDLINE_ADDR/SIZE/DATA  the command line, NUL included
;
; and copies each blob to the address its ADDR item gives: with fw_cfg DMA
; when the device offers it (FW_CFG_ID bit 1), else through the data port
; with a rep insb in "unreal" mode (ES with a 4 GiB limit) so that it
; reaches above 1 MiB. It then enters the kernel's real-mode setup as the
; boot protocol (Documentation/arch/x86/boot.rst) prescribes: DS = ES = FS
; = GS = SS = the setup segment, SP at the top of the setup heap/stack just
; below the command line, CS = setup segment + 0x20, IP = 0, interrupts off.
;
; The initrd: the machine places it below the kernel's initrd_addr_max and
; below the top of RAM minus room for the firmware's tables. SeaBIOS keeps
; more than that at the top of RAM, so when the initrd was placed against
; the top of RAM (its end is not in initrd_addr_max's page) the loader
; moves it below the top of memory the BIOS reports (INT 15h AX=E801h) and
; patches ramdisk_image in the setup header.
;
; On a failure (a DMA error) the loader prints a line through INT 10h and
; returns to the BIOS, which tries the next boot device.
;
; Build: go generate ./roms (nasm, then roms.SignOptionROM sets the
; checksum byte); roms/linuxboot_test.go checks the committed image is
; exactly that.

        bits 16
        cpu 486
        org 0

FW_CFG_ID               equ 0x01
FW_CFG_KERNEL_ADDR      equ 0x07
FW_CFG_KERNEL_SIZE      equ 0x08
FW_CFG_INITRD_ADDR      equ 0x0a
FW_CFG_INITRD_SIZE      equ 0x0b
FW_CFG_KERNEL_DATA      equ 0x11
FW_CFG_INITRD_DATA      equ 0x12
FW_CFG_CMDLINE_ADDR     equ 0x13
FW_CFG_CMDLINE_SIZE     equ 0x14
FW_CFG_CMDLINE_DATA     equ 0x15
FW_CFG_SETUP_ADDR       equ 0x16
FW_CFG_SETUP_SIZE       equ 0x17
FW_CFG_SETUP_DATA       equ 0x18

PORT_SEL                equ 0x510
PORT_DATA               equ 0x511
PORT_DMA_HI             equ 0x514
PORT_DMA_LO             equ 0x518

DMA_ERROR               equ 0x01
DMA_READ                equ 0x02
DMA_SELECT              equ 0x08

; Setup header fields (offsets in the setup sectors).
HDR_VERSION             equ 0x206
HDR_RAMDISK_IMAGE       equ 0x218
HDR_INITRD_ADDR_MAX     equ 0x22c

; The BEV's frame on the BIOS's stack, below BP.
F_DMA                   equ 16  ; [bp-16] FWCfgDmaAccess (16 bytes, big-endian)
F_GDTR                  equ 24  ; [bp-24] pseudo-descriptor for LGDT (6 bytes)
F_FLAGS                 equ 26  ; [bp-26] bit 0: use DMA
F_SETUP                 equ 32  ; [bp-32] setup address
F_CMDLINE               equ 36  ; [bp-36] command line address
FRAME                   equ 36

rom_start:
        dw 0xaa55
        db ROM_BLOCKS           ; size in 512-byte blocks
init:                           ; offset 3: the init vector; nothing to set up
        retf

        times 0x18-($-$$) db 0
        dw 0                    ; 0x18: no PCI data structure
        dw pnp - rom_start      ; 0x1a: the PnP expansion header

        align 16, db 0
pnp:    db "$PnP"
        db 1                    ; structure revision
        db PNP_LEN / 16         ; length in 16-byte units
        dw 0                    ; next header: none
        db 0                    ; reserved
        db PNP_SUM              ; checksum: the header sums to zero
        dd 0                    ; device identifier
        dw manufacturer - rom_start
        dw product - rom_start
        db 0, 0, 0              ; device type code
        db 0                    ; device indicators
        dw 0                    ; boot connection vector
        dw 0                    ; disconnect vector
        dw bev - rom_start      ; boot entry vector
        dw 0                    ; reserved
        dw 0                    ; static resource information vector
PNP_LEN equ $ - pnp

%define lo8(x) ((x) & 0xff)
%define hi8(x) (((x) >> 8) & 0xff)
PNP_BYTES equ '$' + 'P' + 'n' + 'P' + 1 + PNP_LEN / 16 \
        + lo8(manufacturer - rom_start) + hi8(manufacturer - rom_start) \
        + lo8(product - rom_start) + hi8(product - rom_start) \
        + lo8(bev - rom_start) + hi8(bev - rom_start)
PNP_SUM equ (0x100 - (PNP_BYTES & 0xff)) & 0xff

manufacturer:   db "Fuji", 0
product:        db "Linux loader", 0

; A GDT for unreal mode: selector 8 is a flat 4 GiB read/write data
; segment (accessed bit preset: the GDT lives in ROM).
        align 8, db 0
gdt:    dq 0
        dq 0x008f93000000ffff
GDT_LIMIT equ $ - gdt - 1

; The boot entry vector, far-called by the BIOS's boot code.
bev:
        cli
        cld
        pushad
        push ds
        push es
        push fs
        push gs
        mov bp, sp
        sub sp, FRAME
        mov ax, cs
        mov ds, ax
        mov byte [ss:bp-F_FLAGS], 0

        ; DMA if FW_CFG_ID has bit 1 and the DMA port answers "QEMU CFG".
        mov ax, FW_CFG_ID
        call cfg_read32
        test al, 2
        jz .nodma
        mov dx, PORT_DMA_HI
        in eax, dx
        cmp eax, 'QEMU'
        jne .nodma
        mov dx, PORT_DMA_LO
        in eax, dx
        cmp eax, ' CFG'
        jne .nodma
        or byte [ss:bp-F_FLAGS], 1
.nodma:
        ; Every blob may land above 1 MiB.
        in al, 0x92
        or al, 2
        and al, 0xfe
        out 0x92, al

        ; The setup sectors.
        mov ax, FW_CFG_SETUP_ADDR
        call cfg_read32
        mov [ss:bp-F_SETUP], eax
        mov edi, eax
        mov ax, FW_CFG_SETUP_SIZE
        call cfg_read32
        mov ecx, eax
        mov ax, FW_CFG_SETUP_DATA
        call cfg_blob
        jc .fail

        ; ES addresses the setup header (it lies below 1 MiB).
        mov eax, [ss:bp-F_SETUP]
        shr eax, 4
        mov es, ax
        cmp word [es:HDR_VERSION], 0x203
        jae .havemax
        ; No initrd_addr_max before protocol 2.03: the documented default.
        mov dword [es:HDR_INITRD_ADDR_MAX], 0x37ffffff
.havemax:

        ; The initrd.
        mov ax, FW_CFG_INITRD_ADDR
        call cfg_read32
        mov edi, eax
        mov ax, FW_CFG_INITRD_SIZE
        call cfg_read32
        mov ecx, eax
        lea eax, [edi+ecx]
        and eax, ~0xfff
        jz .initrd_load                 ; no initrd
        mov ebx, [es:HDR_INITRD_ADDR_MAX]
        and ebx, ~0xfff
        jz .initrd_load
        cmp eax, ebx
        je .initrd_load                 ; placed against initrd_addr_max
        ; Placed against the top of RAM: move it below the BIOS's top.
        call e801_top
        sub eax, ecx
        and eax, ~0xfff
        mov edi, eax
        mov [es:HDR_RAMDISK_IMAGE], eax
.initrd_load:
        mov ax, FW_CFG_INITRD_DATA
        call cfg_blob
        jc .fail

        ; The protected-mode kernel.
        mov ax, FW_CFG_KERNEL_ADDR
        call cfg_read32
        mov edi, eax
        mov ax, FW_CFG_KERNEL_SIZE
        call cfg_read32
        mov ecx, eax
        mov ax, FW_CFG_KERNEL_DATA
        call cfg_blob
        jc .fail

        ; The command line.
        mov ax, FW_CFG_CMDLINE_ADDR
        call cfg_read32
        mov [ss:bp-F_CMDLINE], eax
        mov edi, eax
        mov ax, FW_CFG_CMDLINE_SIZE
        call cfg_read32
        mov ecx, eax
        mov ax, FW_CFG_CMDLINE_DATA
        call cfg_blob
        jc .fail

        ; Enter the setup code: its stack ends 16 bytes below the command
        ; line (at the top of the heap the machine gave in heap_end_ptr).
        mov ebx, [ss:bp-F_CMDLINE]
        mov eax, [ss:bp-F_SETUP]
        sub ebx, eax
        sub ebx, 16
        shr eax, 4
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, ebx
        add ax, 0x20
        push ax                         ; CS
        push word 0                     ; IP
        xor eax, eax
        xor ebx, ebx
        xor ecx, ecx
        xor edx, edx
        xor esi, esi
        xor edi, edi
        xor ebp, ebp
        retf

.fail:
        mov si, msg_fail
        call print
        mov sp, bp
        pop gs
        pop fs
        pop es
        pop ds
        popad
        sti
        retf

; cfg_read32: EAX = the first four bytes of item AX (data port).
cfg_read32:
        push dx
        push cx
        mov dx, PORT_SEL
        out dx, ax
        inc dx
        mov cx, 4
.loop:  in al, dx
        ror eax, 8
        loop .loop
        pop cx
        pop dx
        ret

; cfg_blob: copy ECX bytes of item AX to physical address EDI.
; CF set on a DMA error. Clobbers EAX, EBX, ECX, EDX, EDI.
cfg_blob:
        test ecx, ecx
        jz .done
        test byte [ss:bp-F_FLAGS], 1
        jz .port
        ; FWCfgDmaAccess {be32 control, be32 length, be64 address} in our
        ; frame; its physical address is SS * 16 + BP - F_DMA.
        movzx eax, ax
        shl eax, 16
        or eax, DMA_SELECT | DMA_READ
        bswap eax
        mov [ss:bp-F_DMA], eax
        bswap ecx
        mov [ss:bp-F_DMA+4], ecx
        mov dword [ss:bp-F_DMA+8], 0
        bswap edi
        mov [ss:bp-F_DMA+12], edi
        xor eax, eax
        mov ax, ss
        shl eax, 4
        movzx ebx, bp
        lea eax, [eax+ebx-F_DMA]
        bswap eax
        mov dx, PORT_DMA_LO
        out dx, eax                     ; the high half is zero after reset
.wait:  mov eax, [ss:bp-F_DMA]
        bswap eax
        test eax, ~DMA_ERROR
        jnz .wait
        test eax, DMA_ERROR
        jz .done
        stc
        ret
.port:
        mov dx, PORT_SEL
        out dx, ax
        call unreal_es
        inc dx
        a32 rep insb                    ; ES:EDI, ECX bytes
        xor ax, ax
        mov es, ax
.done:  clc
        ret

; unreal_es: load ES with a flat 4 GiB data segment and return to real
; mode with it cached (interrupts are off throughout the loader).
unreal_es:
        push eax
        push ebx
        mov word [ss:bp-F_GDTR], GDT_LIMIT
        xor eax, eax
        mov ax, cs
        shl eax, 4
        add eax, gdt - rom_start
        mov [ss:bp-F_GDTR+2], eax
        lgdt [ss:bp-F_GDTR]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        mov bx, 8
        mov es, bx
        and al, 0xfe
        mov cr0, eax
        xor bx, bx
        mov es, bx
        pop ebx
        pop eax
        ret

; e801_top: EAX = the top of memory the BIOS reports (INT 15h AX=E801h).
e801_top:
        push ebx
        push ecx
        push edx
        mov ax, 0xe801
        xor bx, bx
        xor cx, cx
        xor dx, dx
        int 0x15
        ; Some BIOSes answer in AX/BX only.
        mov si, cx
        or si, dx
        jnz .cxdx
        mov cx, ax
        mov dx, bx
.cxdx:  test dx, dx
        jz .below16
        movzx eax, dx
        add eax, 256                    ; 16 MiB in 64 KiB units
        shl eax, 16
        jmp .out
.below16:
        movzx eax, cx
        add eax, 1024                   ; 1 MiB in KiB
        shl eax, 10
.out:   pop edx
        pop ecx
        pop ebx
        ret

; print: the NUL-terminated string at DS:SI through INT 10h.
print:
        lodsb
        test al, al
        jz .done
        mov ah, 0x0e
        mov bx, 7
        int 0x10
        jmp print
.done:  ret

msg_fail: db "Linux loader: fw_cfg DMA transfer failed", 13, 10, 0

; Pad to whole 512-byte blocks; the last byte is the checksum that
; roms.SignOptionROM sets so that the image sums to zero.
ROM_BLOCKS equ ($ - $$ + 1 + 511) / 512
        times ROM_BLOCKS * 512 - 1 - ($ - $$) db 0
        db 0                            ; checksum
