/* The freestanding i386 worker's libc: setjmp/longjmp keep ebx, esi, edi, ebp, esp and the return address. */
#ifndef SKBREF_WORKER_SETJMP_H
#define SKBREF_WORKER_SETJMP_H
typedef unsigned long jmp_buf[6];
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int value);
#endif
