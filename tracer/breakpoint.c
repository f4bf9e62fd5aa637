/*
 * breakpoint.c - loading capstone and decoding displaced instructions with
 * it, building out-of-line slots, resuming hits without single-stepping,
 * and the per-process breakpoint table.
 *
 * Why out of line rather than emulation for ordinary instructions: the hit
 * has to rewrite rip anyway (one PTRACE_SETREGS), and pointing it at a copy
 * costs nothing more, while the CPU then computes flags, memory effects and
 * stack pushes itself — `test %rdi,%rdi` (free), `cmpb $0,x(%rip)`
 * (posix_memalign) and `push %r12` (malloc) all come out exact with no
 * extra write to the tracee.  Branches cannot run elsewhere without
 * changing meaning, so those are emulated.
 */
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakpoint.h"
#include "memory.h"

#ifndef CAPSTONE_SONAME
#error "CAPSTONE_SONAME: the Makefile passes capstone's soname (libcapstone.so.4)"
#endif

/*
 * capstone is loaded when a tracer is made, not linked: its relocations
 * alone cost every memtrack process about 3 MB of memory, the reports
 * included, and only the breakpoint code decodes anything.  Its header
 * still gives the types, so each pointer has the exact type of the
 * function it stands for.
 */
static struct {
	__typeof__(cs_open) *open;
	__typeof__(cs_option) *option;
	__typeof__(cs_disasm) *disasm;
	__typeof__(cs_disasm_iter) *disasm_iter;
	__typeof__(cs_malloc) *malloc;
	__typeof__(cs_free) *free;
} cs;

static csh cs_handle;
static int cs_ready;

int bp_load(char *error, size_t size)
{
	const struct {
		const char *name;
		void **fn;
	} fns[] = {
		{"cs_open", (void **)&cs.open},	    {"cs_option", (void **)&cs.option},
		{"cs_disasm", (void **)&cs.disasm}, {"cs_disasm_iter", (void **)&cs.disasm_iter},
		{"cs_malloc", (void **)&cs.malloc}, {"cs_free", (void **)&cs.free},
	};
	const char *why;
	void *lib;

	if (cs_ready)
		return 0;
	if (!(lib = dlopen(CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(error, size, "cannot load %s: %s", CAPSTONE_SONAME, dlerror());
		return -ELIBACC;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		dlerror();
		if (!(*fns[i].fn = dlsym(lib, fns[i].name))) {
			why = dlerror();
			snprintf(error, size, "cannot load %s: %s", CAPSTONE_SONAME,
				 why ? why : fns[i].name);
			goto out;
		}
	}
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &cs_handle) != CS_ERR_OK) {
		snprintf(error, size, "cannot load %s: it has no x86-64 decoder", CAPSTONE_SONAME);
		goto out;
	}
	cs.option(cs_handle, CS_OPT_DETAIL, CS_OPT_ON);
	/* loaded for the life of the process: the decoder is used until the end */
	cs_ready = 1;
	return 0;
out:
	dlclose(lib);
	return -ELIBACC;
}

static int cs_get(csh *h)
{
	char error[256];

	if (!cs_ready && bp_load(error, sizeof(error)) < 0)
		return -ENOTSUP;
	*h = cs_handle;
	return 0;
}

static int fits_i32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* The condition code of a jcc, from its opcode (after branch-hint prefixes). */
static int jcc_code(const uint8_t *b, size_t len)
{
	size_t i = 0;

	while (i < len && (b[i] == 0x2e || b[i] == 0x3e || b[i] == 0xf2))
		i++;
	if (i < len && b[i] >= 0x70 && b[i] <= 0x7f)
		return b[i] & 0xf;
	if (i + 1 < len && b[i] == 0x0f && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f)
		return b[i + 1] & 0xf;
	return -1;
}

