/*
 * fast.c - the fast engine, the tracer's side: ptrace is only the control
 * channel.  Through it the recorder (tracer/recorder/, carried inside
 * memtrack) is mapped into the traced process beside a shared area (a
 * memfd both sides map), and each allocator entry gets a 5-byte jump to a
 * stub next to its module, which goes to the recorder.  The recorder
 * records into the area's ring and returns; the tracer drains the ring on
 * its own CPU into the same log the ptrace engine writes.
 *
 * In the target:
 *
 *   base                 the recorder's image (read + exec, private)
 *   base + img           the shared area: control block, sites, threads,
 *                        walk replies, unwind rules
 *   ... + area           the ring, and the same ring again right after it
 *
 * What needs the tracer goes through the area, not a stop: a stack the
 * recorder cannot walk (a WALK record: the thread waits on a reply slot,
 * the tracer walks its stack where it lies with libdw and shares the rules
 * it used, so the next walk is the recorder's own), a mark (recorded, and
 * the resident size sampled, while the thread waits).  The order of the
 * log is kept by draining a process's ring before any stop of it is
 * handled: a thread stopped at a syscall has all its earlier calls in the
 * ring already.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <libelf.h>
#include <limits.h>
#include <gelf.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../formats/log_writer.h"
#include "fast.h"
#include "memory.h"
#include "recorder/shared.h"
#include "trace.h"
#include "unwind.h"

extern const uint8_t recorder_elf[];
extern const uint64_t recorder_elf_size;

#define RING_SIZE  (8ull << 20)
#define RULES	   (1u << 17)
#define STUB_SIZE  96		/* a site's stub: entry, displaced copy, jump back */
#define STALL_NS   2000000000ull	/* a reservation never filled in is stepped over */
#define LATE_MAX   16		/* and looked at again, the last this many */

struct fast_site {
	uint64_t addr;		/* the hooked instruction */
	uint8_t orig[16];	/* the bytes the jump covers */
	uint8_t len;
	uint64_t copy;		/* where its displaced instructions run */
	struct bp_insn_map map[BP_MAX_DISPLACED];
	size_t nmap;
};

struct fastproc {
	int fd;			/* the shared area, the tracer's own descriptor */
	uint8_t *area;		/* mapped here: area_len, then the ring twice */
	size_t area_len;
	struct mtr_ctl *ctl;
	uint8_t *ring;
	uint64_t base, img_len;	/* the recorder in the target */
	uint64_t total_len;	/* all of it in the target, image to second ring */
	struct fast_site sites[MTR_MAX_SITES];
	uint32_t nsites;
	uint64_t stall_since;	/* trace time the tail stopped moving, 0 */
	uint64_t stall_tail;
	uint64_t skipped;	/* reservations stepped over, and never filled in */
	/* where those were, while they may still be filled in (their thread
	 * was preempted or stopped, not gone): logged then, out of turn, and
	 * a walk request answered, for its thread waits for that */
	uint64_t late[LATE_MAX];
	uint32_t nlate;
	uint64_t unlinked;	/* ALLOC records whose stack referred to one not seen */
	uint64_t number;	/* of this area, the tracer's first 1 */
	struct slot_stack *stacks[MTR_THREADS];	/* per thread slot, as records come */
};

/* The areas made so far: each one's number (the tracer's loop makes them). */
static uint64_t areas_made;

/*
 * A thread slot's last stack as its ALLOC records give it, kept as the
 * recorder keeps it (struct mtr_thread, last_*): outermost frame first.
 * The log's node for it too, while the symbol space stays.
 */
struct slot_stack {
	uint32_t n;
	uint16_t seq;
	uint64_t node;		/* 0: none yet */
	uint32_t space;
	uint32_t truncated;	/* MTR_CALL_TRUNCATED of the record it came from */
	uint64_t pcs[MTR_LAST_FRAMES];
};

/* The recorder's image, read once from the ELF memtrack carries. */
static struct {
	int ready;
	uint8_t *image;
	size_t len;		/* page-rounded: the shared area follows */
	uint64_t entry, mark_entry;
	char path[64];		/* the ELF, for libdwfl: /proc/self/fd/N */
} rec;

static size_t page_round(size_t n)
{
	return (n + MT_PAGE_SIZE - 1) & ~(size_t)(MT_PAGE_SIZE - 1);
}

static int load_recorder(void)
{
	Elf *e;
	size_t nph;
	int fd, err = -ENOEXEC;

	if (rec.ready)
		return rec.ready > 0 ? 0 : -ENOEXEC;
	rec.ready = -1;
	elf_version(EV_CURRENT);
	e = elf_memory((char *)recorder_elf, recorder_elf_size);
	if (!e || elf_getphdrnum(e, &nph) < 0)
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_vaddr != 0 || ph.p_offset + ph.p_filesz > recorder_elf_size)
			goto out;
		rec.len = page_round(ph.p_memsz);
		rec.image = calloc(1, rec.len);
		if (!rec.image)
			goto out;
		memcpy(rec.image, recorder_elf + ph.p_offset, ph.p_filesz);
		break;
	}
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) ||
			    !(name = elf_strptr(e, sh.sh_link, sym.st_name)))
				continue;
			if (!strcmp(name, "mtr_entry"))
				rec.entry = sym.st_value;
			else if (!strcmp(name, "mtr_mark_entry"))
				rec.mark_entry = sym.st_value;

		}
	}
	if (!rec.image || !rec.mark_entry)
		goto out;
	/* libdwfl reads the recorder's CFI from a file: one only we see */
	fd = memfd_create("memtrack-recorder", MFD_CLOEXEC);
	if (fd < 0 || write(fd, recorder_elf, recorder_elf_size) != (ssize_t)recorder_elf_size)
		goto out;
	snprintf(rec.path, sizeof(rec.path), "/proc/self/fd/%d", fd);
	rec.ready = 1;
	err = 0;
out:
	if (e)
		elf_end(e);
	return err;
}

/* --- time --------------------------------------------------------------------- */

/*
 * The recorder stamps records with the TSC (constant and shared by every
 * CPU on the machines that have FSGSBASE); the tracer turns it into trace
 * time by the two clocks read together at the start and again as it
 * drains: the longer the run, the finer the rate.
 */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void clock_start(struct tracer *tr)
{
	uint64_t t0 = mono_ns(), c0 = __rdtsc(), t1, c1;

	/* a first rate, over 200 us */
	do {
		t1 = mono_ns();
		c1 = __rdtsc();
	} while (t1 - t0 < 200000);
	tr->clk.tsc0 = c0;
	tr->clk.ns0 = t0;
	tr->clk.ns_per_tick = (double)(t1 - t0) / (double)(c1 - c0);
	tr->clk.ready = 1;
}

/* A new epoch (shared.h, mtr_ctl), every EPOCH_NS at most: the time the
 * records made from now on take. */
#define EPOCH_NS 100000

static uint32_t clock_epoch(struct tracer *tr, uint64_t now)
{
	if (!tr->clk.epoch_tsc && !(tr->clk.epoch_tsc = calloc(65536, sizeof(uint64_t))))
		return 0;
	if (tr->clk.epoch && (double)(now - tr->clk.epoch_at) * tr->clk.ns_per_tick < EPOCH_NS)
		return tr->clk.epoch;
	if (!++tr->clk.epoch)
		tr->clk.epoch = 1;	/* 0: none */
	tr->clk.epoch_at = now;
	tr->clk.epoch_tsc[tr->clk.epoch & 0xffff] = now;
	return tr->clk.epoch;
}

