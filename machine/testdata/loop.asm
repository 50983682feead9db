; The bare-metal speed loop as a multiboot kernel (a.out kludge): ITERS
; iterations of 8 instructions (ALU, load, store, shift, counted branch)
; in flat 32-bit protected mode, then exit through isa-debug-exit (0xf4)
; with value 0x10, so the emulator's status is 0x21.
; nasm -f bin -DITERS=n loop.asm
bits 32
org 0x100000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 1<<16
header:
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)
	dd header          ; header_addr
	dd header          ; load_addr
	dd 0               ; load_end_addr: whole file
	dd bss_end         ; bss_end_addr
	dd start           ; entry_addr
start:
	mov ecx, ITERS
	mov esi, data
	mov edi, data + 64
	mov ebx, 3
	xor eax, eax
.loop:
	add eax, ebx       ; ALU
	mov edx, [esi]     ; load
	xor edx, eax       ; ALU
	mov [edi], edx     ; store
	shl ebx, 1         ; shift
	or ebx, 1          ; ALU
	dec ecx            ; count
	jnz .loop          ; branch
	mov eax, 0x10
	out 0xf4, eax
	hlt
	jmp $-1
align 4096 ; data on its own page, as ordinary code keeps it
data:
	times 128 db 0
bss_end:
