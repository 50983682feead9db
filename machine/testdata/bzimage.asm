; A tiny kernel in the Linux bzImage format (boot protocol 2.15) that
; reports what its boot loader gave it, for machine/fwboot_test.go.
;
; Through the firmware (SeaBIOS + Fuji's Linux loader ROM) it enters at
; its real-mode setup (setup segment + 0x20 : 0): it prints its segment
; registers, stack and interrupt flag, the setup header fields the loader
; patched, the top of memory the BIOS reports (INT 15h E801h) and the
; command line at cmd_line_ptr; then it switches to protected mode itself,
; as Linux's setup does, and jumps to code32_start with ESI = its
; boot_params (the setup area). Booted directly, Fuji enters code32_start
; in protected mode with ESI = its zero page.
;
; The 32-bit code prints ESI, its selectors, the header fields read
; through ESI, the command line, and FNV-1a hashes of the initrd and of
; its own protected-mode image (which it never writes), then exits through
; isa-debug-exit with value 0 (status 1). Every line starts "LBT ".
;
; nasm -f bin [-DINITRD_MAX=n] bzimage.asm

%ifndef INITRD_MAX
%define INITRD_MAX 0x37ffffff
%endif
SETUP_SECTS     equ 3
SETUP_SIZE      equ (SETUP_SECTS + 1) * 512
KERNEL_BASE     equ 0x100000
PAYLOAD_DWORDS  equ 20000
STACK32         equ 0x8f000

        cpu 486

; Output helpers for one code size; %1 names them.
%macro IO_ROUTINES 1
puts_%1:                        ; print the NUL-terminated string at (E)SI
        push eax
%%l:    lodsb
        test al, al
        jz %%d
        out 0xe9, al
        jmp %%l
%%d:    pop eax
        ret
hex_%1:                         ; print EAX as CL hex digits
        push eax
        push ebx
        push ecx
        push edx
        mov edx, eax
        movzx ebx, cl
        mov ecx, 8
        sub ecx, ebx
        shl ecx, 2
        shl edx, cl
%%h:    rol edx, 4
        mov al, dl
        and al, 0xf
        add al, '0'
        cmp al, '9'
        jbe %%o
        add al, 'a' - '9' - 1
%%o:    out 0xe9, al
        dec ebx
        jnz %%h
        pop edx
        pop ecx
        pop ebx
        pop eax
        ret
%endmacro

; PRINT mode, "string": print a literal.
%macro PRINT 2
        push esi
        mov esi, %%s
        call puts_%1
        pop esi
        jmp %%e
%%s:    db %2, 0
%%e:
%endmacro

; HEX mode, value, digits: print a value in hex.
%macro HEX 3
        push eax
        push ecx
        mov eax, %2
        mov cl, %3
        call hex_%1
        pop ecx
        pop eax
%endmacro

        section setup start=0 vstart=0
        bits 16
bootsect:
        times 0x1f1-($-$$) db 0
        db SETUP_SECTS                  ; 0x1f1 setup_sects
        dw 0                            ; 0x1f2 root_flags
        dd (KERNEL_LEN + 15) / 16       ; 0x1f4 syssize
        dw 0                            ; 0x1f8 ram_size
        dw 0xffff                       ; 0x1fa vid_mode
        dw 0                            ; 0x1fc root_dev
        dw 0xaa55                       ; 0x1fe boot_flag
        db 0xeb, setup_entry - 0x202    ; 0x200 jump over the header
        db "HdrS"                       ; 0x202 header
        dw 0x020f                       ; 0x206 version 2.15
        dd 0                            ; 0x208 realmode_swtch
        dw 0x1000                       ; 0x20c start_sys_seg
        dw 0                            ; 0x20e kernel_version
        db 0                            ; 0x210 type_of_loader
        db 0x01                         ; 0x211 loadflags: LOADED_HIGH
        dw 0x8000                       ; 0x212 setup_move_size
        dd KERNEL_BASE                  ; 0x214 code32_start
        dd 0                            ; 0x218 ramdisk_image
        dd 0                            ; 0x21c ramdisk_size
        dd 0                            ; 0x220 bootsect_kludge
        dw 0                            ; 0x224 heap_end_ptr
        db 0                            ; 0x226 ext_loader_ver
        db 0                            ; 0x227 ext_loader_type
        dd 0                            ; 0x228 cmd_line_ptr
        dd INITRD_MAX                   ; 0x22c initrd_addr_max
        dd 0x200000                     ; 0x230 kernel_alignment
        db 0                            ; 0x234 relocatable_kernel
        db 0                            ; 0x235 min_alignment
        dw 0                            ; 0x236 xloadflags
        dd 2047                         ; 0x238 cmdline_size
        dd 0                            ; 0x23c hardware_subarch
        dq 0                            ; 0x240 hardware_subarch_data
        dd 0                            ; 0x248 payload_offset
        dd 0                            ; 0x24c payload_length
        dq 0                            ; 0x250 setup_data
        dq KERNEL_BASE                  ; 0x258 pref_address
        dd (KERNEL_LEN + 0xfff) & ~0xfff ; 0x260 init_size
        dd 0                            ; 0x264 handover_offset
        dd 0                            ; 0x268 kernel_info_offset
setup_entry:
        ; The entry state first, before anything changes it.
        mov [r_sp], sp
        mov [r_ss], ss
        mov [r_cs], cs
        mov [r_ds], ds
        mov [r_es], es
        mov [r_fs], fs
        mov [r_gs], gs
        pushf
        pop word [r_flags]
        cld

        PRINT 16, {10, "LBT rm cs="}
        HEX 16, [r_cs], 4
        PRINT 16, " ds="
        HEX 16, [r_ds], 4
        PRINT 16, " es="
        HEX 16, [r_es], 4
        PRINT 16, " fs="
        HEX 16, [r_fs], 4
        PRINT 16, " gs="
        HEX 16, [r_gs], 4
        PRINT 16, " ss="
        HEX 16, [r_ss], 4
        PRINT 16, " sp="
        HEX 16, [r_sp], 4
        PRINT 16, " if="
        mov ax, [r_flags]
        shr ax, 9
        and eax, 1
        HEX 16, eax, 1
        PRINT 16, {10, "LBT rm loader="}
        HEX 16, [0x210], 2
        PRINT 16, " loadflags="
        HEX 16, [0x211], 2
        PRINT 16, " heap_end="
        HEX 16, [0x224], 4
        PRINT 16, " cmd_line_ptr="
        HEX 16, [0x228], 8
        PRINT 16, " ramdisk_image="
        HEX 16, [0x218], 8
        PRINT 16, " ramdisk_size="
        HEX 16, [0x21c], 8
        PRINT 16, " vid_mode="
        HEX 16, [0x1fa], 4

        ; The top of memory as the BIOS reports it.
        mov ax, 0xe801
        xor bx, bx
        xor cx, cx
        xor dx, dx
        int 0x15
        jc .e801_done
        mov si, cx
        or si, dx
        jnz .cxdx
        mov cx, ax
        mov dx, bx
.cxdx:  movzx eax, dx
        add eax, 256
        shl eax, 16
        test dx, dx
        jnz .e801_print
        movzx eax, cx
        add eax, 1024
        shl eax, 10
.e801_print:
        PRINT 16, {10, "LBT rm e801_top="}
        HEX 16, eax, 8
.e801_done:

        ; The command line, through ES.
        PRINT 16, {10, "LBT rm cmdline="}
        mov eax, [0x228]
        mov si, ax
        and si, 0xf
        shr eax, 4
        mov es, ax
        mov cx, 4096
.cmd:   mov al, [es:si]
        test al, al
        jz .cmd_done
        out 0xe9, al
        inc si
        loop .cmd
.cmd_done:
        PRINT 16, {10}

        ; Protected mode, as Linux's setup enters it: flat __BOOT_CS
        ; (0x10) and __BOOT_DS (0x18), ESI = boot_params.
        cli
        xor eax, eax
        mov ax, ds
        shl eax, 4
        lea ebx, [eax + gdt]
        mov [gdtr + 2], ebx
        lgdt [gdtr]
        mov ecx, [0x214]                ; code32_start
        mov esi, eax                    ; boot_params: our setup area
        mov eax, cr0
        or al, 1
        mov cr0, eax
        mov ax, 0x18
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, STACK32
        push dword 0x10
        push ecx
        o32 retf

        IO_ROUTINES 16

        align 8, db 0
gdt:    dq 0, 0
        dq 0x00cf9a000000ffff           ; 0x10 flat code
        dq 0x00cf92000000ffff           ; 0x18 flat data
gdtr:   dw 0x1f
        dd 0

r_cs:   dd 0
r_ds:   dd 0
r_es:   dd 0
r_fs:   dd 0
r_gs:   dd 0
r_ss:   dd 0
r_sp:   dd 0
r_flags: dd 0

%if ($ - $$) > SETUP_SIZE
%error setup code larger than its setup sectors
%endif
        times SETUP_SIZE - ($ - $$) db 0

        section kernel start=SETUP_SIZE vstart=KERNEL_BASE
        bits 32
kernel_start:
        cld
        mov esp, STACK32
        mov ebp, esi
        PRINT 32, "LBT pm esi="
        HEX 32, esi, 8
        PRINT 32, " cs="
        xor eax, eax
        mov ax, cs
        HEX 32, eax, 4
        PRINT 32, " ds="
        mov ax, ds
        HEX 32, eax, 4
        PRINT 32, " ss="
        mov ax, ss
        HEX 32, eax, 4
        PRINT 32, {10, "LBT pm loader="}
        HEX 32, [ebp+0x210], 2
        PRINT 32, " loadflags="
        HEX 32, [ebp+0x211], 2
        PRINT 32, " cmd_line_ptr="
        HEX 32, [ebp+0x228], 8
        PRINT 32, " ramdisk_image="
        HEX 32, [ebp+0x218], 8
        PRINT 32, " ramdisk_size="
        HEX 32, [ebp+0x21c], 8
        PRINT 32, {10, "LBT pm cmdline="}
        mov esi, [ebp+0x228]
        call puts_32
        PRINT 32, {10, "LBT pm initrd_fnv="}
        mov esi, [ebp+0x218]
        mov ecx, [ebp+0x21c]
        call fnv
        HEX 32, eax, 8
        PRINT 32, {10, "LBT pm kernel_fnv="}
        mov esi, [ebp+0x214]
        mov ecx, KERNEL_LEN
        call fnv
        HEX 32, eax, 8
        PRINT 32, {10, "LBT pm done", 10}
        mov al, 0
        out 0xf4, al
.halt:  hlt
        jmp .halt

; fnv: EAX = FNV-1a hash of ECX bytes at ESI.
fnv:    push edx
        push ebx
        mov eax, 2166136261
        mov ebx, 16777619
        test ecx, ecx
        jz .done
.l:     movzx edx, byte [esi]
        xor eax, edx
        mul ebx                         ; EDX:EAX = EAX * prime
        inc esi
        dec ecx
        jnz .l
.done:  pop ebx
        pop edx
        ret

        IO_ROUTINES 32

; A payload so that the image spans many pages: a pseudo-random sequence.
%assign x 12345
%rep PAYLOAD_DWORDS
%assign x (x * 1103515245 + 12345) & 0x7fffffff
        dd x
%endrep
KERNEL_LEN equ $ - kernel_start
