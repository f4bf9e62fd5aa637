/*
 * test_formats_log.c - the event log written and read back: every event
 * type with extreme field values, strings, the stack trie across address
 * spaces, modules, symbols with inline frames, the trailer, a log of many
 * chunks of one zstd stream, times in ticks, rewinding, the writer's
 * argument checks and its sticky write errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/log_reader.h"
#include "formats/log_writer.h"

static char *test_argv[] = {"/usr/bin/prog", "", "--name=\xc3\xbc", "last arg"};

static const struct mt_log_header test_header = {
	.mode = MT_MODE_ATTACH,
	.flags = MT_LOG_SYSCALLS_SECCOMP | MT_LOG_SYSCALLS_PTRACE | MT_LOG_SYSCALLS_WRAPPERS,
	.depth = 64,
	.pid = UINT32_MAX,
	.start_realtime_ns = UINT64_MAX,
	.tick_ns = 1,
	.cwd = "/work dir",
	.argc = 4,
	.argv = test_argv,
};

static void temp_path(char *buf)
{
	int fd;

	strcpy(buf, "/tmp/memtrack-test-XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	close(fd);
}

static uint8_t *file_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Which fields log.h lists for each event type. */
enum {
	F_FN = 1 << 0,
	F_SPACE = 1 << 1,
	F_ADDR = 1 << 2,
	F_OLD_ADDR = 1 << 3,
	F_SIZE = 1 << 4,
	F_OLD_SIZE = 1 << 5,
	F_ARG = 1 << 6,
	F_PROT = 1 << 7,
	F_MFLAGS = 1 << 8,
	F_FD = 1 << 9,
	F_OFFSET = 1 << 10,
	F_PATH = 1 << 11,
	F_RESULT = 1 << 12,
	F_STATUS = 1 << 13,
	F_STACK = 1 << 14,
};

static const unsigned listed[MT_EV_TYPE_COUNT] = {
	[MT_EV_ALLOC] = F_FN | F_ADDR | F_SIZE | F_ARG | F_STACK,
	[MT_EV_FREE] = F_FN | F_ADDR,
	[MT_EV_REALLOC] = F_FN | F_OLD_ADDR | F_ADDR | F_SIZE | F_ARG | F_STACK,
	[MT_EV_MMAP] = F_ADDR | F_SIZE | F_PROT | F_MFLAGS | F_FD | F_OFFSET | F_PATH | F_STACK,
	[MT_EV_MUNMAP] = F_ADDR | F_SIZE | F_RESULT | F_STACK,
	[MT_EV_MREMAP] = F_OLD_ADDR | F_OLD_SIZE | F_ADDR | F_SIZE | F_MFLAGS | F_STACK,
	[MT_EV_BRK] = F_ARG | F_ADDR | F_STACK,
	[MT_EV_THREAD_START] = 0,
	[MT_EV_THREAD_EXIT] = F_STATUS,
	[MT_EV_PROC_START] = F_SPACE | F_ARG | F_MFLAGS,
	[MT_EV_PROC_EXIT] = F_STATUS,
	[MT_EV_MARK] = F_ARG | F_PATH | F_STACK,
	[MT_EV_RSS] = F_SIZE,
};

/* Fills the fields the type does not list with junk the writer must ignore. */
static struct mt_event with_junk(struct mt_event e)
{
	unsigned f = listed[e.type];

	if (!(f & F_FN))
		e.fn = 0xa5a5a5a5;
	if (!(f & F_SPACE))
		e.space = 0xa5a5a5a5;
	if (!(f & F_ADDR))
		e.addr = 0xa5a5a5a5a5a5a5a5ull;
	if (!(f & F_OLD_ADDR))
		e.old_addr = 0xa5a5a5a5a5a5a5a5ull;
	if (!(f & F_SIZE))
		e.size = 0xa5a5a5a5a5a5a5a5ull;
	if (!(f & F_OLD_SIZE))
		e.old_size = 0xa5a5a5a5a5a5a5a5ull;
	if (!(f & F_ARG))
		e.arg = 0xa5a5a5a5a5a5a5a5ull;
	if (!(f & F_PROT))
		e.prot = 0xa5a5a5a5;
	if (!(f & F_MFLAGS))
		e.mflags = 0xa5a5a5a5;
	if (!(f & F_FD))
		e.fd = -0x5a5a5a5a5a5a5a5all;
	if (!(f & F_OFFSET))
		e.offset = 0xa5a5a5a5a5a5a5a5ull;
	if (!(f & F_PATH))
		e.path = 0xa5a5a5a5;
	if (!(f & F_RESULT))
		e.result = -0x5a5a5a5a5a5a5a5all;
	if (!(f & F_STATUS))
		e.status = -0x5a5a5a5a5a5a5a5all;
	if (!(f & F_STACK))
		e.stack = 0xa5a5a5a5a5a5a5a5ull;
	return e;
}

static void assert_event_equal(const struct mt_event *a, const struct mt_event *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->fn, b->fn);
	assert_true(a->time_ns == b->time_ns);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->space, b->space);
	assert_int_equal(a->flags, b->flags);
	assert_true(a->addr == b->addr);
	assert_true(a->old_addr == b->old_addr);
	assert_true(a->size == b->size);
	assert_true(a->old_size == b->old_size);
	assert_true(a->arg == b->arg);
	assert_int_equal(a->prot, b->prot);
	assert_int_equal(a->mflags, b->mflags);
	assert_true(a->fd == b->fd);
	assert_true(a->offset == b->offset);
	assert_int_equal(a->path, b->path);
	assert_true(a->result == b->result);
	assert_true(a->status == b->status);
	assert_true(a->stack == b->stack);
}

/* Rebuilds a stack (innermost first) from the reader's trie. */
static size_t stack_of(struct log_reader *r, uint64_t id, uint64_t *pcs, size_t max,
		       uint32_t *space)
{
	size_t n = 0;

	while (id) {
		uint64_t parent, pc;

		assert_int_equal(log_reader_stack_node(r, id, &parent, &pc, space), 0);
		assert_true(parent < id);
		assert_true(n < max);
		pcs[n++] = pc;
		id = parent;
	}
	return n;
}

