/*
 * replay.h - streams a log's events into the state of the traced memory:
 * the live heap blocks (keyed by address space and address), the regions
 * the program mapped itself, the processes and their address spaces, and
 * the counters `summary` prints.
 *
 * Heap counting follows valgrind memcheck's "total heap usage": a failed
 * call counts nothing, realloc is one alloc of the new size plus one free of
 * the old block, realloc(p, 0) returning NULL is a free.  Freeing a block
 * that is not live is not a free: in an address space memtrack attached to
 * (and in its forks) it is a preexisting free, a block allocated before the
 * attach; anywhere else an unknown free (a double free, or a missed event).
 *
 * Processes (FORMAT.md, PROC_START): a fork into a new address space starts
 * that space with a copy of its parent's live blocks and mappings, so a
 * child's frees of inherited blocks are ordinary frees; a fork into the
 * parent's space (vfork, CLONE_VM) shares it; an exec leaves the old space,
 * whose blocks are gone once no process runs in it.
 *
 * --pid: every event is applied (a child needs its parent's state at the
 * fork), but only the chosen process counts: its events in the counters,
 * the spaces it ran in for what is live.
 *
 * Temporary allocations (heaptrack's definition): a block freed by the
 * thread that allocated it before that thread allocated anything else.
 *
 * Memory grows with live blocks (a few bytes each), live mappings,
 * processes, threads and lots, never with events.
 */
#ifndef MEMTRACK_ANALYZER_REPLAY_H
#define MEMTRACK_ANALYZER_REPLAY_H

#include <stdint.h>

#include "../formats/log.h"
#include "../formats/blocks.h"
#include "regions.h"
#include "table.h"

/*
 * Lots: what blocks have in common, counted together.  A heap lot is the
 * blocks of one size allocated from one stack in one address space (and,
 * for leaks --at, on one side of that moment: late); a mapping lot, the
 * mappings made from one stack in one space.  Every live block belongs to
 * one lot, and a live heap block is only its address and its lot's number
 * (blocks.h), so memory follows live blocks at a few bytes each, and
 * distinct (size, stack) pairs, which are few, at a hundred.  A snapshot
 * sums lots, never blocks.
 *
 * Each lot also keeps its counts as they were at the last peak (the first
 * event at which the memory of replay.kind was highest so far): saved the
 * first time the lot changes after a peak, when stamp falls behind
 * replay.peaks.  So the state at the peak is known at the end of one pass.
 */
struct lot_counts {
	uint64_t live_bytes, live;	/* live now */
	uint64_t alloc_bytes, allocs;	/* allocated (mapped) by the chosen processes */
	uint64_t temp_bytes, temps;	/* their temporary allocations */
};

struct lot {
	/* what every block's alloc and free touch, in one cache line */
	uint64_t size;		/* heap: each block's; mappings: 0 */
	uint64_t stamp;		/* replay.peaks when at_peak was saved */
	struct lot_counts now;
	/* the rest */
	uint64_t stack;
	uint32_t space;
	uint8_t kind;		/* AN_KIND_HEAP or AN_KIND_MMAP */
	uint8_t late;		/* heap: allocated once replay.late was set */
	struct lot_counts at_peak;
} __attribute__((aligned(64)));

struct lot_key {
	uint64_t stack, size;
	uint32_t space;
	uint32_t kind_late;	/* kind | late << 8 */
};

static inline uint64_t lot_key_hash(struct lot_key k)
{
	return hash_mix64(k.stack ^ hash_mix64(k.size ^ ((uint64_t)k.space << 32 | k.kind_late)));
}

static inline int lot_key_eq(struct lot_key a, struct lot_key b)
{
	return a.stack == b.stack && a.size == b.size && a.space == b.space &&
	       a.kind_late == b.kind_late;
}

HASH_DEFINE(lot_index, struct lot_key, uint32_t, lot_key_hash, lot_key_eq)

/* In front of replay.lot_index: the lots used last, by a hash of their key,
 * in one array (the index's keys and values lie in arrays of their own). */
#define LOT_CACHE 4096
struct lot_cache_entry {
	struct lot_key key;
	uint32_t n;		/* 0: empty */
};

/* Per-stack totals (the sites of a snapshot, keyed by (stack, AN_KIND_HEAP
 * or AN_KIND_MMAP)). */
struct site_totals {
	uint64_t bytes;		/* allocated (mapped) */
	uint64_t count;		/* allocations (mappings) */
	uint64_t temp_bytes;	/* temporary allocations */
	uint64_t temps;
};

