/*
 * recorder.c - the code memtrack maps into the traced program (the fast
 * engine): every hooked allocator entry jumps here, the call is recorded
 * into a ring the tracer drains on its own CPU, and the program goes on.
 * No stop, no lock shared with the program's allocator.
 *
 * Freestanding and position-independent: no libc, no relocations, no
 * writable data of its own (everything mutable lives in the shared area,
 * struct mtr_ctl, which the tracer maps right after this code: its address
 * is mtr_ctl_area, a symbol of the linker script).  Compiled with
 * -mgeneral-regs-only: it never touches a vector register, so a mark can
 * stop anywhere without saving them.
 *
 * Stacks are walked here with the unwind rules the tracer reduced from each
 * module's CFI and shared (struct mtr_rule); a pc with no rule yet (or one
 * only libdwfl can walk) makes the thread ask the tracer, which walks the
 * stack where it lies and answers; its rules are shared from then on.
 *
 * If the tracer is gone (killed), the shared area stays; a thread that
 * would wait for it (a full ring, an unanswered walk) finds out, and from
 * then on every call just goes on to the original.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../formats/log.h"
#include "shared.h"

#define hidden __attribute__((visibility("hidden")))

extern unsigned char mtr_ctl_area[] hidden;

/* The entry's context (entry.S, mtr_entry). */
struct mtr_ctx {
	uint64_t rdi, rsi, rdx, rcx, r8, r9;
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint64_t rsp;		/* -> the caller's return address */
	uint64_t site;
	uint64_t orig;
};

/* A mark's context (entry.S, mtr_mark_entry), lowest address first. */
struct mtr_mark_ctx {
	uint64_t r15, r14, r13, r12, r11, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax, eflags;
	uint64_t ret;		/* into the stub */
	uint64_t r10;		/* saved by the stub */
	/* then the 128 bytes of the red zone, then the program's stack */
};

uint64_t mtr_call(struct mtr_ctx *c) hidden;
void mtr_mark(struct mtr_mark_ctx *c, uint64_t site) hidden;

typedef uint64_t (*original_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

#define STACK_MAX (64ull << 20)	/* as the tracer's unwinder: no walk reads further */
#define NEST_FRAMES 32		/* how far the nesting test walks */
#define OWN_FRAMES  16		/* room for the recorder's own frames in a walk (a
				   handler that interrupted a wrapper) */

/* --- the kernel ------------------------------------------------------------------ */

#define SYS_read	 0
#define SYS_open	 2
#define SYS_close	 3
#define SYS_sched_yield	 24
#define SYS_getpid	 39
#define SYS_kill	 62
#define SYS_nanosleep	 35
#define SYS_rt_sigprocmask 14
#define SYS_rt_tgsigqueueinfo 297
#define SYS_gettid	 186
#define SYS_futex	 202
#define SIGKILL_NR	 9
#define SIGSTOP_NR	 19
#define FUTEX_WAIT	 0
#define FUTEX_WAKE	 1

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static long sys4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

struct kts {
	long sec, nsec;
};

static void futex_wake(uint32_t *word)
{
	sys3(SYS_futex, (long)word, FUTEX_WAKE, 1 << 30);
}

static void futex_wait(uint32_t *word, uint32_t val, long ms)
{
	struct kts ts = {ms / 1000, (ms % 1000) * 1000000};

	sys4(SYS_futex, (long)word, FUTEX_WAIT, val, (long)&ts);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#define SYS_arch_prctl 158
#define ARCH_GET_FS    0x1003

/* The thread pointer, without touching TLS (there may be none yet): one
 * instruction where the kernel allows it (FSGSBASE), else a syscall. */
static uint64_t thread_pointer(const struct mtr_ctl *k)
{
	uint64_t fs = 0;

	if (k->flags & MTR_F_NO_FSGSBASE)
		sys3(SYS_arch_prctl, ARCH_GET_FS, (long)&fs, 0);
	else
		__asm__ volatile("rdfsbase %0" : "=r"(fs));
	return fs;
}

static void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* --- the shared area ------------------------------------------------------------- */

static struct mtr_ctl *ctl(void)
{
	return (struct mtr_ctl *)mtr_ctl_area;
}

static void *area(uint64_t off)
{
	return mtr_ctl_area + off;
}

static int in_range(const struct mtr_range *r, uint64_t a)
{
	return a >= r->start && a < r->end;
}

static int in_ranges(const struct mtr_range *r, uint32_t n, uint64_t a)
{
	for (uint32_t i = 0; i < n; i++)
		if (a >= r[i].start && a < r[i].end)
			return 1;
	return 0;
}

/*
 * Is the tracer still there?  Asked only when waiting for it took long: a
 * thread's tracer is the kernel's answer (/proc/thread-self/status), and
 * without /proc, whether its pid lives.
 */
static int tracer_alive(struct mtr_ctl *k)
{
	char buf[1024];
	static const char key[] = "TracerPid:";
	long fd = sys3(SYS_open, (long)"/proc/thread-self/status", 0, 0), n;

	if (fd < 0)
		return sys3(SYS_kill, k->tracer_pid, 0, 0) == 0;
	n = sys3(SYS_read, fd, (long)buf, sizeof(buf) - 1);
	sys3(SYS_close, fd, 0, 0);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	for (long i = 0; i + (long)sizeof(key) - 1 < n; i++) {
		long j = 0;
		uint32_t pid = 0;

		while (key[j] && buf[i + j] == key[j])
			j++;
		if (key[j])
			continue;
		for (i += j; buf[i] == ' ' || buf[i] == '\t'; i++)
			;
		for (; buf[i] >= '0' && buf[i] <= '9'; i++)
			pid = pid * 10 + (uint32_t)(buf[i] - '0');
		return pid == k->tracer_pid;
	}
	return 1;
}

/* Wakes the tracer if it sleeps (or is about to: it sleeps only while the
 * doorbell holds the value it read). */
static void ring_bell(struct mtr_ctl *k)
{
	__atomic_fetch_add(&k->doorbell, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&k->sleeping, __ATOMIC_ACQUIRE))
		futex_wake(&k->doorbell);
}

/* The tracer is gone: from now on calls only go on to the original. */
static void give_up(struct mtr_ctl *k)
{
	__atomic_store_n(&k->disabled, 1, __ATOMIC_RELEASE);
}

/* Waits a little; every 200 rounds (roughly 20 ms) asks whether the tracer
 * is still there.  0 when it is not. */
