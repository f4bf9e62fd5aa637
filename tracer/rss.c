/*
 * rss.c - the resident set size of every recorded process, sampled every
 * 10 ms (a timer the event loop's wait is interrupted by) and at each mark,
 * read from /proc/PID/statm.  A timer's sample is logged when the RSS has
 * changed since the last one logged: the value holds until the next, and a
 * program that has settled fills its log with nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

#include "trace.h"

#define RSS_INTERVAL_US 10000

static volatile sig_atomic_t rss_due;
static struct sigaction old_alrm;

static void on_alarm(int sig)
{
	rss_due = 1;
}

void rss_start(struct tracer *tr)
{
	struct sigaction alarm = {.sa_handler = on_alarm};
	struct itimerval every = {{0, RSS_INTERVAL_US}, {0, RSS_INTERVAL_US}};

	(void)tr;
	sigaction(SIGALRM, &alarm, &old_alrm);
	setitimer(ITIMER_REAL, &every, NULL);
}

void rss_stop(struct tracer *tr)
{
	struct itimerval none = {{0, 0}, {0, 0}};

	(void)tr;
	setitimer(ITIMER_REAL, &none, NULL);
	sigaction(SIGALRM, &old_alrm, NULL);
}

static void sample(struct tracer *tr, struct tproc *p, int changed_only)
{
	char path[64];
	unsigned long long size, resident;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
		struct mt_event ev = {.type = MT_EV_RSS, .pid = (uint32_t)p->pid,
				      .tid = (uint32_t)p->pid,
				      .size = resident * (unsigned long long)tr->page_size};

		if (!changed_only || ev.size != p->last_rss)
			trace_event(tr, &ev);
		p->last_rss = ev.size;
	}
	fclose(f);
}

void rss_sample(struct tracer *tr, struct tproc *p)
{
	sample(tr, p, 0);
}

int rss_poll(struct tracer *tr)
{
	if (!rss_due)
		return 0;
	rss_due = 0;
	for (struct tproc *p = tr->procs; p; p = p->next)
		if (p->followed && p->exec_seen)
			sample(tr, p, 1);
	return 1;
}
