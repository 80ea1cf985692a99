; entry.asm - guest entry point and dispatch loop.
;
; Entry contract (glint/abi.h): 64-bit long mode, CPL 3 (IOPL 3), interrupts off,
;   RDI = guest address of the PEB, RSI = GLINT_ABI_VERSION,
;   RSP = peb->stack_top (16-byte aligned).
;
; _start initialises the runtime once, then loops forever:
;   OUT DONE  - first time: "ready" (FUNCTIONS message on the output buffer);
;               afterwards: "call finished" (RESULT or ERROR on the output buffer).
;   The host resumes the guest after this OUT to deliver the next call.  It
;   sets no register per call, so every iteration starts from a known state:
;   RSP is reloaded from memory and nothing is kept in a register across the
;   OUT.

bits 64
default rel

; Must equal GLINT_PORT_DONE in common/include/glint/abi.h.
%define GLINT_PORT_DONE 0xE0

extern glint_rt_init            ; void glint_rt_init(const glint_peb *peb, uint64_t abi_version)
extern glint_rt_dispatch        ; void glint_rt_dispatch(void)
extern glint_rt_call_stack_top  ; uint64_t, copied from peb->stack_top by glint_rt_init

section .text

global _start:function (_start.end - _start)
_start:
    cld                         ; the SysV ABI wants DF clear on every call
    xor ebp, ebp                ; ends frame-pointer chains for debuggers
    and rsp, -16                ; 16-byte aligned before each call (SysV ABI)
    call glint_rt_init          ; RDI and RSI still hold the host's arguments

.loop:
    xor eax, eax
    out GLINT_PORT_DONE, al     ; ready / call finished; the next call resumes here
    mov rsp, [rel glint_rt_call_stack_top]
    and rsp, -16
    cld
    xor ebp, ebp
    call glint_rt_dispatch
    jmp .loop
.end:

; Executable code must not come with an executable-stack request.
section .note.GNU-stack noalloc noexec nowrite progbits
