/*
 * unwind.c - stack capture: a cached-rule DWARF CFI walker over a local copy
 * of the tracee's stack, with libdwfl's unwinder as the fallback.
 *
 * The rule cache: for every distinct pc met while walking, libdw's CFI for
 * that pc (eh_frame first, then debug_frame, the order libdwfl uses) is
 * reduced to "CFA = reg + off; return address at CFA + n; rbx, rbp, r12-r15
 * same / undefined / saved at CFA + n / equal to CFA + n".  Nearly all
 * compiled code is described completely by that; so is a signal frame,
 * whose CFI puts every register in the saved context at sp + n.  A pc whose
 * CFI says more (other expressions) or has none at all is marked, and any
 * walk that meets it is redone by libdwfl (which also knows frame-pointer
 * heuristics).  With MEMTRACK_UNWIND_CHECK=1 every fast walk is redone by
 * libdwfl and compared, which is how the tests keep the two honest.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/hash.h"
#include "../symbolizer/debuginfo.h"
#include "memory.h"
#include "recorder/shared.h"
#include "unwind.h"

#define NTRACKED 6
static const int tracked_regno[NTRACKED] = {3, 6, 12, 13, 14, 15}; /* rbx rbp r12-r15 */

#define DWARF_RSP 7
#define DWARF_RIP 16

#define STACK_MAX (64u << 20)	/* never copy more than this much stack */

enum rule_status {
	RULE_OK = 1,
	RULE_END,		/* return address undefined: outermost frame */
	RULE_FALLBACK,		/* let libdwfl walk this stack */
	RULE_NOMOD,		/* pc in no known module */
	RULE_SIGNAL,		/* a signal frame (glibc's __restore_rt): CFA is the
				   word at sp + cfa_off, the return address (the
				   interrupted pc, exact) and the registers are
				   saved at sp + n */
};

enum reg_kind {
	REG_SAME = 0,
	REG_UNDEF,
	REG_AT,			/* saved at CFA + off */
	REG_VAL,		/* value is CFA + off */
};

struct rule {
	uint64_t pc;		/* lookup pc; 0 = empty slot */
	uint8_t status;
	uint8_t cfa_reg;	/* DWARF register number */
	uint8_t kind[NTRACKED];
	int32_t cfa_off;
	int32_t ra_off;
	int32_t off[NTRACKED];
};

static inline uint64_t hash_pc(uint64_t pc)
{
	return (pc * 0x9e3779b97f4a7c15ull) >> 29;
}

#define pc_eq(a, b) ((a) == (b))

HASH_DEFINE(rule_table, uint64_t, struct rule, hash_pc, pc_eq)

struct umod {
	uint64_t start, end, bias;
	char *path;
	Dwfl_Module *mod;
	Dwarf_CFI *eh, *dw;
	Dwarf_Addr eh_bias, dw_bias;
	int dw_tried;
};

struct unwinder {
	pid_t pid;
	Dwfl *dwfl;
	int attached;
	int check;
	struct umod *mods;	/* sorted by start */
	size_t nmods, capmods, last;
	struct rule_table rules;	/* pc -> its rule */
	/* the walk in progress */
	pid_t tid;
	const struct user_regs_struct *regs;
	const struct unw_patch *patches;
	size_t npatches;
	uint64_t *walk, *other;	/* frames of a walk (one more than asked) and of
				   its check, UNW_MAX_FRAMES + 1 each */
	uint8_t *stack;		/* copy of [stack_lo, stack_lo + stack_len) */
	size_t stack_cap, stack_len;
	uint64_t stack_lo;
	int stack_end;		/* the copy reached unreadable memory */
	uint64_t mismatches;	/* MEMTRACK_UNWIND_CHECK */
	char first_mismatch[256];
};

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = sym_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

int unw_open(struct unwinder **out, pid_t pid)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	const char *check = getenv("MEMTRACK_UNWIND_CHECK");

	if (!u)
		return -ENOMEM;
	u->pid = pid;
	u->check = check && *check == '1';
	u->dwfl = dwfl_begin(&offline_callbacks);
	u->walk = malloc((UNW_MAX_FRAMES + 1) * sizeof(*u->walk));
	u->other = malloc((UNW_MAX_FRAMES + 1) * sizeof(*u->other));
	if (!u->dwfl || !u->walk || !u->other) {
		if (u->dwfl)
			dwfl_end(u->dwfl);
		free(u->walk);
		free(u->other);
		free(u);
		return -ENOMEM;
	}
	*out = u;
	return 0;
}

