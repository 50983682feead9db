; Every exception with its error code: #DE #DB #BP #OF #BR #UD #NM #DF #TS
; #NP #SS #GP #PF #AC, and the RF/TF bookkeeping around them.
%include "lib.inc"

main:
    TRY
    xor edx, edx
    xor ecx, ecx
    mov eax, 1
    div ecx
    EXPECT "#DE divide by zero", 0, NOERR

    TRY
    mov eax, 0x80000000
    cdq
    mov ecx, -1
    idiv ecx
    EXPECT "#DE idiv overflow", 0, NOERR

    ; #DB single step: TF set by POPF traps after the next instruction.
    TRY
    pushfd
    or dword [esp], 0x100
    popfd
    nop
    nop
    EXPECT "#DB single step", 1, NOERR
    mov eax, [last_flags]
    and eax, 0x100
    CHECK "#DB TF in pushed EFLAGS", eax, 0x100

    TRY
    int3
bp_after:
    EXPECT "#BP int3", 3, NOERR
    mov eax, [last_eip]
    CHECK "#BP is a trap (EIP after INT3)", eax, bp_after

    TRY
    mov al, 0x7f
    add al, 1
    into
    EXPECT "#OF into", 4, NOERR

    TRY
    mov eax, 5
    bound eax, [bounds]
    EXPECT "#BR bound", 5, NOERR

    TRY
    mov eax, 2
    bound eax, [bounds]
    EXPECT "bound in range", NOEXC, NOERR

    TRY
ud_at:
    ud2
    EXPECT "#UD ud2", 6, NOERR
    mov eax, [last_eip]
    CHECK "#UD is a fault (EIP at UD2)", eax, ud_at

    TRY
    db 0xf0, 0x90       ; lock nop
    EXPECT "#UD lock nop", 6, NOERR

    ; #NM: FPU escape with CR0.TS set.
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    TRY
    fninit
    EXPECT "#NM with CR0.TS", 7, NOERR
    clts
    mov eax, cr0
    and eax, 8
    CHECK "CLTS clears TS", eax, 0

    ; #GP: writing to a read-only segment, and the selector error codes.
    TRY
    mov word [cs:scratch], 1
    EXPECT "#GP write to code segment", 13, 0

    TRY
    mov ax, 0x1f8
    mov ds, ax
    EXPECT "#GP selector beyond GDT limit", 13, 0x1f8
    mov ax, SEL_DATA0
    mov ds, ax

    TRY
    mov eax, cr1
    EXPECT "#UD mov from CR1", 6, NOERR

    TRY
    int 0x80
    EXPECT "#GP gate of type 0 (int 80h)", 13, 0x80*8+2
    mov byte [IDT + 0x80*8 + 5], 0x0e    ; interrupt gate, P = 0
    TRY
    int 0x80
    EXPECT "#NP gate not present (int 80h)", 11, 0x80*8+2

    ; #SS: push beyond a small stack segment's limit (from ring 3, so
    ; that the handler runs on the TSS stack).
    SETDESC 0x40, 0x80000, 0xfff, 0x40f2
    RING3 .ss3
.ss3:
    TRY
    mov ax, 0x43
    mov ss, ax
    mov esp, 0xff0
    mov ebp, 0xffe
    mov eax, [ebp]
    EXPECT "#SS read via EBP beyond SS limit", 12, 0
    mov ax, SEL_DATA3
    mov ss, ax
    mov esp, STACK3
    TRY
    mov ax, 0x43
    mov ss, ax
    mov esp, 0xff0
    push eax
    EXPECT "push within SS limit", NOEXC, NOERR
    mov ax, SEL_DATA3
    mov ss, ax
    mov esp, STACK3
    RING0 .ss0
