/*
 * fast.h - the fast engine's side in the tracer (fast.c): the recorder and
 * its shared area mapped into a process, jumps at the hooked sites, the
 * ring drained into the log.  Processes the ptrace engine traces have no
 * fast state (tproc.fast is NULL) and every function here does nothing
 * for them.
 */
#ifndef MEMTRACK_TRACER_FAST_H
#define MEMTRACK_TRACER_FAST_H

#include <stddef.h>
#include <stdint.h>

struct tracer;
struct tproc;
struct tthread;

/* Maps the recorder and a shared area into p, through t (stopped, able to
 * run an injected syscall); near: an address the scratch page for the
 * memfd's name may lie near.  0 or a negative errno (tr->error says why). */
int fast_start(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t near);

/* Hooks the instruction at addr (kind: enum mtr_site_kind, fn its number)
 * with a jump.  fn_start/fn_size: the function it lies in, whose branches
 * must not land in the bytes the jump covers (fn_size 0: unknown).
 * -ENOTSUP when no jump can go there: the caller places an int3. */
int fast_hook(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t addr,
	      uint64_t fn_start, uint64_t fn_size, uint32_t kind, uint32_t fn);

/* Tells the recorder p's allocator entry functions and modules (for the
 * nesting rule), after arming. */
void fast_share_ranges(struct tproc *p);

/* A static binary before its first initializer records nothing. */
void fast_set_quiet(struct tproc *p, int quiet);

/* A thread at its first stop: its thread pointer is its own from now on. */
void fast_thread_started(struct tracer *tr, struct tthread *t);
/* ... and when it is gone. */
void fast_thread_gone(struct tracer *tr, struct tthread *t);

/* Rules of pcs in [start, end) are forgotten (the code was unmapped). */
void fast_forget_rules(struct tproc *p, uint64_t start, uint64_t end);

/* Whether pc (or the return address pc + 1) lies in p's recorder. */
int fast_in_recorder(const struct tproc *p, uint64_t pc);

/* Logs every record p's ring holds (a CLONE_VM child: its owner's); the
 * number of records.  Called before any stop of p is handled. */
int fast_drain(struct tracer *tr, struct tproc *p);
int fast_drain_all(struct tracer *tr);

/* The drainer: a thread of the tracer that drains every fast process's
 * ring, taking the tracer's lock (fast_lock) while it does.  The ptrace
 * thread holds the lock but while it waits for a stop. */
int fast_drainer_start(struct tracer *tr);
void fast_drainer_stop(struct tracer *tr);
void fast_lock(struct tracer *tr);
void fast_unlock(struct tracer *tr);

/* A fork child at its first stop: recorded, it gets an area of its own
 * (its copy of the code writes to where the parent's would); not
 * recorded, its code gets its bytes back. */
int fast_fork_child(struct tracer *tr, struct tproc *parent, struct tproc *child,
		    struct tthread *ct);

/* A CLONE_VM child starts (+1) or stops (-1) running in its owner's
 * memory: the recorder there asks the kernel who calls, meanwhile. */
void fast_vmshare(struct tproc *child, int delta);

/* The number of the mark or allocator behind site `site`. */
uint32_t fast_site_fn(const struct tproc *p, uint32_t site);

/* Drains and forgets p's fast state (exec, exit). */
void fast_free(struct tracer *tr, struct tproc *p);

/* attach, detaching: the jumps go (threads held) and the recorder records
 * nothing more; then, once no thread is inside (fast_inside), the
 * recorder and its area are unmapped through t. */
int fast_unhook(struct tproc *p);
int fast_inside(const struct tproc *p, const uint64_t *pcs, size_t n);
int fast_detach(struct tracer *tr, struct tproc *p, struct tthread *t);

/* At the delivery stop of sig: a thread between reserving a record and
 * making it whole must not be sent into a handler now (one that leaves by
 * longjmp would lose the record; one that records waits behind it).  Its
 * signals are blocked and the signal handed to the recorder, which queues
 * it again, siginfo and all, and puts the mask back once the record is
 * whole.  1 when it was handed over (the thread goes on without it). */
int fast_hold_signal(struct tracer *tr, struct tthread *t, int sig);

/* attach, arming: a held thread in the middle of a site's displaced bytes
 * moves to the same instruction in their copy. */
void fast_move_out_of_sites(struct tproc *p, struct tthread *t);
/* Where pc, in the middle of a site's displaced bytes, is in their copy;
 * pc itself when it is not (a pc a signal frame saved). */
uint64_t fast_out_of_sites(const struct tproc *p, uint64_t pc);

#endif