void unw_close(struct unwinder *u)
{
	if (!u)
		return;
	dwfl_end(u->dwfl);
	for (size_t i = 0; i < u->nmods; i++)
		free(u->mods[i].path);
	free(u->mods);
	rule_table_free(&u->rules);
	free(u->stack);
	free(u->walk);
	free(u->other);
	free(u);
}

int unw_peek(const struct unwinder *u, uint64_t addr, uint64_t *out)
{
	if (addr < u->stack_lo || addr + 8 > u->stack_lo + u->stack_len)
		return -ENOENT;
	memcpy(out, u->stack + (addr - u->stack_lo), 8);
	return 0;
}

uint64_t unw_check_mismatches(const struct unwinder *u, char *buf, size_t size)
{
	if (buf && !buf[0] && u->mismatches)
		snprintf(buf, size, "%s", u->first_mismatch);
	return u->mismatches;
}

static void forget_rules(struct unwinder *u)
{
	rule_table_clear(&u->rules);
}

/*
 * After a module went away: a new Dwfl with the modules that remain.
 * libdwfl cannot take a module back, and reporting the survivors again
 * into the old one fails ("address range overlaps an existing module").
 */
static void rebuild(struct unwinder *u)
{
	Dwfl *fresh = dwfl_begin(&offline_callbacks);

	if (!fresh)
		return;
	dwfl_end(u->dwfl);
	u->dwfl = fresh;
	u->attached = 0;
	dwfl_report_begin(u->dwfl);
	for (size_t i = 0; i < u->nmods; i++) {
		struct umod *m = &u->mods[i];

		m->mod = dwfl_report_elf(u->dwfl, m->path, m->path, -1, m->bias, true);
		m->eh = m->dw = NULL;
		m->dw_tried = 0;
		if (m->mod)
			m->eh = dwfl_module_eh_cfi(m->mod, &m->eh_bias);
	}
	dwfl_report_end(u->dwfl, NULL, NULL);
}

int unw_add_module(struct unwinder *u, const char *path, uint64_t start, uint64_t end,
		   uint64_t bias)
{
	struct umod m = {.start = start, .end = end, .bias = bias};
	size_t pos;

	for (size_t i = 0; i < u->nmods; i++)
		if (u->mods[i].start == start)
			return 0;	/* already known */
	m.path = strdup(path);
	if (!m.path)
		return -ENOMEM;
	dwfl_report_begin_add(u->dwfl);
	/* add_p_vaddr: base is the load bias, whatever the first p_vaddr */
	m.mod = dwfl_report_elf(u->dwfl, path, path, -1, bias, true);
	dwfl_report_end(u->dwfl, NULL, NULL);
	if (m.mod)
		m.eh = dwfl_module_eh_cfi(m.mod, &m.eh_bias);

	if (u->nmods == u->capmods) {
		size_t nc = u->capmods ? u->capmods * 2 : 16;
		struct umod *nv = realloc(u->mods, nc * sizeof(*nv));

		if (!nv) {
			free(m.path);
			return -ENOMEM;
		}
		u->mods = nv;
		u->capmods = nc;
	}
	for (pos = 0; pos < u->nmods && u->mods[pos].start < start; pos++)
		;
	memmove(&u->mods[pos + 1], &u->mods[pos], (u->nmods - pos) * sizeof(*u->mods));
	u->mods[pos] = m;
	u->nmods++;
	u->last = 0;
	/* pcs that were in no module may be now */
	forget_rules(u);
	return 0;
}

void unw_remove_module(struct unwinder *u, uint64_t start)
{
	for (size_t i = 0; i < u->nmods; i++) {
		if (u->mods[i].start != start)
			continue;
		free(u->mods[i].path);
		memmove(&u->mods[i], &u->mods[i + 1], (u->nmods - i - 1) * sizeof(*u->mods));
		u->nmods--;
		u->last = 0;
		forget_rules(u);
		rebuild(u);
		return;
	}
}

static struct umod *find_mod(struct unwinder *u, uint64_t pc)
{
	size_t lo = 0, hi = u->nmods;

