/* SPDX-License-Identifier: GPL-3.0-or-later */
/* batch.c: the lines of one script call (a devkit script given several
 * VMs, a *_all_vms script) with up to N Proxmox tasks in flight, as
 * Proxmox runs its own bulk actions with max_workers workers.  Lines are
 * started in input order (their requests go in that order), a line whose
 * guest has a task in flight waits (and the lines after it with it), and
 * lines are handed back, traces and stdout, in input order as soon as
 * each and all before it are done.  One thread, one keep-alive
 * connection: HTTP/1.1 carries one request at a time, and a second
 * connection would cost a TLS handshake; the tasks, not the requests,
 * are what takes time, and they run at once on the Proxmox side.  Between
 * requests the batch sleeps until the earliest task poll is due (the
 * schedule is action.c's).  What a line is and prints is the caller's
 * (run_script.c). */
#define _GNU_SOURCE
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_DEFAULT_WIDTH 4 /* Proxmox's max_workers default */
#define BATCH_MAX_WIDTH 64
#define BATCH_WINDOW_PER_TASK 4 /* lines started, not handed back */
#define BATCH_OPTIONS_TIMEOUT 2.0

struct batch {
  struct pve *pve;
  const struct batch_ops *ops;
  size_t n, width, window;
  struct batch_slot *ring; /* line i in ring[i % window] */
  char **guests;           /* its guest, in guests[i % window] */
  size_t next;             /* the next line to start */
  size_t emitted;          /* lines handed back */
  size_t in_flight, max_in_flight;
  bool stop, stopped;
};

static struct batch *current;

struct batch *batch_current(void) {
  return current;
}

/* ---- how many at once ------------------------------------------------- */

/* The cluster's max_workers (GET /cluster/options), or 0. */
static size_t cluster_max_workers(struct pve *pve) {
  struct pve_reply reply;
  struct msg_err e = {{0}};
  if (pve_request(pve, "GET", "/cluster/options", PVE_BODY_FORM, NULL,
                  BATCH_OPTIONS_TIMEOUT, &reply, &e) < 0)
    return 0;
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(reply.json, "data");
  const cJSON *mw = cJSON_GetObjectItemCaseSensitive(data, "max_workers");
  double v = -1;
  if (cJSON_IsNumber(mw))
    v = mw->valuedouble;
  else if (cJSON_IsString(mw) &&
           strspn(mw->valuestring, "0123456789") == strlen(mw->valuestring))
    v = atof(mw->valuestring);
  size_t width = reply.status == 200 && v >= 1 && v == (double)(long)v
                     ? (size_t)(v < BATCH_MAX_WIDTH ? v : BATCH_MAX_WIDTH)
                     : 0;
  pve_reply_clear(&reply);
  return width;
}

size_t batch_width(struct pve *pve, size_t lines, bool strict) {
  if (strict || lines < 2)
    return 1;
  const char *v = getenv("RANGE42_PROXMOX_API_PARALLEL");
  if (v && *v) {
    char *end;
    errno = 0;
    long k = strtol(v, &end, 10);
    if (errno == 0 && *end == '\0' && k >= 1 && k <= BATCH_MAX_WIDTH)
      return (size_t)k;
    msg_trace("r42intercept: RANGE42_PROXMOX_API_PARALLEL=%.32s is not a "
              "number from 1 to %d: the cluster's max_workers is used",
              v, BATCH_MAX_WIDTH);
  }
  size_t width = pve ? cluster_max_workers(pve) : 0;
  return width ? width : BATCH_DEFAULT_WIDTH;
}

/* ---- slots -------------------------------------------------------------- */

void batch_slot_begin(struct pve *pve, struct batch_slot *slot) {
  slot->has_call = true;
  slot->act_rc =
      act_begin(pve, &slot->job.call, NULL, &slot->wait, &slot->out);
}

bool batch_slot_failed(const struct batch_slot *slot) {
  return slot->failed || (slot->has_call && slot->act_rc < 0);
}

static bool running(const struct batch_slot *slot) {
  return slot->has_call && slot->act_rc == 1;
}

static struct batch_slot *slot_of(struct batch *b, size_t i) {
  return &b->ring[i % b->window];
}

/* ---- the schedule ------------------------------------------------------- */

