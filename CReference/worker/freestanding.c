/*
 * freestanding.c: the little of a C library the workers need, so that they build with nothing but
 * the Swift toolchain's clang and lld (no 32-bit libc, no gcc-multilib): Linux system calls (int
 * $0x80 on i386, syscall on x86_64, where the kernel worker of `--kernel-tree` runs too), mem*, a
 * size-class allocator over mmap, setjmp/longjmp, and the entry point.
 * Specs/snapshot.md ("The i386 C reference") says why and how skbdiff builds it.
 */
#define SKBREF_WORKER_LIBC 1
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>

#include "worker_io.h"

#if defined(__i386__)
/* ---- System calls (i386: eax number, ebx, ecx, edx, esi, edi, ebp arguments; int $0x80). ---- */

#define SYS_exit_group 252
#define SYS_read 3
#define SYS_write 4
#define SYS_munmap 91
#define SYS_mmap2 192

static long sys1(long n, long a)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a) : "memory");
    return r;
}

static long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

/* mmap2 takes six arguments: the fifth and sixth (edi, ebp) come from memory, ebp saved around the
 * call because the compiler may be using it as the frame pointer. */
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    long last[2] = {e, f};
    long *p = last;
    __asm__ volatile("push %%ebp\n\t"
                     "mov 4(%%edi), %%ebp\n\t"
                     "mov 0(%%edi), %%edi\n\t"
                     "int $0x80\n\t"
                     "pop %%ebp"
                     : "=a"(r), "+D"(p)
                     : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d)
                     : "memory");
    return r;
}

#elif defined(__x86_64__)
/* ---- System calls (x86_64: rax number, rdi, rsi, rdx, r10, r8, r9 arguments; syscall). ---- */

#define SYS_exit_group 231
#define SYS_read 0
#define SYS_write 1
#define SYS_munmap 11
#define SYS_mmap 9

static long sys1(long n, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
    return r;
}

static long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return r;
}

#else
#error "the worker is built for i386 or x86_64"
#endif

_Noreturn void worker_exit(int code)
{
    for (;;)
        sys1(SYS_exit_group, code);
}

_Noreturn void abort(void) { worker_exit(134); }

long worker_read(int fd, void *p, size_t n) { return sys3(SYS_read, fd, (long)p, (long)n); }

long worker_write(int fd, const void *p, size_t n) { return sys3(SYS_write, fd, (long)p, (long)n); }

void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)
{
#if defined(__i386__)
    long r = sys6(SYS_mmap2, (long)addr, (long)length, prot, flags, fd, offset >> 12);
#else
    long r = sys6(SYS_mmap, (long)addr, (long)length, prot, flags, fd, offset);
#endif
    return (unsigned long)r >= (unsigned long)-4095 ? MAP_FAILED : (void *)r;
}

int munmap(void *addr, size_t length) { return (int)sys3(SYS_munmap, (long)addr, (long)length, 0); }

/* ---- Memory and strings. ---- */

void *memcpy(void *to, const void *from, size_t n)
{
    void *d = to;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(from), "+c"(n) : : "memory");
    return to;
}

void *memmove(void *to, const void *from, size_t n)
{
    unsigned char *d = to;
    const unsigned char *s = from;
    if (d <= s || d >= s + n)
        return memcpy(to, from, n);
    while (n--)
        d[n] = s[n];
    return to;
}

void *memset(void *p, int c, size_t n)
{
    void *d = p;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return p;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    size_t i = 0;
    /* Four bytes at a time while they are equal (the state memo compares whole sk_buffs). */
    for (; i + 4 <= n; i += 4) {
        uint32_t u, v;
        __builtin_memcpy(&u, x + i, 4);
        __builtin_memcpy(&v, y + i, 4);
        if (u != v)
            break;
    }
    for (; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* ---- Allocation: power-of-two classes from 16 bytes to 64 KiB on free lists, larger blocks mapped
 * alone. Each block has a 16-byte header: its size when mapped alone (a size_t at 0), its class (an
 * int at 8, -1 when mapped alone). ---- */

#define HEADER 16u
#define CLASSES 13        /* 16 << 12 = 64 KiB */
#define CHUNK ((size_t)1 << 20)

struct free_block {
    struct free_block *next;
};

static struct free_block *free_lists[CLASSES];
static unsigned char *chunk_next, *chunk_end;

static int class_of(size_t n)
{
    int c = 0;
    while (((size_t)16 << c) < n)
        c++;
    return c;
}

void *malloc(size_t n)
{
    if (n > ((size_t)16 << (CLASSES - 1))) {
        size_t total = (n + HEADER + 4095) & ~(size_t)4095;
        if (total < n)
            return NULL;
        unsigned char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        *(size_t *)m = total;
        *(int *)(m + 8) = -1;
        return m + HEADER;
    }
    int c = class_of(n ? n : 1);
    if (free_lists[c]) {
        struct free_block *b = free_lists[c];
        free_lists[c] = b->next;
        return b;
    }
    size_t size = ((size_t)16 << c) + HEADER;
    if ((size_t)(chunk_end - chunk_next) < size) {
        unsigned char *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        chunk_next = m;
        chunk_end = m + CHUNK;
    }
    unsigned char *p = chunk_next;
    chunk_next += size;
    *(int *)(p + 8) = c;
    return p + HEADER;
}

static size_t usable_size(const unsigned char *p)
{
    int c = *(const int *)(p - HEADER + 8);
    return c < 0 ? *(const size_t *)(p - HEADER) - HEADER : (size_t)16 << c;
}

void free(void *p)
{
    if (!p)
        return;
    unsigned char *b = p;
    int c = *(int *)(b - HEADER + 8);
    if (c < 0) {
        munmap(b - HEADER, *(size_t *)(b - HEADER));
        return;
    }
    struct free_block *f = p;
    f->next = free_lists[c];
    free_lists[c] = f;
}

void *calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    size_t old = usable_size(p);
    if (n <= old)
        return p;
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, old);
    free(p);
    return q;
}