	if (u->last < u->nmods && pc >= u->mods[u->last].start && pc < u->mods[u->last].end)
		return &u->mods[u->last];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pc < u->mods[mid].start)
			hi = mid;
		else if (pc >= u->mods[mid].end)
			lo = mid + 1;
		else {
			u->last = mid;
			return &u->mods[mid];
		}
	}
	return NULL;
}

/* --- memory of the walk ----------------------------------------------------- */

static void apply_patches(struct unwinder *u, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < u->npatches; i++) {
		uint64_t a = u->patches[i].addr, word;

		if (a < lo || a + 8 > hi)
			continue;
		memcpy(&word, u->stack + (a - u->stack_lo), 8);
		if (word == u->patches[i].expect)
			memcpy(u->stack + (a - u->stack_lo), &u->patches[i].value, 8);
	}
}

/* Extends the copy so that it covers [stack_lo, want). */
static int grow_copy(struct unwinder *u, uint64_t want)
{
	uint64_t from = u->stack_lo + u->stack_len;
	size_t need = (size_t)(want - u->stack_lo);
	ssize_t n;

	if (u->stack_end || need > STACK_MAX)
		return -EFAULT;
	/* read to a page boundary, plus a page, at least doubling */
	need = (need + 4095 + 4096) & ~(size_t)4095;
	if (need < u->stack_len * 2)
		need = u->stack_len * 2;
	if (need > STACK_MAX)
		need = STACK_MAX;
	if (need > u->stack_cap) {
		uint8_t *ns = realloc(u->stack, need);

		if (!ns)
			return -ENOMEM;
		u->stack = ns;
		u->stack_cap = need;
	}
	n = tmem_read(u->tid, from, u->stack + u->stack_len, need - u->stack_len);
	if (n <= 0) {
		u->stack_end = 1;
		return -EFAULT;
	}
	if ((size_t)n < need - u->stack_len)
		u->stack_end = 1;
	u->stack_len += (size_t)n;
	apply_patches(u, from, u->stack_lo + u->stack_len);
	return u->stack_lo + u->stack_len >= want ? 0 : -EFAULT;
}

static int read_word(struct unwinder *u, uint64_t addr, uint64_t *out)
{
	if (addr >= u->stack_lo && addr - u->stack_lo <= STACK_MAX) {
		if (addr + 8 > u->stack_lo + u->stack_len && grow_copy(u, addr + 8) < 0)
			goto direct;
		memcpy(out, u->stack + (addr - u->stack_lo), 8);
		return 0;
	}
direct:
	if (tmem_read_all(u->tid, addr, out, 8) < 0)
		return -EFAULT;
	for (size_t i = 0; i < u->npatches; i++)
		if (u->patches[i].addr == addr && *out == u->patches[i].expect)
			*out = u->patches[i].value;
	return 0;
}

/* --- the rule cache ------------------------------------------------------------ */

static int parse_reg_rule(Dwarf_Op *ops, size_t nops, Dwarf_Op *mem, uint8_t *kind,
			  int32_t *off)
{
	if (nops == 0) {
		*kind = ops == NULL ? REG_SAME : REG_UNDEF;
		*off = 0;
		return 0;
	}
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	int64_t n = 0;
	size_t i = 1;

	if (i < nops && ops[i].atom == DW_OP_plus_uconst) {
		n = (int64_t)ops[i].number;
		i++;
	}
	if (n < INT32_MIN || n > INT32_MAX)
		return -1;
	*off = (int32_t)n;
	if (i == nops) {
		*kind = REG_AT;
		return 0;
	}
	if (i + 1 == nops && ops[i].atom == DW_OP_stack_value) {
		*kind = REG_VAL;
		return 0;
	}
	(void)mem;
	return -1;
}

static int cfa_rule(Dwarf_Frame *f, struct rule *r)
{
	Dwarf_Op *ops;
	size_t nops;
	int64_t off;
	unsigned reg;

	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops != 1)
		return -1;
	if (ops[0].atom == DW_OP_bregx) {
		reg = (unsigned)ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else {
		return -1;
	}
	if (off < INT32_MIN || off > INT32_MAX)
		return -1;
	if (reg != DWARF_RSP) {
		int ok = 0;

		for (int i = 0; i < NTRACKED; i++)
			ok |= tracked_regno[i] == (int)reg;
		if (!ok)
			return -1;
	}
	r->cfa_reg = (uint8_t)reg;
	r->cfa_off = (int32_t)off;
	return 0;
}