static void assert_stack(struct log_reader *r, uint64_t id, uint32_t space, const uint64_t *pcs,
			 size_t n)
{
	uint64_t got[128];
	uint32_t got_space = 0xdead;

	assert_int_equal(stack_of(r, id, got, 128, &got_space), n);
	assert_memory_equal(got, pcs, n * sizeof(*pcs));
	assert_int_equal(got_space, space);
}

/* --- the round trip ----------------------------------------------------- */

struct pc_pair {
	uint32_t space;
	uint64_t pc;
};

#define NEVENTS_MAX 64

struct fixture {
	char path[64];
	struct mt_event events[NEVENTS_MAX];
	size_t nevents;
	uint64_t sa, sb, sc, sd, se;
	char *big;
	struct mt_module mods[3];
	struct mt_symbol sym1, sym2, sym1b;
};

static const uint64_t pcs_a[] = {0x401010, 0x401020, 0x7f0000001000};
static const uint64_t pcs_b[] = {0x401099, 0x401020, 0x7f0000001000};
static const uint64_t pcs_d[] = {UINT64_MAX, 0, UINT64_MAX};
static const uint64_t pcs_e[] = {0x401020, 0x7f0000001000};

static void write_event(struct log_writer *w, struct fixture *fx, struct mt_event e)
{
	struct mt_event junk = with_junk(e);

	assert_int_equal(log_writer_event(w, &junk), 0);
	assert_true(fx->nevents < NEVENTS_MAX);
	fx->events[fx->nevents++] = e;
}

