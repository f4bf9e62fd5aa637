/*
 * log.h - the event model of a memtrack log, shared by the writer (fed by
 * the tracer) and the reader (feeding the analyzer).  The byte layout is
 * specified in formats/FORMAT.md; this header is the in-memory view of it,
 * and its MT_EVENTS table is the one definition of the event kinds.
 *
 * A log describes one traced run: a header, then a stream of records.  Most
 * records are events (numbered from 0 in log order, "#N" on the command
 * line); the others define things events refer to: address spaces, modules,
 * stack-trie nodes, strings and symbols.
 */
#ifndef MEMTRACK_FORMATS_LOG_H
#define MEMTRACK_FORMATS_LOG_H

#include <stddef.h>
#include <stdint.h>

#define MT_LOG_MAGIC	     "MEMTRACK"	/* 8 bytes, no terminator in the file */
#define MT_LOG_VERSION	     2		/* the only version this code reads or writes */
#define MT_LOG_MAX_BUILD_ID  64
#define MT_LOG_MAX_TICK	     UINT64_C(1000000000) /* the coarsest time unit: 1 s */

/* How the run was traced (header.mode). */
enum mt_mode {
	MT_MODE_RUN = 1,	/* memtrack run: launched under ptrace */
	MT_MODE_ATTACH = 2,	/* memtrack attach: seized a running process */
};

/* How mmap-family syscalls were captured (header.flags). */
#define MT_LOG_SYSCALLS_SECCOMP	 0x1u	/* seccomp filter, SECCOMP_RET_TRACE */
#define MT_LOG_SYSCALLS_PTRACE	 0x2u	/* PTRACE_SYSCALL on every syscall */
#define MT_LOG_SYSCALLS_WRAPPERS 0x4u	/* breakpoints on libc's wrappers */

/*
 * The allocator entry points memtrack hooks.  The numbers are part of the
 * format (ALLOC/FREE/REALLOC events store them): append, never renumber.
 */
enum mt_fn {
	MT_FN_NONE = 0,
	MT_FN_MALLOC = 1,
	MT_FN_CALLOC = 2,
	MT_FN_REALLOC = 3,
	MT_FN_REALLOCARRAY = 4,
	MT_FN_FREE = 5,
	MT_FN_POSIX_MEMALIGN = 6,
	MT_FN_ALIGNED_ALLOC = 7,
	MT_FN_MEMALIGN = 8,
	MT_FN_VALLOC = 9,
	MT_FN_PVALLOC = 10,
	MT_FN_COUNT
};

/* Name of an allocator function ("malloc"), or NULL when fn is unknown. */
const char *mt_fn_name(unsigned fn);

/* Non-zero when fn takes an argument besides its size (event.arg): calloc's
 * and reallocarray's nmemb, the memalign family's alignment. */
static inline int mt_fn_has_arg(unsigned fn)
{
	return fn == MT_FN_CALLOC || fn == MT_FN_REALLOCARRAY || fn == MT_FN_POSIX_MEMALIGN ||
	       fn == MT_FN_ALIGNED_ALLOC || fn == MT_FN_MEMALIGN;
}

/*
 * The event kinds: one row each, the schema of every event record.  The
 * enum below, the names, the writer's encoding and checks, the reader's
 * decoding and checks and `memtrack replay`'s fallback listing are all
 * expanded from it, and FORMAT.md ("Events") is its description: adding an
 * event kind is adding a row (and bumping MT_LOG_VERSION, FORMAT.md
 * "Versions").
 *
 * A row is X(KIND, tag, "name", fields): MT_EV_KIND, its record tag (the
 * row's number, 1, 2, 3 ...: append, never renumber), the name replay and
 * the reports print, then the fields stored after the four every event
 * starts with (time, pid, tid, flags), in file order, each as
 * F(member of struct mt_event, coding).  Codings:
 *   U64     varint
 *   U32     varint32
 *   I64     zigzag
 *   FN      varint32: an enum mt_fn, never MT_FN_NONE
 *   FREEFN  not stored: MT_FN_FREE, the one function a FREE event has
 *   ARG     varint: stored only after an fn that takes one (calloc and
 *           reallocarray: nmemb; the memalign family: alignment), else 0
 *   CAUSE   varint32: an enum mt_proc_cause
 *   FREED   an address freed, never 0 (free(NULL) is not logged), coded
 *           against the blocks the log's events hold live (FORMAT.md,
 *           "Heap addresses")
 *   OLD     the same for realloc's old block, which may be 0
 *   BORN    an address an allocator returned (0: none), coded against
 *           the addresses freed before it; needs the event's size, so it
 *           comes after it
 *   STRING  varint32: a STRING id, or 0 for none
 *   STACK   varint: a STACK id, or 0 for no stack
 * Members a row does not list are zero when read and ignored when written.
 */