/* [DW_OP_call_frame_cfa,] DW_OP_breg7 n: the address sp + n. */
static int sp_address(const Dwarf_Op *ops, size_t nops, int32_t *off)
{
	size_t i = nops == 2 && ops[0].atom == DW_OP_call_frame_cfa;

	if (nops != i + 1 || ops[i].atom != DW_OP_breg0 + DWARF_RSP)
		return -1;
	if ((int64_t)ops[i].number < INT32_MIN || (int64_t)ops[i].number > INT32_MAX)
		return -1;
	*off = (int32_t)(int64_t)ops[i].number;
	return 0;
}

/* A signal frame's CFI as glibc writes it: CFA = *(sp + n), each register
 * saved at sp + n.  0, or -1 for anything else (libdwfl walks it). */
static int signal_rule(Dwarf_Frame *f, struct rule *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops != 2 ||
	    ops[0].atom != DW_OP_breg0 + DWARF_RSP || ops[1].atom != DW_OP_deref ||
	    (int64_t)ops[0].number < INT32_MIN || (int64_t)ops[0].number > INT32_MAX)
		return -1;
	r->cfa_reg = DWARF_RSP;
	r->cfa_off = (int32_t)(int64_t)ops[0].number;
	if (dwarf_frame_register(f, DWARF_RIP, mem, &ops, &nops) != 0 ||
	    sp_address(ops, nops, &r->ra_off) < 0)
		return -1;
	for (int i = 0; i < NTRACKED; i++) {
		if (dwarf_frame_register(f, tracked_regno[i], mem, &ops, &nops) != 0)
			return -1;
		if (nops == 0) {
			r->kind[i] = ops == NULL ? REG_SAME : REG_UNDEF;
			continue;
		}
		if (sp_address(ops, nops, &r->off[i]) < 0)
			return -1;
		r->kind[i] = REG_AT;
	}
	r->status = RULE_SIGNAL;
	return 0;
}

static void build_rule(struct unwinder *u, uint64_t pc, struct rule *r)
{
	struct umod *m = find_mod(u, pc);
	Dwarf_Frame *f = NULL;
	Dwarf_Op mem[3], *ops;
	size_t nops;
	bool signal;
	uint8_t ra_kind;
	int32_t ra_off;

	r->pc = pc;
	r->status = RULE_FALLBACK;
	if (!m) {
		r->status = RULE_NOMOD;
		return;
	}
	if (!m->eh || dwarf_cfi_addrframe(m->eh, pc - m->eh_bias, &f) != 0) {
		f = NULL;
		if (!m->dw_tried && m->mod) {
			m->dw = dwfl_module_dwarf_cfi(m->mod, &m->dw_bias);
			m->dw_tried = 1;
		}
		if (!m->dw || dwarf_cfi_addrframe(m->dw, pc - m->dw_bias, &f) != 0)
			return;
	}
	if (dwarf_frame_info(f, NULL, NULL, &signal) != DWARF_RIP)
		goto out;
	if (signal) {
		signal_rule(f, r);
		goto out;
	}
	if (cfa_rule(f, r) < 0)
		goto out;
	if (dwarf_frame_register(f, DWARF_RIP, mem, &ops, &nops) != 0 ||
	    parse_reg_rule(ops, nops, mem, &ra_kind, &ra_off) < 0)
		goto out;
	if (ra_kind == REG_UNDEF) {
		r->status = RULE_END;
		goto out;
	}
	if (ra_kind != REG_AT)
		goto out;
	r->ra_off = ra_off;
	for (int i = 0; i < NTRACKED; i++) {
		if (dwarf_frame_register(f, tracked_regno[i], mem, &ops, &nops) != 0 ||
		    parse_reg_rule(ops, nops, mem, &r->kind[i], &r->off[i]) < 0)
			goto out;
	}
	r->status = RULE_OK;
out:
	free(f);
}

static const struct rule *lookup_rule(struct unwinder *u, uint64_t pc)
{
	int created;
	struct rule *r = rule_table_put(&u->rules, pc, &created);

	if (r && created)
		build_rule(u, pc, r);
	return r;
}

