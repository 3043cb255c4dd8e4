/* The freestanding workers' libc: setjmp/longjmp keep the callee-saved registers, the stack pointer
 * and the return address (i386: ebx, esi, edi, ebp; x86_64: rbx, rbp, r12-r15). */
#ifndef SKBREF_WORKER_SETJMP_H
#define SKBREF_WORKER_SETJMP_H
typedef unsigned long jmp_buf[8]; /* i386: 6 words used; x86_64: 8 */
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int value);
#endif
