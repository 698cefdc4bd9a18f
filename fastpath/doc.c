/* SPDX-License-Identifier: GPL-3.0-or-later */
/* doc.c: builds what ansible-playbook prints with the json stdout
 * callback (ansible.posix.json): custom_stats, global_custom_stats,
 * plays[{play{duration,id,name,path}, tasks[{hosts, task}]}], stats.
 * Ids look like Ansible's ("xxxxxxxx-0001-xxxx-xxxx-NNNNNNNNNNNN"), times
 * are UTC ISO 8601 with microseconds and "Z".  Which tasks go in is the
 * caller's business. */
#define _GNU_SOURCE
#include "doc.h"

#include "jout.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char id_prefix[32];
static int id_counter;

/* Ansible's uuid: a per-run random prefix and a counter. */
static char *new_id(void) {
  if (!id_prefix[0]) {
    unsigned char r[8];
    randombytes_buf(r, sizeof r);
    snprintf(id_prefix, sizeof id_prefix,
             "%02x%02x%02x%02x-0001-%02x%02x-%02x%02x", r[0], r[1], r[2], r[3],
             r[4], r[5], r[6], r[7]);
  }
  return xasprintf("%s-%012d", id_prefix, ++id_counter);
}

/* datetime.utcnow().isoformat() + "Z" */
static char *now_iso(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  if (tv.tv_usec == 0)
    return xasprintf("%sZ", date);
  return xasprintf("%s.%06ldZ", date, (long)tv.tv_usec);
}

static void add_owned_string(cJSON *obj, const char *key, char *value) {
  cJSON_AddStringToObject(obj, key, value);
  free(value);
}

static cJSON *header(const char *name, const char *path, cJSON **duration) {
  cJSON *h = cJSON_CreateObject();
  cJSON_AddStringToObject(h, "name", name);
  add_owned_string(h, "id", new_id());
  cJSON_AddStringToObject(h, "path", path);
  *duration = cJSON_AddObjectToObject(h, "duration");
  add_owned_string(*duration, "start", now_iso());
  return h;
}

void doc_init(struct doc *d, const char *name, const char *path,
              const char *host) {
  memset(d, 0, sizeof *d);
  d->root = cJSON_CreateObject();
  d->host = xstrdup(host);
  cJSON_AddObjectToObject(d->root, "custom_stats");
  cJSON_AddObjectToObject(d->root, "global_custom_stats");
  cJSON *play = cJSON_CreateObject();
  cJSON_AddItemToObject(play, "play", header(name, path, &d->duration));
  d->tasks = cJSON_AddArrayToObject(play, "tasks");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(d->root, "plays"), play);
}

void doc_add_task(struct doc *d, const char *name, const char *path,
                  cJSON *result, bool failed) {
  cJSON *duration;
  cJSON *task = cJSON_CreateObject();
  cJSON_AddItemToObject(task, "task", header(name, path, &duration));
  if (failed)
    cJSON_AddBoolToObject(result, "failed", true);
  cJSON_AddItemToObject(cJSON_AddObjectToObject(task, "hosts"), d->host,
                        result);
  char *end = now_iso();
  cJSON_AddStringToObject(duration, "end", end);
  cJSON_DeleteItemFromObject(d->duration, "end");
  add_owned_string(d->duration, "end", end);
  cJSON_AddItemToArray(d->tasks, task);
  if (failed)
    d->failures++;
  else
    d->ok++;
}

int doc_render(struct doc *d, int indent, struct buf *out) {
  cJSON *stats = cJSON_AddObjectToObject(d->root, "stats");
  cJSON *s = cJSON_AddObjectToObject(stats, d->host);
  cJSON_AddNumberToObject(s, "changed", 0);
  cJSON_AddNumberToObject(s, "failures", d->failures);
  cJSON_AddNumberToObject(s, "ignored", 0);
  cJSON_AddNumberToObject(s, "ok", d->ok);
  cJSON_AddNumberToObject(s, "rescued", 0);
  cJSON_AddNumberToObject(s, "skipped", 0);
  cJSON_AddNumberToObject(s, "unreachable", 0);
  int rc = jout_write(out, d->root, JOUT_PYTHON, indent);
  cJSON_DeleteItemFromObject(d->root, "stats");
  return rc == 0 ? buf_puts(out, "\n") : -1;
}

void doc_clear(struct doc *d) {
  cJSON_Delete(d->root);
  free(d->host);
  memset(d, 0, sizeof *d);
}
