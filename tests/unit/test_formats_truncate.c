/*
 * test_formats_truncate.c - a small log of several chunks (the blocks of
 * one zstd stream) cut at every byte length from 0 to its full size: each cut
 * either fails to open with the exact reason (inside the file header) or
 * replays exactly the events of its whole chunks, then reports where it was
 * cut.  And every single-byte flip of the same log is caught as corruption,
 * never replayed as different data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/log_reader.h"
#include "formats/log_writer.h"

#define MAX_EVENTS 64
#define MAX_CHUNKS 8

struct sample {
	uint8_t *bytes;
	size_t len;
	size_t header_len; /* where the first chunk starts */
	size_t nchunks;
	size_t chunk_start[MAX_CHUNKS];
	size_t chunk_len[MAX_CHUNKS]; /* header + data */
	uint32_t codec[MAX_CHUNKS];
	size_t events_in[MAX_CHUNKS]; /* events in each chunk */
	struct mt_event events[MAX_EVENTS];
	size_t nevents;
};

static char *argv_[] = {"./sample", "arg"};
static const struct mt_log_header hdr = {
	.mode = MT_MODE_RUN,
	.flags = MT_LOG_SYSCALLS_SECCOMP,
	.depth = 32,
	.pid = 4242,
	.start_realtime_ns = 1700000000000000000ull,
	.tick_ns = 1,
	.cwd = "/home/user",
	.argc = 2,
	.argv = argv_,
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static void add(struct log_writer *w, struct sample *s, size_t chunk, struct mt_event e)
{
	assert_int_equal(log_writer_event(w, &e), 0);
	s->events[s->nevents++] = e;
	s->events_in[chunk]++;
}

/* Four chunks: definitions and 3 events (stored), 30 alike events
 * (compressed), 2 events (stored), a symbol, 1 event and the trailer. */
static void make_sample(const char *path, struct sample *s)
{
	struct mt_module m = {.space = 1,
			      .start = 0x400000,
			      .end = 0x401000,
			      .path = "/bin/x",
			      .build_id_len = 4,
			      .build_id = {1, 2, 3, 4}};
	struct mt_symbol sym = {.space = 1,
				.pc = 0x400100,
				.module = 1,
				.offset = 0x100,
				.nframes = 1,
				.frames = {{"main", "x.c", 12, 0}}};
	uint64_t pcs[] = {0x400100, 0x400200, 0x400300};
	struct log_writer *w;
	uint64_t st;
	FILE *f;
	size_t off;

	memset(s, 0, sizeof(*s));
	assert_int_equal(log_writer_open(&w, path, &hdr), 0);
	assert_int_equal(log_writer_module(w, &m), 1);
	st = log_writer_stack(w, 1, pcs, 3);
	assert_true(st == 3);
	add(w, s, 0,
	    (struct mt_event){.type = MT_EV_PROC_START,
			      .time_ns = 0,
			      .pid = 4242,
			      .tid = 4242,
			      .space = 1,
			      .mflags = MT_PROC_EXEC});
	add(w, s, 0,
	    (struct mt_event){.type = MT_EV_ALLOC,
			      .fn = MT_FN_MALLOC,
			      .time_ns = 1000,
			      .pid = 4242,
			      .tid = 4242,
			      .addr = 0x5555000,
			      .size = 100,
			      .stack = st});
	add(w, s, 0,
	    (struct mt_event){.type = MT_EV_MMAP,
			      .time_ns = 2000,
			      .pid = 4242,
			      .tid = 4242,
			      .addr = 0x7f0000000000,
			      .size = 1 << 20,
			      .prot = 3,
			      .mflags = 0x22,
			      .fd = -1,
			      .path = log_writer_string(w, "/dev/zero"),
			      .stack = st});
	assert_int_equal(log_writer_flush(w), 0);
	for (int i = 0; i < 30; i++)
		add(w, s, 1,
		    (struct mt_event){.type = MT_EV_ALLOC,
				      .fn = MT_FN_MALLOC,
				      .time_ns = 3000 + 100 * (uint64_t)i,
				      .pid = 4242,
				      .tid = 4243,
				      .addr = 0x5556000 + 64 * (uint64_t)i,
				      .size = 48,
				      .stack = st});
	assert_int_equal(log_writer_flush(w), 0);
	add(w, s, 2,
	    (struct mt_event){.type = MT_EV_FREE,
			      .fn = MT_FN_FREE,
			      .time_ns = 9000,
			      .pid = 4242,
			      .tid = 4242,
			      .addr = 0x5555000});
	add(w, s, 2,
	    (struct mt_event){.type = MT_EV_MARK,
			      .time_ns = 9001,
			      .pid = 4242,
			      .tid = 4242,
			      .arg = 1,
			      .stack = st});
	assert_int_equal(log_writer_flush(w), 0);
	assert_int_equal(log_writer_symbol(w, &sym), 0);
	add(w, s, 3,
	    (struct mt_event){.type = MT_EV_PROC_EXIT,
			      .time_ns = 9500,
			      .pid = 4242,
			      .tid = 4242,
			      .status = 0});
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){.duration_ns = 9600}), 0);

	f = fopen(path, "rb");
	assert_non_null(f);
	s->bytes = malloc(1 << 16);
	s->len = fread(s->bytes, 1, 1 << 16, f);
	fclose(f);
	s->header_len = 20 + le32(s->bytes + 12);
	for (off = s->header_len; off < s->len; s->nchunks++) {
		assert_true(s->nchunks < MAX_CHUNKS);
		s->chunk_start[s->nchunks] = off;
		s->chunk_len[s->nchunks] = 20 + le32(s->bytes + off);
		s->codec[s->nchunks] = le32(s->bytes + off + 8);
		off += s->chunk_len[s->nchunks];
	}
	assert_int_equal(off, s->len);
	assert_int_equal(s->nchunks, 4);
	for (size_t k = 0; k < s->nchunks; k++)
		assert_int_equal(s->codec[k], 1);
}

