/*
 * listing.c - `memtrack replay`: a header line describing the log, then
 * every event one a line, symbolized, strace-like:
 *   #12 +0.001234 4242/4242 malloc(24) = 0x55d0c2a2a2a0  samples/arrays.c:21 main
 * then END.  An event kind without a printer here is listed by its fields,
 * as the schema (MT_EVENTS in formats/log.h) names them.  The symbol table
 * sits at the end of a log, so the log is read once to take it in and a
 * second time to print.  --pid keeps the events of one process (numbered
 * as in the whole log).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "filter.h"
#include "input.h"
#include "resolve.h"
#include "table.h"

/* Flag bits and their names: the kernel's bits as the log stores them. */
struct flag_name {
	uint32_t bit;
	const char *name;
};

static const struct flag_name prot_names[] = {
	{MT_PROT_READ, "PROT_READ"},
	{MT_PROT_WRITE, "PROT_WRITE"},
	{MT_PROT_EXEC, "PROT_EXEC"},
	{MT_PROT_SEM, "PROT_SEM"},
	{MT_PROT_GROWSDOWN, "PROT_GROWSDOWN"},
	{MT_PROT_GROWSUP, "PROT_GROWSUP"},
};

static const struct flag_name map_names[] = {
	{MT_MAP_FIXED, "MAP_FIXED"},
	{MT_MAP_ANONYMOUS, "MAP_ANONYMOUS"},
	{MT_MAP_GROWSDOWN, "MAP_GROWSDOWN"},
	{MT_MAP_DENYWRITE, "MAP_DENYWRITE"},
	{MT_MAP_EXECUTABLE, "MAP_EXECUTABLE"},
	{MT_MAP_LOCKED, "MAP_LOCKED"},
	{MT_MAP_NORESERVE, "MAP_NORESERVE"},
	{MT_MAP_POPULATE, "MAP_POPULATE"},
	{MT_MAP_NONBLOCK, "MAP_NONBLOCK"},
	{MT_MAP_STACK, "MAP_STACK"},
	{MT_MAP_HUGETLB, "MAP_HUGETLB"},
	{MT_MAP_SYNC, "MAP_SYNC"},
	{MT_MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
};

static const struct flag_name mremap_names[] = {
	{MT_MREMAP_MAYMOVE, "MREMAP_MAYMOVE"},
	{MT_MREMAP_FIXED, "MREMAP_FIXED"},
	{MT_MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP"},
};

static const char *const map_types[] = {
	[MT_MAP_SHARED] = "MAP_SHARED",
	[MT_MAP_PRIVATE] = "MAP_PRIVATE",
	[MT_MAP_SHARED_VALIDATE] = "MAP_SHARED_VALIDATE",
};

/* The names of the bits set in v ("A|B|0x40"), `sep` before the first;
 * returns how many were printed. */
static int print_flags(FILE *out, uint32_t v, const struct flag_name *names, size_t n,
		       const char *sep)
{
	int printed = 0;

	for (size_t i = 0; i < n; i++)
		if (v & names[i].bit) {
			fprintf(out, "%s%s", printed++ ? "|" : sep, names[i].name);
			v &= ~names[i].bit;
		}
	if (v)
		fprintf(out, "%s%#x", printed++ ? "|" : sep, v);
	return printed;
}

static void print_addr(FILE *out, uint64_t addr)
{
	if (addr)
		fprintf(out, "0x%" PRIx64, addr);
	else
		fputs("NULL", out);
}

/* " = -1 ENOMEM" for a failed syscall, from its raw result. */
static void print_error(FILE *out, int64_t result)
{
	const char *name = mt_syscall_failed(result) ? strerrorname_np((int)-result) : NULL;

	if (name)
		fprintf(out, " = -1 %s", name);
	else
		fprintf(out, " = %" PRId64, result < 0 ? result : -1);
}

static void print_wait_status(FILE *out, int64_t ws)
{
	if (ws < 0)
		return;
	if (WIFEXITED((int)ws)) {
		fprintf(out, " exited %d", WEXITSTATUS((int)ws));
	} else if (WIFSIGNALED((int)ws)) {
		const char *sig = sigabbrev_np(WTERMSIG((int)ws));

		if (sig)
			fprintf(out, " killed by SIG%s", sig);
		else
			fprintf(out, " killed by signal %d", WTERMSIG((int)ws));
		if (WCOREDUMP((int)ws))
			fputs(" (core dumped)", out);
	} else {
		fprintf(out, " status %#" PRIx64, (uint64_t)ws);
	}
}

static const char *fn_or(uint32_t fn, const char *fallback)
{
	const char *name = mt_fn_name(fn);

	return name ? name : fallback;
}

static void print_heap(FILE *out, const struct mt_event *ev)
{
	if (ev->type == MT_EV_FREE) {
		fprintf(out, "%s(", fn_or(ev->fn, "free"));
		print_addr(out, ev->addr);
		fputc(')', out);
		return;
	}
	if (ev->type == MT_EV_REALLOC) {
		fprintf(out, "%s(", fn_or(ev->fn, "realloc"));
		print_addr(out, ev->old_addr);
		if (ev->fn == MT_FN_REALLOCARRAY)
			fprintf(out, ", %" PRIu64 ", %" PRIu64 ")", ev->arg,
				ev->arg ? ev->size / ev->arg : 0);
		else
			fprintf(out, ", %" PRIu64 ")", ev->size);
	} else {
		const char *name = fn_or(ev->fn, "alloc");

		switch (ev->fn) {
		case MT_FN_CALLOC:
			/* size is the whole block, nmemb * size; the tracer stores
			 * UINT64_MAX when that product overflowed */
			if (ev->size == UINT64_MAX)
				fprintf(out, "%s(%" PRIu64 ", <too large>)", name, ev->arg);
			else
				fprintf(out, "%s(%" PRIu64 ", %" PRIu64 ")", name, ev->arg,
					ev->arg ? ev->size / ev->arg : 0);
			break;
		case MT_FN_POSIX_MEMALIGN:
		case MT_FN_ALIGNED_ALLOC:
		case MT_FN_MEMALIGN:
			fprintf(out, "%s(%" PRIu64 ", %" PRIu64 ")", name, ev->arg, ev->size);
			break;
		default:
			fprintf(out, "%s(%" PRIu64 ")", name, ev->size);
			break;
		}
	}
	fputs(" = ", out);
	print_addr(out, ev->addr);
}

static int syscall_failed(const struct mt_event *ev, uint64_t result)
{
	return (ev->flags & MT_EVF_FAILED) || mt_syscall_failed((int64_t)result);
}

static void print_map(FILE *out, const struct log_reader *r, const struct mt_event *ev)
{
	switch (ev->type) {
	case MT_EV_MMAP: {
		uint32_t type = ev->mflags & MT_MAP_TYPE;
		const char *path = log_reader_string(r, ev->path);

		fputs("mmap(", out);
		print_addr(out, ev->mflags & MT_MAP_FIXED ? ev->addr : 0);
		fprintf(out, ", %" PRIu64 ", ", ev->size);
		if (!print_flags(out, ev->prot, prot_names,
				 sizeof(prot_names) / sizeof(prot_names[0]), ""))
			fputs("PROT_NONE", out);
		fputs(", ", out);
		if (type < sizeof(map_types) / sizeof(map_types[0]) && map_types[type])
			fputs(map_types[type], out);
		else
			fprintf(out, "%#x", type);
		print_flags(out, ev->mflags & ~MT_MAP_TYPE, map_names,
			    sizeof(map_names) / sizeof(map_names[0]), "|");
		fprintf(out, ", %" PRId64 ", ", ev->fd);
		if (ev->offset)
			fprintf(out, "%#" PRIx64 ")", ev->offset);
		else
			fputs("0)", out);
		if (syscall_failed(ev, ev->addr))
			print_error(out, ev->result ? ev->result : (int64_t)ev->addr);
		else
			fprintf(out, " = 0x%" PRIx64, ev->addr);
		if (path)
			fprintf(out, " \"%s\"", path);
		break;
	}
	case MT_EV_MUNMAP:
		fputs("munmap(", out);
		print_addr(out, ev->addr);
		fprintf(out, ", %" PRIu64 ")", ev->size);
		if (ev->result || (ev->flags & MT_EVF_FAILED))
			print_error(out, ev->result);
		else
			fputs(" = 0", out);
		break;
	case MT_EV_MREMAP:
		fputs("mremap(", out);
		print_addr(out, ev->old_addr);
		fprintf(out, ", %" PRIu64 ", %" PRIu64 ", ", ev->old_size, ev->size);
		if (!print_flags(out, ev->mflags, mremap_names,
				 sizeof(mremap_names) / sizeof(mremap_names[0]), ""))
			fputc('0', out);
		fputc(')', out);
		if (syscall_failed(ev, ev->addr))
			print_error(out, ev->result ? ev->result : (int64_t)ev->addr);
		else
			fprintf(out, " = 0x%" PRIx64, ev->addr);
		break;
	case MT_EV_BRK:
		fputs("brk(", out);
		print_addr(out, ev->arg);
		fputs(") = ", out);
		print_addr(out, ev->addr);
		break;
	}
}

/*
 * An event kind with no printer of its own: its fields as log.h's
 * MT_EVENTS lists them, " member=value", by coding.  The stack is left to
 * print_site().
 */
static void print_U64(FILE *out, const struct log_reader *r, const char *member, uint64_t v)
{
	fprintf(out, " %s=%" PRIu64, member, v);
}

static void print_U32(FILE *out, const struct log_reader *r, const char *member, uint32_t v)
{
	fprintf(out, " %s=%" PRIu32, member, v);
}

static void print_I64(FILE *out, const struct log_reader *r, const char *member, int64_t v)
{
	fprintf(out, " %s=%" PRId64, member, v);
}

static void print_FN(FILE *out, const struct log_reader *r, const char *member, uint32_t v)
{
	fprintf(out, " %s=%s", member, fn_or(v, "?"));
}

static void print_FREED(FILE *out, const struct log_reader *r, const char *member, uint64_t v)
{
	fprintf(out, " %s=0x%" PRIx64, member, v);
}

static void print_STRING(FILE *out, const struct log_reader *r, const char *member, uint32_t v)
{
	const char *s = log_reader_string(r, v);

	if (s)
		fprintf(out, " %s=\"%s\"", member, s);
	else
		fprintf(out, " %s=0", member);
}

static void print_STACK(FILE *out, const struct log_reader *r, const char *member, uint64_t v)
{
}

#define print_CAUSE  print_U32
#define print_OLD    print_FREED
#define print_ARG    print_U64
#define print_FREEFN print_FN
#define print_BORN   print_FREED

static void print_fields(FILE *out, const struct log_reader *r, const struct mt_event *ev)
{
	switch (ev->type) {
#define PRINT(member, coding) print_##coding(out, r, #member, ev->member);
#define CASE(kind, tag, name, fields)                                                              \
	case MT_EV_##kind:                                                                         \
		fields break;
		MT_EVENTS(CASE, PRINT)
#undef CASE
#undef PRINT
	}
}

/* The events that are not calls: their name, then what they say. */
static void print_other(FILE *out, const struct log_reader *r, const struct mt_event *ev)
{
	const char *name = mt_event_name(ev->type);

	if (!name) {
		fprintf(out, "event type %" PRIu32, ev->type);
		return;
	}
	fputs(name, out);
	switch (ev->type) {
	case MT_EV_THREAD_EXIT:
	case MT_EV_PROC_EXIT:
		print_wait_status(out, ev->status);
		break;
	case MT_EV_PROC_START:
		switch (ev->mflags) {
		case MT_PROC_EXEC:
			fputs(" exec", out);
			break;
		case MT_PROC_FORK:
			fprintf(out, " fork of %" PRIu64, ev->arg);
			break;
		case MT_PROC_ATTACH:
			fputs(" attach", out);
			break;
		}
		fprintf(out, " space %" PRIu32, ev->space);
		break;
	case MT_EV_MARK: {
		const char *where = log_reader_string(r, ev->path);

		fprintf(out, " %" PRIu64, ev->arg);
		if (where)
			fprintf(out, " \"%s\"", where);
		break;
	}
	case MT_EV_RSS:
		fprintf(out, " %" PRIu64, ev->size);
		break;
	default: /* THREAD_START, and kinds added to the table since */
		print_fields(out, r, ev);
		break;
	}
}

static const struct flag_name event_flags[] = {
	{MT_EVF_IN_ALLOC, "[in-alloc]"},
	{MT_EVF_PREEXIST, "[preexisting]"},
	{MT_EVF_TRUNCATED, "[stack-truncated]"},
};

/* "  samples/arrays.c:21 main", or the display form of a frame without a
 * file; nothing for an event without a stack. */
static int print_site(FILE *out, struct resolver *res, struct table *sites, uint64_t stack)
{
	static const struct an_filter none;
	const struct an_frame **site;
	const struct an_frame *f;
	int created;

	if (!stack)
		return 0;
	site = table_put(sites, stack, 0, &created);
	if (!site)
		return -ENOMEM;
	if (created) {
		size_t n;
		const struct an_frame *const *frames = resolver_stack(res, stack, &n);

		if (!frames) {
			table_del(sites, stack, 0);
			return -ENOMEM;
		}
		*site = frames[filter_site(&none, frames, n)];
	}
	f = *site;
	if (f->file) {
		fprintf(out, "  %s:%" PRIu32, f->display, f->line);
		if (f->function)
			fprintf(out, " %s", f->function);
	} else {
		fprintf(out, "  %s", f->display);
	}
	return 0;
}

static int print_event(FILE *out, const struct log_reader *r, struct resolver *res,
		       struct table *sites, const struct mt_event *ev, uint64_t index)
{
	fprintf(out, "#%" PRIu64 " +%" PRIu64 ".%06" PRIu64 " %" PRIu32 "/%" PRIu32 " ", index,
		ev->time_ns / UINT64_C(1000000000), ev->time_ns % UINT64_C(1000000000) / 1000,
		ev->pid, ev->tid);
	switch (ev->type) {
	case MT_EV_ALLOC:
	case MT_EV_FREE:
	case MT_EV_REALLOC:
		print_heap(out, ev);
		break;
	case MT_EV_MMAP:
	case MT_EV_MUNMAP:
	case MT_EV_MREMAP:
	case MT_EV_BRK:
		print_map(out, r, ev);
		break;
	default:
		print_other(out, r, ev);
		break;
	}
	for (size_t i = 0; i < sizeof(event_flags) / sizeof(event_flags[0]); i++)
		if (ev->flags & event_flags[i].bit)
			fprintf(out, " %s", event_flags[i].name);
	if (print_site(out, res, sites, ev->stack) < 0)
		return -ENOMEM;
	fputc('\n', out);
	return 0;
}

/* A time unit as --time-resolution takes it: 10ms, 1ns. */
static void print_duration(FILE *out, uint64_t ns)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {{"s", 1000000000}, {"ms", 1000000}, {"us", 1000}, {"ns", 1}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns % units[i].ns == 0) {
			fprintf(out, "%" PRIu64 "%s", ns / units[i].ns, units[i].name);
			return;
		}
}

static void print_header(FILE *out, const struct log_reader *r)
{
	static const struct flag_name capture[] = {
		{MT_LOG_SYSCALLS_SECCOMP, "seccomp"},
		{MT_LOG_SYSCALLS_PTRACE, "ptrace-syscall"},
		{MT_LOG_SYSCALLS_WRAPPERS, "libc-wrappers"},
	};
	const struct mt_log_header *h = log_reader_header(r);
	const char *mode = h->mode == MT_MODE_RUN      ? "run"
			   : h->mode == MT_MODE_ATTACH ? "attach"
						       : "?";

	fprintf(out, "memtrack log version %" PRIu32 ", mode %s", h->version, mode);
	for (size_t i = 0; i < sizeof(capture) / sizeof(capture[0]); i++)
		if (h->flags & capture[i].bit)
			fprintf(out, ", syscalls by %s", capture[i].name);
	fprintf(out, ", depth %" PRIu32 ", time step ", h->depth);
	print_duration(out, h->tick_ns);
	fprintf(out, ", pid %" PRIu32 ", command:", h->pid);
	for (uint32_t i = 0; i < h->argc; i++)
		fprintf(out, " %s", h->argv[i]);
	fputc('\n', out);
}

int an_replay(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct log_reader *r = NULL;
	struct resolver *res = NULL;
	struct table sites;
	struct mt_event ev;
	int ret, warned = 0, seen = 0;

	table_init(&sites, sizeof(const struct an_frame *));
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		goto out;
	/* first pass: modules and symbols */
	while ((ret = input_next(r, o->log, &ev, st)) > 0)
		seen |= !o->pid || ev.pid == o->pid;
	if (ret < 0)
		goto out;
	if (o->pid && !seen) {
		status_add(st, "%s: no process %" PRIu32 " in the log", o->log, o->pid);
		ret = -ENOENT;
		goto out;
	}
	warned = input_check_truncated(r, o->log, st);
	ret = log_reader_rewind(r);
	if (ret < 0) {
		status_add(st, "%s: cannot read the log again: %s", o->log, strerror(-ret));
		goto out;
	}
	ret = resolver_open(&res, r);
	if (ret < 0)
		goto nomem;
	print_header(out, r);
	while ((ret = input_next(r, o->log, &ev, st)) > 0) {
		if (o->pid && ev.pid != o->pid)
			continue;
		if (print_event(out, r, res, &sites, &ev, log_reader_event_index(r)) < 0)
			goto nomem;
	}
	if (ret < 0)
		goto out;
	fputs("END\n", out);
	if (ferror(out)) {
		status_add(st, "writing the report failed");
		ret = -EIO;
		goto out;
	}
	ret = warned | resolver_note_unnamed(res, o->log, st);
	goto out;
nomem:
	status_add(st, "out of memory");
	ret = -ENOMEM;
out:
	table_free(&sites);
	resolver_close(res);
	if (r)
		log_reader_close(r);
	return ret;
}