static int wait_a_little(struct mtr_ctl *k, uint32_t *round)
{
	if (++*round < 64) {
		cpu_relax();
		return 1;
	}
	ring_bell(k);
	if (*round % 200 == 0 && !tracer_alive(k)) {
		give_up(k);
		return 0;
	}
	sys3(SYS_sched_yield, 0, 0, 0);
	return 1;
}

/*
 * The ring is full up to `end`: spins a little, then sleeps until the
 * tracer moves its tail (it wakes those who wait), so that a program that
 * outruns the tracer on a busy machine leaves it the CPU; about every
 * second asks whether the tracer is still there.  0 when it is not.
 */
static int wait_for_room(struct mtr_ctl *k, uint64_t end, uint32_t *round)
{
	uint32_t bell;

	if (++*round < 64) {
		cpu_relax();
		return 1;
	}
	ring_bell(k);
	if (*round % 100 == 0 && !tracer_alive(k)) {
		give_up(k);
		return 0;
	}
	bell = __atomic_load_n(&k->room_bell, __ATOMIC_ACQUIRE);
	__atomic_fetch_add(&k->room_waiters, 1, __ATOMIC_SEQ_CST);
	if (end - __atomic_load_n(&k->tail, __ATOMIC_SEQ_CST) > k->ring_size)
		futex_wait(&k->room_bell, bell, 10);
	__atomic_fetch_sub(&k->room_waiters, 1, __ATOMIC_RELAXED);
	return 1;
}

/* --- threads --------------------------------------------------------------------- */

static uint32_t hash64(uint64_t v)
{
	return (uint32_t)((v * 0x9e3779b97f4a7c15ull) >> 32);
}

/* This thread's slot, found or taken; NULL when the table is full. */
static struct mtr_thread *thread_self(struct mtr_ctl *k)
{
	struct mtr_thread *tab = area(k->threads_off);
	uint64_t key = thread_pointer(k) + 1;
	uint32_t i = hash64(key) & (MTR_THREADS - 1);

	for (uint32_t probe = 0; probe < MTR_THREADS; probe++, i = (i + 1) & (MTR_THREADS - 1)) {
		uint64_t k0 = __atomic_load_n(&tab[i].key, __ATOMIC_ACQUIRE);

		if (!k0) {
			if (!__atomic_compare_exchange_n(&tab[i].key, &k0, key, 0, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE)) {
				if (k0 != key)
					continue;	/* taken by another thread's key */
			} else {
				tab[i].nactive = 0;
				__atomic_store_n(&tab[i].tid, 0, __ATOMIC_RELEASE);
			}
		} else if (k0 != key) {
			continue;
		}
		if (!__atomic_load_n(&tab[i].tid, __ATOMIC_ACQUIRE))
			__atomic_store_n(&tab[i].tid, (uint32_t)sys3(SYS_gettid, 0, 0, 0),
					 __ATOMIC_RELEASE);
		return &tab[i];
	}
	return NULL;
}

static uint32_t thread_tid(const struct mtr_ctl *k, const struct mtr_thread *th)
{
	if (th && !__atomic_load_n(&k->vmshare, __ATOMIC_ACQUIRE))
		return th->tid;
	return (uint32_t)sys3(SYS_gettid, 0, 0, 0);
}

/* The slot's number in the thread table. */
static uint32_t slot_index(const struct mtr_ctl *k, const struct mtr_thread *th)
{
	return th ? (uint32_t)(th - (const struct mtr_thread *)area(k->threads_off)) : MTR_NO_SLOT;
}

/* A wrapper call of this thread is running above sp (deeper calls abandoned
 * by longjmp are forgotten on the way). */
static int call_active(struct mtr_thread *th, uint64_t sp)
{
	if (!th)
		return 0;
	while (th->nactive && th->active_sp[th->nactive - 1] <= sp)
		th->nactive--;
	return th->nactive > 0;
}

/* --- time ------------------------------------------------------------------------ */

/* Who makes a call record, and when (shared.h, struct mtr_who): the
 * tracer's epoch, or MTR_CALL_TSC when there is none (it sleeps) or exact
 * times are asked for; then *tsc is to be written. */
static struct mtr_who who(const struct mtr_ctl *k, uint32_t tid, uint32_t fn, uint32_t flags,
			  uint64_t *tsc)
{
	uint32_t epoch = __atomic_load_n(&k->epoch, __ATOMIC_RELAXED);

	if (!epoch || (k->flags & MTR_F_EXACT_TIME)) {
		*tsc = rdtsc();
		flags |= MTR_CALL_TSC;
	}
	return (struct mtr_who){.tid = tid, .epoch = (uint16_t)epoch, .fn = fn & 0xfff,
				.flags = flags & 0xf};
}

/* --- the ring -------------------------------------------------------------------- */

/*
 * A thread writes records between record_enter and record_leave: a signal
 * that comes meanwhile is held back by the tracer until record_leave (see
 * struct mtr_thread), so that its handler neither waits behind a record
 * half written nor changes the slot's last stack under it.
 */
static void record_enter(struct mtr_thread *th)
{
	if (!th)
		return;
	th->in_record++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void record_leave(struct mtr_thread *th)
{
	if (!th)
		return;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	th->in_record--;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!th->in_record && th->held_sig) {
		/* a signal waited for this record: it comes in now */
		uint32_t sig = th->held_sig;

		th->held_sig = 0;
		sys4(SYS_rt_tgsigqueueinfo, sys3(SYS_getpid, 0, 0, 0), sys3(SYS_gettid, 0, 0, 0), sig,
		     (long)th->held_info);
		sys4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (long)&th->saved_mask, 0, 8);
	}
}

/*
 * Reserves `words` words (inside record_enter); returns where to write
 * them, NULL when the tracer is gone.  A full ring is waited out: records
 * are never dropped while the tracer lives.  The reservation is marked at
 * once (type 0), so that the tracer can step over one whose thread never
 * came back to it.
 */
static uint64_t *ring_reserve(struct mtr_ctl *k, struct mtr_thread *th, uint32_t words,
			      uint64_t *pos)
{
	uint64_t len = (uint64_t)words * 8, size = k->ring_size, p, tail;
	uint32_t round = 0;

	p = __atomic_fetch_add(&k->head, len, __ATOMIC_RELAXED);
	uint64_t *rec = (uint64_t *)((char *)area(k->ring_off) + (p & (size - 1)));

	if (!th || p + len - th->tail_seen > size) {
		while (p + len - (tail = __atomic_load_n(&k->tail, __ATOMIC_ACQUIRE)) > size) {
			if (k->disabled || !wait_for_room(k, p + len, &round)) {
				__atomic_fetch_add(&k->dropped, 1, __ATOMIC_RELAXED);
				return NULL;
			}
		}
		if (th)
			th->tail_seen = tail;
	}
	__atomic_store_n(rec, MTR_HDR(MTR_TAG_OF(p), 0, words), __ATOMIC_RELEASE);
	*pos = p;
	return rec;
}

