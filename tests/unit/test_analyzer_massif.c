/*
 * test_analyzer_massif.c - massif's culling of snapshots, against the rule
 * as massif states it, written here as plainly as it reads: when 100
 * snapshots are held, 50 go, one at a time, each the one whose neighbours
 * are closest in time (the lowest index of equals; never the first, the
 * last or a peak), and the minimum interval becomes the smallest gap left
 * that is not between two snapshots that never go.  Many random sets of
 * snapshots: equal times, zero gaps, spans near 2^64, times out of order,
 * peaks anywhere, and the sets a long run with a minimum interval of 0
 * makes (the newest half dense, the older half spread out).  Each cull
 * goes through a memo of the half the last one left (cull_snapshots_memo),
 * as massif.c's do; runs check that it is used and that it steps aside for
 * a set it does not fit.
 *
 * `test_analyzer_massif --bench` times cull_snapshots() on such runs
 * instead (ns a call); a normal run prints only cmocka's results.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "analyzer/cull.h"

#define N CULL_HELD

enum { UNUSED = 0, NORMAL, PEAK };

/* The snapshots held, as massif.c holds them: their times and kinds, the
 * event each was taken at. */
struct model {
	struct {
		int kind;
		struct {
			uint64_t event, time;
		} s;
	} snaps[N];
	size_t next;
	struct cull_memo memo; /* carried from cull to cull, as massif.c does */
};

/* massif.c's cull: those that go, deleted; the new minimum interval. */
static uint64_t cull(struct model *m)
{
	uint64_t t[N], min;
	uint8_t peak[N], gone[N] = {0};
	size_t i, j;

	for (i = 0; i < N; i++) {
		t[i] = m->snaps[i].s.time;
		peak[i] = m->snaps[i].kind == PEAK;
	}
	min = cull_snapshots_memo(&m->memo, t, peak, gone);
	for (i = 0, j = 0; j < N; j++)
		if (!gone[j])
			m->snaps[i++] = m->snaps[j];
	for (j = i; j < N; j++)
		m->snaps[j].kind = UNUSED;
	m->next = i;
	return min;
}

/* xorshift64*: the same sets on every run */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* 0 <= x < n */
static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/*
 * The rule, a scan per deletion: keeps in keep[] the indices of the
 * snapshots left (*n of them) and returns the new minimum interval (0
 * when no gap counts, as massif.c has it: a gap of 2^64 - 1 counts as
 * none too).
 */
static uint64_t rule_cull(const uint64_t *t, const int *kind, int *keep, size_t *n)
{
	int live[N], nlive = N;
	uint64_t min = UINT64_MAX;

	for (int i = 0; i < N; i++)
		live[i] = i;
	for (int k = 0; k < N / 2; k++) {
		int best = -1;
		uint64_t best_span = 0;

		for (int j = 1; j + 1 < nlive; j++) {
			uint64_t span = t[live[j + 1]] - t[live[j - 1]];

			if (kind[live[j]] == PEAK)
				continue;
			if (best < 0 || span < best_span) {
				best = j;
				best_span = span;
			}
		}
		if (best < 0)
			break;
		memmove(&live[best], &live[best + 1], (size_t)(nlive - best - 1) * sizeof(*live));
		nlive--;
	}
	for (int j = 1; j < nlive; j++) {
		int never = (j == nlive - 1 || kind[live[j]] == PEAK) &&
			    (j - 1 == 0 || kind[live[j - 1]] == PEAK);
		uint64_t gap = t[live[j]] - t[live[j - 1]];

		if (!never && gap < min)
			min = gap;
	}
	memcpy(keep, live, (size_t)nlive * sizeof(*live));
	*n = (size_t)nlive;
	return min == UINT64_MAX ? 0 : min;
}

static void model_fill(struct model *m, const uint64_t *t, const int *kind)
{
	memset(m->snaps, 0, sizeof(m->snaps));
	for (int i = 0; i < N; i++) {
		m->snaps[i].kind = kind[i];
		m->snaps[i].s.event = (uint64_t)i;
		m->snaps[i].s.time = t[i];
	}
	m->next = N;
}

