/* SPDX-License-Identifier: GPL-3.0-or-later */
/* batch.h: several lines of one script call with their Proxmox tasks
   running at once (see batch.c). */
#ifndef R42_BATCH_H
#define R42_BATCH_H

#include "job.h"

#include <stddef.h>

/* One line of a batch: the caller's line work fills it (batch_slot_begin()
   for its action call), the batch polls its task and hands it back. */
struct batch_slot {
  struct job job;            /* the action call (when has_call) */
  struct act_wait wait;      /* its task, while act_rc is 1 */
  struct act_outcome out;    /* its outcome */
  int act_rc;                /* act_begin()/act_poll(): 1 running, 0, -1 */
  bool has_call;             /* the line made its action call here */
  bool failed;               /* the line failed before its action call */
  char *note;                /* a devkit line of the line's own (a trace),
                                printed first when it is handed back */
  void (*say)(const char *); /* how NOTE is printed (dk_trace, dk_pass) */
};

/* What the batch needs of its caller; CTX is passed back. */
struct batch_ops {
  void *ctx;
  /* The guest line I acts on (its vm_id text), or NULL when not known:
     the line then waits for every line before it. The caller frees. */
  char *(*guest)(void *ctx, size_t i);
  /* Does line I's work up to its action's request, into SLOT (zeroed).
     Returns 0, or -1 (E set) when the line is not reproducible: the
     batch then finishes the lines before it and stops there. */
  int (*start)(void *ctx, size_t i, struct batch_slot *slot,
               struct msg_err *e);
  /* Line I is done, and every line before it was handed back: its trace
     lines and stdout.  The caller clears SLOT's job and result. */
  void (*emit)(void *ctx, size_t i, struct batch_slot *slot);
};

struct batch;

/* The number of tasks to keep in flight for a batch of LINES lines:
   1 when STRICT or LINES < 2; else RANGE42_PROXMOX_API_PARALLEL when
   set (a bad value: a trace line, then as unset), else the cluster's
   max_workers (one GET /cluster/options on PVE; 4 when it is not set or
   cannot be read). */
size_t batch_width(struct pve *pve, size_t lines, bool strict);

/* Runs lines 0..N-1 through OPS over PVE, up to WIDTH tasks in flight:
   started in input order, never two lines of one guest at once, handed
   back in input order as soon as each and all before it are done.  With
   STOP, after a failed line no other starts (WIDTH should be 1).
   Returns N when every line was handed back, or the index of the first
   line not reproducible (E set; the lines before it handed back); sets
   *STOPPED when STOP ended the batch early. */
size_t batch_run(struct pve *pve, size_t n, size_t width, bool stop,
                 const struct batch_ops *ops, bool *stopped,
                 struct msg_err *e);

/* The running batch, while batch_run() runs (else NULL). */
struct batch *batch_current(void);

/* Finishes and hands back every line started before the one being
   started (for a line that ends the whole call). */
void batch_drain(struct batch *b);

/* Sends SLOT's action request (JOB already built into SLOT->job). */
void batch_slot_begin(struct pve *pve, struct batch_slot *slot);

/* True when SLOT's line failed where ansible fails. */
bool batch_slot_failed(const struct batch_slot *slot);

#endif