/* Hands back the lines that are done and have none undone before them. */
static void emit_ready(struct batch *b) {
  while (b->emitted < b->next && !running(slot_of(b, b->emitted))) {
    size_t i = b->emitted;
    struct batch_slot *slot = slot_of(b, i);
    b->ops->emit(b->ops->ctx, i, slot);
    if (b->stop && batch_slot_failed(slot))
      b->stopped = true;
    free(b->guests[i % b->window]);
    b->guests[i % b->window] = NULL;
    b->emitted++;
  }
}

/* Whether a line on GUEST (NULL: unknown) must wait for a running one. */
static bool guest_busy(const struct batch *b, const char *guest) {
  for (size_t i = b->emitted; i < b->next; i++) {
    const char *other = b->guests[i % b->window];
    if (running(&b->ring[i % b->window]) &&
        (!guest || !other || strcmp(guest, other) == 0))
      return true;
  }
  return false;
}

/* Whether the next line may start now (its guest noted when it may). */
static bool may_start(struct batch *b) {
  if (b->stopped || b->next >= b->n || b->in_flight >= b->width ||
      b->next - b->emitted >= b->window)
    return false;
  char **guest = &b->guests[b->next % b->window];
  if (!*guest)
    *guest = b->ops->guest(b->ops->ctx, b->next);
  return !guest_busy(b, *guest);
}

/* Polls the task whose poll is due first, after sleeping until then. */
static void poll_first_due(struct batch *b) {
  struct batch_slot *first = NULL;
  for (size_t i = b->emitted; i < b->next; i++) {
    struct batch_slot *slot = slot_of(b, i);
    if (running(slot) && (!first || slot->wait.next < first->wait.next))
      first = slot;
  }
  if (!first)
    return;
  act_sleep_until(first->wait.next);
  first->act_rc = act_poll(b->pve, &first->wait, &first->out);
  if (first->act_rc != 1)
    b->in_flight--;
}

void batch_drain(struct batch *b) {
  while (b->in_flight > 0) {
    poll_first_due(b);
    emit_ready(b);
  }
  emit_ready(b);
}

/* Starts the next line: 0, or -1 (E set) when it is not reproducible. */
static int start_next(struct batch *b, struct msg_err *e) {
  struct batch_slot *slot = slot_of(b, b->next);
  memset(slot, 0, sizeof *slot);
  if (b->ops->start(b->ops->ctx, b->next, slot, e) < 0) {
    free(slot->note);
    if (slot->has_call) {
      act_wait_clear(&slot->wait);
      job_clear(&slot->job);
    }
    return -1;
  }
  b->next++;
  if (running(slot) && ++b->in_flight > b->max_in_flight)
    b->max_in_flight = b->in_flight;
  return 0;
}

static void profile_batch(const struct batch *b, long requests) {
  msg_profile("batch: %zu lines, %zu at once: up to %zu tasks in flight, "
              "%ld requests, %ld connections so far",
              b->n, b->width, b->max_in_flight,
              pve_requests(b->pve) - requests, pve_connections(b->pve));
}

size_t batch_run(struct pve *pve, size_t n, size_t width, bool stop,
                 const struct batch_ops *ops, bool *stopped,
                 struct msg_err *e) {
  struct batch b = {.pve = pve, .ops = ops, .n = n, .stop = stop};
  b.width = width ? width : 1;
  b.window = b.width * BATCH_WINDOW_PER_TASK;
  b.ring = xcalloc(b.window, sizeof *b.ring);
  b.guests = xcalloc(b.window, sizeof *b.guests);
  long requests = pve ? pve_requests(pve) : 0;
  size_t rc = n;
  current = &b;
  for (;;) {
    while (may_start(&b)) {
      if (start_next(&b, e) < 0) {
        rc = b.next;
        batch_drain(&b);
        break;
      }
      emit_ready(&b);
    }
    if (rc != n || b.in_flight == 0)
      break;
    poll_first_due(&b);
    emit_ready(&b);
  }
  current = NULL;
  if (pve && msg_profiling())
    profile_batch(&b, requests);
  for (size_t i = 0; i < b.window; i++)
    free(b.guests[i]);
  free(b.guests);
  free(b.ring);
  *stopped = b.stopped;
  return rc;
}