static void ring_commit(uint64_t *rec, uint64_t pos, uint32_t type, uint32_t words)
{
	__atomic_store_n(rec, MTR_HDR(MTR_TAG_OF(pos), type, words), __ATOMIC_RELEASE);
}

/* --- unwinding ------------------------------------------------------------------- */

/* The shared rule of pc, or NULL when there is none (yet). */
static const struct mtr_rule *rule_find(const struct mtr_ctl *k, uint64_t pc)
{
	const struct mtr_rule *tab = area(k->rules_off);
	uint32_t mask = k->rules_mask, i = hash64(pc) & mask;

	for (uint32_t probe = 0; probe < 64 && pc; probe++, i = (i + 1) & mask) {
		uint64_t key = __atomic_load_n(&tab[i].pc, __ATOMIC_ACQUIRE);

		if (key == pc)
			return &tab[i];
		if (!key)
			break;
	}
	return NULL;
}

enum walk_end {
	WALK_DONE,		/* the outermost frame, or max frames */
	WALK_BLOB,		/* a return into the recorder: a wrapper's call */
	WALK_TRACER,		/* a pc only the tracer can walk past */
};

struct walk_regs {
	uint64_t rip, rsp;
	uint64_t val[MTR_NREGS];	/* rbx rbp r12 r13 r14 r15 */
};

/* Whether the word at `at` lies where a walk may read. */
#define READABLE(at, lo, hi) ((at) >= (lo) && (at) + 8 <= (hi))

#define RBP (1u << 1)		/* rbp's bit in register masks */

/* Where a walk is: a frame, and what it may read. */
struct wstate {
	uint64_t lookup, sp;
	uint64_t lo, hi;
	uint64_t val[MTR_NREGS];
	unsigned valid;
};

/* What one step read and used, for the walk cache. */
struct wstep {
	uint64_t ra_at, ra, rbp_at, rbp;
	uint8_t use, def, at, signal;
};

enum step_end {
	STEP_ON,		/* s is the caller's frame */
	STEP_LAST,		/* s was the outermost frame */
	STEP_TRACER,		/* only the tracer can walk on */
};

/*
 * One step of the tracer's fast walk (tracer/unwind.c, walk_fast) over the
 * live stack: from frame s, by its rule r, to its caller's.  Memory is read
 * only between the first stack pointer and STACK_MAX above it, as the
 * tracer's copy would be; anything else is the tracer's to walk.
 */
static enum step_end step(const struct mtr_rule *r, struct wstate *s, struct wstep *d)
{
	uint64_t cfa, ra, at;
	unsigned m;

	d->ra_at = d->ra = d->rbp_at = d->rbp = 0;
	d->use = d->def = d->at = d->signal = 0;
	if (r->status == MTR_RULE_END)
		return STEP_LAST;
	if (r->status == MTR_RULE_SIGNAL) {
		/* the saved context; the interrupted pc is exact */
		uint64_t cfa_at = s->sp + (int64_t)r->cfa_off, ra_at = s->sp + (int64_t)r->ra_off;

		d->signal = 1;
		if (!READABLE(cfa_at, s->lo, s->hi) || !READABLE(ra_at, s->lo, s->hi))
			return STEP_TRACER;
		for (m = r->at; m; m &= m - 1) {
			int i = __builtin_ctz(m);

			at = s->sp + (int64_t)r->off[i];
			if (!READABLE(at, s->lo, s->hi))
				return STEP_TRACER;
			s->val[i] = *(const uint64_t *)at;
		}
		s->valid = (s->valid & ~(unsigned)r->undef) | r->at;
		cfa = *(const uint64_t *)cfa_at;
		ra = *(const uint64_t *)ra_at;
		if (!ra)
			return STEP_LAST;
		/* the interrupted frame's stack may be another (sigaltstack) */
		s->lo = cfa < s->lo ? cfa : s->lo;
		s->hi = cfa + STACK_MAX > s->hi ? cfa + STACK_MAX : s->hi;
		s->sp = cfa;
		s->lookup = ra;
		return STEP_ON;
	}
	if (r->status != MTR_RULE_OK)
		return STEP_TRACER;
	if (r->cfa_reg == MTR_CFA_RSP) {
		cfa = s->sp;
	} else if (r->cfa_reg < MTR_NREGS && (s->valid & (1u << r->cfa_reg))) {
		cfa = s->val[r->cfa_reg];
		d->use = (uint8_t)(1u << r->cfa_reg);
	} else {
		return STEP_TRACER;
	}
	cfa += (int64_t)r->cfa_off;
	at = cfa + (int64_t)r->ra_off;
	if (!READABLE(at, s->lo, s->hi))
		return STEP_TRACER;
	d->ra_at = at;
	d->ra = ra = *(const uint64_t *)at;
	/* the callee's registers, as its caller had them: those saved are
	 * read back, the rest stay (every set bit is one register) */
	for (m = r->at; m; m &= m - 1) {
		int i = __builtin_ctz(m);

		at = cfa + (int64_t)r->off[i];
		if (!READABLE(at, s->lo, s->hi))
			return STEP_TRACER;
		s->val[i] = *(const uint64_t *)at;
		if (i == 1) {
			d->rbp_at = at;
			d->rbp = s->val[i];
		}
	}
	for (m = r->val; m; m &= m - 1) {
		int i = __builtin_ctz(m);

		s->val[i] = cfa + (int64_t)r->off[i];
	}
	s->valid = (s->valid & ~(unsigned)r->undef) | r->at | r->val;
	d->at = r->at;
	d->def = r->at | r->val | r->undef;
	if (!ra)
		return STEP_LAST;
	s->sp = cfa;
	s->lookup = ra - 1;
	return STEP_ON;
}

/* --- the walk cache (shared.h, struct mtr_wcache) -------------------------------- */

/* Gives the frames of a list from `from` up to `until` back to the pool;
 * how many. */
static uint32_t wc_free(struct mtr_wcache *wc, uint16_t from, uint16_t until)
{
	uint32_t n = 0;

	while (from != until && from != MTR_WF_END) {
		uint16_t next = wc->f[from].next;

		wc->f[from].next = wc->free;
		wc->free = from;
		from = next;
		n++;
	}
	return n;
}

/* Empty, for the walks of thread slot `me` under rules generation gen. */
static void wc_reset(struct mtr_wcache *wc, uint32_t me, uint32_t gen)
{
	if (!wc->ready) {
		for (uint32_t i = 0; i < MTR_WF_POOL; i++)
			wc->f[i].next = (uint16_t)(i + 1 < MTR_WF_POOL ? i + 1 : MTR_WF_END);
		wc->free = 0;
		wc->head = MTR_WF_END;
		wc->ready = 1;
	}
	wc_free(wc, wc->head, MTR_WF_END);
	wc->head = MTR_WF_END;
	wc->len = 0;
	wc->owner = me;
	wc->gen = gen;
	wc->cut = 0;
}

/*
 * Whether the rest of a walk at frame s is the cached walk's from its frame
 * c on: the registers that rest reads agree, and every word its frames read
 * holds what they read then.  If so its pcs follow pcs[0..n), up to max,
 * and *got says how many.  If not, *bad is
 * the stack pointer of the frame whose words changed: no frame at or below
 * it can end the walk early either.
 */
static int wc_rest(const struct mtr_wcache *wc, uint16_t c, const struct wstate *s, uint64_t *pcs,
		   uint32_t n, uint32_t max, uint32_t *got, uint64_t *bad)
{
	const struct mtr_wframe *f = &wc->f[c];
	uint32_t m = 0;

	if (f->flags & MTR_WF_NOMATCH)
		return 0;
	if (f->need & RBP) {
		unsigned known = !!(s->valid & RBP);

		if (known != !!(f->flags & MTR_WF_RBP_VALID) || (known && s->val[1] != f->rbp_in))
			return 0;
	}
	for (; c != MTR_WF_END && n + m < max; c = wc->f[c].next) {
		const struct mtr_wframe *e = &wc->f[c];

		pcs[n + m++] = e->lookup;
		if (n + m == max || !(e->flags & MTR_WF_STEP))
			continue;
		if (!READABLE(e->ra_at, s->lo, s->hi) || *(const uint64_t *)e->ra_at != e->ra ||
		    (e->rbp_at &&
		     (!READABLE(e->rbp_at, s->lo, s->hi) || *(const uint64_t *)e->rbp_at != e->rbp))) {
			*bad = e->sp;
			return 0;
		}
	}
	if (n + m < max && wc->cut)
		return 0;	/* the new walk goes on where the cached one stopped */
	*got = m;
	return 1;
}

/*
 * The new frames of a walk, order[0..n) innermost first, now lead the
 * cache (followed by frame `rest` of the old walk, or nothing): which
 * registers entering each the rest of the walk reads, which reads must be
 * checked, and where a later walk may end early (only where every check
 * is of a return address or rbp, and the registers it must compare are at
 * most rbp).
 */
static void wc_link(struct mtr_wcache *wc, const uint8_t *order, uint32_t n, uint16_t rest)
{
	uint8_t need = rest == MTR_WF_END ? 0 : wc->f[rest].need;
	int bad = 0, blob = rest != MTR_WF_END && (wc->f[rest].flags & MTR_WF_BLOB);

	for (uint32_t k = n; k-- > 0;) {
		struct mtr_wframe *e = &wc->f[order[k]];
		uint8_t at_needed = e->at & need;

		blob |= in_range(&ctl()->blob, e->lookup) || in_range(&ctl()->blob, e->lookup + 1);
		if (blob)
			e->flags |= MTR_WF_BLOB;

		e->next = k + 1 < n ? order[k + 1] : rest;
		if (!(at_needed & RBP))
			e->rbp_at = 0;
		bad |= (at_needed & ~RBP) != 0;
		need = (uint8_t)(e->use | (need & ~e->def));
		e->need = need;
		if (bad || (need & ~RBP))
			e->flags |= MTR_WF_NOMATCH;
	}
	wc->head = n ? order[0] : rest;
}

/* Cuts the cached walk after MTR_WF_MAXWALK frames. */
static void wc_trim(struct mtr_wcache *wc)
{
	uint16_t c = wc->head;

	if (wc->len <= MTR_WF_MAXWALK)
		return;
	for (uint32_t i = 1; c != MTR_WF_END && i < MTR_WF_MAXWALK; i++)
		c = wc->f[c].next;
	if (c != MTR_WF_END && wc->f[c].next != MTR_WF_END) {
		wc->len -= wc_free(wc, wc->f[c].next, MTR_WF_END);
		wc->f[c].next = MTR_WF_END;
		wc->cut = 1;
	}
}

/*
 * The walk from registers w: frames into pcs, at most max.  With
 * stop_at_blob a return into the recorder ends the walk (WALK_BLOB); else
 * the recorder's frames are walked and kept, for the caller to drop.  With
 * wc (this thread's walk cache, held: slot me), the walk ends early where
 * it meets the cached walk, and becomes the cached walk: for that it goes
 * on past max (up to MTR_WF_MAXWALK frames), so that a later walk that
 * meets it higher up still finds max frames in it.  *blob (when not NULL)
 * is set if a frame lies in the recorder.
 */
static enum walk_end walk(const struct mtr_ctl *k, const struct walk_regs *w, uint64_t *pcs,
			  uint32_t max, uint32_t *nout, int stop_at_blob, struct mtr_wcache *wc,
			  uint32_t me, int *blob)
{
	struct wstate s = {.lookup = w->rip, .sp = w->rsp, .lo = w->rsp, .hi = w->rsp + STACK_MAX,
			   .valid = (1u << MTR_NREGS) - 1};
	uint32_t gen = __atomic_load_n(&k->rules_gen, __ATOMIC_ACQUIRE), n = 0, nb = 0, got;
	uint32_t lim = max;	/* frames walked: max, or the cache's */
	uint64_t bad = 0;	/* frames at or below this stack pointer cannot match */
	enum walk_end end = WALK_DONE;
	uint8_t order[MTR_WF_MAXWALK];
	uint16_t old = MTR_WF_END;
	int build = 0;

	for (int i = 0; i < MTR_NREGS; i++)
		s.val[i] = w->val[i];
	if (gen & 1) {
		end = WALK_TRACER;
		goto out;
	}
	if (wc && max <= MTR_WF_MAXWALK) {
		if (!wc->ready || wc->owner != me || wc->gen != gen)
			wc_reset(wc, me, gen);
		old = wc->head;
		build = 1;
		lim = MTR_WF_MAXWALK;
	}
	while (n < lim && (build || n < max)) {
		const struct mtr_rule *r;
		struct mtr_wframe *e = NULL;
		struct wstep d;
		enum step_end se;

		if (n && stop_at_blob && in_range(&k->blob, s.lookup + 1)) {
			end = WALK_BLOB;
			break;
		}
		/* the cached walk's frames below this one are not in this walk */
		while (old != MTR_WF_END && wc->f[old].sp < s.sp)
			old = wc->f[old].next;
		if (old != MTR_WF_END && s.sp > bad && wc->f[old].sp == s.sp &&
		    wc->f[old].lookup == s.lookup &&
		    wc_rest(wc, old, &s, pcs, n, max, &got, &bad)) {
			if (blob && (wc->f[old].flags & MTR_WF_BLOB))
				*blob = 1;
			if (build) {
				/* what came before it is gone; this walk leads */
				wc->len -= wc_free(wc, wc->head, old);
				wc->len += nb;
				wc_link(wc, order, nb, old);
				wc_trim(wc);
			}
			n = n < max ? n + got : max;
			goto out;
		}
		if (n < max)
			pcs[n] = s.lookup;
		n++;
		if (blob && n <= max &&
		    (in_range(&k->blob, s.lookup) || in_range(&k->blob, s.lookup + 1)))
			*blob = 1;
		if (!(r = rule_find(k, s.lookup))) {
			end = WALK_TRACER;
			break;
		}
		if (build) {
			uint16_t i = wc->free;

			if (i == MTR_WF_END) {
				/* the pool ran out: this walk is not kept */
				if (nb)
					wc_free(wc, order[0], MTR_WF_END);
				build = 0;
			} else {
				/* taken off the free list, onto this walk's */
				wc->free = wc->f[i].next;
				if (nb)
					wc->f[order[nb - 1]].next = i;
				order[nb++] = (uint8_t)i;
				e = &wc->f[i];
				e->next = MTR_WF_END;
				e->sp = s.sp;
				e->lookup = s.lookup;
				e->rbp_in = s.val[1];
				e->flags = (s.valid & RBP) ? MTR_WF_RBP_VALID : 0;
			}
		}
		se = step(r, &s, &d);
		if (e) {
			if (d.ra_at)
				e->flags |= MTR_WF_STEP;
			e->ra_at = d.ra_at;
			e->ra = d.ra;
			e->rbp_at = d.rbp_at;
			e->rbp = d.rbp;
			e->use = d.use;
			e->def = d.def;
			e->at = d.at;
		}
		if (se == STEP_TRACER) {
			end = WALK_TRACER;
			break;
		}
		if (d.signal && build) {
			/* its bounds moved: such walks are not kept */
			wc_free(wc, order[0], MTR_WF_END);
			build = 0;
		}
		if (se == STEP_LAST)
			break;
	}
	if (build) {
		if (end == WALK_DONE || n > max) {
			/* kept; where it stopped short of the outermost frame
			 * (at the cache's length, or at a pc the tracer must
			 * walk past), later walks cannot go on from it */
			wc_free(wc, wc->head, MTR_WF_END);
			wc->len = nb;
			wc->cut = end != WALK_DONE || n == lim;
			wc_link(wc, order, nb, MTR_WF_END);
		} else if (nb) {
			wc_free(wc, order[0], MTR_WF_END);
		}
	}
	if (n > max) {
		/* what went wrong past max frames is nobody's business */
		n = max;
		end = WALK_DONE;
	}
out:
	/* a rule rewritten meanwhile (its code went away): ask the tracer */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&k->rules_gen, __ATOMIC_RELAXED) != gen) {
		end = WALK_TRACER;
		if (wc)
			wc->gen = ~0u;	/* not to be reused */
	}
	*nout = n;
	return end;
}

/* This thread's walk cache, held, or NULL (another walk has it: one of a
 * thread whose slot shares it, or this thread's own, interrupted by a
 * signal handler that allocates). */
static struct mtr_wcache *wc_take(struct mtr_ctl *k, uint32_t me)
{
	struct mtr_wcache *wc;
	uint32_t free = 0;

	if (me == MTR_NO_SLOT)
		return NULL;
	wc = (struct mtr_wcache *)area(k->wcaches_off) + (me & (MTR_WCACHES - 1));
	if (!__atomic_compare_exchange_n(&wc->busy, &free, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return wc;
}

static void wc_give(struct mtr_wcache *wc)
{
	if (wc)
		__atomic_store_n(&wc->busy, 0, __ATOMIC_RELEASE);
}

/* Claims a reply slot, asks the tracer to walk from regs (up to max frames)
 * and waits for its answer in pcs; 1 when answered, 0 when the tracer is
 * gone.  *flags gets MTR_REPLY_*. */
static int ask_and_wait(struct mtr_ctl *k, struct mtr_thread *th, uint32_t why, uint32_t site,
			const struct mtr_regs *regs, uint32_t max, const uint64_t *mine,
			uint32_t nmine, uint64_t *pcs, uint32_t *n, uint32_t *flags)
{
	struct mtr_reply *slots = area(k->replies_off), *slot;
	uint32_t words = (uint32_t)(sizeof(struct mtr_rec_walk) / 8) + nmine, round, idx, token;
	uint32_t tid = thread_tid(k, th);
	struct mtr_rec_walk *rec;
	uint64_t pos;

again:
	slot = NULL;
	round = 0;
	while (!slot) {
		/* a free slot if there is one; else one answered over a second
		 * ago and never taken back: abandoned (its thread left the wait by
		 * longjmp), or its waiter is held up in a handler that
		 * interrupted the wait, and finds out (below) */
		for (int pass = 0; pass < 2 && !slot; pass++) {
			for (idx = 0; idx < MTR_REPLIES; idx++) {
				uint32_t old = pass ? MTR_REPLY_DONE : MTR_REPLY_FREE;

				if ((!pass || rdtsc() - slots[idx].done_tsc > k->tsc_per_sec) &&
				    __atomic_compare_exchange_n(&slots[idx].state, &old,
								MTR_REPLY_WAITING, 0, __ATOMIC_ACQ_REL,
								__ATOMIC_RELAXED)) {
					slot = &slots[idx];
					break;
				}
			}
		}
		if (!slot && (k->disabled || !wait_a_little(k, &round)))
			return 0;
	}
	token = (uint32_t)rdtsc() | 1;
	__atomic_store_n(&slot->claim, token, __ATOMIC_RELEASE);
	record_enter(th);
	rec = (struct mtr_rec_walk *)ring_reserve(k, th, words, &pos);
	if (!rec) {
		record_leave(th);
		__atomic_store_n(&slot->state, MTR_REPLY_FREE, __ATOMIC_RELEASE);
		return 0;
	}
	rec->tsc = rdtsc();
	rec->tid = tid;
	rec->why = why;
	rec->reply = idx;
	rec->max = max;
	rec->site = site;
	rec->nframes = nmine;
	rec->regs = *regs;
	for (uint32_t i = 0; i < nmine; i++)
		rec->pcs[i] = mine[i];
	if (__atomic_load_n(&k->stalls, __ATOMIC_RELAXED)) {
		uint32_t left = __atomic_load_n(&k->stalls, __ATOMIC_RELAXED);

		while (left && !__atomic_compare_exchange_n(&k->stalls, &left, left - 1, 0,
							    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		if (left) {
			struct kts ts = {k->stall_ms / 1000, (k->stall_ms % 1000) * 1000000L};

			sys3(SYS_nanosleep, (long)&ts, 0, 0);
		}
	}
	ring_commit(&rec->hdr, pos, MTR_REC_WALK, words);
	record_leave(th);
	ring_bell(k);

	round = 0;
	for (;;) {
		uint32_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE) != token)
			goto again;	/* taken from us: the answer is lost, ask again */
		if (state == MTR_REPLY_DONE)
			break;
		futex_wait(&slot->state, state, 100);
		if (++round % 4 == 0 && !tracer_alive(k)) {
			give_up(k);
			return 0;	/* the slot stays taken: nobody will answer it */
		}
	}
	*n = slot->n < max ? slot->n : max;
	*flags = slot->flags;
	for (uint32_t i = 0; pcs && i < *n; i++)
		pcs[i] = slot->pcs[i];
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE) != token)
		goto again;	/* taken while we copied */
	/* free again, unless taken from us since (then it is the thief's) */
	uint32_t done = MTR_REPLY_DONE;

	__atomic_compare_exchange_n(&slot->state, &done, MTR_REPLY_FREE, 0, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
	return 1;
}

/*
 * The same, with the thread's signals held while it waits: a handler that
 * came in there would walk through this wait and ask again, and under a
 * fast timer wait again, and be interrupted again, nesting until the stack
 * overflows (8 threads with a 2 kHz timer each whose handler allocates
 * did, on a loaded machine).  A signal that comes meanwhile is delivered
 * once the answer is in, as it would be after a system call.
 */
static int ask_tracer(struct mtr_ctl *k, struct mtr_thread *th, uint32_t why, uint32_t site,
		      const struct mtr_regs *regs, uint32_t max, const uint64_t *mine,
		      uint32_t nmine, uint64_t *pcs, uint32_t *n, uint32_t *flags)
{
	uint64_t all = ~((1ull << (SIGKILL_NR - 1)) | (1ull << (SIGSTOP_NR - 1))), mask;
	int ret;

	sys4(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&all, (long)&mask, 8);
	ret = ask_and_wait(k, th, why, site, regs, max, mine, nmine, pcs, n, flags);
	sys4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (long)&mask, 0, 8);
	return ret;
}

static void ctx_regs(const struct mtr_ctx *c, const struct mtr_site *s, struct mtr_regs *r)
{
	*r = (struct mtr_regs){.rip = s->addr, .rsp = c->rsp, .rbx = c->rbx, .rbp = c->rbp,
			       .r12 = c->r12, .r13 = c->r13, .r14 = c->r14, .r15 = c->r15,
			       .rdi = c->rdi, .rsi = c->rsi, .rdx = c->rdx, .rcx = c->rcx,
			       .r8 = c->r8, .r9 = c->r9};
}

/* A return into the recorder (a wrapper below) drops out of a stack: the
 * program called the allocator, not us. */
static uint32_t without_blob(const struct mtr_ctl *k, uint64_t *pcs, uint32_t n)
{
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++)
		if (!in_range(&k->blob, pcs[i] + 1) && !in_range(&k->blob, pcs[i]))
			pcs[m++] = pcs[i];
	return m;
}

/*
 * The stack of a call entering site s, frame 0 the entry itself: walked
 * here, or by the tracer when a pc needs it (or, checking, by both), the
 * recorder's own frames dropped.  Up to max frames into pcs, which has room
 * for max + 1 + OWN_FRAMES; *cut when more remained.  0 when the tracer is
 * gone.
 */
static int stack_at_entry(struct mtr_ctl *k, struct mtr_thread *th, const struct mtr_ctx *c,
			  const struct mtr_site *s, uint64_t *pcs, uint32_t max, uint32_t *n,
			  int *cut)
{
	struct walk_regs w = {.rip = s->addr, .rsp = c->rsp,
			      .val = {c->rbx, c->rbp, c->r12, c->r13, c->r14, c->r15}};
	uint32_t limit = max + 1 + OWN_FRAMES, flags = 0, ignored, m, me = slot_index(k, th);
	struct mtr_wcache *wc = wc_take(k, me);
	int blob = 0;
	enum walk_end end = walk(k, &w, pcs, limit, n, 0, wc, me, &blob);
	struct mtr_regs regs;

	wc_give(wc);
	if (end != WALK_DONE || (k->flags & MTR_F_CHECK)) {
		ctx_regs(c, s, &regs);
		if (end != WALK_DONE) {
			if (!ask_tracer(k, th, MTR_WALK_RAW, (uint32_t)c->site, &regs, limit, NULL,
					0, pcs, n, &flags))
				return 0;
		} else if (!ask_tracer(k, th, MTR_WALK_CHECK, (uint32_t)c->site, &regs, limit, pcs,
				       *n, NULL, &ignored, &ignored)) {
			return 0;
		}
	}
	/* the recorder's frames (a handler that interrupted a wrapper) go */
	m = blob || end != WALK_DONE ? without_blob(k, pcs, *n) : *n;
	*cut = m > max || (flags & MTR_REPLY_TRUNCATED);
	*n = m > max ? max : m;
	return 1;
}

/*
 * Whether an allocator call is the allocator calling itself, to be recorded
 * once as the outer call (the rule of tracer/heap.c, is_nested): it returns
 * into the recorder (a tail call from a wrapper's original), into an
 * allocator entry function, or into the allocator's module while a wrapper
 * call of this thread runs, and then its stack reaches an entry function or
 * a wrapper before it leaves the module.
 */
