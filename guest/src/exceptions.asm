; exceptions.asm - entry stubs for the 32 CPU exception vectors.
;
; Every IDT gate uses IST1 (see cpu.c), so the CPU switches to the exception
; stack (peb->exception_stack_top) whatever RSP was, e.g. in the stack guard
; page after an overflow.  It pushes SS, RSP, RFLAGS, CS, RIP and, for some
; vectors, an error code.  Each stub evens that out (a dummy error code where
; the CPU pushes none), pushes its vector number and jumps to the common code,
; which saves the general registers and calls the C handler
; glint_rt_exception(frame).  The handler reports the exception to the host
; and never returns: the host does not resume a guest after an exception.
;
; The stubs are GLINT_RT_EXCEPTION_STUB_SIZE (16) bytes apart so that cpu.c
; finds stub N at glint_rt_exception_stubs + 16 * N without a relocated table.

bits 64
default rel

%define STUB_SIZE 16            ; must equal GLINT_RT_EXCEPTION_STUB_SIZE (runtime.h)
%define VECTORS 32

; _Noreturn void glint_rt_exception(const struct glint_rt_exception_frame *frame)
extern glint_rt_exception

section .text

; Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP,
; #PF, #AC, #CP, #VC, #SX.
%macro EXCEPTION_STUB 1
%%begin:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
    ; error code already on the stack
%else
    push strict byte 0          ; dummy error code: one frame layout for all vectors
%endif
    push strict byte %1         ; vector number
    jmp strict near exception_common
    times STUB_SIZE - ($ - %%begin) int3
%endmacro

align STUB_SIZE
global glint_rt_exception_stubs:function hidden
glint_rt_exception_stubs:
%assign vector 0
%rep VECTORS
    EXCEPTION_STUB vector
%assign vector vector + 1
%endrep
; Assemble-time check (not %if: the dependency pass only preprocesses):
; a negative TIMES count fails the build if a stub outgrew STUB_SIZE.
    times -((($ - glint_rt_exception_stubs) != VECTORS * STUB_SIZE)) db 0

; Stack on arrival (IST1, 16-byte aligned by the CPU before its pushes):
;   [rsp] vector, error code, RIP, CS, RFLAGS, RSP, SS  (7 quadwords)
exception_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld                         ; the interrupted code may have had DF set
    mov rdi, rsp                ; struct glint_rt_exception_frame * (runtime.h)
    and rsp, -16                ; SysV alignment for the call (already 16n: 22 quadwords)
    call glint_rt_exception
.hang:                          ; not reached: the handler does not return
    cli
    hlt
    jmp .hang

section .note.GNU-stack noalloc noexec nowrite progbits