#define MT_EVENTS(X, F)                                                                            \
	/* addr = result (0: failed) */                                                            \
	X(ALLOC, 1, "alloc", F(fn, FN) F(stack, STACK) F(size, U64) F(arg, ARG) F(addr, BORN))     \
	X(FREE, 2, "free", F(fn, FREEFN) F(addr, FREED))                                           \
	/* addr = result (0: failed) */                                                            \
	X(REALLOC, 3, "realloc",                                                                   \
	  F(fn, FN) F(stack, STACK) F(old_addr, OLD) F(size, U64) F(arg, ARG) F(addr, BORN))       \
	/* addr = result, size = length, path = the file (0: anonymous) */                         \
	X(MMAP, 4, "mmap",                                                                         \
	  F(addr, U64) F(size, U64) F(prot, U32) F(mflags, U32) F(fd, I64) F(offset, U64)          \
		  F(path, STRING) F(stack, STACK))                                                 \
	/* size = length, result = the raw return value */                                         \
	X(MUNMAP, 5, "munmap", F(addr, U64) F(size, U64) F(result, I64) F(stack, STACK))           \
	/* addr = result */                                                                        \
	X(MREMAP, 6, "mremap",                                                                     \
	  F(old_addr, U64) F(old_size, U64) F(addr, U64) F(size, U64) F(mflags, U32)               \
		  F(stack, STACK))                                                                 \
	/* arg = requested break, addr = resulting break */                                        \
	X(BRK, 7, "brk", F(arg, U64) F(addr, U64) F(stack, STACK))                                 \
	/* tid started in process pid */                                                           \
	X(THREAD_START, 8, "thread_start", )                                                       \
	/* tid ended; status = wait status if known */                                             \
	X(THREAD_EXIT, 9, "thread_exit", F(status, I64))                                           \
	/* pid now runs in address space `space`; arg = parent pid */                              \
	X(PROC_START, 10, "proc_start", F(space, U32) F(arg, U64) F(mflags, CAUSE))                \
	/* pid ended; status = wait status */                                                      \
	X(PROC_EXIT, 11, "proc_exit", F(status, I64))                                              \
	/* arg = which --mark (1-based, in command-line order), path = its location text */        \
	X(MARK, 12, "mark", F(arg, U64) F(path, STRING) F(stack, STACK))                           \
	/* size = resident set size in bytes */                                                    \
	X(RSS, 13, "rss", F(size, U64))

/* An F for MT_EVENTS() when only the rows matter. */
#define MT_EV_NO_FIELDS(member, coding)

/* Event types: the record tags in the file.  (clang-format would take the
 * expansion for a statement.) */
/* clang-format off */
enum mt_event_type {
#define MT_EV_ENUM(kind, tag, name, fields) MT_EV_##kind = tag,
	MT_EVENTS(MT_EV_ENUM, MT_EV_NO_FIELDS)
#undef MT_EV_ENUM
	MT_EV_TYPE_COUNT
};
/* clang-format on */

/* Name of an event type ("alloc"), or NULL when unknown. */
const char *mt_event_name(unsigned type);

enum mt_proc_cause {
	MT_PROC_EXEC = 1,	/* the first traced image, or an exec */
	MT_PROC_FORK = 2,	/* fork/vfork/clone of a process */
	MT_PROC_ATTACH = 3,	/* a running process we attached to */
};

/* Event flags (mt_event.flags). */
#define MT_EVF_IN_ALLOC	 0x1u	/* syscall made from inside an allocator call */
#define MT_EVF_FAILED	 0x2u	/* the call failed (NULL, MAP_FAILED, -errno) */
#define MT_EVF_PREEXIST	 0x4u	/* attach: freed block allocated before attach */
#define MT_EVF_TRUNCATED 0x8u	/* the stack was cut at --depth */

/*
 * One event.  Fields not listed for a type in the enum above are zero when
 * read and ignored when written.
 *
 * 128 bytes, and what a heap event holds (and a replay reads of it) in the
 * first 64: a report decodes the log in one thread and replays it in
 * another, and an event's second cache line then never moves between them
 * unless the event is of another type.
 */
struct mt_event {
	uint32_t type;		/* enum mt_event_type */
	uint32_t fn;		/* enum mt_fn (heap events) */
	uint64_t time_ns;	/* since header.start, monotonic */
	uint32_t pid;
	uint32_t tid;
	uint32_t space;		/* PROC_START only */
	uint32_t flags;		/* MT_EVF_* */
	uint64_t addr;
	uint64_t old_addr;
	uint64_t size;
	uint64_t stack;		/* stack-trie node id, 0 = no stack */
	/* the second cache line */
	uint64_t old_size;
	uint64_t arg;		/* calloc: nmemb; memalign family: alignment */
	uint32_t prot;		/* mmap */
	uint32_t mflags;	/* mmap/mremap flags; PROC_START cause */
	uint32_t path;		/* string id: mmap's file (0 = anonymous), a
				   mark's location text */
	int64_t fd;		/* mmap */
	uint64_t offset;	/* mmap */
	int64_t result;		/* munmap / failed syscalls: raw return value */
	int64_t status;		/* exit events: wait(2) status, -1 unknown */
};

_Static_assert(sizeof(struct mt_event) == 128, "struct mt_event is two cache lines");

