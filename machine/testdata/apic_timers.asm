; APIC platform end-to-end: five interrupts from each of the local APIC
; timer (periodic), the HPET in legacy replacement mode through I/O APIC
; pin 2, and the PIT through the 8259 and LINT0 in ExtINT (virtual wire)
; mode. Prints the three counts on port 0xE9 and exits through
; isa-debug-exit with 7.
bits 16
org 0x7c00
	cli
	xor ax, ax
	mov ds, ax
	lgdt [gdtr]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp 0x08:pm

bits 32
pm:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esp, 0x9000
	mov eax, lapic_isr
	mov ebx, 0x40
	call setgate
	mov eax, ioapic_isr
	mov ebx, 0x50
	call setgate
	mov eax, pic_isr
	mov ebx, 0x20
	call setgate
	mov eax, spurious_isr
	mov ebx, 0xff
	call setgate
	lidt [idtr]

	; Phase 1: local APIC timer, periodic, 100 us.
	mov dword [0xfee000f0], 0x1ff		; software enable, spurious 0xFF
	mov dword [0xfee00350], 0x10700		; LINT0 masked
	mov dword [0xfee003e0], 0xb		; divide by 1
	mov dword [0xfee00320], 0x20040		; periodic, vector 0x40
	mov dword [0xfee00380], 100000
	sti
.p1:	hlt
	cmp dword [cnt1], 5
	jb .p1
	cli
	mov dword [0xfee00380], 0

	; Phase 2: HPET timer 0, legacy replacement, periodic 100 us -> IOAPIC pin 2.
	mov dword [0xfec00000], 0x15
	mov dword [0xfec00010], 0		; destination APIC 0
	mov dword [0xfec00000], 0x14
	mov dword [0xfec00010], 0x50		; fixed, edge, vector 0x50
	mov dword [0xfed00100], 0x14c		; INT_ENB | periodic | VAL_SET | 32-bit
	mov dword [0xfed00108], 1000
	mov dword [0xfed00108], 1000
	mov dword [0xfed00010], 3		; ENABLE | LEG_RT
	sti
.p2:	hlt
	cmp dword [cnt2], 5
	jb .p2
	cli
	mov dword [0xfed00010], 0
	mov dword [0xfec00010], 0x10050		; mask pin 2

	; Phase 3: 8259 + PIT through LINT0 ExtINT.
	mov al, 0x11
	out 0x20, al
	mov al, 0x20
	out 0x21, al
	mov al, 0x04
	out 0x21, al
	mov al, 0x01
	out 0x21, al
	mov al, 0xfe
	out 0x21, al
	mov al, 0x11
	out 0xa0, al
	mov al, 0x28
	out 0xa1, al
	mov al, 0x02
	out 0xa1, al
	mov al, 0x01
	out 0xa1, al
	mov al, 0xff
	out 0xa1, al
	mov al, 0x34
	out 0x43, al
	mov al, 0xa9				; 1193: 1 ms
	out 0x40, al
	mov al, 0x04
	out 0x40, al
	mov dword [0xfee00350], 0x700		; LINT0 ExtINT
	sti
.p3:	hlt
	cmp dword [cnt3], 5
	jb .p3
	cli
	; Report the counts on port 0xE9 as digits (an interrupt still
	; pending when a phase stopped its source arrives in the next one,
	; so a count may be 6).
	mov al, [cnt1]
	add al, '0'
	out 0xe9, al
	mov al, [cnt2]
	add al, '0'
	out 0xe9, al
	mov al, [cnt3]
	add al, '0'
	out 0xe9, al
	mov al, 7
	out 0xf4, al
	hlt

lapic_isr:
	inc dword [cnt1]
	mov dword [0xfee000b0], 0
	iretd
ioapic_isr:
	inc dword [cnt2]
	mov dword [0xfee000b0], 0
	iretd
pic_isr:
	inc dword [cnt3]
	push eax
	mov al, 0x20
	out 0x20, al
	pop eax
	iretd
spurious_isr:
	iretd

; setgate: EAX = handler, EBX = vector: a 32-bit interrupt gate.
setgate:
	lea edi, [idt + ebx*8]
	mov [edi], ax
	mov word [edi+2], 0x08
	mov word [edi+4], 0x8e00
	shr eax, 16
	mov [edi+6], ax
	ret

align 8
gdt:	dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdtr:	dw 23
	dd gdt
idtr:	dw 256*8-1
	dd idt
cnt1:	dd 0
cnt2:	dd 0
cnt3:	dd 0
align 8
idt:	times 256*8 db 0
