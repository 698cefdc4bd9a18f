/* SPDX-License-Identifier: GPL-3.0-or-later */
/* match.c: the "is this exec ours?" decision, shared by the preloaded shim
 * and the runner.  It looks only at the program path and argv (never the
 * environment or the file system), so it is pure: no allocation, no locks,
 * no errno, safe between fork and exec and in a vfork child.  It calls no
 * libc function either: the shim's constructor runs it in every process,
 * where a first call into libc would cost a lazy symbol binding.  Whether a
 * matched call is then really answered is the runner's business. */
#include "match.h"

#include <stddef.h>

const char *const match_script_names[] = {
#define R42_SCRIPT(name, ...) name,
#include "scripts.def"
    NULL,
};

/* The string helpers of this file (see the top comment). */
static int same(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}

/* The rest of S after PREFIX, or NULL when S does not start with it. */
static const char *after(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++)
      return NULL;
  return s;
}

static int has_char(const char *s, char c) {
  for (; *s; s++)
    if (*s == c)
      return 1;
  return 0;
}

const char *match_basename(const char *path) {
  const char *base = path;
  for (const char *p = path; *p; p++)
    if (*p == '/')
      base = p + 1;
  return base;
}

int match_script_index(const char *name) {
  if (!after(name, "proxmox_"))
    return -1;
  for (int i = 0; match_script_names[i]; i++)
    if (same(name, match_script_names[i]))
      return i;
  return -1;
}

/* "python", "python3", "python3.11", ... */
static int is_python(const char *name) {
  const char *p = after(name, "python");
  if (!p)
    return 0;
  for (; *p; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
      return 0;
  return 1;
}

/* Index of the script a python command line runs, or -1 when it runs
   none (-c, -m, stdin, an option we do not know). */
static int python_script_arg(char *const argv[]) {
  int i = 1;
  for (; argv[i] && argv[i][0] == '-'; i++) {
    const char *opt = argv[i];
    if (same(opt, "--"))
      return argv[i + 1] ? i + 1 : -1;
    if (opt[1] == '\0' || opt[1] == '-')
      return -1; /* "-" (stdin) or a long option */
    for (const char *c = opt + 1; *c; c++) {
      if (*c == 'W' || *c == 'X') {
        if (c[1] == '\0')
          i++; /* the value is the next argument */
        break;
      }
      if (!has_char("bBdEiIOqsSuvx", *c))
        return -1; /* -c, -m, -h, -V, or unknown */
    }
    if (!argv[i])
      return -1;
  }
  return argv[i] ? i : -1;
}

static enum match_kind program_kind(const char *name, char *const argv[]) {
  if (same(name, "ansible-playbook"))
    return MATCH_PLAYBOOK;
  if (same(name, "ansible-vault"))
    return argv[1] && same(argv[1], "view") ? MATCH_VAULT : MATCH_NONE;
  if (match_script_index(name) >= 0)
    return MATCH_SCRIPT;
  return MATCH_NONE;
}

enum match_kind match_exec(const char *path, char *const argv[],
                           int *prog_index) {
  if (!path || !argv || !argv[0])
    return MATCH_NONE;
  const char *name = match_basename(path);
  enum match_kind kind = program_kind(name, argv);
  if (kind != MATCH_NONE) {
    *prog_index = 0;
    return kind;
  }
  int script = -1;
  if (is_python(name)) {
    script = python_script_arg(argv);
    if (script < 0)
      return MATCH_NONE;
    kind = program_kind(match_basename(argv[script]), argv + script);
    if (kind == MATCH_SCRIPT)
      return MATCH_NONE; /* python does not run shell scripts */
  } else if (same(name, "bash") || same(name, "sh")) {
    /* Only the plain "bash SCRIPT args..." form: options change how the
       script runs (-x traces, -n does not run it), so they are not ours. */
    if (!argv[1] || argv[1][0] == '-')
      return MATCH_NONE;
    script = 1;
    kind = match_script_index(match_basename(argv[1])) >= 0 ? MATCH_SCRIPT
                                                            : MATCH_NONE;
  }
  if (kind != MATCH_NONE)
    *prog_index = script;
  return kind;
}