int mallopt(int param, int value)
{
    (void)param;
    (void)value;
    return 1;
}

#if defined(__i386__)
/* ---- setjmp/longjmp (cdecl): ebx, esi, edi, ebp, the caller's esp and the return address. ---- */

__asm__(".text\n"
        ".globl setjmp\n"
        ".type setjmp,@function\n"
        "setjmp:\n"
        "  mov 4(%esp), %eax\n"
        "  mov %ebx, 0(%eax)\n"
        "  mov %esi, 4(%eax)\n"
        "  mov %edi, 8(%eax)\n"
        "  mov %ebp, 12(%eax)\n"
        "  lea 4(%esp), %ecx\n"
        "  mov %ecx, 16(%eax)\n"
        "  mov 0(%esp), %ecx\n"
        "  mov %ecx, 20(%eax)\n"
        "  xor %eax, %eax\n"
        "  ret\n"
        ".globl longjmp\n"
        ".type longjmp,@function\n"
        "longjmp:\n"
        "  mov 4(%esp), %edx\n"
        "  mov 8(%esp), %eax\n"
        "  test %eax, %eax\n"
        "  jnz 1f\n"
        "  inc %eax\n"
        "1:\n"
        "  mov 0(%edx), %ebx\n"
        "  mov 4(%edx), %esi\n"
        "  mov 8(%edx), %edi\n"
        "  mov 12(%edx), %ebp\n"
        "  mov 16(%edx), %esp\n"
        "  jmp *20(%edx)\n");

#else
/* ---- setjmp/longjmp (System V x86_64): rbx, rbp, r12-r15, the caller's rsp and the return address. ---- */

__asm__(".text\n"
        ".globl setjmp\n"
        ".type setjmp,@function\n"
        "setjmp:\n"
        "  mov %rbx, 0(%rdi)\n"
        "  mov %rbp, 8(%rdi)\n"
        "  mov %r12, 16(%rdi)\n"
        "  mov %r13, 24(%rdi)\n"
        "  mov %r14, 32(%rdi)\n"
        "  mov %r15, 40(%rdi)\n"
        "  lea 8(%rsp), %rdx\n"
        "  mov %rdx, 48(%rdi)\n"
        "  mov (%rsp), %rdx\n"
        "  mov %rdx, 56(%rdi)\n"
        "  xor %eax, %eax\n"
        "  ret\n"
        ".globl longjmp\n"
        ".type longjmp,@function\n"
        "longjmp:\n"
        "  mov %esi, %eax\n"
        "  test %eax, %eax\n"
        "  jnz 1f\n"
        "  inc %eax\n"
        "1:\n"
        "  mov 0(%rdi), %rbx\n"
        "  mov 8(%rdi), %rbp\n"
        "  mov 16(%rdi), %r12\n"
        "  mov 24(%rdi), %r13\n"
        "  mov 32(%rdi), %r14\n"
        "  mov 40(%rdi), %r15\n"
        "  mov 48(%rdi), %rsp\n"
        "  jmp *56(%rdi)\n");

#endif

/* ---- Entry: a 16-byte aligned stack, then worker_main; its return value is the exit status. ---- */

int worker_main(void);

#if defined(__i386__)
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %esp\n"
        "  call worker_start\n"
        "  hlt\n");

#else
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  call worker_start\n"
        "  hlt\n");

#endif

/* The worker ends when its input does: when skbdiff closes the pipe, or exits however it exits.
 * (Not PR_SET_PDEATHSIG: that fires when the *thread* that started the worker ends, and skbdiff's
 * threads come and go while the workers they started serve others.) */
__attribute__((used)) _Noreturn void worker_start(void) { worker_exit(worker_main()); }