static void write_round_trip(struct fixture *fx)
{
	struct log_writer *w;
	struct mt_log_trailer t = {
		.exit_status = INT64_MIN,
		.duration_ns = UINT64_MAX,
		.events = 999, /* ignored: the writer counts */
		.flags = MT_TRAILER_DETACHED | MT_TRAILER_ABORTED,
	};
	uint32_t s_empty, s_libc, s_big;
	uint64_t t0 = 0;

	temp_path(fx->path);
	assert_int_equal(log_writer_open(&w, fx->path, &test_header), 0);

	/* Strings: ids from 1, interned, NULL is 0; one larger than a chunk. */
	s_empty = log_writer_string(w, "");
	s_libc = log_writer_string(w, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(s_empty, 1);
	assert_int_equal(s_libc, 2);
	assert_int_equal(log_writer_string(w, "/lib/x86_64-linux-gnu/libc.so.6"), 2);
	assert_int_equal(log_writer_string(w, ""), 1);
	assert_int_equal(log_writer_string(w, NULL), 0);
	fx->big = malloc(100001);
	for (int i = 0; i < 100000; i++)
		fx->big[i] = (char)('a' + i % 26);
	fx->big[100000] = '\0';
	s_big = log_writer_string(w, fx->big);
	assert_int_equal(s_big, 3);

	/* Modules with build-ids of 20, 64 and 0 bytes. */
	fx->mods[0] = (struct mt_module){.space = 1,
					 .start = 0x7f0000000000,
					 .end = 0x7f0000200000,
					 .bias = 0x7f0000000000,
					 .path = "/lib/x86_64-linux-gnu/libc.so.6",
					 .build_id_len = 20};
	for (int i = 0; i < 20; i++)
		fx->mods[0].build_id[i] = (uint8_t)(0xf0 + i);
	fx->mods[1] = (struct mt_module){.space = 2,
					 .start = 0,
					 .end = UINT64_MAX,
					 .bias = UINT64_MAX,
					 .path = NULL,
					 .build_id_len = 64};
	for (int i = 0; i < 64; i++)
		fx->mods[1].build_id[i] = (uint8_t)i;
	fx->mods[2] = (struct mt_module){.space = 1,
					 .start = 0x400000,
					 .end = 0x400000,
					 .bias = 0,
					 .path = "/bin/prog",
					 .build_id_len = 0};
	for (int i = 0; i < 3; i++) {
		fx->mods[i].id = 77;
		assert_int_equal(log_writer_module(w, &fx->mods[i]), i + 1);
		assert_int_equal(fx->mods[i].id, i + 1);
	}
	{
		size_t n;
		const struct mt_module *m = log_writer_modules(w, &n);

		assert_int_equal(n, 3);
		assert_string_equal(m[0].path, "/lib/x86_64-linux-gnu/libc.so.6");
		assert_null(m[1].path);
		assert_int_equal(m[1].build_id_len, 64);
		assert_int_equal(m[2].id, 3);
	}

	/* Stacks: shared prefixes, the same pcs in another space, wrapping
	 * pc deltas, a stack that is a prefix of another, a repeat. */
	fx->sa = log_writer_stack(w, 1, pcs_a, 3);
	fx->sb = log_writer_stack(w, 1, pcs_b, 3);
	fx->sc = log_writer_stack(w, 2, pcs_a, 3);
	fx->sd = log_writer_stack(w, 1, pcs_d, 3);
	fx->se = log_writer_stack(w, 1, pcs_e, 2);
	assert_true(fx->sa == 3);
	assert_true(fx->sb == 4);
	assert_true(fx->sc == 7);
	assert_true(fx->sd == 10);
	assert_true(fx->se == 2); /* a's parent: no new node */
	assert_true(log_writer_stack(w, 1, pcs_a, 3) == 3);
	assert_true(log_writer_stack(w, 2, pcs_a, 3) == 7);
	assert_true(log_writer_stack(w, 1, pcs_b, 3) == 4);
	assert_true(log_writer_stack(w, 1, pcs_a, 0) == 0);

	/* Every event type, with extreme values and every delta direction. */
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_PROC_START,
				      .time_ns = t0,
				      .pid = UINT32_MAX,
				      .tid = UINT32_MAX,
				      .space = UINT32_MAX,
				      .arg = UINT64_MAX,
				      .mflags = MT_PROC_ATTACH});
	write_event(w, fx, (struct mt_event){.type = MT_EV_THREAD_START, .time_ns = t0});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_ALLOC,
				      .fn = MT_FN_MALLOC,
				      .time_ns = 1,
				      .pid = 7,
				      .tid = 8,
				      .flags = 0xf,
				      .addr = UINT64_MAX,
				      .size = UINT64_MAX,
				      .stack = fx->sa});
	for (unsigned fn = MT_FN_MALLOC; fn < MT_FN_COUNT; fn++)
		write_event(w, fx,
			    (struct mt_event){.type = MT_EV_ALLOC,
					      .fn = fn,
					      .time_ns = 1 + fn,
					      .pid = 7,
					      .tid = 9,
					      .addr = 0x1000 * fn,
					      .size = fn,
					      .arg = mt_fn_has_arg(fn) ? fn * 8 : 0,
					      .stack = fx->sb});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_ALLOC,
				      .fn = MT_FN_CALLOC,
				      .time_ns = 100,
				      .pid = 7,
				      .tid = 8,
				      .flags = MT_EVF_FAILED});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_FREE,
				      .fn = MT_FN_FREE,
				      .time_ns = 100,
				      .pid = 7,
				      .tid = 8,
				      .flags = MT_EVF_PREEXIST,
				      .addr = 1});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_FREE,
				      .fn = MT_FN_FREE,
				      .time_ns = 101,
				      .pid = 7,
				      .tid = 8,
				      .addr = UINT64_MAX});
	assert_int_equal(log_writer_module_gone(w, 1, 777), 0);
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_REALLOC,
				      .fn = MT_FN_REALLOCARRAY,
				      .time_ns = 102,
				      .pid = 7,
				      .tid = 8,
				      .old_addr = UINT64_MAX,
				      .addr = 0,
				      .size = 1ull << 63,
				      .arg = 3,
				      .stack = fx->sd});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MMAP,
				      .time_ns = 103,
				      .pid = 7,
				      .tid = 8,
				      .flags = MT_EVF_IN_ALLOC,
				      .addr = 0x7f0000000000,
				      .size = UINT64_MAX,
				      .prot = 7,
				      .mflags = UINT32_MAX,
				      .fd = INT64_MIN,
				      .offset = UINT64_MAX,
				      .path = s_libc,
				      .stack = fx->sb});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MMAP,
				      .time_ns = 104,
				      .pid = 7,
				      .tid = 8,
				      .addr = 0x7f0000100000,
				      .size = 4096,
				      .prot = 3,
				      .mflags = 0x22,
				      .fd = -1,
				      .offset = 0,
				      .path = 0,
				      .stack = fx->sc});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MMAP,
				      .time_ns = 104,
				      .pid = 7,
				      .tid = 8,
				      .addr = 1,
				      .size = 1,
				      .fd = INT64_MAX,
				      .path = s_big,
				      .stack = 0});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MUNMAP,
				      .time_ns = 105,
				      .pid = 7,
				      .tid = 8,
				      .flags = MT_EVF_FAILED,
				      .addr = 12,
				      .size = 13,
				      .result = INT64_MIN});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MUNMAP,
				      .time_ns = 105,
				      .pid = 7,
				      .tid = 8,
				      .addr = 0x7f0000100000,
				      .size = 4096,
				      .result = INT64_MAX,
				      .stack = fx->sa});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MREMAP,
				      .time_ns = 106,
				      .pid = 7,
				      .tid = 8,
				      .old_addr = 1,
				      .old_size = UINT64_MAX,
				      .addr = UINT64_MAX,
				      .size = 2,
				      .mflags = 1,
				      .flags = MT_EVF_TRUNCATED,
				      .stack = fx->se});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_BRK,
				      .time_ns = 107,
				      .pid = 7,
				      .tid = 8,
				      .arg = UINT64_MAX,
				      .addr = 0x555555559000,
				      .stack = fx->sa});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_MARK,
				      .time_ns = 108,
				      .pid = 7,
				      .tid = 8,
				      .arg = 1,
				      .path = s_libc,
				      .stack = fx->sa});
	/* a mark without location text nor stack */
	write_event(
		w, fx,
		(struct mt_event){
			.type = MT_EV_MARK, .time_ns = 108, .pid = 7, .tid = 8, .arg = UINT64_MAX});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_RSS,
				      .time_ns = 109,
				      .pid = 0,
				      .tid = UINT32_MAX,
				      .size = 123456789});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_THREAD_EXIT,
				      .time_ns = 110,
				      .pid = UINT32_MAX,
				      .tid = 0,
				      .status = INT64_MAX});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_THREAD_EXIT,
				      .time_ns = 111,
				      .pid = 7,
				      .tid = 8,
				      .status = -1});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_PROC_START,
				      .time_ns = 112,
				      .pid = 9,
				      .tid = 9,
				      .space = 2,
				      .arg = 7,
				      .mflags = MT_PROC_FORK});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_PROC_START,
				      .time_ns = 112,
				      .pid = 9,
				      .tid = 9,
				      .space = 3,
				      .arg = 7,
				      .mflags = MT_PROC_EXEC});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_PROC_EXIT,
				      .time_ns = 113,
				      .pid = 9,
				      .tid = 9,
				      .status = INT64_MIN});
	/* A flush in the middle: the next chunk goes on from the last event's
	 * time and thread, and the heap model. */
	assert_int_equal(log_writer_flush(w), 0);
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_FREE,
				      .fn = MT_FN_FREE,
				      .time_ns = 1ull << 62,
				      .pid = 7,
				      .tid = 8,
				      .addr = 5});
	write_event(w, fx,
		    (struct mt_event){.type = MT_EV_RSS,
				      .time_ns = UINT64_MAX,
				      .pid = 7,
				      .tid = 8,
				      .size = UINT64_MAX});
	assert_true(log_writer_events(w) == fx->nevents);

	/* Symbols: 16 inline levels with unknown names, an empty one in
	 * another space, and one that replaces the first. */
	fx->sym1 = (struct mt_symbol){.space = 1,
				      .pc = 0x401010,
				      .module = 3,
				      .offset = 0x1010,
				      .comp_dir = "/src",
				      .nframes = MT_SYM_MAX_INLINE};
	for (int i = 0; i < MT_SYM_MAX_INLINE; i++) {
		static char names[MT_SYM_MAX_INLINE][16];

		snprintf(names[i], sizeof(names[i]), "inl%d", i);
		fx->sym1.frames[i] = (struct mt_symframe){
			.function = i == 3 ? NULL : names[i],
			.file = i == 4 ? NULL : "dir/f.c",
			.line = i == 5 ? 0 : UINT32_MAX - (uint32_t)i,
			.flags = i == 15 ? MT_SYMF_ALLOCATOR : 0,
		};
	}
	fx->sym2 = (struct mt_symbol){.space = 2,
				      .pc = 0x401010,
				      .module = 0,
				      .offset = UINT64_MAX,
				      .comp_dir = NULL,
				      .nframes = 0};
	fx->sym1b = (struct mt_symbol){.space = 1,
				       .pc = 0x401010,
				       .module = 1,
				       .offset = 5,
				       .comp_dir = "",
				       .nframes = 1,
				       .frames = {{"malloc", "malloc.c", 3300, MT_SYMF_ALLOCATOR}}};
	assert_int_equal(log_writer_symbol(w, &fx->sym1), 0);
	assert_int_equal(log_writer_symbol(w, &fx->sym2), 0);

	/* The distinct (space, pc) pairs of all nodes, in the order they came
	 * (a stack's nodes are made outermost first). */
	{
		struct pc_pair want[] = {
			{1, 0x7f0000001000}, {1, 0x401020},	  {1, 0x401010},
			{1, 0x401099},	     {2, 0x7f0000001000}, {2, 0x401020},
			{2, 0x401010},	     {1, UINT64_MAX},	  {1, 0},
		};
		uint32_t space;
		uint64_t pc;

		assert_int_equal(log_writer_pc_count(w), 9);
		for (size_t i = 0; i < 9; i++) {
			assert_int_equal(log_writer_pc(w, i, &space, &pc), 0);
			assert_int_equal(space, want[i].space);
			assert_true(pc == want[i].pc);
		}
		assert_int_equal(log_writer_pc(w, 9, &space, &pc), -ENOENT);
	}

	assert_int_equal(log_writer_symbol(w, &fx->sym1b), 0);
	assert_int_equal(log_writer_error(w), 0);
	assert_int_equal(log_writer_close(w, &t), 0);
}