/* The rate again, from the two clocks read now, every 10 ms at most. */
static void clock_refine(struct tracer *tr)
{
	uint64_t c = __rdtsc(), t;

	if ((double)(c - tr->clk.refined_at) * tr->clk.ns_per_tick < 10000000.0)
		return;
	tr->clk.refined_at = c;
	t = mono_ns();
	if (t - tr->clk.ns0 > 50000000u && c > tr->clk.tsc0)
		tr->clk.ns_per_tick = (double)(t - tr->clk.ns0) / (double)(c - tr->clk.tsc0);
}

/* In microseconds: what the TSC's rate is known to, and the log's deltas
 * compress to almost nothing (a fifth of cc1's log was nanoseconds). */
static uint64_t tsc_time(struct tracer *tr, uint64_t tsc)
{
	double ns;
	uint64_t at;

	/* records of one epoch come in a row: one conversion for them all */
	if (tsc == tr->clk.last_tsc && tr->clk.last_rate == tr->clk.ns_per_tick)
		return tr->clk.last_time;
	ns = (double)(int64_t)(tsc - tr->clk.tsc0) * tr->clk.ns_per_tick;
	at = tr->clk.ns0 + (uint64_t)(ns > 0 ? ns : 0);
	tr->clk.last_tsc = tsc;
	tr->clk.last_rate = tr->clk.ns_per_tick;
	tr->clk.last_time = at > tr->t0 ? (at - tr->t0) / 1000 * 1000 : 0;
	return tr->clk.last_time;
}

/* --- the area ------------------------------------------------------------------ */

static struct mtr_thread *threads(struct fastproc *fp)
{
	return (struct mtr_thread *)(fp->area + fp->ctl->threads_off);
}

static struct mtr_reply *replies(struct fastproc *fp)
{
	return (struct mtr_reply *)(fp->area + fp->ctl->replies_off);
}

static struct mtr_rule *rules(struct fastproc *fp)
{
	return (struct mtr_rule *)(fp->area + fp->ctl->rules_off);
}

static uint32_t hash64(uint64_t v)
{
	return (uint32_t)((v * 0x9e3779b97f4a7c15ull) >> 32);
}

/* The recorder's layout of the area (offsets from the control block). */
static void layout(struct mtr_ctl *c, size_t *area_len)
{
	size_t off = page_round(sizeof(struct mtr_ctl));

	c->sites_off = off;
	off = page_round(off + MTR_MAX_SITES * sizeof(struct mtr_site));
	c->threads_off = off;
	off = page_round(off + MTR_THREADS * sizeof(struct mtr_thread));
	c->replies_off = off;
	off = page_round(off + MTR_REPLIES * sizeof(struct mtr_reply));
	c->wcaches_off = off;
	off = page_round(off + MTR_WCACHES * sizeof(struct mtr_wcache));
	c->rules_off = off;
	off = page_round(off + RULES * sizeof(struct mtr_rule));
	c->rules_mask = RULES - 1;
	c->ring_off = off;
	c->ring_size = RING_SIZE;
	*area_len = off;
}

/* Maps fd here: the area, then the ring twice.  0 or -errno. */
static int map_here(struct fastproc *fp, int fd, size_t area_len)
{
	size_t total = area_len + 2 * RING_SIZE;
	uint8_t *at = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (at == MAP_FAILED)
		return -errno;
	if (mmap(at, area_len + RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    MAP_FAILED ||
	    mmap(at + area_len + RING_SIZE, RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, (off_t)area_len) == MAP_FAILED) {
		int err = -errno;

		munmap(at, total);
		return err;
	}
	fp->fd = fd;
	fp->area = at;
	fp->area_len = area_len;
	fp->ctl = (struct mtr_ctl *)at;
	fp->ring = at + area_len;
	return 0;
}

static void unmap_here(struct fastproc *fp)
{
	if (fp->area)
		munmap(fp->area, fp->area_len + 2 * RING_SIZE);
	if (fp->fd >= 0)
		close(fp->fd);
	fp->area = NULL;
	fp->fd = -1;
}

static int inject(struct tracer *tr, struct tthread *t, long nr, uint64_t a0, uint64_t a1,
		  uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *ret)
{
	uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
	int err = inject_syscall(tr, t, nr, args, ret);

	if (err < 0)
		return err;
	return mt_syscall_failed(*ret) ? (int)*ret : 0;
}

/*
 * A new shared area for the process t runs in, mapped at `where` there
 * (0: anywhere, with room for the recorder's image before it) and here.
 * The memfd is made by the target itself (memtrack opens it through
 * /proc), so nothing of the tracer's is left in its fd table.
 */
static int new_area(struct tracer *tr, struct tproc *p, struct tthread *t, struct fastproc *fp,
		    uint64_t where, uint64_t name_addr)
{
	struct mtr_ctl tmp = {0};
	size_t area_len;
	int64_t fd = -1, ret;
	char path[64];
	int myfd = -1, err;

	layout(&tmp, &area_len);
	fp->total_len = rec.len + area_len + 2 * RING_SIZE;
	if ((err = inject(tr, t, SYS_memfd_create, name_addr, MFD_CLOEXEC, 0, 0, 0, 0, &fd)) < 0)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)p->pid, (int)fd);
	myfd = open(path, O_RDWR | O_CLOEXEC);
	if (myfd < 0 || ftruncate(myfd, (off_t)(area_len + RING_SIZE)) < 0) {
		err = -errno;
		goto out;
	}
	if (!where) {
		if ((err = inject(tr, t, SYS_mmap, 0, fp->total_len, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, (uint64_t)-1, 0, &ret)) < 0)
			goto out;
		fp->base = (uint64_t)ret;
		fp->img_len = rec.len;
		where = fp->base + rec.len;
	}
	if ((err = inject(tr, t, SYS_mmap, where, area_len + RING_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_FIXED, (uint64_t)fd, 0, &ret)) < 0 ||
	    (err = inject(tr, t, SYS_mmap, where + area_len + RING_SIZE, RING_SIZE,
			  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, (uint64_t)fd, area_len,
			  &ret)) < 0)
		goto out;
	if ((err = map_here(fp, myfd, area_len)) < 0)
		goto out;
	myfd = -1;
	layout(fp->ctl, &area_len);
	fp->ctl->version = MTR_VERSION;
	fp->ctl->tracer_pid = (uint32_t)getpid();
	fp->ctl->depth = tr->opts.depth;
	fp->ctl->flags = (tr->unwind_check ? MTR_F_CHECK : 0) |
			 (tr->opts.exact_time ? MTR_F_EXACT_TIME : 0) |
			 (tr->no_fsgsbase ? MTR_F_NO_FSGSBASE : 0);
	fp->ctl->blob = (struct mtr_range){fp->base, fp->base + fp->img_len};
	fp->ctl->stalls = tr->test_stalls;
	fp->ctl->stall_ms = tr->test_stall_ms;
	fp->ctl->tsc_per_sec = (uint64_t)(1e9 / tr->clk.ns_per_tick);
	err = 0;
out:
	if (myfd >= 0)
		close(myfd);
	if (fd >= 0)
		inject(tr, t, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0, &ret);
	return err;
}

