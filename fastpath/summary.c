/* SPDX-License-Identifier: GPL-3.0-or-later */
/* summary.c: reads an event log (evlog.c) and says what it holds: calls
 * answered per level and action, fall-backs (and FORCE=on refusals)
 * grouped by reason, per-VM errors, the wall time spent in the runner,
 * and an estimate of the time saved: what the slow path would have spent
 * (R42INTERCEPT_COST_PLAYBOOK per ansible-playbook run and
 * R42INTERCEPT_COST_VAULT per ansible-vault run each answered call stands
 * for: config.c; defaults from bench/results.md) less the runner's own
 * time.  As text, or as one JSON document for CI artefacts. */
#define _GNU_SOURCE
#include "summary.h"

#include "config.h"
#include "msg.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUM_USAGE_STATUS 125

/* What the log says. */
struct sum {
  long calls, answered, fell_back, refused, errors, unreadable;
  double runner_ms, answered_ms, slow_s;
  cJSON *by_action; /* {"level action": count} */
  cJSON *by_reason; /* {"reason": count}, fall-backs and refusals */
  cJSON *vm_errors; /* [{"vm", "action", "error"}] */
};

static void count(cJSON *map, const char *key) {
  cJSON *n = cJSON_GetObjectItemCaseSensitive(map, key);
  if (n)
    cJSON_SetNumberValue(n, n->valuedouble + 1);
  else
    cJSON_AddNumberToObject(map, key, 1);
}

static const char *str(const cJSON *o, const char *key) {
  const char *v =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  return v ? v : "";
}

static double num(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The slow path's time for the answered call REC, in seconds. */
static double slow_cost(const cJSON *rec, const struct cfg *c) {
  const char *level = str(rec, "level");
  double plays = num(rec, "plays");
  if (strcmp(level, "vault") == 0)
    return c->cost_vault;
  if (strcmp(level, "playbook") == 0)
    return (plays > 0 ? plays : 1) * c->cost_playbook;
  /* a devkit script: one ansible-playbook per role call, and its
     ansible-vault view of the vault (devkit_ansible.get_proxmox_node) */
  return plays * c->cost_playbook + c->cost_vault;
}

static void add_vm_errors(struct sum *s, const cJSON *rec) {
  const cJSON *errs = cJSON_GetObjectItemCaseSensitive(rec, "vm_errors");
  const cJSON *e;
  cJSON_ArrayForEach(e, errs) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "vm", str(e, "vm"));
    cJSON_AddStringToObject(o, "action", str(rec, "action"));
    cJSON_AddStringToObject(o, "error", str(e, "error"));
    cJSON_AddItemToArray(s->vm_errors, o);
  }
}

/* One log line into S. */
static void add_line(struct sum *s, const char *line, size_t len) {
  cJSON *rec = cJSON_ParseWithLength(line, len);
  const char *outcome = str(rec, "outcome");
  if (!cJSON_IsObject(rec) || !*outcome) {
    s->unreadable++;
    cJSON_Delete(rec);
    return;
  }
  s->calls++;
  double ms = num(rec, "duration_ms");
  s->runner_ms += ms;
  if (strcmp(outcome, "answered") == 0) {
    s->answered++;
    s->answered_ms += ms;
    s->slow_s += slow_cost(rec, cfg_get());
    const char *action = str(rec, "action");
    cleanup_free char *key = xasprintf("%s %s", str(rec, "level"),
                                       *action ? action : str(rec, "program"));
    count(s->by_action, key);
  } else if (strcmp(outcome, "fell back") == 0 ||
             strcmp(outcome, "refused") == 0) {
    bool refused = outcome[0] == 'r';
    *(refused ? &s->refused : &s->fell_back) += 1;
    cleanup_free char *key = xasprintf(
        "%s%s", refused ? "(FORCE=on, not run) " : "", str(rec, "reason"));
    count(s->by_reason, key);
  } else {
    s->errors++;
  }
  add_vm_errors(s, rec);
  cJSON_Delete(rec);
}

/* Reads FILE from OFFSET into S.  0, or -1 (said). */
static int read_log(struct sum *s, const char *file, long offset) {
  FILE *f = fopen(file, "re");
  if (!f || (offset > 0 && fseek(f, offset, SEEK_SET) < 0)) {
    fprintf(stderr, "r42intercept: %s: %s\n", file, strerror(errno));
    if (f)
      fclose(f);
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0)
    if (n > 1 || line[0] != '\n')
      add_line(s, line, (size_t)n);
  free(line);
  fclose(f);
  return 0;
}

