/* acfg.c: locates the ansible.cfg that ansible-playbook would use and
 * reads its [defaults] section with configparser's rules (sections,
 * "key = value" or "key: value", '#'/';' comment lines, inline "; ..."
 * comments after whitespace, indented continuation lines, lower-cased
 * keys).  Interpolation ('%') is refused rather than guessed.  Which
 * settings matter is decided by the callers. */
#define _GNU_SOURCE
#include "acfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACFG_MAX_SIZE (1024 * 1024)

static char *strip(char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

/* configparser's inline_comment_prefixes=(';',): a ';' preceded by
   whitespace starts a comment. */
static void cut_inline_comment(char *s) {
  for (char *p = s + 1; *p; p++)
    if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t')) {
      *p = '\0';
      return;
    }
}

static void add_entry(struct acfg *cfg, const char *key, const char *val) {
  for (size_t i = 0; i < cfg->n; i++)
    if (strcmp(cfg->keys[i], key) == 0) {
      free(cfg->vals[i]);
      cfg->vals[i] = xstrdup(val);
      return;
    }
  cfg->keys = xrealloc(cfg->keys, (cfg->n + 1) * sizeof *cfg->keys);
  cfg->vals = xrealloc(cfg->vals, (cfg->n + 1) * sizeof *cfg->vals);
  char *k = xstrdup(key);
  for (char *p = k; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  cfg->keys[cfg->n] = k;
  cfg->vals[cfg->n] = xstrdup(val);
  cfg->n++;
}

/* Appends a continuation line to the last entry. */
static void continue_entry(struct acfg *cfg, const char *more) {
  char *joined = xasprintf("%s\n%s", cfg->vals[cfg->n - 1], more);
  free(cfg->vals[cfg->n - 1]);
  cfg->vals[cfg->n - 1] = joined;
}

int acfg_parse(struct acfg *cfg, const char *text, struct msg_err *e) {
  cleanup_free char *copy = xstrdup(text);
  bool in_defaults = false, have_entry = false;
  int lineno = 0;
  for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    bool indented = line[0] == ' ' || line[0] == '\t';
    char *s = strip(line);
    if (*s == '\0' || *s == '#' || *s == ';')
      continue;
    cut_inline_comment(s);
    s = strip(s);
    if (indented && have_entry) {
      if (in_defaults)
        continue_entry(cfg, s);
      continue;
    }
    if (*s == '[') {
      char *end = strchr(s, ']');
      if (!end) {
        msg_err_set(e, "ansible.cfg line %d: bad section header", lineno);
        return -1;
      }
      *end = '\0';
      in_defaults = strcmp(s + 1, "defaults") == 0;
      have_entry = false;
      continue;
    }
    char *sep = strpbrk(s, "=:");
    if (!sep) {
      msg_err_set(e, "ansible.cfg line %d: no '=' or ':'", lineno);
      return -1;
    }
    *sep = '\0';
    char *key = strip(s), *val = strip(sep + 1);
    have_entry = true;
    if (!in_defaults)
      continue;
    if (strchr(val, '%')) {
      msg_err_set(e, "ansible.cfg line %d: '%%' interpolation", lineno);
      return -1;
    }
    add_entry(cfg, key, val);
  }
  return 0;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Candidate config path number I (0..3), or NULL; the result is owned by
   the caller. */
static char *candidate(int i) {
  const char *env = getenv("ANSIBLE_CONFIG");
  const char *home = getenv("HOME");
  struct stat st;
  switch (i) {
  case 0:
    if (!env)
      return NULL;
    if (stat(env, &st) == 0 && S_ISDIR(st.st_mode))
      return xasprintf("%s/ansible.cfg", env);
    return xstrdup(env);
  case 1:
    if (stat(".", &st) != 0 || (st.st_mode & S_IWOTH))
      return NULL;
    return xstrdup("ansible.cfg");
  case 2:
    return home ? xasprintf("%s/.ansible.cfg", home) : NULL;
  default:
    return xstrdup("/etc/ansible/ansible.cfg");
  }
}

int acfg_load(struct acfg *cfg, struct msg_err *e) {
  memset(cfg, 0, sizeof *cfg);
  for (int i = 0; i < 4; i++) {
    cleanup_free char *path = candidate(i);
    if (path && exists(path))
      return acfg_load_file(cfg, path, e);
  }
  return 0;
}

int acfg_load_file(struct acfg *cfg, const char *path, struct msg_err *e) {
  memset(cfg, 0, sizeof *cfg);
  cfg->path = xstrdup(path);
  cleanup_free char *text = util_read_file(cfg->path, ACFG_MAX_SIZE, NULL);
  if (!text) {
    msg_err_set(e, "cannot read %s: %s", cfg->path, strerror(errno));
    return -1;
  }
  return acfg_parse(cfg, text, e);
}

void acfg_clear(struct acfg *cfg) {
  for (size_t i = 0; i < cfg->n; i++) {
    free(cfg->keys[i]);
    free(cfg->vals[i]);
  }
  free(cfg->keys);
  free(cfg->vals);
  free(cfg->path);
  memset(cfg, 0, sizeof *cfg);
}

const char *acfg_get(const struct acfg *cfg, const char *env,
                     const char *key) {
  const char *v = env ? getenv(env) : NULL;
  if (v)
    return v;
  for (size_t i = 0; i < cfg->n; i++)
    if (strcmp(cfg->keys[i], key) == 0)
      return cfg->vals[i];
  return NULL;
}

int acfg_json_callback(const struct acfg *cfg, int *indent,
                       struct msg_err *e) {
  static const char *const json[] = {"json", "ansible.posix.json", NULL};
  const char *cb = acfg_get(cfg, "ANSIBLE_STDOUT_CALLBACK", "stdout_callback");
  if (!cb || !util_str_in(cb, json)) {
    msg_err_set(e, "the stdout callback is %.40s, not json",
                cb ? cb : "the default");
    return -1;
  }
  const char *extra =
      acfg_get(cfg, "ANSIBLE_CALLBACKS_ENABLED", "callbacks_enabled");
  if (!extra)
    extra = acfg_get(cfg, "ANSIBLE_CALLBACK_WHITELIST", "callback_whitelist");
  if (extra && *extra) {
    msg_err_set(e, "extra callbacks are enabled (%.60s)", extra);
    return -1;
  }
  const char *v = acfg_get(cfg, "ANSIBLE_JSON_INDENT", "json_indent");
  char *end = NULL;
  long n = v ? strtol(v, &end, 10) : 4;
  if (v && (*end || end == v || n > 64)) {
    msg_err_set(e, "json_indent %.16s is not a small number", v);
    return -1;
  }
  *indent = (int)n;
  return 0;
}

char *acfg_find_role(const struct acfg *cfg, const char *playbook_dir,
                     const char *role, struct msg_err *e) {
  const char *home = getenv("HOME");
  const char *path = acfg_get(cfg, "ANSIBLE_ROLES_PATH", "roles_path");
  cleanup_free char *dflt =
      xasprintf("%s/.ansible/roles:/usr/share/ansible/roles:"
                "/etc/ansible/roles",
                home ? home : "");
  cleanup_free char *search = xasprintf("%s/roles:%s:%s", playbook_dir,
                                        path ? path : dflt, playbook_dir);
  for (char *save = NULL, *dir = strtok_r(search, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    char *cand = xasprintf("%s/%s", dir, role);
    cleanup_free char *tasks = xasprintf("%s/tasks", cand);
    struct stat st;
    if (stat(tasks, &st) == 0 && S_ISDIR(st.st_mode))
      return cand;
    free(cand);
  }
  msg_err_set(e, "role %.80s not found in the roles path", role);
  return NULL;
}