int fast_start(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t near)
{
	static const char name[] = "memtrack";
	struct fastproc *fp;
	uint64_t name_addr;
	int64_t ret;
	int err;

	if (p->fast)
		return 0;
	if ((err = load_recorder()) < 0) {
		TRACE_ERR(tr, "the recorder memtrack carries cannot be read");
		return err;
	}
	if (!tr->clk.ready)
		clock_start(tr);
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return -ENOMEM;
	fp->fd = -1;
	fp->number = ++areas_made;
	/* the memfd's name is read from the target: a scratch page holds it */
	if ((err = scratch_alloc(tr, p, t, near, sizeof(name), &name_addr)) < 0 ||
	    (err = tmem_write(p->memfd, name_addr, name, sizeof(name))) < 0)
		goto fail;
	if ((err = new_area(tr, p, t, fp, 0, name_addr)) < 0)
		goto fail;
	if ((err = inject(tr, t, SYS_mmap, fp->base, rec.len, PROT_READ | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (uint64_t)-1, 0, &ret)) < 0 ||
	    (err = tmem_write(p->memfd, fp->base, rec.image, rec.len)) < 0)
		goto fail;
	/* the tracer's unwinder walks through the recorder's frames */
	if (p->unw)
		unw_add_module(p->unw, rec.path, fp->base, fp->base + rec.len, fp->base);
	fp->ctl->magic = MTR_MAGIC;
	p->fast = fp;
	tr->nfast++;
	if (tr->no_fsgsbase == 1) {
		tr->no_fsgsbase = 2;	/* said once */
		trace_warn(tr, "this kernel does not let programs read their thread pointer "
			       "(FSGSBASE): the fast engine asks it for each call, which is slower");
	}
	return 0;
fail:
	TRACE_ERR(tr, "cannot map the recorder into process %d: %s", (int)p->pid, strerror(-err));
	unmap_here(fp);
	free(fp);
	return err;
}

/* --- hooks ----------------------------------------------------------------------- */

static void put32(uint8_t *at, int64_t v)
{
	int32_t w = (int32_t)v;

	memcpy(at, &w, 4);
}

/*
 * A stub at `stub` for site idx: the way from the jump at the site into the
 * recorder, and back out through the displaced instructions (already at
 * stub + head).  Returns the head's length.
 */
static size_t stub_head(uint8_t *b, uint64_t stub, uint32_t kind, uint32_t idx, size_t copy_at,
			size_t entry_slot)
{
	size_t n = 0;

	if (kind == MTR_SITE_MARK) {
		/* lea -128(%rsp),%rsp; push %r10; mov $idx,%r10d; call *slot(%rip);
		 * pop %r10; lea 128(%rsp),%rsp */
		static const uint8_t lea_down[5] = {0x48, 0x8d, 0x64, 0x24, 0x80};
		static const uint8_t lea_up[8] = {0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0};

		memcpy(b + n, lea_down, 5);
		n += 5;
		b[n++] = 0x41;
		b[n++] = 0x52;
		b[n++] = 0x41;
		b[n++] = 0xba;
		put32(b + n, idx);
		n += 4;
		b[n++] = 0xff;
		b[n++] = 0x15;
		put32(b + n, (int64_t)entry_slot - (int64_t)(n + 4));
		n += 4;
		b[n++] = 0x41;
		b[n++] = 0x5a;
		memcpy(b + n, lea_up, 8);
		n += 8;
		return n;
	}
	/* mov $idx,%r10d; lea copy(%rip),%r11; jmp *slot(%rip) */
	b[n++] = 0x41;
	b[n++] = 0xba;
	put32(b + n, idx);
	n += 4;
	b[n++] = 0x4c;
	b[n++] = 0x8d;
	b[n++] = 0x1d;
	put32(b + n, (int64_t)copy_at - (int64_t)(n + 4));
	n += 4;
	b[n++] = 0xff;
	b[n++] = 0x25;
	put32(b + n, (int64_t)entry_slot - (int64_t)(n + 4));
	n += 4;
	(void)stub;
	return n;
}

#define HEAD_MARK  29	/* the stub heads' lengths (stub_head) */
#define HEAD_ENTRY 19

int fast_hook(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t addr,
	      uint64_t fn_start, uint64_t fn_size, uint32_t kind, uint32_t fn)
{
	struct fastproc *fp = p->fast;
	uint8_t code[32], stub[STUB_SIZE], *body = NULL;
	size_t head = kind == MTR_SITE_MARK ? HEAD_MARK : HEAD_ENTRY, displaced, nmap;
	struct bp_insn_map map[BP_MAX_DISPLACED];
	uint64_t at, entry;
	struct fast_site *fs;
	struct mtr_site *ms;
	ssize_t got;
	int len, err;

	if (!fp || fp->nsites == MTR_MAX_SITES)
		return -ENOTSUP;
	got = tmem_read(t->tid, addr, code, sizeof(code));
	if (got < 16)
		return -EFAULT;
	if ((err = scratch_alloc(tr, p, t, addr, STUB_SIZE, &at)) < 0)
		return err;
	memset(stub, 0xcc, sizeof(stub));
	len = bp_relocate(code, (size_t)got, addr, 5, at + head, stub + head,
			  STUB_SIZE - head - 8 - 14, &displaced, map, &nmap);
	if (len < 0)
		return len;
	/* the displaced bytes must be the function's, and no branch of it
	 * may land among them */
	if (fn_size && addr + displaced > fn_start + fn_size)
		return -ENOTSUP;
	if (fn_size > displaced) {
		body = malloc(fn_size);
		if (!body)
			return -ENOMEM;
		got = tmem_read(t->tid, fn_start, body, fn_size);
		err = got < (ssize_t)fn_size || bp_branch_into(body, fn_size, fn_start, addr,
								addr + displaced);
		free(body);
		if (err)
			return -ENOTSUP;
	}
	size_t n = head + (size_t)len;
	/* back to the first byte the jump did not cover */
	int64_t rel = (int64_t)(addr + displaced) - (int64_t)(at + n + 5);

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ENOTSUP;
	stub[n++] = 0xe9;
	put32(stub + n, rel);
	n += 4;
	n = (n + 7) & ~(size_t)7;
	entry = fp->base + (kind == MTR_SITE_MARK ? rec.mark_entry : rec.entry);
	memcpy(stub + n, &entry, 8);
	stub_head(stub, at, kind, fp->nsites, head, n);
	n += 8;
	if ((err = tmem_write(p->memfd, at, stub, n)) < 0)
		return err;

	fs = &fp->sites[fp->nsites];
	*fs = (struct fast_site){.addr = addr, .len = (uint8_t)displaced, .copy = at + head,
				 .nmap = nmap};
	memcpy(fs->map, map, sizeof(map));
	memcpy(fs->orig, code, displaced);
	ms = (struct mtr_site *)(fp->area + fp->ctl->sites_off) + fp->nsites;
	*ms = (struct mtr_site){.kind = kind, .fn = fn, .addr = addr, .orig = at + head};
	__atomic_store_n(&fp->ctl->nsites, fp->nsites + 1, __ATOMIC_RELEASE);

	/* the jump; what it leaves of the last displaced instruction traps */
	uint8_t jump[16];

	memset(jump, 0xcc, sizeof(jump));
	jump[0] = 0xe9;
	put32(jump + 1, (int64_t)at - (int64_t)(addr + 5));
	if ((err = tmem_write(p->memfd, addr, jump, displaced)) < 0)
		return err;
	fp->nsites++;
	return 0;
}

/* The smallest range that holds every one of r[0..n): a call whose return
 * address lies outside is none of them, at one comparison. */
static struct mtr_range span(const struct mtr_range *r, uint32_t n)
{
	struct mtr_range box = {0, 0};