static int is_nested(struct mtr_ctl *k, struct mtr_thread *th, const struct mtr_ctx *c,
		     const struct mtr_site *s, uint64_t ret)
{
	uint64_t pcs[NEST_FRAMES];
	uint32_t n = 0, flags;
	struct walk_regs w = {.rip = s->addr, .rsp = c->rsp,
			      .val = {c->rbx, c->rbp, c->r12, c->r13, c->r14, c->r15}};
	enum walk_end end;

	if (in_range(&k->blob, ret) ||
	    (in_range(&k->afns_box, ret) && in_ranges(k->afns, k->nafns, ret)))
		return 1;
	if (!in_range(&k->allocmods_box, ret) || !in_ranges(k->allocmods, k->nallocmods, ret) ||
	    !call_active(th, c->rsp))
		return 0;
	end = walk(k, &w, pcs, NEST_FRAMES, &n, 1, NULL, MTR_NO_SLOT, NULL);
	if (end == WALK_TRACER) {
		struct mtr_regs regs;

		ctx_regs(c, s, &regs);
		if (!ask_tracer(k, th, MTR_WALK_RAW, (uint32_t)c->site, &regs, NEST_FRAMES, NULL,
				0, pcs, &n, &flags))
			return 1;	/* the tracer is gone: nothing is recorded anyway */
	} else if (end == WALK_BLOB) {
		return 1;
	}
	for (uint32_t i = 1; i < n; i++) {
		if (in_ranges(k->afns, k->nafns, pcs[i]) || in_range(&k->blob, pcs[i] + 1))
			return 1;
		if (!in_ranges(k->allocmods, k->nallocmods, pcs[i]))
			return 0;
	}
	return 1;
}

/* --- the calls ---------------------------------------------------------------------- */

static uint64_t call_original(const struct mtr_ctx *c)
{
	return ((original_fn)c->orig)(c->rdi, c->rsi, c->rdx, c->rcx, c->r8, c->r9);
}

/*
 * An allocator call that returned, with its stack pcs[0..n): only the
 * frames that differ from the slot's last stack are written (shared.h,
 * struct mtr_rec_alloc), and the slot's last stack becomes this one.
 */
static void record_alloc(struct mtr_ctl *k, struct mtr_thread *th, uint32_t tid, uint32_t fn,
			 uint32_t flags, const uint64_t args[3], uint64_t ret, const uint64_t *pcs,
			 uint32_t n)
{
	uint32_t keep = 0, seq = 0, words, nargs = mtr_nargs(fn), w;
	struct mtr_rec_alloc *rec;
	struct mtr_who id;
	uint64_t pos, tsc = 0;

	record_enter(th);
	if (th) {
		uint32_t last = th->last_n;

		while (keep < n && keep < last && pcs[n - 1 - keep] == th->last_pcs[keep])
			keep++;
		seq = th->last_seq + 1;
	}
	id = who(k, tid, fn, flags, &tsc);
	words = (uint32_t)(sizeof(struct mtr_rec_alloc) / 8) + nargs + !!(id.flags & MTR_CALL_TSC) +
		n - keep;
	rec = (struct mtr_rec_alloc *)ring_reserve(k, th, words, &pos);
	if (rec) {
		rec->who = id;
		rec->slot = (uint16_t)slot_index(k, th);
		rec->seq = (uint16_t)seq;
		rec->nnew = (uint16_t)(n - keep);
		rec->nkeep = (uint16_t)keep;
		rec->ret = ret;
		for (w = 0; w < nargs; w++)
			rec->words[w] = args[w];
		if (id.flags & MTR_CALL_TSC)
			rec->words[w++] = tsc;
		for (uint32_t i = 0; i < n - keep; i++)
			rec->words[w + i] = pcs[i];
		ring_commit(&rec->hdr, pos, MTR_REC_ALLOC, words);
		if (th) {
			/* as the tracer will, reading it */
			if (n <= MTR_LAST_FRAMES) {
				for (uint32_t j = keep; j < n; j++)
					th->last_pcs[j] = pcs[n - 1 - j];
				th->last_n = n;
			} else {
				th->last_n = 0;
			}
			th->last_seq = seq;
		}
	}
	record_leave(th);
}

static void record_call(struct mtr_ctl *k, struct mtr_thread *th, uint32_t tid, uint32_t fn,
			uint32_t flags, const uint64_t args[6], uint64_t ret, const uint64_t *pcs,
			uint32_t n)
{
	uint32_t words = (uint32_t)(sizeof(struct mtr_rec_call) / 8) + n;
	struct mtr_rec_call *rec;
	uint64_t pos;

	record_enter(th);
	rec = (struct mtr_rec_call *)ring_reserve(k, th, words, &pos);
	if (rec) {
		rec->tsc = rdtsc();
		rec->tid = tid;
		rec->fn = fn;
		rec->flags = flags;
		rec->nframes = n;
		for (int i = 0; i < 6; i++)
			rec->args[i] = args[i];
		rec->ret = ret;
		for (uint32_t i = 0; i < n; i++)
			rec->pcs[i] = pcs[i];
		ring_commit(&rec->hdr, pos, MTR_REC_SYSCALL, words);
	}
	record_leave(th);
}

static void record_free(struct mtr_ctl *k, struct mtr_thread *th, uint32_t tid, uint64_t addr)
{
	struct mtr_rec_free *rec;
	struct mtr_who id;
	uint64_t pos, tsc = 0;
	uint32_t words;

	record_enter(th);
	id = who(k, tid, MT_FN_FREE, 0, &tsc);
	words = (uint32_t)(sizeof(struct mtr_rec_free) / 8) + !!(id.flags & MTR_CALL_TSC);
	rec = (struct mtr_rec_free *)ring_reserve(k, th, words, &pos);
	if (rec) {
		rec->who = id;
		rec->addr = addr;
		if (id.flags & MTR_CALL_TSC)
			rec->words[0] = tsc;
		ring_commit(&rec->hdr, pos, MTR_REC_FREE, words);
	}
	record_leave(th);
}

/* A walk's pcs live on the program's stack, sized for the depth asked:
 * the default's array in one frame, --depth 1024's in another, so that a
 * thread on a small stack (a sigaltstack handler) is not asked for 8 KiB
 * it does not need.  pcs holds depth + 2 + OWN_FRAMES. */
#define SMALL_DEPTH 64