static void assert_symbol_equal(const struct mt_symbol *got, const struct mt_symbol *want)
{
	assert_non_null(got);
	assert_int_equal(got->space, want->space);
	assert_true(got->pc == want->pc);
	assert_int_equal(got->module, want->module);
	assert_true(got->offset == want->offset);
	if (want->comp_dir)
		assert_string_equal(got->comp_dir, want->comp_dir);
	else
		assert_null(got->comp_dir);
	assert_int_equal(got->nframes, want->nframes);
	for (uint32_t i = 0; i < want->nframes; i++) {
		const struct mt_symframe *a = &got->frames[i], *b = &want->frames[i];

		if (b->function)
			assert_string_equal(a->function, b->function);
		else
			assert_null(a->function);
		if (b->file)
			assert_string_equal(a->file, b->file);
		else
			assert_null(a->file);
		assert_int_equal(a->line, b->line);
		assert_int_equal(a->flags, b->flags);
	}
}

/* Reads every event and checks it; stops after `limit` events (0: all). */
static void read_events(struct log_reader *r, struct fixture *fx, size_t limit)
{
	struct mt_event ev;
	size_t i;

	for (i = 0; i < fx->nevents && (!limit || i < limit); i++) {
		assert_int_equal(log_reader_next(r, &ev), 1);
		assert_event_equal(&ev, &fx->events[i]);
		assert_true(log_reader_event_index(r) == i);
	}
	if (!limit) {
		assert_int_equal(log_reader_next(r, &ev), 0);
		assert_int_equal(log_reader_next(r, &ev), 0); /* stays at the end */
	}
}

static void check_tables(struct log_reader *r, struct fixture *fx)
{
	const struct mt_module *m;
	size_t n;
	uint64_t parent, pc;
	uint32_t space;

	assert_null(log_reader_string(r, 0));
	assert_string_equal(log_reader_string(r, 1), "");
	assert_string_equal(log_reader_string(r, 2), "/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(log_reader_string(r, 3), fx->big);
	/* Strings interned by modules and symbols follow. */
	assert_string_equal(log_reader_string(r, 4), "/bin/prog");
	assert_string_equal(log_reader_string(r, 5), "/src");
	assert_null(log_reader_string(r, 100));

	assert_true(log_reader_stack_count(r) == 10);
	assert_stack(r, fx->sa, 1, pcs_a, 3);
	assert_stack(r, fx->sb, 1, pcs_b, 3);
	assert_stack(r, fx->sc, 2, pcs_a, 3);
	assert_stack(r, fx->sd, 1, pcs_d, 3);
	assert_stack(r, fx->se, 1, pcs_e, 2);
	assert_int_equal(log_reader_stack_node(r, 0, &parent, &pc, &space), -ENOENT);
	assert_int_equal(log_reader_stack_node(r, 11, &parent, &pc, &space), -ENOENT);
	assert_int_equal(log_reader_stack_node(r, 1, NULL, NULL, NULL), 0);

	m = log_reader_modules(r, &n);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(m[i].id, i + 1);
		assert_int_equal(m[i].space, fx->mods[i].space);
		assert_true(m[i].start == fx->mods[i].start);
		assert_true(m[i].end == fx->mods[i].end);
		assert_true(m[i].bias == fx->mods[i].bias);
		assert_int_equal(m[i].build_id_len, fx->mods[i].build_id_len);
		assert_memory_equal(m[i].build_id, fx->mods[i].build_id, MT_LOG_MAX_BUILD_ID);
		if (fx->mods[i].path)
			assert_string_equal(m[i].path, fx->mods[i].path);
		else
			assert_null(m[i].path);
	}

	assert_int_equal(log_reader_symbol_count(r), 2);
	assert_symbol_equal(log_reader_symbol(r, 1, 0x401010), &fx->sym1b);
	assert_symbol_equal(log_reader_symbol(r, 2, 0x401010), &fx->sym2);
	assert_null(log_reader_symbol(r, 3, 0x401010));
	assert_null(log_reader_symbol(r, 1, 0x401011));
}