	for (uint32_t i = 0; i < n; i++) {
		if (!i || r[i].start < box.start)
			box.start = r[i].start;
		if (!i || r[i].end > box.end)
			box.end = r[i].end;
	}
	return box;
}

void fast_share_ranges(struct tproc *p)
{
	struct fastproc *fp = p->fast;
	struct mtr_ctl *c;
	size_t n = 0;

	if (!fp)
		return;
	c = fp->ctl;
	for (size_t i = 0; i < p->nafns && n < MTR_MAX_AFNS; i++)
		c->afns[n++] = (struct mtr_range){p->afns[i].start, p->afns[i].end};
	c->nafns = (uint32_t)n;
	n = 0;
	for (size_t i = 0; i < p->nalloc_ranges && n < MTR_MAX_ALLOCMODS; i++)
		c->allocmods[n++] = (struct mtr_range){p->alloc_ranges[i].start, p->alloc_ranges[i].end};
	c->nallocmods = (uint32_t)n;
	c->afns_box = span(c->afns, c->nafns);
	c->allocmods_box = span(c->allocmods, c->nallocmods);
}

void fast_set_quiet(struct tproc *p, int quiet)
{
	if (!p->fast)
		return;
	if (quiet)
		p->fast->ctl->flags |= MTR_F_QUIET;
	else
		p->fast->ctl->flags &= ~MTR_F_QUIET;
}

/* --- threads ------------------------------------------------------------------ */

/* The slot of thread pointer tp (key = tp + 1): found, else taken when
 * take is set, else NULL. */
static struct mtr_thread *thread_probe(struct fastproc *fp, uint64_t tp, int take)
{
	struct mtr_thread *tab = threads(fp);
	uint64_t key = tp + 1;
	uint32_t i = hash64(key) & (MTR_THREADS - 1);

	for (uint32_t probe = 0; probe < MTR_THREADS; probe++, i = (i + 1) & (MTR_THREADS - 1)) {
		uint64_t k = __atomic_load_n(&tab[i].key, __ATOMIC_ACQUIRE);

		if (k == key)
			return &tab[i];
		if (k)
			continue;
		if (!take)
			return NULL;
		if (__atomic_compare_exchange_n(&tab[i].key, &k, key, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE) || k == key)
			return &tab[i];
	}
	return NULL;
}

void fast_thread_started(struct tracer *tr, struct tthread *t)
{
	struct tproc *own = t->proc->vm_owner ? t->proc->vm_owner : t->proc;
	struct user_regs_struct regs;
	struct mtr_thread *slot;

	(void)tr;
	if (!own->fast || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return;
	slot = thread_probe(own->fast, regs.fs_base, 1);
	if (slot) {
		/* a thread pointer is reused once its thread is gone: it is
		 * this thread's now, before it runs an instruction */
		slot->nactive = 0;
		__atomic_store_n(&slot->tid, (uint32_t)t->tid, __ATOMIC_RELEASE);
		t->fast_slot = slot;
		t->fast_area = own->fast->number;
	}
}

/* The slot of thread t in its process's area, or NULL.  Remembered: a
 * signal storm asks at each delivery, and the table is megabytes. */
static struct mtr_thread *slot_of(struct fastproc *fp, struct tthread *t)
{
	struct user_regs_struct regs;
	struct mtr_thread *slot = t->fast_slot;
	uint32_t tid;

	if (slot && t->fast_area == fp->number &&
	    __atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE) == (uint32_t)t->tid)
		return slot;
	t->fast_slot = NULL;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0 ||
	    !(slot = thread_probe(fp, regs.fs_base, 0)))
		return NULL;
	/* the recorder took it and has not said whose yet: this thread's */
	tid = __atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE);
	if (tid && tid != (uint32_t)t->tid)
		return NULL;
	if (tid) {
		t->fast_slot = slot;
		t->fast_area = fp->number;
	}
	return slot;
}