/* One process (replay.procs, keyed by pid). */
struct proc_state {
	uint32_t space;		/* the address space it runs in now */
	uint32_t parent;	/* 0 if unknown */
	uint32_t execs;		/* PROC_START events with cause exec */
	uint32_t exited;
	uint32_t started;	/* a PROC_START named it (else made up, in space 0) */
	int64_t status;		/* wait status once exited, -1 unknown */
	uint64_t start_ns;
	uint64_t allocs, frees, bytes_allocated;
};

/* One address space (replay.spaces, keyed by space id). */
struct space_state {
	uint64_t heap;		/* live heap bytes */
	struct blocks *blocks;	/* its live heap blocks -> their lots; NULL: none yet */
	uint64_t gone_stamp;	/* replay.peaks when it went gone */
	uint32_t owner;		/* the process that made it */
	uint32_t pids;		/* processes running in it now */
	uint8_t selected;	/* its memory counts (--pid) */
	uint8_t attached;	/* frees of unknown blocks are preexisting */
	uint8_t gone;		/* its last process exited */
};

/* What a thread allocated last (replay.last_alloc, keyed by tid). */
struct last_alloc {
	uint32_t space;
	uint64_t addr;
};

/* A process's last RSS sample (replay.rss_pids, keyed by pid). */
struct rss_sample {
	uint64_t bytes;
};

HASH_DEFINE(site_table, struct table_key, struct site_totals, table_hash_pair, table_eq_pair)
HASH_DEFINE(proc_table, uint64_t, struct proc_state, table_hash_u64, table_eq_u64)
/* cppcheck's whole-program pass tells the functions of one HASH_DEFINE
 * apart by line, and takes space_table_put(t, 0, ...) for a null pointer
 * passed to space_table_copy() */
/* cppcheck-suppress ctunullpointer */
HASH_DEFINE(space_table, uint64_t, struct space_state, table_hash_u64, table_eq_u64)
HASH_DEFINE(last_alloc_table, uint64_t, struct last_alloc, table_hash_u64, table_eq_u64)
HASH_DEFINE(rss_table, uint64_t, struct rss_sample, table_hash_u64, table_eq_u64)

struct replay_counts {
	uint64_t events;
	uint64_t allocs, frees, unknown_frees, preexisting_frees;
	/* frees of unknown blocks a thread made just before it exited, and
	 * nothing else between: glibc's per-thread cache torn down (the
	 * blocks it held, freed once already, and the cache itself) */
	uint64_t teardown_frees;
	uint64_t bytes_allocated;
	uint64_t heap_live, heap_peak;
	uint64_t temporaries, temporary_bytes;
	uint64_t mmap_calls, munmap_calls, mremap_calls, brk_calls;
	uint64_t mmap_calls_in_allocator;
	uint64_t mmap_peak;
	uint64_t marks;
	uint64_t rss_samples, rss_peak;
	/* allocations (as allocs counts them) by size class: [0] size 0,
	 * [k] sizes in [2^(k-1), 2^k) */
	uint64_t size_allocs[65], size_bytes[65];
};

/* The size class of an allocation of `size` bytes (replay_counts). */
static inline unsigned replay_size_class(uint64_t size)
{
	return size ? 64 - (unsigned)__builtin_clzll(size) : 0;
}

/* Memory of the chosen processes by kind. */
struct replay_memory {
	uint64_t heap, anon, file;
};

/* What the last heap event did to the blocks of its space (replay.heap_out,
 * set by each alloc, free and realloc): what massif's model (massif.c)
 * follows instead of a table of its own. */
struct replay_heap_out {
	uint64_t freed_size;	/* the block it freed, when it found one */
	uint64_t replaced_size; /* a live block handed out again: its free was missed */
	uint32_t space;
	uint8_t freed, replaced;
	uint8_t counts; /* its space is selected and not gone */
};

/* The lots changed since they were last taken (replay_track_lots()). */
struct replay_dirty {
	uint32_t *seen;		/* per lot n, at n - 1: the stamp when last noted */
	size_t nseen;
	uint32_t stamp;		/* of the changes since the lots were taken */
	uint32_t *v;		/* those lots */
	size_t n, cap;
	int on, nomem;
};