static uint64_t alloc_call(struct mtr_ctl *k, const struct mtr_site *s, struct mtr_ctx *c,
			   uint64_t *pcs)
{
	struct mtr_thread *th = thread_self(k);
	uint32_t tid = thread_tid(k, th), depth = k->depth, n = 0, flags = 0;
	uint64_t ret = *(const uint64_t *)c->rsp, r;
	uint64_t args[3] = {c->rdi, c->rsi, c->rdx};
	int pushed = 0, cut = 0;

	if (is_nested(k, th, c, s, ret) || k->disabled)
		return call_original(c);
	if (s->fn == MT_FN_FREE) {
		/* before the block can be anyone else's */
		if (c->rdi)
			record_free(k, th, tid, c->rdi);
		return call_original(c);
	}
	/* The first frame is the entry point itself: the stack starts at its
	 * caller. */
	if (depth && stack_at_entry(k, th, c, s, pcs, depth + 1, &n, &cut)) {
		n = n ? n - 1 : 0;
		if (cut)
			flags |= MTR_CALL_TRUNCATED;
	}
	if (th && th->nactive < MTR_ACTIVE) {
		th->active_sp[th->nactive] = c->rsp;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		th->nactive++;
		pushed = 1;
	}
	r = call_original(c);
	if (pushed && th->nactive)
		th->nactive--;
	ret = r;
	if (s->fn == MT_FN_POSIX_MEMALIGN)
		ret = (uint32_t)r == 0 ? *(const uint64_t *)c->rdi : 0;
	record_alloc(k, th, tid, s->fn, flags, args, ret, pcs + 1, n);
	return r;
}

static __attribute__((noinline)) uint64_t alloc_small(struct mtr_ctl *k, const struct mtr_site *s,
						      struct mtr_ctx *c)
{
	uint64_t pcs[SMALL_DEPTH + 2 + OWN_FRAMES];

	return alloc_call(k, s, c, pcs);
}

static __attribute__((noinline)) uint64_t alloc_deep(struct mtr_ctl *k, const struct mtr_site *s,
						     struct mtr_ctx *c)
{
	uint64_t pcs[MTR_MAX_FRAMES + OWN_FRAMES];

	return alloc_call(k, s, c, pcs);
}

static uint64_t on_alloc(struct mtr_ctl *k, const struct mtr_site *s, struct mtr_ctx *c)
{
	return k->depth <= SMALL_DEPTH ? alloc_small(k, s, c) : alloc_deep(k, s, c);
}

/* attach: a libc syscall wrapper (mmap64, munmap, mremap, brk); pcs
 * holds max(depth, 8) + 2 + OWN_FRAMES. */
static uint64_t syscall_call(struct mtr_ctl *k, const struct mtr_site *s, struct mtr_ctx *c,
			     uint64_t *pcs)
{
	struct mtr_thread *th = thread_self(k);
	uint32_t tid = thread_tid(k, th), depth = k->depth, want, n = 0, flags = 0;
	uint64_t args[6] = {c->rdi, c->rsi, c->rdx, c->rcx, c->r8, c->r9}, r;
	int cut = 0;

	/* a few frames even without stacks: whether an allocator made this
	 * call is read off them; an allocator call of this thread running, or
	 * a wrapper below, says it too */
	want = depth > 8 ? depth : 8;
	if (call_active(th, c->rsp))
		flags |= MTR_CALL_IN_ALLOC;
	if (stack_at_entry(k, th, c, s, pcs, want, &n, &cut)) {
		for (uint32_t i = 1; i < n; i++)
			if (in_ranges(k->afns, k->nafns, pcs[i]))
				flags |= MTR_CALL_IN_ALLOC;
		if (cut || n > depth)
			flags |= MTR_CALL_TRUNCATED;
		if (n > depth)
			n = depth;
	}
	r = call_original(c);
	record_call(k, th, tid, s->fn, flags, args, r, pcs, n);
	return r;
}

static __attribute__((noinline)) uint64_t syscall_small(struct mtr_ctl *k,
							const struct mtr_site *s,
							struct mtr_ctx *c)
{
	uint64_t pcs[SMALL_DEPTH + 2 + OWN_FRAMES];

	return syscall_call(k, s, c, pcs);
}

static __attribute__((noinline)) uint64_t syscall_deep(struct mtr_ctl *k,
						       const struct mtr_site *s,
						       struct mtr_ctx *c)
{
	uint64_t pcs[MTR_MAX_FRAMES + OWN_FRAMES];

	return syscall_call(k, s, c, pcs);
}

static uint64_t on_syscall(struct mtr_ctl *k, const struct mtr_site *s, struct mtr_ctx *c)
{
	return k->depth <= SMALL_DEPTH ? syscall_small(k, s, c) : syscall_deep(k, s, c);
}

uint64_t mtr_call(struct mtr_ctx *c)
{
	struct mtr_ctl *k = ctl();
	const struct mtr_site *s;

	if (k->magic != MTR_MAGIC || __atomic_load_n(&k->disabled, __ATOMIC_ACQUIRE) ||
	    (k->flags & MTR_F_QUIET) || c->site >= k->nsites)
		return call_original(c);
	s = (const struct mtr_site *)area(k->sites_off) + c->site;
	switch (s->kind) {
	case MTR_SITE_ALLOC:
		return on_alloc(k, s, c);
	case MTR_SITE_SYSCALL:
		return on_syscall(k, s, c);
	default:
		return call_original(c);
	}
}

/*
 * A --mark, or the loader's debugger hook: the tracer records it (a mark's
 * stack is walked from exactly here, and the resident size sampled while
 * the thread waits), then the program goes on.
 */
void mtr_mark(struct mtr_mark_ctx *c, uint64_t site)
{
	struct mtr_ctl *k = ctl();
	const struct mtr_site *s;
	struct mtr_regs regs;
	uint32_t n, flags;

	if (k->magic != MTR_MAGIC || __atomic_load_n(&k->disabled, __ATOMIC_ACQUIRE) ||
	    (k->flags & MTR_F_QUIET) || site >= k->nsites)
		return;
	s = (const struct mtr_site *)area(k->sites_off) + site;
	regs = (struct mtr_regs){.rip = s->addr,
				 .rsp = (uint64_t)c + sizeof(*c) + 128,
				 .rbx = c->rbx, .rbp = c->rbp, .r12 = c->r12, .r13 = c->r13,
				 .r14 = c->r14, .r15 = c->r15, .rax = c->rax, .rcx = c->rcx,
				 .rdx = c->rdx, .rsi = c->rsi, .rdi = c->rdi, .r8 = c->r8,
				 .r9 = c->r9, .r10 = c->r10, .r11 = c->r11, .eflags = c->eflags};
	ask_tracer(k, thread_self(k), MTR_WALK_MARK, (uint32_t)site, &regs,
		   k->depth, NULL, 0, NULL, &n, &flags);
}

/* The compiler may call these for struct copies, even freestanding. */
void *memcpy(void *dst, const void *src, size_t n) hidden;
void *memset(void *dst, int c, size_t n) hidden;

void *memcpy(void *dst, const void *src, size_t n)
{
	char *d = dst;
	const char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	char *d = dst;

	while (n--)
		*d++ = (char)c;
	return dst;
}