static void test_round_trip(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const struct mt_log_header *h;
	const struct mt_log_trailer *t;
	struct log_reader *r;
	char err[256] = "untouched";
	size_t n;

	write_round_trip(fx);
	assert_int_equal(log_reader_open(&r, fx->path, err, sizeof(err)), 0);
	assert_string_equal(err, "untouched");

	h = log_reader_header(r);
	assert_int_equal(h->version, MT_LOG_VERSION);
	assert_int_equal(h->mode, MT_MODE_ATTACH);
	assert_int_equal(h->flags, 7);
	assert_int_equal(h->depth, 64);
	assert_int_equal(h->pid, UINT32_MAX);
	assert_true(h->start_realtime_ns == UINT64_MAX);
	assert_true(h->tick_ns == 1);
	assert_string_equal(h->cwd, "/work dir");
	assert_int_equal(h->argc, 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(h->argv[i], test_argv[i]);
	assert_null(h->argv[4]);

	/* Nothing is absorbed before the first next(). */
	assert_null(log_reader_trailer(r));
	assert_true(log_reader_stack_count(r) == 0);
	assert_null(log_reader_modules(r, &n));
	assert_int_equal(n, 0);

	read_events(r, fx, 0);
	assert_int_equal(log_reader_truncated(r), 0);
	assert_string_equal(log_reader_error(r), "");
	t = log_reader_trailer(r);
	assert_non_null(t);
	assert_true(t->exit_status == INT64_MIN);
	assert_true(t->duration_ns == UINT64_MAX);
	assert_true(t->events == fx->nevents);
	assert_int_equal(t->flags, MT_TRAILER_DETACHED | MT_TRAILER_ABORTED);
	check_tables(r, fx);

	/* Rewinding replays the same events without defining anything twice. */
	assert_int_equal(log_reader_rewind(r), 0);
	read_events(r, fx, 0);
	check_tables(r, fx);

	/* Rewinding half way, too. */
	assert_int_equal(log_reader_rewind(r), 0);
	read_events(r, fx, 5);
	assert_int_equal(log_reader_rewind(r), 0);
	read_events(r, fx, 0);
	check_tables(r, fx);
	assert_int_equal(log_reader_truncated(r), 0);
	log_reader_close(r);

	/* A reader that rewinds before reaching the symbols still builds
	 * every table once. */
	assert_int_equal(log_reader_open(&r, fx->path, err, sizeof(err)), 0);
	read_events(r, fx, 3);
	assert_int_equal(log_reader_rewind(r), 0);
	read_events(r, fx, 0);
	check_tables(r, fx);
	log_reader_close(r);

	unlink(fx->path);
	free(fx->big);
	free(fx);
}

/* --- the stack trie against a naive model -------------------------------- */

struct prefix {
	uint32_t space;
	uint32_t len;
	const uint64_t *outer; /* outermost-first frames */
};

static int cmp_prefix(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;

	if (x->space != y->space)
		return x->space < y->space ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	for (uint32_t i = 0; i < x->len; i++)
		if (x->outer[i] != y->outer[i])
			return x->outer[i] < y->outer[i] ? -1 : 1;
	return 0;
}

/*
 * Random stacks drawn like a program's: a walk that returns from a few
 * frames and calls a few new ones, with small pc alphabets so that stacks
 * share prefixes, several address spaces, and repeats.  The trie must give
 * equal stacks equal ids, rebuild every stack exactly, and hold exactly one
 * node per distinct (space, outer prefix).
 */
static void test_stack_model(void **state)
{
	enum { N = 3000, MAXD = 70 };
	uint64_t(*outer)[MAXD] = calloc(N, sizeof(*outer)); /* outermost first */
	uint32_t *space = calloc(N, sizeof(*space));
	uint32_t *depth = calloc(N, sizeof(*depth));
	uint64_t *ids = calloc(N, sizeof(*ids));
	struct prefix *pre = calloc((size_t)N * MAXD, sizeof(*pre));
	uint64_t cur[MAXD];
	size_t d = 0, npre = 0, distinct = 0;
	struct log_writer *w;
	struct log_reader *r;
	char path[64], err[256];
	struct mt_event ev;

	rng_state = 0x9e3779b97f4a7c15ull;
	temp_path(path);
	assert_int_equal(log_writer_open(&w, path, &test_header), 0);
	for (int i = 0; i < N; i++) {
		uint64_t pcs[MAXD];
		size_t pop = rnd() % 5, target = 1 + rnd() % (MAXD - 1);

		d = pop > d ? 0 : d - pop;
		while (d < target)
			cur[d++] = 0x400000 + (rnd() % 6) * 0x10;
		if (i % 500 == 0)
			cur[0] = 0x1000 + rnd() % 3; /* a different root now and then */
		space[i] = (uint32_t)(rnd() % 3);
		depth[i] = (uint32_t)d;
		memcpy(outer[i], cur, d * sizeof(cur[0]));
		for (size_t k = 0; k < d; k++)
			pcs[k] = cur[d - 1 - k];
		ids[i] = log_writer_stack(w, space[i], pcs, d);
		assert_true(ids[i] != 0);
		for (size_t k = 1; k <= d; k++)
			pre[npre++] = (struct prefix){space[i], (uint32_t)k, outer[i]};
		/* Every stack appears in an event, so that it is read back. */
		ev = (struct mt_event){.type = MT_EV_MARK,
				       .time_ns = (uint64_t)i,
				       .arg = (uint64_t)i,
				       .stack = ids[i]};
		assert_int_equal(log_writer_event(w, &ev), 0);
	}
	assert_int_equal(log_writer_close(w, NULL), 0);

	qsort(pre, npre, sizeof(*pre), cmp_prefix);
	for (size_t i = 0; i < npre; i++)
		if (i == 0 || cmp_prefix(&pre[i - 1], &pre[i]))
			distinct++;

	assert_int_equal(log_reader_open(&r, path, err, sizeof(err)), 0);
	for (int i = 0; i < N; i++) {
		uint64_t got[MAXD + 1];
		uint32_t sp = 0;
		size_t n;

		assert_int_equal(log_reader_next(r, &ev), 1);
		assert_true(ev.stack == ids[i]);
		n = stack_of(r, ev.stack, got, MAXD + 1, &sp);
		assert_int_equal(n, depth[i]);
		assert_int_equal(sp, space[i]);
		for (size_t k = 0; k < n; k++)
			assert_true(got[k] == outer[i][n - 1 - k]);
	}
	assert_int_equal(log_reader_next(r, &ev), 0);
	/* No trailer was written: the log reads as cut short. */
	assert_int_equal(log_reader_truncated(r), 1);
	assert_string_equal(
		log_reader_error(r),
		"log is cut short after event #2999 (no trailer; the tracer was killed?)");
	assert_true(log_reader_stack_count(r) == distinct);
	log_reader_close(r);

	/* Equal stacks have equal ids (the rebuild above shows different ids
	 * are different stacks). */
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N && j < i + 50; j++)
			if (space[i] == space[j] && depth[i] == depth[j] &&
			    !memcmp(outer[i], outer[j], depth[i] * sizeof(uint64_t)))
				assert_true(ids[i] == ids[j]);
	unlink(path);
	free(outer);
	free(space);
	free(depth);
	free(ids);
	free(pre);
}

