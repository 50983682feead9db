; expect: shutdown
; A fault with no usable IDT: #GP, then #DF, then shutdown.
%include "lib.inc"

main:
    CHECK "reached protected mode", 1, 1
    lidt [null_idtr]
    int3
    CHECK "FAIL: survived a triple fault", 0, 1
    DONE

null_idtr:
    dw 0
    dd 0