/*
 * A module: one ELF file mapped into an address space.  pcs inside
 * [start, end) belong to it; bias is the load bias (runtime address minus
 * ELF virtual address).
 */
struct mt_module {
	uint32_t id;		/* 1-based, in log order */
	uint32_t space;
	uint64_t start, end;
	uint64_t bias;
	const char *path;	/* borrowed */
	uint8_t build_id[MT_LOG_MAX_BUILD_ID];
	uint32_t build_id_len;
};

/*
 * Symbols: what a pc means in the source.  A pc resolves to one or more
 * frames, innermost inline level first; the last is the real function.
 */
#define MT_SYMF_ALLOCATOR 0x1u	/* the function is an allocator entry point or
				   allocator internals: reports attribute to the
				   first frame outside it */

struct mt_symframe {
	const char *function;	/* demangled; NULL if unknown */
	const char *file;	/* full source path; NULL if unknown */
	uint32_t line;		/* 0 if unknown */
	uint32_t flags;		/* MT_SYMF_* */
};

#define MT_SYM_MAX_INLINE 16

struct mt_symbol {
	uint32_t space;
	uint64_t pc;		/* as stored in stack nodes */
	uint32_t module;	/* module id, 0 if the pc is in no known module */
	uint64_t offset;	/* pc - module bias (an ELF address) */
	const char *comp_dir;	/* compilation directory of the CU, or NULL */
	uint32_t nframes;
	struct mt_symframe frames[MT_SYM_MAX_INLINE];
};

/*
 * The kernel's numbers as the log stores them: mmap's prot and flags and
 * mremap's flags are the traced call's own arguments, so their values are
 * the x86_64 Linux ABI's.  They are named here, not taken from
 * <sys/mman.h>, because the analyzer reads logs and must not depend on the
 * headers of the machine it happens to be built on.
 */
#define MT_PAGE_SIZE UINT64_C(4096) /* what mmap lengths are rounded up to */
#define MT_MAX_ERRNO 4095	    /* raw results -MT_MAX_ERRNO..-1 are errors */

#define MT_PROT_NONE	  0x0u
#define MT_PROT_READ	  0x1u
#define MT_PROT_WRITE	  0x2u
#define MT_PROT_EXEC	  0x4u
#define MT_PROT_SEM	  0x8u
#define MT_PROT_GROWSDOWN 0x01000000u
#define MT_PROT_GROWSUP	  0x02000000u

#define MT_MAP_TYPE	       0xfu /* the bits holding one of the three types */
#define MT_MAP_SHARED	       0x1u
#define MT_MAP_PRIVATE	       0x2u
#define MT_MAP_SHARED_VALIDATE 0x3u
#define MT_MAP_FIXED	       0x10u
#define MT_MAP_ANONYMOUS       0x20u
#define MT_MAP_GROWSDOWN       0x100u
#define MT_MAP_DENYWRITE       0x800u
#define MT_MAP_EXECUTABLE      0x1000u
#define MT_MAP_LOCKED	       0x2000u
#define MT_MAP_NORESERVE       0x4000u
#define MT_MAP_POPULATE	       0x8000u
#define MT_MAP_NONBLOCK	       0x10000u
#define MT_MAP_STACK	       0x20000u
#define MT_MAP_HUGETLB	       0x40000u
#define MT_MAP_SYNC	       0x80000u
#define MT_MAP_FIXED_NOREPLACE 0x100000u

#define MT_MREMAP_MAYMOVE   0x1u
#define MT_MREMAP_FIXED	    0x2u
#define MT_MREMAP_DONTUNMAP 0x4u

/* A raw syscall result that is an error (-4095..-1, as the kernel returns
 * them); also how MMAP/MREMAP results are judged. */
static inline int mt_syscall_failed(int64_t ret)
{
	return ret < 0 && ret >= -MT_MAX_ERRNO;
}

/* A wait(2) status (exit events, the trailer) as a shell reports it: the
 * exit status, or 128 + the signal that killed; -1 when unknown. */
int mt_exit_code(int64_t status);

/* The header: what was traced, how, when. */
struct mt_log_header {
	uint32_t version;
	uint32_t mode;		/* enum mt_mode */
	uint32_t flags;		/* MT_LOG_SYSCALLS_* */
	uint32_t depth;		/* --depth */
	uint32_t pid;		/* the first process traced */
	uint64_t start_realtime_ns; /* CLOCK_REALTIME when tracing began */
	uint64_t tick_ns;	/* the unit of event times (1 to MT_LOG_MAX_TICK):
				   times are multiples of it, rounded down */
	const char *cwd;	/* borrowed */
	uint32_t argc;
	char *const *argv;	/* borrowed */
};

/* The trailer, written last by a tracer that finished normally. */
struct mt_log_trailer {
	int64_t exit_status;	/* wait(2) status of the first process, -1 unknown */
	uint64_t duration_ns;
	uint64_t events;	/* how many events the log holds */
	uint32_t flags;		/* MT_TRAILER_* */
};

#define MT_TRAILER_DETACHED 0x1u /* attach mode: target still running */
#define MT_TRAILER_ABORTED  0x2u /* tracer stopped early (signal) */

#endif