/* --- many chunks ------------------------------------------------------- */

static struct mt_event gen_event(uint64_t i, uint64_t *t, const uint64_t *stacks)
{
	struct mt_event e = {0};
	uint64_t x = rnd();

	*t += x % 5000;
	e.time_ns = *t;
	e.pid = 100 + (uint32_t)(i / 50000);
	e.tid = e.pid + (uint32_t)(x >> 60);
	if (i % 3 == 2) {
		e.type = MT_EV_FREE;
		e.fn = MT_FN_FREE;
		e.addr = 0x555555550000 + (x >> 20) % 0x100000 * 16;
	} else {
		e.type = MT_EV_ALLOC;
		e.fn = MT_FN_MALLOC + (uint32_t)(x % 3);
		e.addr = 0x555555550000 + (x >> 20) % 0x100000 * 16;
		e.size = (x >> 8) % 4096;
		e.arg = e.fn == MT_FN_CALLOC ? 4 : 0;
		e.stack = stacks[(x >> 40) % 64];
	}
	return e;
}

/* A string that does not compress: random bytes without a NUL. */
static void random_string(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s[i] = (char)(1 + rnd() % 255);
	s[len] = '\0';
}

static void test_many_chunks(void **state)
{
	enum { N = 600000, BIG = (2 << 20) + 1000, NBIG = 3 };
	uint64_t stacks[64], t = 0, pcs[8];
	size_t len, off, chunks = 0, zstd = 0, stored = 0, big_chunks = 0;
	char path[64], err[256];
	char *big[NBIG];
	uint32_t big_ids[NBIG];
	struct log_writer *w;
	struct log_reader *r;
	struct mt_event ev;
	uint8_t *bytes;

	temp_path(path);
	rng_state = 42;
	assert_int_equal(log_writer_open(&w, path, &test_header), 0);
	for (int s = 0; s < 64; s++) {
		for (int k = 0; k < 8; k++)
			pcs[k] = 0x401000 + (uint64_t)((s >> (k % 6)) & 3) * 0x40 + (uint64_t)k;
		stacks[s] = log_writer_stack(w, 1, pcs, 8);
	}
	for (uint64_t i = 0; i < N; i++) {
		ev = gen_event(i, &t, stacks);
		assert_int_equal(log_writer_event(w, &ev), 0);
		if (i % 200000 == 100000) {
			big[i / 200000] = malloc(BIG + 1);
			random_string(big[i / 200000], BIG);
			big_ids[i / 200000] = log_writer_string(w, big[i / 200000]);
		}
	}
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){.exit_status = 0}), 0);

	/* The chunks on disk: several, all of the zstd stream, at most 1 MiB
	 * of records each (and their TIMES record: every event moves the
	 * clock here) except those holding one string larger than that. */
	bytes = file_bytes(path, &len);
	off = 20 + le32(bytes + 12);
	while (off < len) {
		uint32_t slen = le32(bytes + off), ulen = le32(bytes + off + 4);
		uint32_t codec = le32(bytes + off + 8);

		assert_true(off + 20 + slen <= len);
		assert_true(codec == 1);
		zstd++;
		assert_true(slen <= ulen + ulen / 256 + 128);
		if (ulen > 2 << 20) {
			big_chunks++;
			assert_int_equal(ulen, 1 + 4 + BIG); /* one STRING record */
		}
		chunks++;
		off += 20 + slen;
	}
	assert_int_equal(off, len);
	assert_true(chunks > 6);
	assert_int_equal(zstd, chunks);
	assert_int_equal(stored, 0);
	assert_int_equal(big_chunks, NBIG);
	free(bytes);

	/* Read back: the same events, regenerated from the same seed. */
	rng_state = 42;
	t = 0;
	assert_int_equal(log_reader_open(&r, path, err, sizeof(err)), 0);
	for (uint64_t i = 0; i < N; i++) {
		struct mt_event want = gen_event(i, &t, stacks);

		assert_int_equal(log_reader_next(r, &ev), 1);
		assert_event_equal(&ev, &want);
		if (i % 200000 == 100000) {
			char *skip = malloc(BIG + 1);

			random_string(skip, BIG); /* keeps the generator in step */
			free(skip);
		}
	}
	assert_int_equal(log_reader_next(r, &ev), 0);
	assert_int_equal(log_reader_truncated(r), 0);
	assert_string_equal(log_reader_error(r), "");
	assert_non_null(log_reader_trailer(r));
	assert_true(log_reader_trailer(r)->events == N);
	for (int k = 0; k < NBIG; k++) {
		assert_string_equal(log_reader_string(r, big_ids[k]), big[k]);
		free(big[k]);
	}
	log_reader_close(r);
	unlink(path);
}