void fast_thread_gone(struct tracer *tr, struct tthread *t)
{
	struct tproc *own = t->proc->vm_owner ? t->proc->vm_owner : t->proc;
	struct mtr_thread *slot;
	uint32_t tid = (uint32_t)t->tid;

	(void)tr;
	if (!own->fast)
		return;
	/* whoever has its thread pointer next asks the kernel again */
	if ((slot = slot_of(own->fast, t))) {
		__atomic_compare_exchange_n(&slot->tid, &tid, 0, 0, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED);
	} else {
		/* not remembered, and its registers are gone with it */
		struct mtr_thread *tab = threads(own->fast);

		for (uint32_t i = 0; i < MTR_THREADS; i++, tid = (uint32_t)t->tid)
			if (tab[i].key)
				__atomic_compare_exchange_n(&tab[i].tid, &tid, 0, 0,
							    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	t->fast_slot = NULL;
}

/* --- rules ---------------------------------------------------------------------- */

static void rule_put(struct fastproc *fp, const struct mtr_rule *r)
{
	struct mtr_rule *tab = rules(fp);
	uint32_t mask = fp->ctl->rules_mask, i = hash64(r->pc) & mask;

	for (uint32_t probe = 0; probe < 64; probe++, i = (i + 1) & mask) {
		struct mtr_rule *e = &tab[i];
		uint64_t pc = e->pc;

		if (pc && pc != r->pc)
			continue;
		if (!pc) {
			/* a new one: whole before its key says it is there */
			struct mtr_rule m = *r;

			m.pc = 0;
			*e = m;
			__atomic_store_n(&e->pc, r->pc, __ATOMIC_RELEASE);
			return;
		}
		if (!memcmp(e, r, sizeof(*e)))
			return;	/* shared already */
		/* a published one changes: walks meanwhile ask the tracer */
		__atomic_add_fetch(&fp->ctl->rules_gen, 1, __ATOMIC_SEQ_CST);
		*e = *r;
		__atomic_add_fetch(&fp->ctl->rules_gen, 1, __ATOMIC_RELEASE);
		return;
	}
}

/* The rules of every pc of a walk the tracer made, for the recorder's
 * next walks (through its own code too: a handler that interrupted it). */
static void share_rules(struct tproc *p, const uint64_t *pcs, size_t n)
{
	struct fastproc *fp = p->fast;

	for (size_t i = 0; i < n && p->unw; i++) {
		struct mtr_rule r;

		unw_rule_export(p->unw, pcs[i], &r);
		rule_put(fp, &r);
	}
}

void fast_forget_rules(struct tproc *p, uint64_t start, uint64_t end)
{
	struct fastproc *fp = p->fast;
	struct mtr_rule *tab;

	if (!fp)
		return;
	tab = rules(fp);
	for (uint32_t i = 0; i <= fp->ctl->rules_mask; i++) {
		struct mtr_rule r = tab[i];

		if (r.pc >= start && r.pc < end && r.status != MTR_RULE_TRACER) {
			/* the slot stays, so probe chains do: the tracer answers
			 * for this pc again, and shares what it finds then */
			r.status = MTR_RULE_TRACER;
			rule_put(fp, &r);
		}
	}
}

int fast_in_recorder(const struct tproc *p, uint64_t pc)
{
	const struct tproc *own = p->vm_owner ? p->vm_owner : p;
	const struct fastproc *fp = own->fast;

	return fp && ((pc >= fp->base && pc < fp->base + fp->img_len) ||
		      (pc + 1 >= fp->base && pc + 1 < fp->base + fp->img_len));
}

/* --- draining --------------------------------------------------------------------- */

/* The process a record's thread belongs to: the ring's, or a CLONE_VM
 * child's that runs in its memory. */
static struct tproc *caller(struct tracer *tr, struct tproc *p, uint32_t tid)
{
	struct tthread *t;

	if (!p->fast->ctl->vmshare || !(t = thread_find(tr, (pid_t)tid)) || t->proc->vm_owner != p)
		return p;
	return t->proc;
}

/*
 * The stack of ALLOC record r (of process p's ring): its own frames, then
 * those it keeps of its slot's last stack (shared.h, struct mtr_rec_alloc),
 * into pcs (room for UNW_MAX_FRAMES); the slot's last stack becomes it.
 * The number of frames; *node the log's stack when it is known already
 * (the same stack as the slot's last, in the same symbol space).  -1 when
 * the record refers to a stack the tracer never saw.
 */
static long alloc_stack(struct fastproc *fp, const struct mtr_rec_alloc *r, uint64_t *pcs,
			uint32_t space, uint64_t *node)
{
	uint32_t n = (uint32_t)r->nnew + r->nkeep;
	const uint64_t *mine = r->words + mtr_nargs(r->who.fn) + !!(r->who.flags & MTR_CALL_TSC);
	struct slot_stack *st;

	*node = 0;
	if (r->slot == MTR_NO_SLOT || r->slot >= MTR_THREADS) {
		if (r->nkeep || r->nnew > UNW_MAX_FRAMES)
			return -1;
		memcpy(pcs, mine, r->nnew * sizeof(*pcs));
		return r->nnew;
	}
	st = fp->stacks[r->slot];
	if (!st && !(st = fp->stacks[r->slot] = calloc(1, sizeof(*st))))
		return -1;
	if (r->nkeep > st->n || n > UNW_MAX_FRAMES || r->seq != (uint16_t)(st->seq + 1)) {
		/* out of step: the next record starting afresh is understood */
		st->n = 0;
		st->node = 0;
		st->seq = r->seq;
		return -1;
	}
	if (!r->nnew && r->nkeep == st->n && st->node && st->space == space)
		*node = st->node;
	else
		st->node = 0;
	memcpy(pcs, mine, r->nnew * sizeof(*pcs));
	for (uint32_t j = 0; j < r->nkeep; j++)
		pcs[r->nnew + j] = st->pcs[r->nkeep - 1 - j];
	if (n <= MTR_LAST_FRAMES) {
		for (uint32_t j = r->nkeep; j < n; j++)
			st->pcs[j] = pcs[n - 1 - j];
		st->n = n;
	} else {
		st->n = 0;
	}
	st->seq = r->seq;
	return n;
}

/* An event all zero: copied, it is a few vector moves, where an
 * initializer clears the struct with a string instruction (a tenth of the
 * drain). */
static const struct mt_event blank_event;

static void log_alloc(struct tracer *tr, struct tproc *p, const struct mtr_rec_alloc *r,
		      uint64_t at)
{
	struct fastproc *fp = p->fast;
	struct mt_event ev = blank_event;
	uint64_t node, args[3] = {0, 0, 0};
	struct slot_stack *st;
	struct tproc *cp = caller(tr, p, r->who.tid);
	long n = alloc_stack(fp, r, tr->pcs, cp->symspace, &node);

	for (uint32_t i = 0; i < mtr_nargs(r->who.fn); i++)
		args[i] = r->words[i];
	ev.tid = r->who.tid;
	ev.pid = (uint32_t)cp->pid;
	alloc_fill(r->who.fn, args, r->ret, &ev);
	if (r->who.flags & MTR_CALL_TRUNCATED)
		ev.flags |= MT_EVF_TRUNCATED;
	if (n < 0) {
		fp->unlinked++;
		ev.flags |= MT_EVF_TRUNCATED;
		n = 0;
	}
	if (!cp->followed)
		return;
	if (node) {
		ev.stack = node;
	} else if (n) {
		ev.stack = log_writer_stack(tr->w, cp->symspace, tr->pcs, (size_t)n);
		if (r->slot < MTR_THREADS && (st = fp->stacks[r->slot]) && st->n == (uint32_t)n) {
			st->node = ev.stack;
			st->space = cp->symspace;
		}
	}
	trace_event_at(tr, &ev, at);
}

static void log_free(struct tracer *tr, struct tproc *p, const struct mtr_rec_free *r, uint64_t at)
{
	struct mt_event ev = blank_event;

	ev.type = MT_EV_FREE;
	ev.fn = MT_FN_FREE;
	ev.tid = r->who.tid;
	ev.addr = r->addr;

	p = caller(tr, p, r->who.tid);
	ev.pid = (uint32_t)p->pid;
	if (p->followed)
		trace_event_at(tr, &ev, at);
}

static void log_syscall(struct tracer *tr, struct tproc *p, const struct mtr_rec_call *r,
			uint64_t at)
{
	uint32_t flags = 0;
	uint64_t stack = 0;

	if (r->flags & MTR_CALL_TRUNCATED)
		flags |= MT_EVF_TRUNCATED;
	if (r->flags & MTR_CALL_IN_ALLOC)
		flags |= MT_EVF_IN_ALLOC;
	if (r->nframes && p->followed)
		stack = log_writer_stack(tr->w, p->symspace, r->pcs, r->nframes);
	sc_wrapper_record(tr, p, (pid_t)r->tid, r->fn, r->args, r->ret, flags, stack, at);
}

static void answer(struct fastproc *fp, uint32_t slot, const uint64_t *pcs, size_t n,
		   uint32_t flags)
{
	struct mtr_reply *rp;

	if (slot >= MTR_REPLIES)
		return;
	rp = &replies(fp)[slot];
	if (n > MTR_MAX_FRAMES)
		n = MTR_MAX_FRAMES;
	if (n)	/* answer(..., NULL, 0, ...) only says the walk is done */
		memcpy(rp->pcs, pcs, n * sizeof(*pcs));
	rp->n = (uint32_t)n;
	rp->flags = flags;
	rp->done_tsc = __rdtsc();
	__atomic_store_n(&rp->state, MTR_REPLY_DONE, __ATOMIC_RELEASE);
	syscall(SYS_futex, &rp->state, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void to_user_regs(const struct mtr_regs *m, struct user_regs_struct *r)
{
	memset(r, 0, sizeof(*r));
	r->rip = m->rip;
	r->rsp = m->rsp;
	r->rbx = m->rbx;
	r->rbp = m->rbp;
	r->r12 = m->r12;
	r->r13 = m->r13;
	r->r14 = m->r14;
	r->r15 = m->r15;
	r->rax = m->rax;
	r->rcx = m->rcx;
	r->rdx = m->rdx;
	r->rsi = m->rsi;
	r->rdi = m->rdi;
	r->r8 = m->r8;
	r->r9 = m->r9;
	r->r10 = m->r10;
	r->r11 = m->r11;
	r->eflags = m->eflags;
}

/*
 * A thread waits for its stack: walked here, from the registers it gave,
 * over its memory as it lies (it is blocked on its reply slot, so nothing
 * above it moves), exactly as the ptrace engine walks a stopped thread.
 */
static void walk_for(struct tracer *tr, struct tproc *p, const struct mtr_rec_walk *r,
		     uint64_t at)
{
	struct fastproc *fp = p->fast;
	struct user_regs_struct regs;
	struct tthread *t = thread_find(tr, (pid_t)r->tid);
	uint64_t *pcs = tr->pcs;
	size_t n, max = r->max < UNW_MAX_FRAMES - 8 ? r->max : UNW_MAX_FRAMES - 8, m = 0;
	uint32_t flags = 0;
	int cut;

	to_user_regs(&r->regs, &regs);
	if (!t || t->proc != p)
		t = NULL;
	/* the frames of the recorder drop out of a stack: walk a few more */
	n = heap_walk(tr, p, t, (pid_t)r->tid, &regs,
		      r->why == MTR_WALK_STACK || r->why == MTR_WALK_MARK ? max + 8 : max, &cut);
	share_rules(p, pcs, n);
	if (r->why == MTR_WALK_CHECK) {
		size_t k = r->nframes < n ? r->nframes : n;

		if (r->nframes != (n < r->max ? n : r->max) ||
		    memcmp(r->pcs, pcs, k * sizeof(*pcs)))
			unwind_check_mismatch(tr, r->pcs, r->nframes, pcs, n);
		answer(fp, r->reply, NULL, 0, 0);
		return;
	}
	if (r->why == MTR_WALK_RAW) {
		m = n;
	} else {
		for (size_t i = 0; i < n; i++)
			if (!fast_in_recorder(p, pcs[i]))
				pcs[m++] = pcs[i];
	}
	if (m > max) {
		m = max;
		flags |= MTR_REPLY_TRUNCATED;
	} else if (cut) {
		flags |= MTR_REPLY_TRUNCATED;
	}
	if (r->why == MTR_WALK_MARK) {
		/* recorded while the thread waits at the mark, as a stop would */
		marks_record(tr, p, (pid_t)r->tid, fp->sites[r->site < fp->nsites ? r->site : 0].addr,
			     fast_site_fn(p, r->site), pcs, m, flags & MTR_REPLY_TRUNCATED, at);
		answer(fp, r->reply, NULL, 0, 0);
		return;
	}
	answer(fp, r->reply, pcs, m, flags);
}

uint32_t fast_site_fn(const struct tproc *p, uint32_t site)
{
	const struct fastproc *fp = p->fast;

	if (!fp || site >= fp->nsites)
		return 0;
	return ((const struct mtr_site *)(fp->area + fp->ctl->sites_off))[site].fn;
}

/* At most this many records per call: a stop waits for the drainer's lock
 * no longer than that takes. */
#define DRAIN_BATCH 512

/* The TSC of an epoch a record names. */
static uint64_t epoch_tsc(const struct tracer *tr, uint16_t epoch)
{
	return tr->clk.epoch_tsc ? tr->clk.epoch_tsc[epoch] : tr->clk.tsc0;
}

static int valid_header(uint64_t h, uint64_t pos, uint64_t size)
{
	uint32_t words = MTR_HDR_WORDS(h);

	return MTR_HDR_TAG(h) == MTR_TAG_OF(pos) && words >= 2 && (uint64_t)words * 8 <= size;
}

static void log_record(struct tracer *tr, struct tproc *p, const uint64_t *r, uint32_t type)
{
	switch (type) {
	case MTR_REC_ALLOC: {
		const struct mtr_rec_alloc *a = (const void *)r;
		uint64_t tsc = a->who.flags & MTR_CALL_TSC ? a->words[mtr_nargs(a->who.fn)]
							   : epoch_tsc(tr, a->who.epoch);

		log_alloc(tr, p, a, tsc_time(tr, tsc));
		break;
	}
	case MTR_REC_FREE: {
		const struct mtr_rec_free *f = (const void *)r;
		uint64_t tsc = f->who.flags & MTR_CALL_TSC ? f->words[0] : epoch_tsc(tr, f->who.epoch);

		log_free(tr, p, f, tsc_time(tr, tsc));
		break;
	}
	case MTR_REC_SYSCALL: {
		const struct mtr_rec_call *c = (const void *)r;

		log_syscall(tr, p, c, tsc_time(tr, c->tsc));
		break;
	}
	case MTR_REC_WALK: {
		const struct mtr_rec_walk *w = (const void *)r;

		walk_for(tr, p, w, tsc_time(tr, w->tsc));
		break;
	}
	}
}

/* Reservations stepped over that are whole now: logged, out of turn (a
 * walk request answered).  Returns how many. */
static int drain_late(struct tracer *tr, struct tproc *p, struct fastproc *fp, uint64_t head)
{
	uint64_t size = fp->ctl->ring_size;
	uint32_t kept = 0;
	int done = 0;

	for (uint32_t i = 0; i < fp->nlate; i++) {
		uint64_t pos = fp->late[i];
		uint64_t *r = (uint64_t *)(fp->ring + (pos & (size - 1)));
		uint64_t h = __atomic_load_n(r, __ATOMIC_ACQUIRE);
		uint32_t type = MTR_HDR_TYPE(h);

		if (head - pos > size / 2)
			continue; /* its place may be taken again soon: lost */
		if (!valid_header(h, pos, size) || !type) {
			fp->late[kept++] = pos; /* not yet */
			continue;
		}
		if (type != MTR_REC_DONE) {
			log_record(tr, p, r, type);
			__atomic_store_n(r, MTR_HDR(MTR_TAG_OF(pos), MTR_REC_DONE, MTR_HDR_WORDS(h)),
					 __ATOMIC_RELEASE);
			done++;
		}
		fp->skipped--; /* not lost after all */
	}
	fp->nlate = kept;
	return done;
}

static void late_add(struct fastproc *fp, uint64_t pos)
{
	if (fp->nlate == LATE_MAX) /* the oldest goes */
		memmove(fp->late, fp->late + 1, --fp->nlate * sizeof(*fp->late));
	fp->late[fp->nlate++] = pos;
}

/*
 * Logs the whole records from the tail on.  One that is not whole yet is
 * stepped over (its length is in its first header; a reservation that has
 * not even that yet, the next header is found by its tag), and the tail
 * stays there; those logged past it are marked DONE.  An unfinished one
 * whose thread never comes back (it left a signal handler by longjmp) is
 * given up after STALL_NS, and counted; but a thread only held up that
 * long (preempted on a loaded machine, or stopped) finishes it later, and
 * may wait for its answer: such a record is logged when it is whole.
 */
int fast_drain(struct tracer *tr, struct tproc *p)
{
	struct tproc *own = p->vm_owner ? p->vm_owner : p;
	struct fastproc *fp = own->fast;
	uint64_t tail, head, size, pos;
	int done = 0, whole = 1;

	if (!fp)
		return 0;
	p = own;
	size = fp->ctl->ring_size;
	tail = pos = fp->ctl->tail;
	head = __atomic_load_n(&fp->ctl->head, __ATOMIC_ACQUIRE);
	if (fp->nlate)
		done += drain_late(tr, p, fp, head);
	while (pos < head && done < DRAIN_BATCH) {
		uint64_t *r = (uint64_t *)(fp->ring + (pos & (size - 1)));
		uint64_t h = __atomic_load_n(r, __ATOMIC_ACQUIRE);
		uint32_t type = MTR_HDR_TYPE(h);
		uint64_t len = (uint64_t)MTR_HDR_WORDS(h) * 8, start = pos;

		if (!valid_header(h, pos, size) || !type) {
			int known = valid_header(h, pos, size);
			int give_up = 0;

			if (whole) {
				/* the first unfinished one: how long has it been? */
				uint64_t now = trace_now(tr);

				if (fp->stall_tail != pos) {
					fp->stall_tail = pos;
					fp->stall_since = now;
				} else if (now - fp->stall_since > STALL_NS) {
					fp->skipped++;
					give_up = 1;
				}
			}
			if (known) {
				pos += len;
			} else {
				/* no header yet: the next record starts where a
				 * header carries its own position's tag */
				do
					pos += 8;
				while (pos < head &&
				       !valid_header(__atomic_load_n((uint64_t *)(fp->ring + (pos & (size - 1))),
								     __ATOMIC_ACQUIRE),
						     pos, size));
			}
			if (give_up) {
				tail = pos;
				late_add(fp, start);
			} else {
				whole = 0;
			}
			continue;
		}
		if (type != MTR_REC_DONE) {
			log_record(tr, p, r, type);
			done++;
			if (!whole)
				__atomic_store_n(r, MTR_HDR(MTR_TAG_OF(pos), MTR_REC_DONE,
							    MTR_HDR_WORDS(h)), __ATOMIC_RELEASE);
		}
		pos += len;
		if (whole) {
			tail = pos;
			/* let producers have the space as soon as it is free */
			if (done % 256 == 0)
				__atomic_store_n(&fp->ctl->tail, tail, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&fp->ctl->tail, tail, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fp->ctl->room_waiters, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&fp->ctl->room_bell, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &fp->ctl->room_bell, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
	return done;
}

int fast_drain_all(struct tracer *tr)
{
	uint32_t epoch;
	int n = 0;

	if (!tr->nfast)
		return 0;
	clock_refine(tr);
	/* records made from now until the next epoch take this one's time */
	epoch = clock_epoch(tr, __rdtsc());
	for (struct tproc *p = tr->procs; p; p = p->next)
		if (p->fast) {
			if (__atomic_load_n(&p->fast->ctl->epoch, __ATOMIC_RELAXED) != epoch)
				__atomic_store_n(&p->fast->ctl->epoch, epoch, __ATOMIC_RELAXED);
			n += fast_drain(tr, p);
		}
	return n;
}

static void drainer_lock(struct tracer *tr);

/* How long the drainer waits: with nothing to drain; with a little (records
 * gather meanwhile, so that the drainer and the program do not pass every
 * line of the ring back and forth). */
#define IDLE_NS	 1000000
#define PAUSE_NS 50000

/*
 * Waits on the doorbell of the one fast process (it rings when a thread
 * waits for us), at most ns; with several, sleeps ns.  A wait of IDLE_NS
 * leaves no published time behind: records made meanwhile read the TSC.
 */
static void idle(struct tracer *tr, long ns)
{
	struct fastproc *only = NULL;
	int nfast = 0;

	drainer_lock(tr);
	for (struct tproc *p = tr->procs; p; p = p->next)
		if (p->fast) {
			only = p->fast;
			nfast++;
			if (ns >= IDLE_NS)
				__atomic_store_n(&p->fast->ctl->epoch, 0, __ATOMIC_RELAXED);
		}
	if (nfast == 1) {
		uint32_t bell = __atomic_load_n(&only->ctl->doorbell, __ATOMIC_ACQUIRE);
		struct timespec ts = {0, ns};
		uint32_t *word = &only->ctl->doorbell;

		__atomic_store_n(&only->ctl->sleeping, 1, __ATOMIC_SEQ_CST);
		/* anything since the last drain rang already: bell changed */
		if (ns < IDLE_NS ||
		    __atomic_load_n(&only->ctl->head, __ATOMIC_SEQ_CST) == only->ctl->tail) {
			/* the area stays while the lock is not held: its process
			 * is freed under the lock, after the drainer is told */
			tr->drainer_waits_on = only;
			pthread_mutex_unlock(&tr->lock);
			syscall(SYS_futex, word, FUTEX_WAIT, bell, &ts, NULL, 0);
			drainer_lock(tr);
			tr->drainer_waits_on = NULL;
		}
		if (tr->nfast)
			for (struct tproc *p = tr->procs; p; p = p->next)
				if (p->fast == only)
					__atomic_store_n(&only->ctl->sleeping, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&tr->lock);
	} else {
		struct timespec ts = {0, ns < 200000 ? ns : 200000};

		pthread_mutex_unlock(&tr->lock);
		nanosleep(&ts, NULL);
	}
}

static void *drainer(void *arg)
{
	struct tracer *tr = arg;
	int empty = 0;

	while (!__atomic_load_n(&tr->drainer_quit, __ATOMIC_ACQUIRE)) {
		int n;

		drainer_lock(tr);
		tr->in_drainer = 1;
		n = fast_drain_all(tr);
		tr->in_drainer = 0;
		pthread_mutex_unlock(&tr->lock);
		/* a program that goes quiet for a while gets exact times and a
		 * tracer that sleeps; one that only paused, neither */
		empty = n ? 0 : empty + 1;
		if (empty > IDLE_NS / PAUSE_NS)
			idle(tr, IDLE_NS);
		else if (n < DRAIN_BATCH / 4)
			idle(tr, PAUSE_NS);
	}
	return NULL;
}

/* The ptrace thread's lock: a stop is waiting to be handled, the drainer
 * lets it in at its next batch (a mutex is not fair: the drainer would
 * take it again and again). */
void fast_lock(struct tracer *tr)
{
	if (!tr->drainer_on)
		return;
	__atomic_add_fetch(&tr->lock_wanted, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&tr->lock);
	__atomic_sub_fetch(&tr->lock_wanted, 1, __ATOMIC_SEQ_CST);
}

static void drainer_lock(struct tracer *tr)
{
	while (__atomic_load_n(&tr->lock_wanted, __ATOMIC_SEQ_CST))
		sched_yield();
	pthread_mutex_lock(&tr->lock);
}

void fast_unlock(struct tracer *tr)
{
	if (tr->drainer_on)
		pthread_mutex_unlock(&tr->lock);
}

int fast_drainer_start(struct tracer *tr)
{
	sigset_t all, old;
	int err;

	if (tr->drainer_on)
		return 0;
	pthread_mutex_init(&tr->lock, NULL);
	/* signals are the ptrace thread's: memtrack's own (^C, the RSS timer)
	 * must interrupt its wait */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&tr->drainer_thread, NULL, drainer, tr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	cpumask_free_thread(tr, tr->drainer_thread);
	tr->drainer_on = 1;
	return 0;
}

void fast_drainer_stop(struct tracer *tr)
{
	if (!tr->drainer_on)
		return;
	__atomic_store_n(&tr->drainer_quit, 1, __ATOMIC_RELEASE);
	fast_unlock(tr);
	pthread_join(tr->drainer_thread, NULL);
	tr->drainer_on = 0;
	pthread_mutex_destroy(&tr->lock);
	fast_drain_all(tr);
}

/* --- fork, exec, the end ------------------------------------------------------------ */

/* Puts the original bytes back at every site, in the memory memfd writes. */
static int restore_sites(struct fastproc *fp, int memfd)
{
	int err = 0;

	for (uint32_t i = 0; i < fp->nsites; i++)
		if (tmem_write(memfd, fp->sites[i].addr, fp->sites[i].orig, fp->sites[i].len) < 0)
			err = -EIO;
	return err;
}

int fast_fork_child(struct tracer *tr, struct tproc *parent, struct tproc *child,
		    struct tthread *ct)
{
	struct tproc *own = parent->vm_owner ? parent->vm_owner : parent;
	struct fastproc *pf = own->fast, *cf;
	uint64_t name_addr = 0;
	int64_t ret;
	int err;

	if (!pf)
		return 0;
	/* the child's copy of the recorder writes into the area the parent
	 * shares: until it has its own, nothing of it may run */
	if (!child->followed) {
		/* it records nothing: its code gets its bytes back, and the
		 * recorder there finds no area (a thread that was in it when it
		 * forked runs out to the original) */
		restore_sites(pf, child->memfd);
		return inject(tr, ct, SYS_mmap, pf->base + pf->img_len, pf->total_len - pf->img_len,
			      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			      (uint64_t)-1, 0, &ret);
	}
	cf = calloc(1, sizeof(*cf));
	if (!cf)
		return -ENOMEM;
	cf->fd = -1;
	cf->base = pf->base;
	cf->img_len = pf->img_len;
	if (child->nscratch)
		name_addr = child->scratch[0] + 4;	/* any readable bytes: "\x0f\x05..." */
	err = name_addr ? new_area(tr, child, ct, cf, pf->base + pf->img_len, name_addr) : -ENOENT;
	if (err < 0) {
		TRACE_ERR(tr, "cannot give process %d a recorder area of its own: %s",
			  (int)child->pid, strerror(-err));
		free(cf);
		return err;
	}
	/* the same code at the same addresses: the same sites and rules */
	memcpy(cf->sites, pf->sites, sizeof(cf->sites));
	cf->nsites = pf->nsites;
	memcpy(cf->area + cf->ctl->sites_off, pf->area + pf->ctl->sites_off,
	       MTR_MAX_SITES * sizeof(struct mtr_site));
	memcpy(cf->area + cf->ctl->rules_off, pf->area + pf->ctl->rules_off,
	       RULES * sizeof(struct mtr_rule));
	cf->ctl->nsites = pf->ctl->nsites;
	cf->ctl->flags = pf->ctl->flags;
	cf->ctl->nafns = pf->ctl->nafns;
	memcpy(cf->ctl->afns, pf->ctl->afns, sizeof(cf->ctl->afns));
	cf->ctl->nallocmods = pf->ctl->nallocmods;
	memcpy(cf->ctl->allocmods, pf->ctl->allocmods, sizeof(cf->ctl->allocmods));
	cf->ctl->afns_box = pf->ctl->afns_box;
	cf->ctl->allocmods_box = pf->ctl->allocmods_box;
	cf->ctl->magic = MTR_MAGIC;
	child->fast = cf;
	tr->nfast++;
	if (child->unw)
		unw_add_module(child->unw, rec.path, cf->base, cf->base + cf->img_len, cf->base);
	fast_thread_started(tr, ct);
	return 0;
}

void fast_vmshare(struct tproc *child, int delta)
{
	struct tproc *own = child->vm_owner;

	if (!own || !own->fast || child->vmshare_counted == (delta > 0))
		return;
	child->vmshare_counted = delta > 0;
	__atomic_add_fetch(&own->fast->ctl->vmshare, (uint32_t)delta, __ATOMIC_SEQ_CST);
}

void fast_free(struct tracer *tr, struct tproc *p)
{
	struct fastproc *fp = p->fast;

	if (!fp)
		return;
	fast_drain(tr, p);
	if (tr->drainer_waits_on == fp) {
		/* the drainer sleeps on this area's doorbell: woken, it looks at
		 * the processes again (under the lock it does not have now), and
		 * a wait that begins after the area is gone fails at once.
		 * Waiting here for it to leave could take the CPU it needs. */
		fp->ctl->doorbell++;
		syscall(SYS_futex, &fp->ctl->doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	if (fp->skipped)
		trace_warn(tr, "process %d: %llu calls were lost (a thread never came back to "
			       "finish recording them)", (int)p->pid, (unsigned long long)fp->skipped);
	if (fp->ctl->dropped)
		trace_warn(tr, "process %d: %llu calls were not recorded", (int)p->pid,
			   (unsigned long long)fp->ctl->dropped);
	if (fp->unlinked)
		trace_warn(tr, "process %d: %llu stacks were lost (their records referred to one "
			       "never seen)", (int)p->pid, (unsigned long long)fp->unlinked);
	for (uint32_t i = 0; i < MTR_THREADS; i++)
		free(fp->stacks[i]);
	unmap_here(fp);
	free(fp);
	p->fast = NULL;
	tr->nfast--;
}

int fast_detach(struct tracer *tr, struct tproc *p, struct tthread *t)
{
	struct fastproc *fp = p->fast;
	int64_t ret;
	int err;

	if (!fp)
		return 0;
	fast_drain(tr, p);
	err = inject(tr, t, SYS_munmap, fp->base, fp->total_len, 0, 0, 0, 0, &ret);
	fast_free(tr, p);
	return err;
}

int fast_unhook(struct tproc *p)
{
	struct fastproc *fp = p->fast;

	if (!fp)
		return 0;
	__atomic_store_n(&fp->ctl->disabled, 1, __ATOMIC_RELEASE);
	return restore_sites(fp, p->memfd);
}

/* Is a thread at regs, with frames pcs[0..n), inside the recorder or a
 * stub (so its memory must stay)? */
int fast_inside(const struct tproc *p, const uint64_t *pcs, size_t n)
{
	const struct fastproc *fp = p->fast;

	if (!fp)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t pc = pcs[i];

		if (fast_in_recorder(p, pc))
			return 1;
		for (size_t k = 0; k < p->nscratch; k++)
			if ((pc >= p->scratch[k] && pc < p->scratch[k] + 4096) ||
			    (pc + 1 >= p->scratch[k] && pc + 1 < p->scratch[k] + 4096))
				return 1;
	}
	return 0;
}

int fast_hold_signal(struct tracer *tr, struct tthread *t, int sig)
{
	struct tproc *own = t->proc->vm_owner ? t->proc->vm_owner : t->proc;
	uint64_t all = ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1))), mask;
	struct mtr_thread *slot;
	siginfo_t si;

	(void)tr;
	if (!own->fast || !(slot = slot_of(own->fast, t)) ||
	    !__atomic_load_n(&slot->in_record, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&slot->held_sig, __ATOMIC_ACQUIRE) ||
	    ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) < 0 ||
	    ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(mask), &mask) < 0)
		return 0;
	_Static_assert(sizeof(si) == sizeof(slot->held_info), "a siginfo_t fits");
	memcpy(slot->held_info, &si, sizeof(si));
	slot->saved_mask = mask;
	/* held_sig before the mask: a tracer that dies in between leaves a
	 * signal the recorder sends again and a mask it puts back, never a
	 * thread that blocks every signal with nobody to unblock them */
	__atomic_store_n(&slot->held_sig, (uint32_t)sig, __ATOMIC_RELEASE);
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0) {
		__atomic_store_n(&slot->held_sig, 0, __ATOMIC_RELEASE);
		return 0;
	}
	return 1;
}

uint64_t fast_out_of_sites(const struct tproc *p, uint64_t pc)
{
	const struct fastproc *fp = p->fast;

	for (uint32_t i = 0; fp && i < fp->nsites; i++) {
		const struct fast_site *s = &fp->sites[i];

		if (pc <= s->addr || pc >= s->addr + s->len)
			continue;
		for (size_t k = 0; k < s->nmap; k++)
			if (pc == s->addr + s->map[k].from)
				return s->copy + s->map[k].to;
	}
	return pc;
}

/* A thread found inside the displaced bytes of a site moves to the same
 * instruction in their copy (attach: threads stop anywhere). */
void fast_move_out_of_sites(struct tproc *p, struct tthread *t)
{
	struct user_regs_struct regs;
	uint64_t pc;

	if (!p->fast || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return;
	if ((pc = fast_out_of_sites(p, regs.rip)) != regs.rip) {
		regs.rip = pc;
		ptrace(PTRACE_SETREGS, t->tid, 0, &regs);
	}
}