static void expect_event(const struct mt_event *a, const struct mt_event *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->fn, b->fn);
	assert_true(a->time_ns == b->time_ns);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->space, b->space);
	assert_true(a->addr == b->addr);
	assert_true(a->size == b->size);
	assert_true(a->arg == b->arg);
	assert_int_equal(a->prot, b->prot);
	assert_int_equal(a->mflags, b->mflags);
	assert_true(a->fd == b->fd);
	assert_int_equal(a->path, b->path);
	assert_true(a->status == b->status);
	assert_true(a->stack == b->stack);
}

/* What the reader must say about a log cut to len bytes. */
static void expected_cut(const struct sample *s, size_t len, size_t *events, char *msg, size_t size)
{
	size_t k = 0, n = 0;
	char where[80];

	while (k < s->nchunks && s->chunk_start[k] + s->chunk_len[k] <= len)
		n += s->events_in[k++];
	*events = n;
	if (len == s->len) {
		msg[0] = '\0';
		return;
	}
	if (n)
		snprintf(where, sizeof(where), "log is cut short after event #%zu", n - 1);
	else
		snprintf(where, sizeof(where), "log is cut short before its first event");
	if (len == (k ? s->chunk_start[k - 1] + s->chunk_len[k - 1] : s->header_len)) {
		snprintf(msg, size, "%s (no trailer; the tracer was killed?)", where);
	} else {
		size_t have = len - s->chunk_start[k];

		snprintf(msg, size,
			 "%s: its last chunk, at offset %zu, is partial (%zu of %zu bytes; "
			 "no trailer; the tracer was killed?)",
			 where, s->chunk_start[k], have, have < 20 ? (size_t)20 : s->chunk_len[k]);
	}
}

static void test_every_length(void **state)
{
	char path[] = "/tmp/memtrack-cut-XXXXXX", cut[64];
	struct sample *s = calloc(1, sizeof(*s));
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	snprintf(cut, sizeof(cut), "%s.cut", path);
	make_sample(path, s);
	assert_int_equal(s->nevents, 36);

	for (size_t len = 0; len <= s->len; len++) {
		struct log_reader *r;
		struct mt_event ev;
		char err[256], want[256];
		size_t events;
		int rc;

		write_file(cut, s->bytes, len);
		rc = log_reader_open(&r, cut, err, sizeof(err));
		if (len == 0) {
			assert_int_equal(rc, -ENODATA);
			assert_string_equal(err, "empty file");
			continue;
		}
		if (len < s->header_len) {
			snprintf(want, sizeof(want),
				 "log is cut short inside its header (%zu of %zu bytes)", len,
				 len < 16 ? (size_t)20 : s->header_len);
			assert_int_equal(rc, -EBADMSG);
			assert_string_equal(err, want);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(log_reader_header(r)->pid, 4242);
		expected_cut(s, len, &events, want, sizeof(want));
		/* Twice: the second pass after a rewind says the same. */
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < events; i++) {
				assert_int_equal(log_reader_next(r, &ev), 1);
				expect_event(&ev, &s->events[i]);
			}
			assert_int_equal(log_reader_next(r, &ev), 0);
			assert_string_equal(log_reader_error(r), want);
			assert_int_equal(log_reader_truncated(r), len != s->len);
			if (len == s->len)
				assert_non_null(log_reader_trailer(r));
			else
				assert_null(log_reader_trailer(r));
			assert_int_equal(log_reader_rewind(r), 0);
		}
		log_reader_close(r);
	}
	unlink(cut);
	unlink(path);
	free(s->bytes);
	free(s);
}

static void test_every_flip(void **state)
{
	char path[] = "/tmp/memtrack-flip-XXXXXX", bad[64];
	struct sample *s = calloc(1, sizeof(*s));
	int fd = mkstemp(path);
	uint8_t *copy;

	assert_true(fd >= 0);
	close(fd);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	make_sample(path, s);
	copy = malloc(s->len);

	for (size_t at = 0; at < s->len; at++) {
		for (int bit = 0; bit < 8; bit += 7) {
			struct log_reader *r;
			struct mt_event ev;
			char err[256];
			int rc;
			size_t n = 0;

			memcpy(copy, s->bytes, s->len);
			copy[at] ^= (uint8_t)(1u << bit);
			write_file(bad, copy, s->len);
			rc = log_reader_open(&r, bad, err, sizeof(err));
			if (rc) {
				assert_true(at < s->header_len);
				assert_true(rc == -EBADMSG || rc == -EPROTONOSUPPORT);
				assert_true(strlen(err) > 0);
				continue;
			}
			while ((rc = log_reader_next(r, &ev)) == 1) {
				expect_event(&ev, &s->events[n]);
				n++;
			}
			/* Corruption, found in the chunk holding the flip: the
			 * events of the chunks before it were replayed. */
			assert_int_equal(rc, -EBADMSG);
			assert_non_null(strstr(log_reader_error(r), "corrupt log: "));
			assert_int_equal(log_reader_truncated(r), 0);
			{
				size_t before = 0;

				for (size_t k = 0;
				     k < s->nchunks && s->chunk_start[k] + s->chunk_len[k] <= at;
				     k++)
					before += s->events_in[k];
				assert_int_equal(n, before);
			}
			log_reader_close(r);
		}
	}
	unlink(bad);
	unlink(path);
	free(copy);
	free(s->bytes);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_every_flip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