struct replay {
	struct lot *lots;		/* lot n is lots[n - 1] */
	uint32_t nlots, lots_cap;
	struct lot_index lot_index;	/* -> n */
	struct lot_cache_entry *lot_cache; /* [LOT_CACHE], made on first need */
	uint64_t blocks;		/* live heap blocks, every space */
	struct regions maps;
	struct proc_table procs;	/* pid -> struct proc_state */
	struct space_table spaces;	/* space -> struct space_state */
	struct last_alloc_table last_alloc; /* tid -> (space, addr) it allocated last;
					       addr 0: nothing since its last free */
	uint32_t last_tid;		/* the entry of the thread seen last */
	struct last_alloc *last;	/* NULL: none (after a put or del) */
	struct u64_map doubtful;	/* tid -> unknown frees since its last other event */
	uint64_t ndoubtful;		/* their sum: unknown, unless the thread exits next */
	struct rss_table rss_pids;	/* pid -> its last RSS sample */
	int late;			/* heap blocks allocated from now on are late */
	uint32_t map_lot;		/* the lot of the mapping that changed last */
	int nomem;			/* a region callback ran out of memory */
	uint32_t pid;			/* --pid; 0: every process */
	uint32_t root;			/* the log's first process */
	struct replay_counts c;		/* of the chosen processes */
	struct replay_memory mapped;	/* .anon, .file: mappings now (heap: unused) */
	struct replay_memory gone;	/* held by chosen children that exited */
	uint64_t rss;			/* chosen processes' last RSS samples, summed */
	uint64_t moved;			/* bytes allocated and freed, of `kind` */
	/* The peak of the memory of `kind` (AN_KIND_*): first event reaching it. */
	unsigned kind;
	uint64_t peak;
	uint64_t peak_event;		/* index of that event */
	uint64_t peak_ns;		/* its time */
	int peak_seen;			/* 0 while nothing was ever live */
	uint64_t peaks;			/* how many times the peak rose */
	int last_selected;		/* the last event was the chosen process's */
	struct replay_heap_out heap_out;
	/* the last fork's copy of its parent's blocks: lots [first, end) of
	 * the child's space; count: copies made */
	struct {
		uint64_t count;
		uint32_t space, first, end;
	} copied;
	struct replay_dirty dirty;
	/* the spaces gone (their last process exited, or exec'd), in the
	 * order they went: what their lots count for changed */
	uint32_t *gone_list;
	size_t ngone, gone_cap;
	/* the last event's process, cached */
	uint32_t cache_pid, cache_space;
	struct space_state *cache_ss;
	struct proc_state *cache_ps;
};

/* kind: whose peak to follow.  Then set pid and root as wanted, before the
 * first event. */
void replay_init(struct replay *rp, unsigned kind);
void replay_free(struct replay *rp);

/* Applies event number `index`.  Returns 0 or -ENOMEM. */
int replay_event(struct replay *rp, const struct mt_event *ev, uint64_t index);

/* The memory in use now by the chosen processes (the timeline's view): what
 * is live, without what processes other than the first left behind when they
 * exited.  (Inline: asked after every event.) */
static inline struct replay_memory replay_in_use(const struct replay *rp)
{
	struct replay_memory m = {rp->c.heap_live - rp->gone.heap, rp->mapped.anon - rp->gone.anon,
				  rp->mapped.file - rp->gone.file};

	return m;
}

/* Its bytes of `kind` (AN_KIND_*): what the peaks follow. */
static inline uint64_t replay_live(const struct replay *rp, unsigned kind)
{
	struct replay_memory m = replay_in_use(rp);

	return (kind & AN_KIND_HEAP ? m.heap : 0) + (kind & AN_KIND_MMAP ? m.anon + m.file : 0);
}

/* Is the block of this space counted (the chosen processes' memory)? */
int replay_space_selected(const struct replay *rp, uint32_t space);

/* Has the last process running in this space exited (or exec'd)? */
int replay_space_exited(const struct replay *rp, uint32_t space);

/* Was the space gone (its last process exited) at the last peak? */
int replay_space_gone_at_peak(const struct replay *rp, uint32_t space);

/* The lot of the live heap block at (space, addr): 1 with *lot set, or 0. */
int replay_block(const struct replay *rp, uint32_t space, uint64_t addr, const struct lot **lot);

/* The counts of a lot at the last peak. */
const struct lot_counts *replay_lot_at_peak(const struct replay *rp, const struct lot *l);

/* The totals of one stack and kind, over its lots: 1, or 0 when it has
 * none. */
int replay_site(const struct replay *rp, uint64_t stack, unsigned kind, struct site_totals *out);

/* The size of the live heap block at addr of process pid's space, when
 * that space counts (selected, not gone): 1 with *size set, or 0 (or
 * -ENOMEM). */
int replay_heap_block(struct replay *rp, uint32_t pid, uint64_t addr, uint64_t *size);

/* From now on, every lot that changes is noted (replay.dirty). */
void replay_track_lots(struct replay *rp);

/* The lots changed since the last call (or since replay_track_lots()), in
 * *lots (valid until the next event), *n of them; then none is.  0, or
 * -ENOMEM when a note could not be made. */
int replay_lots_taken(struct replay *rp, const uint32_t **lots, size_t *n);

/* The mapping length the kernel works with: whole pages. */
uint64_t replay_page_up(uint64_t len);

#endif