/* cull() on one set against the rule: the same snapshots left, in order,
 * the rest unused, the same interval. */
static void check_set(const uint64_t *t, const int *kind)
{
	static struct model m;
	int keep[N];
	size_t n;
	uint64_t want = rule_cull(t, kind, keep, &n), got;

	model_fill(&m, t, kind);
	got = cull(&m);
	assert_int_equal(m.next, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m.snaps[i].s.event, keep[i]);
		assert_int_equal(m.snaps[i].s.time, t[keep[i]]);
		assert_int_equal(m.snaps[i].kind, kind[keep[i]]);
	}
	for (size_t i = n; i < N; i++)
		assert_int_equal(m.snaps[i].kind, UNUSED);
	assert_int_equal(got, want);
}

/* Peaks: none, one, a few, or so many that fewer than 50 can go. */
static void peaks(int *kind)
{
	uint64_t r = below(10);
	int np = r < 2 ? 0 : r < 7 ? 1 : r < 9 ? (int)below(5) : 40 + (int)below(60);

	for (int i = 0; i < N; i++)
		kind[i] = NORMAL;
	for (int i = 0; i < np; i++)
		kind[below(N)] = PEAK;
}

/* A gap of 0 often, else small, so that many spans are equal. */
static uint64_t small_gap(void)
{
	uint64_t r = below(8);

	return r < 3 ? 0 : r < 6 ? 8 * (1 + below(4)) : below(200);
}

/* A gap of any size up to 2^bits, most of them small. */
static uint64_t wild_gap(int bits)
{
	return rnd() >> (64 - bits + below((uint64_t)bits));
}

static void test_cull_equal_times(void **state)
{
	uint64_t t[N];
	int kind[N];

	for (int c = 0; c < 4000; c++) {
		t[0] = below(3) ? 0 : rnd();
		for (int i = 1; i < N; i++)
			t[i] = t[i - 1] + small_gap();
		peaks(kind);
		check_set(t, kind);
	}
}

/* Times that spread over up to 2^64 and start anywhere, up to its top;
 * or small gaps and a few of 2^56 to 2^58, often just below 2^57, so that
 * spans cross 2^57. */
static void test_cull_wide_spans(void **state)
{
	uint64_t t[N];
	int kind[N];

	for (int c = 0; c < 4000; c++) {
		int bits = 50 + (int)below(8), huge = c % 2 ? 1 + (int)below(3) : 0;
		uint64_t top = UINT64_MAX - below(1000);

		t[0] = 0;
		for (int i = 1; i < N; i++)
			t[i] = t[i - 1] + (huge ? small_gap() : wild_gap(bits));
		for (int h = 0; h < huge; h++) {
			uint64_t g = below(2) ? (1ull << 57) - below(300)
					      : (1ull << 56) + below(3ull << 56);

			for (int i = 1 + (int)below(N - 1); i < N; i++)
				t[i] += g;
		}
		if (below(2)) /* up against 2^64 */
			for (int i = 0; i < N; i++)
				t[i] += top - t[N - 1];
		peaks(kind);
		check_set(t, kind);
	}
}

/* Times in no order: spans wrap around 2^64. */
static void test_cull_out_of_order(void **state)
{
	uint64_t t[N];
	int kind[N];

	for (int c = 0; c < 1000; c++) {
		for (int i = 0; i < N; i++)
			t[i] = below(4) ? rnd() : below(100);
		peaks(kind);
		check_set(t, kind);
	}
}

/* cull() on the snapshots a run holds, against the rule: the same left,
 * the same interval. */
static void cull_as_ruled(struct model *m)
{
	uint64_t t[N], want, got;
	int kind[N], keep[N];
	size_t n;

	for (int i = 0; i < N; i++) {
		t[i] = m->snaps[i].s.time;
		kind[i] = m->snaps[i].kind;
	}
	want = rule_cull(t, kind, keep, &n);
	got = cull(m);
	assert_int_equal(got, want);
	assert_int_equal(m->next, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m->snaps[i].s.time, t[keep[i]]);
}

/*
 * What a long run with a minimum interval of 0 culls: the half left last
 * time, spread out, and 50 new ones close together.  With near, an old
 * candidate's span is made the extent of the newest 50 candidates (from
 * the snapshot before them to the last), give or take one.
 */