static double saved(const struct sum *s) {
  return s->slow_s - s->answered_ms / 1e3;
}

static void print_json(const struct sum *s, const char *file) {
  const struct cfg *c = cfg_get();
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "log", file);
  cJSON_AddNumberToObject(o, "calls", (double)s->calls);
  cJSON_AddNumberToObject(o, "answered", (double)s->answered);
  cJSON_AddNumberToObject(o, "fell_back", (double)s->fell_back);
  cJSON_AddNumberToObject(o, "refused", (double)s->refused);
  cJSON_AddNumberToObject(o, "errors", (double)s->errors);
  cJSON_AddNumberToObject(o, "unreadable_lines", (double)s->unreadable);
  cJSON_AddItemReferenceToObject(o, "answered_by_action", s->by_action);
  cJSON_AddItemReferenceToObject(o, "fall_backs_by_reason", s->by_reason);
  cJSON_AddItemReferenceToObject(o, "vm_errors", s->vm_errors);
  cJSON_AddNumberToObject(o, "runner_seconds", s->runner_ms / 1e3);
  cJSON_AddNumberToObject(o, "estimated_seconds_saved", saved(s));
  cJSON_AddNumberToObject(o, "cost_playbook_seconds", c->cost_playbook);
  cJSON_AddNumberToObject(o, "cost_vault_seconds", c->cost_vault);
  char *text = cJSON_Print(o);
  if (text)
    printf("%s\n", text);
  free(text);
  cJSON_Delete(o);
}

static void print_map(const char *title, const cJSON *map) {
  const cJSON *e;
  bool first = true;
  cJSON_ArrayForEach(e, map) {
    printf("  %-10s %5.0f  %s\n", first ? title : "", e->valuedouble,
           e->string);
    first = false;
  }
}

static void print_text(const struct sum *s, const char *file) {
  const struct cfg *c = cfg_get();
  printf("r42intercept summary of %s: %ld calls: %ld answered, %ld fell "
         "back, %ld refused, %ld errors\n",
         file, s->calls, s->answered, s->fell_back, s->refused, s->errors);
  print_map("answered", s->by_action);
  print_map("fell back", s->by_reason);
  const cJSON *e;
  bool first = true;
  cJSON_ArrayForEach(e, s->vm_errors) {
    printf("  %-10s vm %s %s: %s\n", first ? "VM errors" : "", str(e, "vm"),
           str(e, "action"), str(e, "error"));
    first = false;
  }
  if (s->unreadable)
    printf("  %ld unreadable lines\n", s->unreadable);
  printf("  time in the runner: %.2f s\n", s->runner_ms / 1e3);
  printf("  time saved: about %.1f s (an estimate: %.2f s per "
         "ansible-playbook run and %.2f s per ansible-vault run the answered "
         "calls stand for, less the runner's time)\n",
         saved(s), c->cost_playbook, c->cost_vault);
}

int sum_main(int argc, char **argv) {
  const char *file = NULL;
  bool json = false;
  long since = 0;
  for (int i = 2; i < argc; i++) {
    char *end;
    if (strcmp(argv[i], "--json") == 0)
      json = true;
    else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc &&
             (since = strtol(argv[i + 1], &end, 10)) >= 0 && !*end)
      i++;
    else if (!file && argv[i][0] != '-')
      file = argv[i];
    else
      file = NULL, i = argc;
  }
  if (!file) {
    fprintf(stderr, "usage: r42intercept --summary FILE [--json]\n");
    return SUM_USAGE_STATUS;
  }
  struct sum s = {.by_action = cJSON_CreateObject(),
                  .by_reason = cJSON_CreateObject(),
                  .vm_errors = cJSON_CreateArray()};
  int rc = read_log(&s, file, since);
  if (rc == 0) {
    if (json)
      print_json(&s, file);
    else
      print_text(&s, file);
  }
  cJSON_Delete(s.by_action);
  cJSON_Delete(s.by_reason);
  cJSON_Delete(s.vm_errors);
  return rc == 0 && fflush(stdout) == 0 ? 0 : SUM_USAGE_STATUS;
}