static int cond_true(unsigned cc, unsigned long long flags)
{
	int cf = flags & 0x1, pf = !!(flags & 0x4), zf = !!(flags & 0x40);
	int sf = !!(flags & 0x80), of = !!(flags & 0x800);
	int r;

	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

static int has_group(const cs_insn *in, uint8_t group)
{
	for (uint8_t i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == group)
			return 1;
	return 0;
}

/* The rip-relative memory operand, if any. */
static const cs_x86_op *rip_operand(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			return &x->operands[i];
	return NULL;
}

static int prepare_branch(struct bp *bp, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *op = x->op_count == 1 ? &x->operands[0] : NULL;
	uint64_t next = bp->addr + bp->len;

	if (!op)
		return -ENOTSUP;
	if (in->id == X86_INS_JMP && op->type == X86_OP_IMM) {
		bp->exec = BP_EXEC_JMP;
		bp->target = (uint64_t)op->imm;
		return 0;
	}
	if (in->id == X86_INS_JMP && op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
	    op->mem.index == X86_REG_INVALID) {
		bp->exec = BP_EXEC_JMP_MEM;
		bp->target = next + (uint64_t)op->mem.disp;
		return 0;
	}
	if (in->id == X86_INS_CALL && op->type == X86_OP_IMM) {
		bp->exec = BP_EXEC_CALL;
		bp->target = (uint64_t)op->imm;
		return 0;
	}
	if (op->type == X86_OP_IMM && has_group(in, X86_GRP_JUMP)) {
		int cc = jcc_code(bp->orig, bp->len);

		if (cc < 0)
			return -ENOTSUP;	/* loop, jrcxz: not seen at entry points */
		bp->exec = BP_EXEC_JCC;
		bp->cond = (uint8_t)cc;
		bp->target = (uint64_t)op->imm;
		return 0;
	}
	return -ENOTSUP;
}

static int prepare_xol(struct bp *bp, const cs_insn *in, uint64_t slot_addr,
		       uint8_t slot[BP_SLOT_SIZE], int *slot_used)
{
	const cs_x86_op *rip = rip_operand(in);
	uint64_t next = bp->addr + bp->len;
	size_t n = bp->len;
	int64_t rel;

	memcpy(slot, bp->orig, bp->len);
	if (rip) {
		const cs_x86_encoding *enc = &in->detail->x86.encoding;
		int64_t disp = in->detail->x86.disp;
		int32_t nd;

		/* The operand is next + disp; from the slot it must be the same. */
		if (!enc->disp_offset || enc->disp_size != 4)
			return -ENOTSUP;
		rel = (int64_t)(next - (slot_addr + bp->len)) + disp;
		if (!fits_i32(rel))
			return -ENOTSUP;
		nd = (int32_t)rel;
		memcpy(slot + enc->disp_offset, &nd, 4);
	}
	rel = (int64_t)(next - (slot_addr + n + 5));
	if (fits_i32(rel)) {
		int32_t r = (int32_t)rel;

		slot[n++] = 0xe9;	/* jmp rel32 */
		memcpy(slot + n, &r, 4);
		n += 4;
	} else {
		static const uint8_t jmp_abs[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */

		memcpy(slot + n, jmp_abs, sizeof(jmp_abs));
		n += sizeof(jmp_abs);
		memcpy(slot + n, &next, 8);
		n += 8;
	}
	while (n < BP_SLOT_SIZE)
		slot[n++] = 0xcc;	/* never executed: trap if ever reached */
	bp->exec = BP_EXEC_XOL;
	bp->target = slot_addr;
	*slot_used = 1;
	return 0;
}

int bp_prepare(struct bp *bp, const uint8_t *code, size_t ncode, uint64_t slot_addr,
	       uint8_t slot[BP_SLOT_SIZE], int *slot_used)
{
	cs_insn *in = NULL;
	csh h;
	int err;

	*slot_used = 0;
	if ((err = cs_get(&h)) < 0)
		return err;
	if (ncode > sizeof(bp->orig))
		ncode = sizeof(bp->orig);
	memcpy(bp->orig, code, ncode);
	if (cs.disasm(h, code, ncode, bp->addr, 1, &in) != 1)
		return -ENOTSUP;
	bp->len = (uint8_t)in->size;
	bp->one_byte = in->size == 1;

	if (in->id == X86_INS_NOP || in->id == X86_INS_ENDBR64) {
		bp->exec = BP_EXEC_SKIP;
		err = 0;
	} else if (has_group(in, X86_GRP_JUMP) || has_group(in, X86_GRP_CALL) ||
		   has_group(in, X86_GRP_BRANCH_RELATIVE)) {
		err = prepare_branch(bp, in);
	} else if (in->id == X86_INS_RET && in->detail->x86.op_count == 0) {
		bp->exec = BP_EXEC_RET;	/* the loader's _dl_debug_state is just this */
		err = 0;
	} else if (has_group(in, X86_GRP_RET) || has_group(in, X86_GRP_INT) ||
		   has_group(in, X86_GRP_IRET)) {
		err = -ENOTSUP;
	} else if (!slot_addr) {
		err = -ENOTSUP;
	} else {
		err = prepare_xol(bp, in, slot_addr, slot, slot_used);
	}
	cs.free(in, 1);
	return err;
}

void bp_describe(const struct bp *bp, char *buf, size_t size)
{
	cs_insn *in = NULL;
	csh h;

	if (cs_get(&h) < 0 || cs.disasm(h, bp->orig, sizeof(bp->orig), bp->addr, 1, &in) != 1) {
		snprintf(buf, size, "(undecodable)");
		return;
	}
	snprintf(buf, size, "%s %s", in->mnemonic, in->op_str);
	cs.free(in, 1);
}

/* --- relocation for jumps ------------------------------------------------------ */

/* Appends a jump (or, with cc >= 0, a conditional jump) from out_addr + *n
 * to target: rel32 when in reach, else through an absolute address. */
static int emit_jump(uint8_t *out, size_t cap, size_t *n, uint64_t out_addr, int cc,
		     uint64_t target)
{
	int64_t rel = (int64_t)(target - (out_addr + *n + (cc >= 0 ? 6 : 5)));

	if (fits_i32(rel)) {
		int32_t r = (int32_t)rel;

		if (*n + 6 > cap)
			return -ENOSPC;
		if (cc >= 0) {
			out[(*n)++] = 0x0f;
			out[(*n)++] = (uint8_t)(0x80 | cc);
		} else {
			out[(*n)++] = 0xe9;
		}
		memcpy(out + *n, &r, 4);
		*n += 4;
		return 0;
	}
	if (*n + 2 + 14 > cap)
		return -ENOSPC;
	if (cc >= 0) {
		/* the inverse condition jumps over the absolute jump */
		out[(*n)++] = (uint8_t)(0x70 | (cc ^ 1));
		out[(*n)++] = 14;
	}
	static const uint8_t jmp_abs[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */

	memcpy(out + *n, jmp_abs, 6);
	memcpy(out + *n + 6, &target, 8);
	*n += 14;
	return 0;
}

/* Pushes ret as a call would, leaving every register as it was:
 * push %rax; movabs $ret, %rax; xchg %rax, (%rsp). */
static int emit_push_ret(uint8_t *out, size_t cap, size_t *n, uint64_t ret)
{
	if (*n + 1 + 10 + 4 > cap)
		return -ENOSPC;
	out[(*n)++] = 0x50;
	out[(*n)++] = 0x48;
	out[(*n)++] = 0xb8;
	memcpy(out + *n, &ret, 8);
	*n += 8;
	out[(*n)++] = 0x48;
	out[(*n)++] = 0x87;
	out[(*n)++] = 0x04;
	out[(*n)++] = 0x24;
	return 0;
}

/* A copy of in at out_addr + *n, its rip-relative operand re-aimed. */
static int emit_copy(const cs_insn *in, uint64_t addr, uint8_t *out, size_t cap, size_t *n,
		     uint64_t out_addr)
{
	const cs_x86_op *rip = rip_operand(in);

	if (*n + in->size > cap)
		return -ENOSPC;
	memcpy(out + *n, in->bytes, in->size);
	if (rip) {
		const cs_x86_encoding *enc = &in->detail->x86.encoding;
		int64_t target = (int64_t)(addr + in->size) + in->detail->x86.disp;
		int64_t rel = target - (int64_t)(out_addr + *n + in->size);
		int32_t nd;

		if (!enc->disp_offset || enc->disp_size != 4 || !fits_i32(rel))
			return -ENOTSUP;
		nd = (int32_t)rel;
		memcpy(out + *n + enc->disp_offset, &nd, 4);
	}
	*n += in->size;
	return 0;
}

/* call *disp(%rip) as jmp *disp(%rip) (the return address is pushed
 * already): ModRM's reg field /2 becomes /4. */
static int emit_call_as_jump(const cs_insn *in, uint64_t addr, uint8_t *out, size_t cap,
			     size_t *n, uint64_t out_addr)
{
	size_t at = *n;
	int err = emit_copy(in, addr, out, cap, n, out_addr);

	if (err == 0)
		out[at + 1] = (uint8_t)((out[at + 1] & ~0x38) | 0x20);
	return err;
}

int bp_relocate(const uint8_t *code, size_t ncode, uint64_t addr, size_t need,
		uint64_t out_addr, uint8_t *out, size_t cap, size_t *displaced,
		struct bp_insn_map map[BP_MAX_DISPLACED], size_t *nmap)
{
	size_t off = 0, n = 0;
	csh h;
	int err;

	*nmap = 0;
	if ((err = cs_get(&h)) < 0)
		return err;
	while (off < need) {
		cs_insn *in = NULL;
		uint64_t a = addr + off;
		const cs_x86 *x;
		int last;

		if (*nmap == BP_MAX_DISPLACED || off >= ncode ||
		    cs.disasm(h, code + off, ncode - off, a, 1, &in) != 1)
			return -ENOTSUP;
		x = &in->detail->x86;
		last = off + in->size >= need;
		map[*nmap].from = (uint8_t)off;
		map[*nmap].to = (uint8_t)n;
		(*nmap)++;
		if (has_group(in, X86_GRP_RET) || has_group(in, X86_GRP_INT) ||
		    has_group(in, X86_GRP_IRET) || in->id == X86_INS_LOOP ||
		    in->id == X86_INS_LOOPE || in->id == X86_INS_LOOPNE ||
		    in->id == X86_INS_JRCXZ || in->id == X86_INS_JECXZ || in->id == X86_INS_XBEGIN) {
			err = -ENOTSUP;
		} else if (in->id == X86_INS_CALL) {
			/* returns to the original code, right after: only when
			 * nothing displaced follows it */
			if (!last)
				err = -ENOTSUP;
			else if ((err = emit_push_ret(out, cap, &n, a + in->size)) == 0) {
				if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
					err = emit_jump(out, cap, &n, out_addr, -1,
							(uint64_t)x->operands[0].imm);
				else if (rip_operand(in) && in->size >= 2 && in->bytes[0] == 0xff)
					err = emit_call_as_jump(in, a, out, cap, &n, out_addr);
				else
					err = -ENOTSUP;
			}
		} else if (in->id == X86_INS_JMP && x->op_count == 1 &&
			   x->operands[0].type == X86_OP_IMM) {
			err = emit_jump(out, cap, &n, out_addr, -1, (uint64_t)x->operands[0].imm);
		} else if (has_group(in, X86_GRP_JUMP) && x->op_count == 1 &&
			   x->operands[0].type == X86_OP_IMM) {
			int cc = jcc_code(in->bytes, in->size);

			err = cc < 0 ? -ENOTSUP
				     : emit_jump(out, cap, &n, out_addr, cc,
						 (uint64_t)x->operands[0].imm);
		} else {
			err = emit_copy(in, a, out, cap, &n, out_addr);
		}
		off += in->size;
		cs.free(in, 1);
		if (err < 0)
			return err == -ENOSPC ? -ENOTSUP : err;
	}
	*displaced = off;
	return (int)n;
}

int bp_branch_into(const uint8_t *code, size_t ncode, uint64_t addr, uint64_t lo, uint64_t hi)
{
	const uint8_t *p = code;
	size_t left = ncode;
	uint64_t a = addr;
	cs_insn *in;
	csh h;
	int hit = 0;

	if (cs_get(&h) < 0)
		return 1;
	in = cs.malloc(h);
	if (!in)
		return 1;
	while (left && !hit) {
		if (!cs.disasm_iter(h, &p, &left, &a, in)) {
			/* not code (data, padding): step over a byte */
			p++;
			left--;
			a++;
			continue;
		}
		const cs_x86 *x = &in->detail->x86;

		if ((has_group(in, X86_GRP_JUMP) || has_group(in, X86_GRP_CALL)) &&
		    x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			uint64_t t = (uint64_t)x->operands[0].imm;

			hit = t > lo && t < hi;
		}
	}
	cs.free(in, 1);
	return hit;
}

int bp_resume(const struct bp *bp, pid_t tid, int memfd, struct user_regs_struct *regs)
{
	uint64_t next = bp->addr + bp->len;

	switch (bp->exec) {
	case BP_EXEC_XOL:
		regs->rip = bp->target;
		return 0;
	case BP_EXEC_SKIP:
		regs->rip = next;
		return 0;
	case BP_EXEC_JMP:
		regs->rip = bp->target;
		return 0;
	case BP_EXEC_JMP_MEM: {
		uint64_t dest;
		int err = tmem_read_all(tid, bp->target, &dest, sizeof(dest));

		if (err < 0)
			return err;
		regs->rip = dest;
		return 0;
	}
	case BP_EXEC_JCC:
		regs->rip = cond_true(bp->cond, regs->eflags) ? bp->target : next;
		return 0;
	case BP_EXEC_RET: {
		uint64_t dest;
		int err = tmem_read_all(tid, regs->rsp, &dest, sizeof(dest));

		if (err < 0)
			return err;
		regs->rsp += 8;
		regs->rip = dest;
		return 0;
	}
	case BP_EXEC_CALL: {
		int err = tmem_write(memfd, regs->rsp - 8, &next, sizeof(next));

		if (err < 0)
			return err;
		regs->rsp -= 8;
		regs->rip = bp->target;
		return 0;
	}
	}
	return -EINVAL;
}

int bp_insert(const struct bp *bp, int memfd)
{
	static const uint8_t int3 = 0xcc;

	return tmem_write(memfd, bp->addr, &int3, 1);
}

int bp_remove(const struct bp *bp, int memfd)
{
	return tmem_write(memfd, bp->addr, bp->orig, 1);
}

/* --- the table ------------------------------------------------------------ */

const struct bp *bpt_find_slot(const struct bp_table *t, uint64_t rip, int *ran)
{
	struct bp *bp;

	for (size_t i = 0; bp_table_next(t, &i, NULL, &bp);) {
		if (bp->exec != BP_EXEC_XOL)
			continue;
		if (rip == bp->target || rip == bp->target + bp->len) {
			*ran = rip != bp->target;
			return bp;
		}
	}
	return NULL;
}

struct bp *bpt_add(struct bp_table *t, uint64_t addr)
{
	struct bp *b = bp_table_put(t, addr, NULL);

	if (b)
		b->addr = addr;
	return b;
}
