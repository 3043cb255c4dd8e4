/* The freestanding i386 worker's libc: mallopt is accepted and ignored (its allocator keeps freed memory). */
#ifndef SKBREF_WORKER_MALLOC_H
#define SKBREF_WORKER_MALLOC_H
#include <stdlib.h>
#define M_TRIM_THRESHOLD (-1)
#define M_MMAP_THRESHOLD (-3)
int mallopt(int param, int value);
#endif