static void steady_set(uint64_t *t, int *kind, int near)
{
	uint64_t gap[N] = {0}, extent = 0;
	int a = N - 1, n = 0;

	for (int i = 0; i < N; i++)
		kind[i] = NORMAL;
	if (below(2))
		kind[below(N)] = PEAK;
	for (int i = 1; i < N; i++)
		gap[i] = i < N / 2 ? 100000 + below(1000000) : small_gap();
	while (n < N / 2 && a > 1)
		n += kind[--a] != PEAK;
	for (int i = a; i < N; i++)
		extent += gap[i];
	if (near && a > 2) {
		int j = 1 + (int)below((uint64_t)a - 2);
		uint64_t want = extent + below(3) - 1;

		gap[j] = want / 2;
		gap[j + 1] = want - want / 2;
	}
	t[0] = below(1000);
	for (int i = 1; i < N; i++)
		t[i] = t[i - 1] + gap[i];
}

static void test_cull_newest_half(void **state)
{
	uint64_t t[N];
	int kind[N];

	for (int c = 0; c < 4000; c++) {
		steady_set(t, kind, c % 2);
		check_set(t, kind);
	}
}

/* Runs as massif's model makes them: snapshots after each cull appended
 * with small gaps (sometimes a new peak), the sets carried over. */
static void test_cull_runs(void **state)
{
	static struct model m;

	for (int run = 0; run < 40; run++) {
		uint64_t now = 0;

		memset(&m, 0, sizeof(m));
		for (int c = 0; c < 100; c++) {
			while (m.next < N) {
				now += run % 2 ? small_gap() : wild_gap(20);
				m.snaps[m.next] = (__typeof__(m.snaps[0])){
					NORMAL, {.event = now, .time = now}};
				if (!below(40)) {
					for (size_t i = 0; i < m.next; i++)
						if (m.snaps[i].kind == PEAK)
							m.snaps[i].kind = NORMAL;
					m.snaps[m.next].kind = PEAK;
				}
				m.next++;
			}
			cull_as_ruled(&m);
		}
	}
}

/*
 * Runs at interval 0, as test_cull_runs(), where the memo mostly serves,
 * with what it must not serve: a peak among the newest, an old peak gone
 * (a new one among the newest), a newest half that spreads wider than an
 * old span, a time out of order, an old snapshot's time changed.
 */
static void test_cull_memo(void **state)
{
	static struct model m;
	uint64_t hits = 0, culls = 0;

	for (int run = 0; run < 40; run++) {
		uint64_t now = 0;

		memset(&m, 0, sizeof(m));
		for (int c = 0; c < 200; c++) {
			int odd = below(5) ? -1 : (int)below(6);
			uint64_t before = m.memo.hits;
			int miss = odd >= 0 && odd != 4; /* 4: a change the memo may not see */

			while (m.next < N) {
				now += small_gap();
				if (odd == 2 && m.next == N - 1)
					now += 10000000 + below(1000000); /* wider than the old */
				m.snaps[m.next] = (__typeof__(m.snaps[0])){
					NORMAL, {.event = now, .time = now}};
				m.next++;
			}
			if (odd == 0) {
				m.snaps[N / 2 + below(N / 2 - 1)].kind = PEAK;
			} else if (odd == 1) {
				/* the last may be the peak: only one of the first 49
				 * gone is odd */
				miss = 0;
				for (size_t i = 0; i < N; i++)
					if (m.snaps[i].kind == PEAK) {
						m.snaps[i].kind = NORMAL;
						miss |= i < CULL_OLD;
					}
				m.snaps[N - 1].kind = PEAK;
			} else if (odd == 3) {
				size_t i = N / 2 + below(N / 2);

				m.snaps[i].s.time = m.snaps[i - 1].s.time - 1 - below(5);
			} else if (odd == 4) {
				m.snaps[1 + below(N / 2 - 2)].s.time -= below(2);
			} else if (odd == 5) { /* a peak among the first 49 */
				size_t i = 1 + below(CULL_OLD - 1);

				miss = m.snaps[i].kind != PEAK;
				m.snaps[i].kind = PEAK;
			}
			/* the old half spread out, so that the newest go; at
			 * times the last two of the first 49 close together
			 * (the span of the last one then decides), or the
			 * second one the peak and close to the first */
			if (c == 0) {
				for (size_t i = 1; i < N; i++) {
					uint64_t gap =
						i < N / 2 ? 100000 + below(1000) : small_gap();

					if ((i == CULL_OLD - 1 && run % 3 == 1) ||
					    (i == 1 && run % 3 == 2))
						gap = below(3);
					m.snaps[i].s.time = m.snaps[i - 1].s.time + gap;
				}
				if (run % 3 == 2)
					m.snaps[1].kind = PEAK;
			}
			now = m.snaps[N - 1].s.time;
			cull_as_ruled(&m);
			/* none of the odd sets is the memo's */
			if (miss)
				assert_int_equal(m.memo.hits, before);
			culls++;
		}
		hits = m.memo.hits > hits ? m.memo.hits : hits;
	}
	/* the memo served most culls of a run */
	assert_true(hits > 100);
	assert_true(culls == 40 * 200);
}