/* --- the writer refuses what the format cannot say ------------------------ */

static void test_writer_rejects(void **state)
{
	struct mt_log_header bad = test_header;
	struct log_writer *w;
	struct log_reader *r;
	struct mt_event ev;
	struct mt_module m;
	struct mt_symbol s = {.space = 1, .pc = 1};
	char path[64], err[256];
	uint64_t pc = 0x1234, id;

	temp_path(path);
	bad.mode = 0;
	assert_int_equal(log_writer_open(&w, path, &bad), -EINVAL);
	assert_null(w);
	bad = test_header;
	bad.flags = 0x8;
	assert_int_equal(log_writer_open(&w, path, &bad), -EINVAL);
	bad = test_header;
	bad.argv = NULL;
	assert_int_equal(log_writer_open(&w, path, &bad), -EINVAL);
	bad = test_header;
	bad.tick_ns = 0;
	assert_int_equal(log_writer_open(&w, path, &bad), -EINVAL);
	bad.tick_ns = MT_LOG_MAX_TICK + 1;
	assert_int_equal(log_writer_open(&w, path, &bad), -EINVAL);
	assert_int_equal(log_writer_open(&w, "/nonexistent-dir/log", &test_header), -ENOENT);
	assert_null(w);

	assert_int_equal(log_writer_open(&w, path, &test_header), 0);
	id = log_writer_stack(w, 1, &pc, 1);
	assert_true(id == 1);

	ev = (struct mt_event){.type = MT_EV_RSS, .time_ns = 100};
	assert_int_equal(log_writer_event(w, &ev), 0);
	ev.time_ns = 99; /* backwards */
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev = (struct mt_event){.type = 0, .time_ns = 100};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev.type = MT_EV_TYPE_COUNT;
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev = (struct mt_event){.type = MT_EV_RSS, .time_ns = 100, .flags = 0x10};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev = (struct mt_event){.type = MT_EV_ALLOC, .time_ns = 100, .fn = MT_FN_NONE};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev.fn = MT_FN_COUNT;
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev = (struct mt_event){.type = MT_EV_ALLOC, .time_ns = 100, .fn = MT_FN_MALLOC, .stack = 2};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL); /* undefined stack */
	ev = (struct mt_event){.type = MT_EV_FREE, .time_ns = 100, .fn = MT_FN_FREE, .addr = 0};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	/* a free is free's: the format does not store its fn */
	ev = (struct mt_event){.type = MT_EV_FREE, .time_ns = 100, .fn = MT_FN_REALLOC, .addr = 8};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	/* an arg is stored only after a function that takes one */
	ev = (struct mt_event){.type = MT_EV_ALLOC, .time_ns = 100, .fn = MT_FN_MALLOC, .arg = 1};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev = (struct mt_event){.type = MT_EV_REALLOC,
			       .time_ns = 100,
			       .fn = MT_FN_REALLOC,
			       .old_addr = 8,
			       .arg = 1};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev = (struct mt_event){.type = MT_EV_MMAP, .time_ns = 100, .path = 1};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL); /* undefined string */
	ev = (struct mt_event){.type = MT_EV_PROC_START, .time_ns = 100, .mflags = 0};
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);
	ev.mflags = MT_PROC_ATTACH + 1;
	assert_int_equal(log_writer_event(w, &ev), -EINVAL);

	m = (struct mt_module){.start = 10, .end = 9};
	assert_int_equal(log_writer_module(w, &m), 0);
	m = (struct mt_module){.start = 10, .end = 11, .build_id_len = MT_LOG_MAX_BUILD_ID + 1};
	assert_int_equal(log_writer_module(w, &m), 0);
	assert_int_equal(log_writer_module_gone(w, 0, 5), -EINVAL);
	assert_int_equal(log_writer_module_gone(w, 1, 5), -EINVAL);
	s.nframes = MT_SYM_MAX_INLINE + 1;
	assert_int_equal(log_writer_symbol(w, &s), -EINVAL);
	s.nframes = 1;
	s.frames[0].flags = 0x2;
	assert_int_equal(log_writer_symbol(w, &s), -EINVAL);
	s.frames[0].flags = 0;
	s.module = 1; /* undefined */
	assert_int_equal(log_writer_symbol(w, &s), -EINVAL);

	/* None of that is sticky, and none of it reached the file. */
	assert_int_equal(log_writer_error(w), 0);
	ev = (struct mt_event){.type = MT_EV_ALLOC, .time_ns = 100, .fn = MT_FN_MALLOC, .stack = 1};
	assert_int_equal(log_writer_event(w, &ev), 0);
	assert_true(log_writer_events(w) == 2);
	/* A trailer with unknown flags is refused: the log ends without one. */
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){.flags = 0x4}), -EINVAL);

	assert_int_equal(log_reader_open(&r, path, err, sizeof(err)), 0);
	assert_int_equal(log_reader_next(r, &ev), 1);
	assert_int_equal(ev.type, MT_EV_RSS);
	assert_int_equal(log_reader_next(r, &ev), 1);
	assert_int_equal(ev.type, MT_EV_ALLOC);
	assert_true(ev.stack == 1);
	assert_int_equal(log_reader_next(r, &ev), 0);
	assert_int_equal(log_reader_truncated(r), 1);
	assert_string_equal(log_reader_error(r),
			    "log is cut short after event #1 (no trailer; the tracer was killed?)");
	assert_true(log_reader_stack_count(r) == 1);
	log_reader_close(r);
	unlink(path);
}

