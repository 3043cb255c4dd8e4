/*
 * worker_io.h: the workers' wire format (Sources/SKBDiff/Worker.swift speaks the other end).
 *
 * Every message is a header {u32 tag, u32 size} and size bytes of payload, native (little-endian)
 * integers; a reply echoes its request's tag. The worker holds one world and one variant at a time
 * and its own pool of references (Specs/snapshot.md, "The pool"), so that a whole sequence can be
 * sent at once. The records a call, an outcome and a state travel as, and the batch a WORKER_BATCH
 * request carries, are skbref_driver.h's: the x86_64 C reference runs the same batches in process.
 */
#ifndef SKBREF_WORKER_IO_H
#define SKBREF_WORKER_IO_H

#include <stddef.h>
#include <stdint.h>

#include "skbref_driver.h"

#define SKBREF_WORKER_VERSION 3

enum skbref_worker_tag {
    WORKER_HELLO = 1,    /* -> version, pointer size, variant count, each variant's sizes, alignments, fields */
    WORKER_OPEN = 2,     /* {i32 uses_offset, i32 profile, u32 cache_bytes} -> {i32 ok, u32 arena_base} */
    WORKER_RESET = 3,    /* {} -> nothing */
    WORKER_MUTANT = 4,   /* {i32 mutant} -> nothing */
    WORKER_RUN = 5,      /* call -> outcome */
    WORKER_STATE = 6,    /* {i32 reference} -> reference state */
    WORKER_SNAPSHOT = 7, /* {} -> {u32 n} n reference states */
    WORKER_LIVE = 8,     /* {} -> {u32 live allocations} */
    WORKER_BATCH = 9,    /* sequences -> a digest each (skbref_driver.h, "Batches") */
};

struct skbref_worker_header {
    uint32_t tag;
    uint32_t size;
};


long worker_read(int fd, void *p, size_t n);
long worker_write(int fd, const void *p, size_t n);
_Noreturn void worker_exit(int code);

#endif
