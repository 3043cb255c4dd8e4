/* The freestanding i386 worker's libc (CReference/worker/freestanding.c): what the C reference uses. */
#ifndef SKBREF_WORKER_STDLIB_H
#define SKBREF_WORKER_STDLIB_H
#include <stddef.h>
void *malloc(size_t n);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
_Noreturn void abort(void);
#endif