.ss0:

    TRY
    SETDESC 0x48, 0x80000, 0xfff, 0x4012 ; not present
    mov ax, 0x48
    mov ss, ax
    EXPECT "#SS load of not-present SS", 12, 0x48

    TRY
    mov ax, 0x48
    mov es, ax
    EXPECT "#NP load of not-present ES", 11, 0x48
    mov ax, SEL_DATA0
    mov es, ax

    ; #TS: JMP to a TSS whose limit is below 67h.
    SETDESC 0x50, 0x30000, 0x20, 0x0089
    TRY
    jmp 0x50:0
    EXPECT "#TS TSS limit too small", 10, 0x50

    ; #PF: paging with an unmapped page (identity map of 4 MiB otherwise).
    mov edi, 0x100000
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov edi, 0x101000
    mov eax, 0x7
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    loop .pt
    mov dword [0x100000], 0x101007
    mov dword [0x101000 + 0x300*4], 0         ; 0x300000 not present
    mov eax, 0x100000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    TRY
    mov eax, [0x300010]
    EXPECT "#PF read not present", 14, 0
    mov eax, cr2
    CHECK "#PF CR2", eax, 0x300010
    TRY
    mov dword [0x300020], 1
    EXPECT "#PF write not present", 14, 2
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax

    ; #AC: CR0.AM, EFLAGS.AC and a misaligned access at CPL 3.
    mov eax, cr0
    or eax, 1 << 18
    mov cr0, eax
    RING3 .r3
.r3:
    pushfd
    or dword [esp], 1 << 18
    popfd
    TRY
    mov eax, [scratch+1]
    EXPECT "#AC misaligned dword at CPL 3", 17, 0
    TRY
    mov eax, [scratch+4]
    EXPECT "aligned access at CPL 3 with AC", NOEXC, NOERR
    TRY
    cli
    EXPECT "#GP CLI at CPL 3, IOPL 0", 13, 0
    TRY
    hlt
    EXPECT "#GP HLT at CPL 3", 13, 0
    TRY
    mov eax, cr0
    EXPECT "#GP MOV from CR0 at CPL 3", 13, 0
    TRY
    int 0x0d
    EXPECT "#GP INT to DPL-0 gate from CPL 3", 13, 0x0d*8+2
    pushfd
    and dword [esp], ~(1 << 18)
    popfd
    RING0 .r0
.r0:
    mov eax, cr0
    and eax, ~(1 << 18)
    mov cr0, eax

    ; #DF: #GP whose gate is not present becomes #NP, then a double fault.
    mov byte [IDT + 13*8 + 5], 0x0e
    TRY
    mov ax, 0x1f8
    mov ds, ax
    EXPECT "#DF from #GP through a not-present gate", 8, 0
    mov byte [IDT + 13*8 + 5], 0x8e
    mov ax, SEL_DATA0
    mov ds, ax

    ; A #PF then #GP is not a double fault: #PF delivery faulting with
    ; #GP gives #DF (page fault + contributory), checked here.
    mov byte [IDT + 14*8 + 5], 0x0e
    mov eax, 0x100000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    TRY
    mov eax, [0x300010]
    EXPECT "#DF from #PF through a not-present gate", 8, 0
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov byte [IDT + 14*8 + 5], 0x8e

    ; CPUID and MSRs of the model.
    mov eax, 1
    cpuid
    and edx, 1
    CHECK "CPUID.1:EDX.FPU clear (no FPU yet)", edx, 0
    TRY
    mov ecx, 0x12345
    rdmsr
    EXPECT "#GP RDMSR unknown MSR", 13, 0
    mov ecx, 0x174
    mov eax, 0x1234
    xor edx, edx
    wrmsr
    rdmsr
    CHECK "SYSENTER_CS round trip", eax, 0x1234
    TRY
    mov ecx, 0x2ff
    mov eax, 2          ; invalid memory type
    xor edx, edx
    wrmsr
    EXPECT "#GP WRMSR MTRRdefType bad type", 13, 0

    DONE

    align 4
bounds: dd 0, 3
