/* The freestanding i386 worker's libc (CReference/worker/freestanding.c): what the C reference uses. */
#ifndef SKBREF_WORKER_STRING_H
#define SKBREF_WORKER_STRING_H
#include <stddef.h>
void *memcpy(void *to, const void *from, size_t n);
void *memmove(void *to, const void *from, size_t n);
void *memset(void *p, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* The compiler's builtins (inlined for small constant sizes; -ffreestanding alone would call the
 * functions for every 8-byte load of the digest); freestanding.c defines the functions themselves. */
#ifndef SKBREF_WORKER_LIBC
#define memcpy(to, from, n) __builtin_memcpy((to), (from), (n))
#define memmove(to, from, n) __builtin_memmove((to), (from), (n))
#define memset(p, c, n) __builtin_memset((p), (c), (n))
#define memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#endif
#endif