/* --- times in ticks ------------------------------------------------------ */

/*
 * Times are stored in ticks of the header's unit, rounded down, and only
 * where the clock moves: across chunks, flushes and an event that moves
 * it by many ticks, every event reads back at its tick, in its order.
 */
static void test_time_ticks(void **state)
{
	static const uint64_t times[] = {0,
					 0,
					 9,
					 10,
					 19,
					 20,
					 20,
					 1000005,
					 1000005,
					 1000009,
					 5000000,
					 5000001,
					 UINT64_MAX - 5,
					 UINT64_MAX};
	struct mt_log_header h = test_header;
	struct log_writer *w;
	struct log_reader *r;
	struct mt_event ev;
	char path[64], err[256];
	size_t n = sizeof(times) / sizeof(times[0]);

	temp_path(path);
	h.tick_ns = 10;
	assert_int_equal(log_writer_open(&w, path, &h), 0);
	for (size_t i = 0; i < n; i++) {
		ev = (struct mt_event){.type = MT_EV_RSS, .time_ns = times[i], .size = i};
		assert_int_equal(log_writer_event(w, &ev), 0);
		if (i == 4 || i == 7 || i == 8)
			assert_int_equal(log_writer_flush(w), 0);
	}
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){0}), 0);

	assert_int_equal(log_reader_open(&r, path, err, sizeof(err)), 0);
	assert_true(log_reader_header(r)->tick_ns == 10);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(log_reader_next(r, &ev), 1);
		assert_true(ev.size == i);
		assert_true(ev.time_ns == times[i] / 10 * 10);
	}
	assert_int_equal(log_reader_next(r, &ev), 0);
	assert_string_equal(log_reader_error(r), "");
	log_reader_close(r);

	/* a second's tick: a run of a few seconds is a handful of moves */
	h.tick_ns = MT_LOG_MAX_TICK;
	assert_int_equal(log_writer_open(&w, path, &h), 0);
	for (uint64_t t = 0; t < 3500000000u; t += 250000000u) {
		ev = (struct mt_event){.type = MT_EV_RSS, .time_ns = t, .size = t};
		assert_int_equal(log_writer_event(w, &ev), 0);
	}
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){0}), 0);
	assert_int_equal(log_reader_open(&r, path, err, sizeof(err)), 0);
	while (log_reader_next(r, &ev) == 1)
		assert_true(ev.time_ns == ev.size / 1000000000u * 1000000000u);
	assert_string_equal(log_reader_error(r), "");
	log_reader_close(r);
	unlink(path);
}

/* A write that fails is sticky: every later call reports it. */
static void test_sticky_write_error(void **state)
{
	struct rlimit old, lim;
	struct log_writer *w;
	struct log_reader *r;
	struct mt_event ev = {.type = MT_EV_RSS};
	struct mt_module m = {.start = 1, .end = 2};
	struct mt_symbol s = {.space = 1};
	struct stat st;
	char path[64], err[256];
	uint64_t pc = 7;
	int rc = 0, i;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	temp_path(path);
	assert_int_equal(log_writer_open(&w, path, &test_header), 0);
	assert_int_equal(stat(path, &st), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	for (i = 0; i < 1000000 && rc == 0; i++) {
		ev.time_ns = (uint64_t)i;
		ev.size = rnd();
		rc = log_writer_event(w, &ev);
	}
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(log_writer_error(w), -EFBIG);
	assert_int_equal(log_writer_event(w, &ev), -EFBIG);
	assert_int_equal(log_writer_string(w, "x"), 0);
	assert_true(log_writer_stack(w, 1, &pc, 1) == 0);
	assert_int_equal(log_writer_module(w, &m), 0);
	assert_int_equal(log_writer_module_gone(w, 1, 0), -EFBIG);
	assert_int_equal(log_writer_symbol(w, &s), -EFBIG);
	assert_int_equal(log_writer_flush(w), -EFBIG);
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){0}), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);

	/* What reached the disk is a header and the start of one chunk. */
	assert_int_equal(log_reader_open(&r, path, err, sizeof(err)), 0);
	assert_int_equal(log_reader_next(r, &ev), 0);
	assert_int_equal(log_reader_truncated(r), 1);
	assert_non_null(strstr(log_reader_error(r), "log is cut short before its first event: "
						    "its last chunk, at offset "));
	assert_non_null(strstr(log_reader_error(r), "is partial (100 of "));
	log_reader_close(r);
	unlink(path);
}

static void test_names(void **state)
{
	static const char *const fns[] = {
		NULL,		"malloc", "calloc",	    "realloc",
		"reallocarray", "free",	  "posix_memalign", "aligned_alloc",
		"memalign",	"valloc", "pvalloc"};
	static const char *const evs[] = {
		NULL,  "alloc",	       "free",	      "realloc",    "mmap",	 "munmap", "mremap",
		"brk", "thread_start", "thread_exit", "proc_start", "proc_exit", "mark",   "rss"};

	assert_int_equal(MT_FN_COUNT, 11);
	assert_int_equal(MT_EV_TYPE_COUNT, 14);
	for (unsigned i = 0; i < MT_FN_COUNT; i++)
		if (fns[i])
			assert_string_equal(mt_fn_name(i), fns[i]);
		else
			assert_null(mt_fn_name(i));
	for (unsigned i = 0; i < MT_EV_TYPE_COUNT; i++)
		if (evs[i])
			assert_string_equal(mt_event_name(i), evs[i]);
		else
			assert_null(mt_event_name(i));
	assert_null(mt_fn_name(MT_FN_COUNT));
	assert_null(mt_fn_name(~0u));
	assert_null(mt_event_name(MT_EV_TYPE_COUNT));
	assert_null(mt_event_name(~0u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_stack_model),
		cmocka_unit_test(test_many_chunks), cmocka_unit_test(test_writer_rejects),
		cmocka_unit_test(test_time_ticks),  cmocka_unit_test(test_sticky_write_error),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
