/*
 * massif.h - valgrind massif's own account of a run (`valgrind
 * --tool=massif --time-unit=B`), replayed from a log: its clock, its heap
 * sizes and which snapshots it keeps.  The massif exporter writes these.
 */
#ifndef MEMTRACK_ANALYZER_MASSIF_H
#define MEMTRACK_ANALYZER_MASSIF_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"

/* One snapshot massif keeps, in time order. */
struct massif_snapshot {
	uint64_t event; /* taken at this event (log index)... */
	int before;	/* ...before it is replayed (a peak, taken before a
			   free), else after; the first one: at the start */
	int at_start;
	int peak;
	int detailed;
	uint64_t time;	 /* bytes allocated and freed so far, extra included */
	uint64_t heap;	 /* requested bytes live */
	uint64_t extra;	 /* valgrind's slop and admin bytes of them */
	uint64_t serial; /* the how-manieth snapshot taken (1: the first) */
};

/*
 * The model: fed every event of the log in order, each as the replay
 * (replay.h) applies it, with massif_before() just before replay_event()
 * and massif_after() just after; it keeps the snapshots massif would hold
 * by then.  Each returns what the event did (MASSIF_*: a snapshot taken,
 * a detailed one, the held ones culled), or < 0 (-ENOMEM).  massif_before()
 * does nothing unless the memory is a peak: only an event after one for
 * which massif_after() said MASSIF_NEAR_PEAK (or the first) needs it.
 */
#define MASSIF_MAX_SNAPSHOTS 100 /* --max-snapshots */
#define MASSIF_TOOK	     1	 /* a snapshot was taken: the last held */
#define MASSIF_DETAILED	     2	 /* ...a detailed one */
#define MASSIF_CULLED	     4	 /* half of those held went */
#define MASSIF_NEAR_PEAK     8	 /* (massif_after) a free next is at a peak */

struct massif_model;
struct replay;
struct mt_event;

int massif_model_new(struct massif_model **out);
void massif_model_free(struct massif_model *m);
int massif_before(struct massif_model *m, struct replay *rp, const struct mt_event *ev,
		  uint64_t index);
int massif_after(struct massif_model *m, const struct replay *rp, const struct mt_event *ev,
		 uint64_t index);

struct ahead;

/* The pass: every event of ah, massif_before() (when it may act),
 * replay_event() and massif_after() in turn, and took(arg, flags) after
 * either when snapshots were culled or a detailed one taken (its tree is
 * the replay's now).  The time of the last event in *end_ns.  0 at the
 * end of the log; < 0 when the log is corrupt or the reader failed (what
 * ahead_next() said), or ran out of memory here (*nomem set). */
int massif_pass(struct massif_model *m, struct replay *rp, struct ahead *ah,
		int (*took)(void *arg, int took), void *arg, uint64_t *end_ns, int *nomem);

/* The detailed snapshots the last cull deleted: their serials, in the
 * order taken, in *serials; how many. */
size_t massif_culled(const struct massif_model *m, const uint64_t **serials);

/* The serial of the snapshot taken last. */
uint64_t massif_last(const struct massif_model *m);

/* The snapshots held now, in time order, into out[MASSIF_MAX_SNAPSHOTS]:
 * how many. */
size_t massif_held(const struct massif_model *m, struct massif_snapshot *out);

#endif
