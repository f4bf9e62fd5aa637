/*
 * static.c - a statically linked program: no dynamic loader maps libc, so
 * nothing stops at a library's mmap to arm it.  And where any program
 * starts: there, with its executable and the libraries it started with
 * armed, a --mark location none of them has is said before the program
 * runs (libraries it loads later may still have it).
 *
 * It is armed at its first instruction, by a one-shot int3 there; its heap
 * calls are recorded from its first initializer (_init, or main) on.
 * Before that, static glibc does what ld.so does for a dynamic program
 * (search paths, origin, TLS), on the program's own allocator where ld.so
 * uses a private one nobody sees: skipping it makes a program report the
 * same allocations whichever way it was linked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "../symbolizer/elf.h"
#include "memory.h"
#include "trace.h"

/* A one-shot int3 at addr (kind BP_ENTRY or BP_INIT); 0 or -errno. */
static int one_shot(struct tproc *p, uint64_t addr, int kind)
{
	struct bp *bp = bpt_add(&p->bps, addr);

	if (!bp)
		return -ENOMEM;
	if (tmem_read_all(p->pid, addr, bp->orig, 1) < 0 || bp_insert(bp, p->memfd) < 0) {
		bp_table_del(&p->bps, addr);
		return -EFAULT;
	}
	bp->kind = (uint8_t)kind;
	bp->exec = BP_EXEC_NONE;
	bp->len = 1;
	return 0;
}

static ssize_t exe_path(const struct tproc *p, char *exe, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)p->pid);
	n = readlink(link, exe, size - 1);
	exe[n > 0 ? n : 0] = 0;
	return n;
}

/* The executable's module and ELF facts; NULL if none, or (dynamic) for a
 * dynamic program when only a static one is wanted. */
static struct tmodule *exe_module(struct tproc *p, struct elfinfo **e, int dynamic)
{
	char exe[4096];

	if (exe_path(p, exe, sizeof(exe)) <= 0 || elfinfo_open(e, exe) < 0)
		return NULL;
	for (size_t i = 0; (dynamic || !elfinfo_has_interp(*e)) && i < p->nmods; i++)
		if (!strcmp(p->mods[i].path, exe))
			return &p->mods[i];
	elfinfo_close(*e);
	*e = NULL;
	return NULL;
}

static struct tmodule *static_exe(struct tproc *p, struct elfinfo **e)
{
	return exe_module(p, e, 0);
}

void static_break_at_entry(struct tracer *tr, struct tproc *p)
{
	struct elfinfo *e = NULL;
	struct tmodule *m = exe_module(p, &e, 1);
	uint64_t entry;
	int dynamic;

	if (!m)
		return;
	entry = m->bias + elfinfo_entry(e);
	dynamic = elfinfo_has_interp(e);
	if (entry >= m->start && entry < m->end) {
		if (!dynamic && one_shot(p, entry, BP_ENTRY) == 0)
			p->arm_pending = 0;	/* at the entry, not at the first syscall */
		else if (dynamic && tr->opts.nmarks && !tr->marks_said && p->followed)
			one_shot(p, entry, BP_START);	/* its libraries are mapped by then */
	}
	elfinfo_close(e);
}

static void break_at_init(struct tproc *p)
{
	struct elfinfo *e = NULL;
	struct tmodule *m = static_exe(p, &e);
	static const char *const names[] = {"_init", "main"};
	uint64_t value, size;

	if (!m)
		return;
	for (size_t i = 0; i < 2; i++) {
		if (elfinfo_symbol_any(e, names[i], &value, &size) == 0 &&
		    one_shot(p, m->bias + value, BP_INIT) == 0) {
			p->quiet = 1;
			fast_set_quiet(p, 1);
			break;
		}
	}
	elfinfo_close(e);
}

static void warn_no_allocator(struct tracer *tr, struct tproc *p)
{
	char exe[4096];

	if (p->warned_static)
		return;
	p->warned_static = 1;
	exe_path(p, exe, sizeof(exe));
	trace_warn(tr, "%s is statically linked and has no allocator symbols (stripped?): heap "
		       "calls cannot be hooked, only mmap-family calls are recorded", exe);
}

int static_hit(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	int kind = bp->kind;
	uint64_t addr = bp->addr;

	/* one-shot: the instruction under it runs as it is */
	bp_remove(bp, p->memfd);
	bp_table_del(&p->bps, addr);
	regs->rip = addr;
	if (kind == BP_INIT) {
		p->quiet = 0;
		fast_set_quiet(p, 0);
		return 0;
	}
	/* regs must be in place before an injection borrows the thread */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, regs) < 0)
		return 0;
	trace_report_error(tr, modules_arm(tr, p, t));
	if (kind == BP_ENTRY && p->armed)
		break_at_init(p);
	else if (kind == BP_ENTRY)
		warn_no_allocator(tr, p);
	marks_report_at_start(tr, p);
	return 0;
}
