; init_attacks.asm - guests without the runtime that attack the host while it
; initialises them.  Built once per attack with -DATTACK=<n> (see
; CMakeLists.txt: hostile_init_<name>.elf); tests/hostile/test_hostile.c
; expects each one's outcome.
;
; Entry state (glint/abi.h): long mode, CPL 3, the host's page tables, GDT,
; TSS and IDT, RDI = PEB.  There is no runtime: any exception goes straight to
; the host's CPL-0 stubs, which report it (vector, RIP).  The output buffer is
; peb->output (size at PEB+16, address at PEB+24); the host has set its top
; to 8 (empty).  Attacks 2, 9, 15 and 18 fault on the entry point's first
; instruction (the host test checks that the reported RIP is the entry).
;
;  1 spin        never finishes initialisation (needs a deadline or a kill)
;  2 hlt         HLT loop (HLT at CPL 3: #GP)
;  3 garbage     output buffer = garbage, OUT DONE
;  4 top         output top = 2^64 - 8, OUT DONE
;  5 count       FUNCTIONS claiming 2^32 - 1 functions
;  6 duplicate   FUNCTIONS naming the same function twice
;  7 empty       OUT DONE with nothing on the output buffer
;  8 result      a RESULT instead of FUNCTIONS
;  9 ud2         #UD with no runtime
; 10 in          IN from the DONE port
; 11 name_len    FUNCTIONS entry whose name claims 2^32 - 1 bytes
; 12 trailing    FUNCTIONS with bytes after the last entry
; 13 void_param  FUNCTIONS entry with a VOID parameter
; 14 raw_result  valid FUNCTIONS ("f": () -> bytes); every call then answers
;                with a RESULT claiming 2^32 - 16 bytes
; 15 exception   OUT to the EXCEPTION port (a forged report; not in the I/O
;                bitmap: #GP)
; 16 abort       OUT to the ABORT port with a garbage message
; 17 log_storm   100000 OUT LOG with a valid record, never DONE (deadline)
; 18 wrmsr       WRMSR as the first instruction (MSR 0 := 0: ECX, EDX and EAX
;                are 0 at entry): #GP, the privilege check comes first

%ifndef GLINT_ABI_VERSION
%error "define GLINT_ABI_VERSION (from common/include/glint/abi.h)"
%endif

bits 64
default rel

%define PORT_DONE 0xE0
%define PORT_LOG 0xE2
%define PORT_ABORT 0xE4
%define PORT_EXCEPTION 0xE5
%define PEB_OUTPUT_PTR 24

%ifndef ATTACK
%error "define ATTACK"
%endif

section .text
global _start:function (_start.end - _start)
_start:
%if ATTACK == 2
.halt:
    hlt
    jmp .halt
%elif ATTACK == 9
    ud2
%elif ATTACK == 15
    out PORT_EXCEPTION, al
%elif ATTACK == 18
    wrmsr                               ; MSR 0 := 0 (entry state): #GP at CPL 3
%else
    mov rbx, [rdi + PEB_OUTPUT_PTR]     ; output buffer
%endif
%if ATTACK == 1
.spin:
    pause
    jmp .spin
%elif ATTACK == 2 || ATTACK == 9 || ATTACK == 15 || ATTACK == 18
    ; faulted above
%elif ATTACK == 7
    xor eax, eax
    out PORT_DONE, al
%elif ATTACK == 10
    in al, PORT_DONE
%elif ATTACK == 17
    mov r12d, 100000
.again:
    lea rsi, [tmpl]
    mov rdi, rbx
    mov ecx, tmpl.end - tmpl
    rep movsb
    out PORT_LOG, al
    dec r12d
    jnz .again
.forever:
    pause
    jmp .forever
%else
    lea rsi, [tmpl]
    mov rdi, rbx
    mov ecx, tmpl.end - tmpl
    rep movsb
  %if ATTACK == 16
    out PORT_ABORT, al
  %else
    out PORT_DONE, al
  %endif
  %if ATTACK == 14
    ; Each call resumes here: answer it with the bogus RESULT.
.answer:
    lea rsi, [tmpl2]
    mov rdi, rbx
    mov ecx, tmpl2.end - tmpl2
    rep movsb
    out PORT_DONE, al
    jmp .answer
  %endif
%endif
.stop:                                  ; never resumed (the host failed the run)
    pause
    jmp .stop
.end:

; Stack images: top (u64), one message, padding, back-pointer (u64) = 8.
%macro STACK_BEGIN 1
align 8, db 0
%1:
    dq %1.end - %1
%1.msg:
%endmacro
%macro STACK_END 1
align 8, db 0
    dq %1.msg - %1
%1.end:
%endmacro
; Message header: kind, wire version 1, reserved, body length.
%macro HEADER 2
    db %1, 1, 0, 0
    dd %2
%endmacro

section .rodata align=8
%if ATTACK == 3
tmpl:
    dq 0x4141414141414141, 0x0102030405060708, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000
    dq 0x00000000DEADBEEF, 0x7777777777777777, 0x0000000000000010, 0xFFFFFFFF00000007
.end:
%elif ATTACK == 4
tmpl:                           ; a valid empty FUNCTIONS, but top = 2^64 - 8
    dq 0xFFFFFFFFFFFFFFF8
    HEADER 7, 4
    dd 0
    dq 8
.end:
%elif ATTACK == 5
STACK_BEGIN tmpl
    HEADER 7, 4
    dd 0xFFFFFFFF
STACK_END tmpl
%elif ATTACK == 6
STACK_BEGIN tmpl
    HEADER 7, .body_end - .body
.body:
    dd 2
    dd 2
    db "ab", 0, 1, 0
    dd 2
    db "ab", 0, 1, 0
.body_end:
STACK_END tmpl
%elif ATTACK == 8
STACK_BEGIN tmpl
    HEADER 2, 9
    db 4
    dq 42
STACK_END tmpl
%elif ATTACK == 11
STACK_BEGIN tmpl
    HEADER 7, .body_end - .body
.body:
    dd 1
    dd 0xFFFFFFFF
    db "f", 0, 1, 0
.body_end:
STACK_END tmpl
%elif ATTACK == 12
STACK_BEGIN tmpl
    HEADER 7, .body_end - .body
.body:
    dd 1
    dd 1
    db "f", 0, 1, 0
    db 0xAA, 0xBB
.body_end:
STACK_END tmpl
%elif ATTACK == 13
STACK_BEGIN tmpl
    HEADER 7, .body_end - .body
.body:
    dd 1
    dd 1
    db "f", 0, 1, 1, 0
.body_end:
STACK_END tmpl
%elif ATTACK == 14
STACK_BEGIN tmpl
    HEADER 7, .body_end - .body
.body:
    dd 1
    dd 1
    db "f", 0, 9, 0
.body_end:
STACK_END tmpl
STACK_BEGIN tmpl2
    HEADER 2, 9
    db 9
    dd 0xFFFFFFF0
    db "xyzw"
STACK_END tmpl2
%elif ATTACK == 16
STACK_BEGIN tmpl
    HEADER 6, 12
    dd 7
    dd 0x7FFFFFFF
    db "oops"
STACK_END tmpl
%elif ATTACK == 17
STACK_BEGIN tmpl
    HEADER 4, .body_end - .body
.body:
    dd 2
    dd 1
    dd 1
    db "f", 0
    dd 5
    db "storm", 0
.body_end:
STACK_END tmpl
%else
tmpl:
.end:
%endif

; The ABI note the host requires (see tests/guests/tiny.asm).
section .note.glint note alloc noexec nowrite align=4
    dd 6
    dd 8
    dd 0x474c4e01
    db "Glint", 0, 0, 0
    dd GLINT_ABI_VERSION
    dd 0

section .note.GNU-stack noalloc noexec nowrite progbits
