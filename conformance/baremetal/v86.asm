; Virtual-8086 mode: entry through IRET, INT with IOPL < 3 (#GP(0)), INT
; with IOPL 3 through the IDT to ring 0 (the v86 frame, null data
; segments), IRET back to v86, and the I/O permission bitmap.
%include "lib.inc"

main:
    ; #GP from v86 ends a session in v86_gp (ring 0).
    SETGATE IDT+13*8, v86_gp, SEL_CODE0, 0x8e, 0
    ; INT 31h: DPL-3 interrupt gate to ring 0.
    SETGATE IDT+0x31*8, v86_int31, SEL_CODE0, 0xee, 0
    or byte [TSS0+0x68+(0x81/8)], 1 << (0x81 & 7)   ; deny port 81h

    ; Session 1: IOPL 0.
    mov dword [ring0_cont], s1_done
    mov [ring0_esp], esp
    push dword 0            ; GS
    push dword 0            ; FS
    push dword 0            ; DS
    push dword 0            ; ES
    push dword 0            ; SS
    push dword 0x7000       ; ESP
    push dword 0x20002      ; EFLAGS: VM, IOPL 0
    push dword 0            ; CS
    push dword v86_code1
    iretd
s1_done:
    CHECK "v86 entered, port 80h allowed by the bitmap", dword [mark], 1
    CHECK "v86 port 81h denied: #GP", dword [gp_err], 0
    CHECK "v86 #GP at the IN instruction", dword [gp_eip], v86_in81
    mov eax, [gp_flags]
    and eax, 0x20000
    CHECK "v86 #GP frame has VM set", eax, 0x20000
    mov dword [mark], 0

    ; Session 2: IOPL 0, INT n faults.
    mov dword [ring0_cont], s2_done
    mov [ring0_esp], esp
    push dword 0
    push dword 0
    push dword 0
    push dword 0
    push dword 0
    push dword 0x7000
    push dword 0x20002
    push dword 0
    push dword v86_code2
    iretd
s2_done:
    CHECK "v86 INT with IOPL 0: #GP(0)", dword [gp_err], 0
    CHECK "v86 INT with IOPL 0: at the INT", dword [gp_eip], v86_int_gp

    ; Session 3: IOPL 3, INT 31h to ring 0 and back.
    mov dword [ring0_cont], s3_done
    mov [ring0_esp], esp
    push dword 0x9abc       ; GS
    push dword 0x5678       ; FS
    push dword 0            ; DS
    push dword 0x1234       ; ES
    push dword 0            ; SS
    push dword 0x7000
    push dword 0x23002      ; VM, IOPL 3
    push dword 0
    push dword v86_code3
    iretd
s3_done:
    CHECK "v86 INT 31h frame: EIP", dword [f_eip], v86_after_int
    CHECK "v86 INT 31h frame: CS", dword [f_cs], 0
    mov eax, [f_flags]
    and eax, 0x23000
    CHECK "v86 INT 31h frame: EFLAGS VM, IOPL", eax, 0x23000
    CHECK "v86 INT 31h frame: ESP", dword [f_esp], 0x7000
    CHECK "v86 INT 31h frame: ES", dword [f_es], 0x1234
    CHECK "v86 INT 31h frame: FS", dword [f_fs], 0x5678
    CHECK "v86 INT 31h frame: GS", dword [f_gs], 0x9abc
    CHECK "v86 INT 31h: DS null in the handler", dword [f_ds0], 0
    CHECK "v86 INT 31h: handler ESP from TSS.ESP0", dword [f_newesp], STACK0_INT - 36
    CHECK "IRET back to v86 continued", dword [mark], 2
    movzx eax, byte [0x12340]
    CHECK "v86 segment arithmetic: ES base", eax, 0x42
    DONE

; ring-0 handlers
v86_gp:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov eax, [esp]
    mov [gp_err], eax
    mov eax, [esp+4]
    mov [gp_eip], eax
    mov eax, [esp+12]
    mov [gp_flags], eax
    mov esp, [ring0_esp]
    jmp [ring0_cont]

v86_int31:
    mov [ss:f_newesp], esp
    xor eax, eax
    mov ax, ds
    mov [ss:f_ds0], eax
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, [esp]
    mov [f_eip], eax
    mov eax, [esp+4]
    mov [f_cs], eax
    mov eax, [esp+8]
    mov [f_flags], eax
    mov eax, [esp+12]
    mov [f_esp], eax
    mov eax, [esp+20]
    mov [f_es], eax
    mov eax, [esp+28]
    mov [f_fs], eax
    mov eax, [esp+32]
    mov [f_gs], eax
    iretd

    bits 16
v86_code1:
    in al, 0x80
    mov byte [mark], 1
v86_in81:
    in al, 0x81
    jmp $

v86_code2:
v86_int_gp:
    int 0x31
    jmp $

v86_code3:
    int 0x31
v86_after_int:
    mov byte [mark], 2
    mov byte [es:0], 0x42          ; ES = 1234h: linear 12340h
    int 0x30
    jmp $
    bits 32

    align 4
mark:     dd 0
mark_es:  dd 0
gp_err:   dd 0
gp_eip:   dd 0
gp_flags: dd 0
f_eip:    dd 0
f_cs:     dd 0
f_flags:  dd 0
f_esp:    dd 0
f_es:     dd 0
f_fs:     dd 0
f_gs:     dd 0
f_ds0:    dd 0xffffffff
f_newesp: dd 0
