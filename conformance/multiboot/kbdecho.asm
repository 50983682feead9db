; kbdecho: a keyboard echo kernel for the window test (cmd/fuji's
; TestWindowTypesIntoGuest) and for trying the window by hand:
;
;   nasm -f bin -Iconformance/multiboot/ -o kbdecho conformance/multiboot/kbdecho.asm
;   fuji run -display window -kernel kbdecho -debugcon stdio
;
; A direct multiboot boot runs no BIOS and no VGA BIOS, so the kernel does
; what they would: it programs the VGA registers for text mode 3 (80x25,
; 9x16 cells, 720x400) from the IBM mode table, loads the EGA colours into
; the DAC and its own 8x16 font into plane 2, clears the screen at 0xB8000
; and draws a title and a prompt. It then sets up the 8042 (keyboard
; interface on, IRQ 1 on, translation on so that the keyboard's set 2
; arrives as set 1; mouse interface off), resets the keyboard, selects
; set 2 and enables scanning, and unmasks IRQ 1 at the 8259.
;
; Each key press (not its typematic repeats, which are counted) becomes
; ASCII through US-layout set 1 tables, with either Shift. A printable
; character is drawn after the prompt, the hardware cursor follows, and
; the debug console (0xE9) gets "echo C"; Backspace erases ("erase").
; Enter ends: "line TEXT", "info repeats N", "done", and exit through
; isa-debug-exit with value 0 (fuji's exit status 1).

%include "lib.inc"

TEXT        equ 0xB8000
PROMPT_ROW  equ 2
PROMPT_COL  equ 6                       ; len("fuji> ")
MAXLEN      equ 80 - PROMPT_COL - 1
ATTR_BG     equ 0x17                    ; grey on blue
ATTR_TITLE  equ 0x1F                    ; bright white on blue
ATTR_PROMPT equ 0x1E                    ; yellow on blue
ATTR_INPUT  equ 0x1F

main:
    call pit_stop                       ; only the keyboard wakes a HLT
    call pic_init
    call vga_init
    call screen_init
    call kbd_init
    mov dword [irq_handler + 1*4], kbd_irq
    mov al, 0xFD                        ; unmask IRQ 1 only
    out 0x21, al
    PRINT {"ready", 10}

.idle:
    cli
    cmp byte [finished], 0
    jne .end
    sti                                 ; the STI shadow covers the HLT
    hlt
    jmp .idle

.end:
    PRINT "line "
    mov esi, line
    call puts
    mov al, 10
    call putc
    PRINT "info repeats "
    mov eax, [repeats]
    call putdec
    mov al, 10
    call putc
    DONE

; ---------------------------------------------------------------- VGA

; vga_init: mode 3 registers, the DAC, the font.
vga_init:
    mov dx, 0x3C2
    mov al, [mode3_misc]
    out dx, al
    mov dx, 0x3C4
    mov esi, mode3_seq
    mov ecx, 5
    call out_indexed
    mov dx, 0x3D4
    mov ax, 0x0011                      ; unprotect CR0-CR7
    out dx, ax
    mov esi, mode3_crtc
    mov ecx, 25
    call out_indexed
    mov dx, 0x3CE
    mov esi, mode3_gr
    mov ecx, 9
    call out_indexed
    ; Attribute controller: reset the index/data flip-flop, write the
    ; pairs, then give the palette back to the display (bit 5).
    mov dx, 0x3DA
    in al, dx
    mov dx, 0x3C0
    xor ecx, ecx
.ar:
    mov al, cl
    out dx, al
    mov al, [mode3_attr + ecx]
    out dx, al
    inc ecx
    cmp ecx, 21
    jb .ar
    mov al, 0x20
    out dx, al
    call dac_init
    call font_load
    ret

; out_indexed: dx = index port, esi = table, ecx = count; writes
; index i with table[i] as one 16-bit OUT (index low, data high).
out_indexed:
    push ebx
    xor ebx, ebx
.l: mov al, bl
    mov ah, [esi + ebx]
    out dx, ax
    inc ebx
    cmp ebx, ecx
    jb .l
    pop ebx
    ret

; dac_init: DAC entries 0-63 get the EGA colours (6-bit components:
; bits 0-2 of the index are blue/green/red at 2/3, bits 3-5 at 1/3), as
; the VGA BIOS loads them for the text modes.
dac_init:
    mov dx, 0x3C6
    mov al, 0xFF
    out dx, al
    mov dx, 0x3C8
    xor al, al
    out dx, al
    mov dx, 0x3C9
    xor ecx, ecx
.l: mov bl, 2                           ; red: bits 2 and 5
    call dac_component
    mov bl, 1                           ; green: bits 1 and 4
    call dac_component
    mov bl, 0                           ; blue: bits 0 and 3
    call dac_component
    inc ecx
    cmp ecx, 64
    jb .l
    ret

; dac_component: ecx = colour index, bl = the number of its low bit;
; writes 0x2A * bit(bl) + 0x15 * bit(bl+3) to the DAC data port.
dac_component:
    push ecx
    mov eax, ecx
    mov cl, bl
    shr eax, cl
    mov ah, al
    xor al, al
    test ah, 1
    jz .lo
    add al, 0x2A
.lo:
    test ah, 8
    jz .out
    add al, 0x15
.out:
    out dx, al
    pop ecx
    ret

; font_load: the 8x16 font into character map 0 of plane 2, the way the
; VGA BIOS loads fonts (INT 10h AX=1100h): plane 2 alone, sequential
; addressing, the 64 KiB window at A0000; then text mode addressing back.
; Glyph c is 32 bytes at plane-2 offset c*32; the first 16 are used.
font_load:
    mov dx, 0x3C4
    mov ax, 0x0402                      ; map mask: plane 2
    out dx, ax
    mov ax, 0x0704                      ; memory mode: sequential, no chain 4
    out dx, ax
    mov dx, 0x3CE
    mov ax, 0x0204                      ; read map select: plane 2
    out dx, ax
    mov ax, 0x0005                      ; write mode 0, no odd/even
    out dx, ax
    mov ax, 0x0406                      ; A0000, 64 KiB, graphics off
    out dx, ax
    cld
    mov edi, 0xA0000                    ; clear all 256 glyphs
    mov ecx, 256 * 32
    xor al, al
    rep stosb
    mov esi, font8x16
    mov edi, 0xA0000 + FONT_FIRST * 32
    mov edx, FONT_COUNT
.glyph:
    mov ecx, 16
    rep movsb
    add edi, 16
    dec edx
    jnz .glyph
    mov dx, 0x3C4
    mov ax, 0x0302                      ; planes 0 and 1 (text and attributes)
    out dx, ax
    mov ax, 0x0204                      ; odd/even addressing
    out dx, ax
    mov dx, 0x3CE
    mov ax, 0x0004
    out dx, ax
    mov ax, 0x1005                      ; odd/even
    out dx, ax
    mov ax, 0x0E06                      ; B8000, 32 KiB, chained odd/even
    out dx, ax
    ret

; screen_init: blank screen, title on row 0, prompt on PROMPT_ROW.
screen_init:
    cld
    mov edi, TEXT
    mov ecx, 80 * 25
    mov ax, ATTR_BG << 8 | ' '
    rep stosw
    mov esi, title
    mov edi, TEXT + (0 * 80 + 1) * 2
    mov ah, ATTR_TITLE
    call draw_string
    mov esi, prompt
    mov edi, TEXT + (PROMPT_ROW * 80) * 2
    mov ah, ATTR_PROMPT
    call draw_string
    call set_cursor
    ret

; draw_string: esi = NUL-terminated text, edi = cell address, ah = attribute.
draw_string:
.l: mov al, [esi]
    test al, al
    jz .e
    stosw
    inc esi
    jmp .l
.e: ret

; set_cursor: the CRTC cursor location (CR0E/CR0F) after the input.
set_cursor:
    push eax
    push ebx
    push edx
    mov ebx, PROMPT_ROW * 80 + PROMPT_COL
    add ebx, [len]
    mov dx, 0x3D4
    mov al, 0x0E
    mov ah, bh
    out dx, ax
    mov al, 0x0F
    mov ah, bl
    out dx, ax
    pop edx
    pop ebx
    pop eax
    ret

; ----------------------------------------------------------- keyboard

; kbc_cmd: al = an 8042 command byte for port 0x64.
kbc_cmd:
    call kbc_wait_in
    out 0x64, al
    ret

; kbd_send: al = a byte for the keyboard (port 0x60); returns its
; response in al (0xFA: acknowledged).
kbd_send:
    call kbc_wait_in
    out 0x60, al
    call kbc_read
    ret

kbd_init:
    mov al, 0xAD                        ; keyboard interface off
    call kbc_cmd
    mov al, 0xA7                        ; mouse interface off
    call kbc_cmd
.flush:
    in al, 0x64
    test al, 1
    jz .flushed
    in al, 0x60
    jmp .flush
.flushed:
    mov al, 0xAA                        ; controller self-test
    call kbc_cmd
    call kbc_read
    movzx eax, al
    CHECK "8042 self-test", eax, 0x55
    ; Command byte while setting up: no IRQs, system flag, mouse clock
    ; off, translation on.
    mov al, 0x60
    call kbc_cmd
    call kbc_wait_in
    mov al, 0x64
    out 0x60, al
    mov al, 0xAE                        ; keyboard interface on
    call kbc_cmd
    mov al, 0xFF                        ; keyboard reset
    call kbd_send
    movzx eax, al
    CHECK "keyboard reset ack", eax, 0xFA
    call kbc_read
    movzx eax, al
    CHECK "keyboard self-test passed", eax, 0xAA
    mov al, 0xF0                        ; scancode set 2 (translated to set 1)
    call kbd_send
    movzx eax, al
    CHECK "set scancode set ack", eax, 0xFA
    mov al, 0x02
    call kbd_send
    movzx eax, al
    CHECK "scancode set 2 ack", eax, 0xFA
    mov al, 0xF4                        ; enable scanning
    call kbd_send
    movzx eax, al
    CHECK "enable scanning ack", eax, 0xFA
    ; Now IRQ 1 on as well.
    mov al, 0x60
    call kbc_cmd
    call kbc_wait_in
    mov al, 0x65
    out 0x60, al
    mov al, 0x20                        ; read the command byte back
    call kbc_cmd
    call kbc_read
    movzx eax, al
    CHECK "8042 command byte", eax, 0x65
    ret

; kbd_irq: IRQ 1 handler (called from irq_common, edi = 1, registers saved).
kbd_irq:
    in al, 0x64
    test al, 1
    jz .eoi
    in al, 0x60
    call kbd_byte
.eoi:
    call eoi
    ret

; kbd_byte: al = a set 1 byte from the keyboard.
kbd_byte:
    cmp al, 0xE0
    jne .plain
    mov byte [e0], 1
    ret
.plain:
    cmp byte [e0], 0
    je .key
    mov byte [e0], 0                    ; extended keys (arrows, right
    ret                                 ; Ctrl/Alt, ...) are not echoed
.key:
    movzx ebx, al
    and ebx, 0x7F
    test al, 0x80
    jnz .release
    cmp byte [down + ebx], 0
    je .press
    inc dword [repeats]                 ; typematic repeat of a held key
    ret
.press:
    mov byte [down + ebx], 1
    cmp ebx, 0x1C                       ; Enter
    jne .notenter
    mov byte [finished], 1
    ret
.notenter:
    cmp ebx, 0x0E                       ; Backspace
    je erase_char
    cmp ebx, KEYMAP_LEN
    jae .none
    mov esi, keymap
    cmp byte [down + 0x2A], 0           ; left Shift
    jne .shift
    cmp byte [down + 0x36], 0           ; right Shift
    je .map
.shift:
    mov esi, keymap_shift
.map:
    mov al, [esi + ebx]
    test al, al
    jz .none
    call echo_char
.none:
    ret
.release:
    mov byte [down + ebx], 0
    ret

; echo_char: al = a printable character typed.
echo_char:
    mov ecx, [len]
    cmp ecx, MAXLEN
    jae .full
    mov [line + ecx], al
    inc dword [len]
    mov ah, ATTR_INPUT
    mov [TEXT + (PROMPT_ROW * 80 + PROMPT_COL) * 2 + ecx*2], ax
    call set_cursor
    PRINT "echo "
    call putc
    mov al, 10
    call putc
.full:
    ret

erase_char:
    mov ecx, [len]
    test ecx, ecx
    jz .e
    dec ecx
    mov [len], ecx
    mov byte [line + ecx], 0
    mov word [TEXT + (PROMPT_ROW * 80 + PROMPT_COL) * 2 + ecx*2], ATTR_BG << 8 | ' '
    call set_cursor
    PRINT {"erase", 10}
.e: ret

; ---------------------------------------------------------------- data

title:  db "Fuji kbdecho - type on the keyboard, Enter ends", 0
prompt: db "fuji> ", 0

; US layout, scancode set 1 make codes 0x00-0x39 (0: not echoed).
keymap:
    db 0, 0, "1234567890-=", 0, 0       ; 00-0F: -, Esc, digits, BS, Tab
    db "qwertyuiop[]", 0, 0, "as"       ; 10-1F: Enter, left Ctrl
    db "dfghjkl;'`", 0, "\zxcv"         ; 20-2F: left Shift
    db "bnm,./", 0, "*", 0, " "         ; 30-39: right Shift, KP *, Alt, Space
KEYMAP_LEN equ $ - keymap
keymap_shift:
    db 0, 0, "!@#$%^&*()_+", 0, 0
    db "QWERTYUIOP{}", 0, 0, "AS"
    db 'DFGHJKL:"~', 0, "|ZXCV"
    db "BNM<>?", 0, "*", 0, " "
%if $ - keymap_shift != KEYMAP_LEN
%error keymap tables differ in length
%endif

; IBM VGA mode 3 (the VGA BIOS's parameter table).
mode3_misc: db 0x67
mode3_seq:  db 0x03, 0x00, 0x03, 0x00, 0x02
mode3_crtc: db 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00
            db 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF
mode3_gr:   db 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x0F, 0xFF
mode3_attr: db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F
            db 0x0C, 0x00, 0x0F, 0x08, 0x00

%include "font8x16.inc"

    align 4
len:        dd 0
repeats:    dd 0
finished:   db 0
e0:         db 0
down:       times 128 db 0
line:       times MAXLEN + 1 db 0