/*
 * Sets made to sit on the memo's edges.  A first cull leaves old[] (49
 * snapshots, then the last one at old[48]'s time: the 51 after old[] are
 * all at that time, so they go) and remembers it; the second set is old[]
 * and then old[48] + fresh[k] for each of the 51 others.  Both against
 * the rule.
 */
static void memo_case(const uint64_t *old, const int *old_kind, const uint64_t *fresh)
{
	static struct model m;
	uint64_t t[N];
	int kind[N], keep[N];
	size_t n;

	memset(&m, 0, sizeof(m));
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			t[i] = i < CULL_OLD ? old[i]
			       : round == 0 ? old[CULL_OLD - 1]
					    : old[CULL_OLD - 1] + fresh[i - CULL_OLD];
			kind[i] = i < CULL_OLD ? old_kind[i] : NORMAL;
		}
		model_fill(&m, t, kind);
		{
			uint64_t want = rule_cull(t, kind, keep, &n), got = cull(&m);

			assert_int_equal(got, want);
			assert_int_equal(m.next, n);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(m.snaps[i].s.event, keep[i]);
		}
	}
}

/* The last one left moved on by z, the 49 new ones at y, the last at x. */
static void memo_case3(const uint64_t *old, const int *old_kind, uint64_t z, uint64_t y, uint64_t x)
{
	uint64_t fresh[N - CULL_OLD];

	fresh[0] = z;
	for (int k = 1; k < N - CULL_OLD - 1; k++)
		fresh[k] = y;
	fresh[N - CULL_OLD - 1] = x;
	memo_case(old, old_kind, fresh);
}

static void test_cull_memo_edges(void **state)
{
	uint64_t old[CULL_OLD], span = UINT64_MAX, fresh[N - CULL_OLD];
	int kind[CULL_OLD] = {0};

	for (int i = 0; i < CULL_OLD; i++) {
		old[i] = 100000 * (uint64_t)i + (uint64_t)(i * i % 7);
		kind[i] = NORMAL;
	}
	for (int i = 1; i + 1 < CULL_OLD; i++)
		if (old[i + 1] - old[i - 1] < span)
			span = old[i + 1] - old[i - 1];
	/* the newest half as wide as the least old span, and one less */
	memo_case3(old, kind, 0, 0, span);
	memo_case3(old, kind, 0, 0, span - 1);
	memo_case3(old, kind, span / 2, span / 2, span);
	memo_case3(old, kind, span - 1, span - 1, span);
	memo_case3(old, kind, span - 1, span - 1, span + 1);
	/* the last two of old close: the span of the last is the least */
	old[CULL_OLD - 1] = old[CULL_OLD - 2] + 3;
	for (uint64_t x = 0; x < 8; x++)
		memo_case3(old, kind, x / 2, x / 2, x);
	memo_case3(old, kind, 1000, 1000, 5000);
	/* the second the peak, close to the first: their gap does not count */
	old[CULL_OLD - 1] = old[CULL_OLD - 2] + 100000;
	old[1] = old[0];
	kind[1] = PEAK;
	memo_case3(old, kind, 10, 10, 20);
	memo_case3(old, kind, 0, 0, 0);
	kind[1] = NORMAL;
	memo_case3(old, kind, 10, 10, 20);
	/* out of order among the old, the 48th past the 49th: the span of
	 * the 49th wraps, until the newest catch up with the 48th */
	old[1] = old[0] + 100000;
	for (int c = 0; c < 200; c++) {
		uint64_t now = 0;

		old[CULL_OLD - 2] = old[CULL_OLD - 1] + 1 + below(5000);
		for (int k = 0; k < N - CULL_OLD; k++) {
			uint64_t r = below(4);

			fresh[k] = now;
			now += r == 0 ? 0 : r == 1 ? below(50) : r == 2 ? below(1000) : below(4000);
		}
		memo_case(old, kind, fresh);
	}
}