_Static_assert(NTRACKED == MTR_NREGS, "the recorder tracks the same registers");

static int fits16(int32_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

void unw_rule_export(struct unwinder *u, uint64_t pc, struct mtr_rule *out)
{
	const struct rule *r = lookup_rule(u, pc);
	struct mtr_rule m = {.pc = pc, .status = MTR_RULE_TRACER};

	*out = m;
	if (!r || (r->status != RULE_OK && r->status != RULE_END && r->status != RULE_SIGNAL))
		return;
	if (r->status == RULE_END) {
		out->status = MTR_RULE_END;
		return;
	}
	if (r->cfa_reg == DWARF_RSP) {
		m.cfa_reg = MTR_CFA_RSP;
	} else {
		int idx = -1;

		for (int i = 0; i < NTRACKED; i++)
			if (tracked_regno[i] == r->cfa_reg)
				idx = i;
		if (idx < 0)
			return;
		m.cfa_reg = (uint8_t)idx;
	}
	/* the same order, rbx rbp r12-r15; offsets in 16 bits (a frame's
	 * saved registers lie close to its CFA; what does not fit stays
	 * the tracer's) */
	if (!fits16(r->ra_off))
		return;
	for (int i = 0; i < NTRACKED; i++) {
		switch (r->kind[i]) {
		case REG_SAME:
			continue;
		case REG_UNDEF:
			m.undef |= (uint8_t)(1u << i);
			continue;
		case REG_AT:
			m.at |= (uint8_t)(1u << i);
			break;
		case REG_VAL:
			m.val |= (uint8_t)(1u << i);
			break;
		}
		if (!fits16(r->off[i]))
			return;
		m.off[i] = (int16_t)r->off[i];
	}
	m.cfa_off = r->cfa_off;
	m.ra_off = (int16_t)r->ra_off;
	m.status = r->status == RULE_SIGNAL ? MTR_RULE_SIGNAL : MTR_RULE_OK;
	*out = m;
}

/* --- the walks ------------------------------------------------------------------- */

/* Returns the number of frames (up to max), or -1 when libdwfl must walk. */
static long walk_fast(struct unwinder *u, uint64_t *pcs, size_t max)
{
	const struct user_regs_struct *regs = u->regs;
	uint64_t val[NTRACKED];
	unsigned valid = (1u << NTRACKED) - 1;
	uint64_t sp = regs->rsp, lookup = regs->rip;
	size_t n = 0;

	val[0] = regs->rbx;
	val[1] = regs->rbp;
	val[2] = regs->r12;
	val[3] = regs->r13;
	val[4] = regs->r14;
	val[5] = regs->r15;

	while (n < max) {
		const struct rule *r;
		uint64_t cfa, ra, base;
		uint64_t nval[NTRACKED];
		unsigned nvalid = 0;

		pcs[n++] = lookup;
		r = lookup_rule(u, lookup);
		if (!r)
			return -1;
		/* Outside every module libdwfl may still follow frame
		 * pointers: let it, so both walkers agree. */
		if (r->status == RULE_FALLBACK || r->status == RULE_NOMOD)
			return -1;
		if (r->status == RULE_END)
			break;
		if (r->status == RULE_SIGNAL) {
			/* the interrupted frame: its pc is exact, not a return */
			if (read_word(u, sp + (int64_t)r->cfa_off, &cfa) < 0 ||
			    read_word(u, sp + (int64_t)r->ra_off, &ra) < 0)
				break;
			for (int i = 0; i < NTRACKED; i++) {
				if (r->kind[i] != REG_AT) {
					nval[i] = val[i];
					nvalid |= r->kind[i] == REG_SAME ? valid & (1u << i) : 0;
				} else if (read_word(u, sp + (int64_t)r->off[i], &nval[i]) == 0) {
					nvalid |= 1u << i;
				}
			}
			memcpy(val, nval, sizeof(val));
			valid = nvalid;
			if (!ra)
				break;
			sp = cfa;
			lookup = ra;
			continue;
		}
		if (r->cfa_reg == DWARF_RSP) {
			base = sp;
		} else {
			int idx = -1;

			for (int i = 0; i < NTRACKED; i++)
				if (tracked_regno[i] == r->cfa_reg)
					idx = i;
			if (idx < 0 || !(valid & (1u << idx)))
				return -1;
			base = val[idx];
		}
		cfa = base + (int64_t)r->cfa_off;
		if (read_word(u, cfa + (int64_t)r->ra_off, &ra) < 0)
			break;
		for (int i = 0; i < NTRACKED; i++) {
			switch (r->kind[i]) {
			case REG_SAME:
				nval[i] = val[i];
				nvalid |= valid & (1u << i);
				break;
			case REG_UNDEF:
				break;
			case REG_AT:
				if (read_word(u, cfa + (int64_t)r->off[i], &nval[i]) == 0)
					nvalid |= 1u << i;
				break;
			case REG_VAL:
				nval[i] = cfa + (int64_t)r->off[i];
				nvalid |= 1u << i;
				break;
			}
		}
		memcpy(val, nval, sizeof(val));
		valid = nvalid;
		if (!ra)
			break;
		sp = cfa;
		lookup = ra - 1;
	}
	return (long)n;
}

struct dwfl_walk {
	uint64_t *pcs;
	size_t n, max;
};

static int dwfl_frame_cb(Dwfl_Frame *state, void *arg)
{
	struct dwfl_walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (!activation)
		pc--;
	w->pcs[w->n++] = pc;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	return 0;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = arg;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	uint64_t v;

	if (read_word(arg, addr, &v) < 0)
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwinder *u = arg;
	const struct user_regs_struct *r = u->regs;
	Dwarf_Word v[17] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
			    r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
			    r->rip};

	return dwfl_thread_state_registers(thread, 0, 17, v);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

static size_t walk_dwfl(struct unwinder *u, uint64_t *pcs, size_t max)
{
	struct dwfl_walk w = {pcs, 0, max};

	if (!u->attached) {
		if (!dwfl_attach_state(u->dwfl, NULL, u->pid, &thread_callbacks, u))
			goto frame0;
		u->attached = 1;
	}
	dwfl_getthread_frames(u->dwfl, u->tid, dwfl_frame_cb, &w);
frame0:
	if (!w.n && max) {
		pcs[0] = u->regs->rip;
		w.n = 1;
	}
	return w.n;
}

static void check_walk(struct unwinder *u, const uint64_t *pcs, size_t n, size_t max)
{
	uint64_t *other = u->other;
	size_t m = walk_dwfl(u, other, max);

	if (m == n && !memcmp(pcs, other, n * sizeof(*pcs)))
		return;
	if (!u->mismatches++) {
		int len = snprintf(u->first_mismatch, sizeof(u->first_mismatch),
				   "fast walk %zu frames, libdwfl %zu:", n, m);

		for (size_t i = 0; i < (n > m ? n : m) && len < (int)sizeof(u->first_mismatch); i++)
			len += snprintf(u->first_mismatch + len, sizeof(u->first_mismatch) - (size_t)len,
					" %#llx/%#llx", i < n ? (unsigned long long)pcs[i] : 0ull,
					i < m ? (unsigned long long)other[i] : 0ull);
	}
}

size_t unw_capture(struct unwinder *u, pid_t tid, const struct user_regs_struct *regs,
		   const struct unw_patch *patches, size_t npatches, uint64_t *pcs, size_t max,
		   int *truncated)
{
	uint64_t *buf = u->walk;
	long n;

	*truncated = 0;
	if (max > UNW_MAX_FRAMES)
		max = UNW_MAX_FRAMES;
	/* the copy of an earlier walk says nothing about this stack: unw_peek
	 * must not find it */
	u->stack_len = 0;
	if (!max)
		return 0;
	u->tid = tid;
	u->regs = regs;
	u->patches = patches;
	u->npatches = npatches;
	u->stack_lo = regs->rsp;
	u->stack_end = 0;

	/* one frame more than wanted tells whether the stack was cut */
	n = walk_fast(u, buf, max + 1);
	if (n < 0) {
		n = (long)walk_dwfl(u, buf, max + 1);
	} else {
		if (u->check)
			check_walk(u, buf, (size_t)n, max + 1);
	}
	if ((size_t)n > max) {
		*truncated = 1;
		n = (long)max;
	}
	memcpy(pcs, buf, (size_t)n * sizeof(*pcs));
	u->regs = NULL;
	u->patches = NULL;
	return (size_t)n;
}
