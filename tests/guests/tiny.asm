; tiny.asm - the smallest Glint guest (tiny.elf, linked with NO_RUNTIME).
;
; No runtime, no function table: it writes 0x42 to GLINT_PORT_DONE, then
; executes HLT, which at CPL 3 is a #GP that the host's exception stubs report.
; Host tests use it for loader-level checks (ELF loading, the ABI note, the
; CPL-3 entry state, an exit on the DONE port, the exception path) without the
; runtime.

%ifndef GLINT_ABI_VERSION
%error "define GLINT_ABI_VERSION (from common/include/glint/abi.h)"
%endif

bits 64
default rel

section .text
global _start:function (_start.end - _start)
_start:
    mov al, 0x42
    out 0xE0, al                ; GLINT_PORT_DONE
    hlt
.end:

; The ABI note the host requires of every guest (the runtime normally
; provides it; see common/include/glint/abi.h): an ELF note with name
; "Glint", type GLINT_NOTE_TYPE_ABI and descriptor struct glint_abi_note.
section .note.glint note alloc noexec nowrite align=4
    dd 6                        ; n_namesz: "Glint" + NUL
    dd 8                        ; n_descsz: sizeof(struct glint_abi_note)
    dd 0x474c4e01               ; n_type: GLINT_NOTE_TYPE_ABI
    db "Glint", 0, 0, 0         ; name, padded to 4 bytes
    dd GLINT_ABI_VERSION                        ; abi_version: GLINT_ABI_VERSION
    dd 0                        ; reserved

section .note.GNU-stack noalloc noexec nowrite progbits
