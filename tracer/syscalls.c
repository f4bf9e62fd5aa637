/*
 * syscalls.c - the recorded syscalls (a table: adding one is adding a row)
 * and the seccomp-bpf filter that stops the tracee for exactly those, so
 * that every other syscall costs the traced program nothing.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls.h"

static void fill_mmap(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_MMAP;
	ev->addr = mt_syscall_failed(ret) ? 0 : (uint64_t)ret;
	ev->size = a[1];
	ev->prot = (uint32_t)a[2];
	ev->mflags = (uint32_t)a[3];
	ev->fd = (int32_t)a[4];
	ev->offset = a[5];
	ev->result = ret;
	if (mt_syscall_failed(ret))
		ev->flags |= MT_EVF_FAILED;
}

static void fill_munmap(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_MUNMAP;
	ev->addr = a[0];
	ev->size = a[1];
	ev->result = ret;
	if (mt_syscall_failed(ret))
		ev->flags |= MT_EVF_FAILED;
}

static void fill_mremap(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_MREMAP;
	ev->old_addr = a[0];
	ev->old_size = a[1];
	ev->size = a[2];
	ev->mflags = (uint32_t)a[3];
	ev->addr = mt_syscall_failed(ret) ? 0 : (uint64_t)ret;
	ev->result = ret;
	if (mt_syscall_failed(ret))
		ev->flags |= MT_EVF_FAILED;
}

static void fill_brk(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_BRK;
	ev->arg = a[0];
	ev->addr = (uint64_t)ret;
	ev->result = ret;
	/* brk never returns an error: it returns the old break on failure */
	if (a[0] && (uint64_t)ret != a[0])
		ev->flags |= MT_EVF_FAILED;
}

static const struct sc_desc sc_table[] = {
	{SYS_mmap, "mmap", "mmap64", fill_mmap},
	{SYS_munmap, "munmap", "munmap", fill_munmap},
	{SYS_mremap, "mremap", "mremap", fill_mremap},
	{SYS_brk, "brk", "brk", fill_brk},
};

#define NSC (sizeof(sc_table) / sizeof(sc_table[0]))

const struct sc_desc *sc_table_rows(size_t *n)
{
	*n = NSC;
	return sc_table;
}

const struct sc_desc *sc_find(long nr)
{
	for (size_t i = 0; i < NSC; i++)
		if (sc_table[i].nr == nr)
			return &sc_table[i];
	return NULL;
}

int sc_install_filter(int pinned)
{
	struct sock_filter f[4 + 2 * (NSC + 2) + 1];	/* + sched_get/setaffinity */
	struct sock_fprog prog = {.filter = f};
	size_t n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < NSC; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)sc_table[i].nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						      SECCOMP_RET_TRACE | (uint32_t)sc_table[i].nr);
	}
	for (int i = 0; pinned && i < 2; i++) {
		uint32_t nr = i ? SYS_sched_setaffinity : SYS_sched_getaffinity;

		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | nr);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	/* Without CAP_SYS_ADMIN a filter needs no_new_privs. */
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -errno;
}