/* --- --bench ------------------------------------------------------------- */

struct bench_set {
	uint64_t t[N];
	int kind[N];
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench_load(struct model *m, const struct bench_set *s)
{
	for (int i = 0; i < N; i++) {
		m->snaps[i].s.time = s->t[i];
		m->snaps[i].kind = s->kind[i];
	}
	m->next = N;
}

/* The least over several passes of the ns a call, less the loading. */
static double bench_sets(const struct bench_set *sets, size_t n)
{
	static struct model m;
	double best = 1e30;
	uint64_t sink = 0;

	for (int pass = 0; pass < 9; pass++) {
		double t0 = now_ns(), t1, t2;

		for (size_t i = 0; i < n; i++)
			bench_load(&m, &sets[i]);
		t1 = now_ns();
		for (size_t i = 0; i < n; i++) {
			bench_load(&m, &sets[i]);
			sink += cull(&m);
		}
		t2 = now_ns();
		if ((t2 - t1) - (t1 - t0) < best)
			best = (t2 - t1) - (t1 - t0);
	}
	if (sink == 1)
		printf(" ");
	return best / (double)n;
}

/* The sets culled in a run of appended snapshots, gaps from gap(). */
static void bench_record(struct bench_set *sets, size_t n, uint64_t (*gap)(void))
{
	static struct model m;
	uint64_t now = 0;

	memset(&m, 0, sizeof(m));
	for (size_t c = 0; c < n; c++) {
		while (m.next < N) {
			now += gap();
			m.snaps[m.next] =
				(__typeof__(m.snaps[0])){NORMAL, {.event = now, .time = now}};
			m.next++;
		}
		if (c % 64 == 0) { /* a peak now and then, the last one */
			for (int i = 0; i < N; i++)
				if (m.snaps[i].kind == PEAK)
					m.snaps[i].kind = NORMAL;
			m.snaps[N - 1].kind = PEAK;
		}
		for (int i = 0; i < N; i++) {
			sets[c].t[i] = m.snaps[i].s.time;
			sets[c].kind[i] = m.snaps[i].kind;
		}
		cull(&m);
	}
}

static uint64_t gap_python(void)
{
	return below(100) == 0 ? 0 : 16 * (1 + below(8));
}

static uint64_t gap_wild(void)
{
	return wild_gap(30);
}

static int bench(void)
{
	size_t n = 20000;
	struct bench_set *sets = malloc(n * sizeof(*sets));

	if (!sets)
		return 1;
	bench_record(sets, n, gap_python);
	printf("cull, newest half dense (a run at interval 0): %.0f ns a call\n",
	       bench_sets(sets, n));
	for (size_t c = 0; c < n; c++) {
		sets[c].t[0] = 0;
		for (int i = 1; i < N; i++)
			sets[c].t[i] = sets[c].t[i - 1] + gap_wild();
	}
	printf("cull, gaps of any size: %.0f ns a call\n", bench_sets(sets, n));
	free(sets);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cull_equal_times),  cmocka_unit_test(test_cull_wide_spans),
		cmocka_unit_test(test_cull_out_of_order), cmocka_unit_test(test_cull_newest_half),
		cmocka_unit_test(test_cull_runs),	  cmocka_unit_test(test_cull_memo),
		cmocka_unit_test(test_cull_memo_edges),
	};

	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
