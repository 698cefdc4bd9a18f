/* SPDX-License-Identifier: GPL-3.0-or-later */
/* acfg.c: locates the ansible.cfg that ansible-playbook would use and
 * reads it with the rules of Python's configparser as ansible-core 2.14
 * builds it (strict, inline ';' comments): sections, "key = value" or
 * "key: value" (the first '=' or ':'), '#'/';' comment lines, inline
 * "; ..." comments after whitespace, continuation lines indented deeper
 * than their option (blank lines kept inside), lower-cased keys.  What
 * configparser rejects (a duplicate section or option, an option before
 * any section, an empty name) and what we would not read like it
 * ([DEFAULT] values, which every section inherits; '%' interpolation;
 * whitespace or names Python treats differently) is refused, so that the
 * real program runs.  Which settings matter is decided by the callers. */
#define _GNU_SOURCE
#include "acfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACFG_MAX_SIZE (1024 * 1024)
#define ACFG_DEFAULTS "defaults"
#define ACFG_DEFAULT_SECTION "DEFAULT" /* configparser's default_section */

/* Python's str.isspace() for an ASCII byte other than newline. */
static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ||
         (c >= 0x1c && c <= 0x1f);
}

/* The length of the UTF-8 sequence at S when it is a character Python
   counts as whitespace (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
   U+2029, U+202F, U+205F, U+3000), else 0. */
static size_t unicode_space(const unsigned char *s) {
  if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
    return 2;
  if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
    return 3;
  if (s[0] == 0xe2 && s[1] == 0x80 &&
      ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 ||
       s[2] == 0xaf))
    return 3;
  if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
    return 3;
  if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
    return 3;
  return 0;
}

/* True if TEXT holds whitespace that we do not strip the way Python does:
   a Unicode space, or an ASCII one other than ' ', '\t', '\r' (which only
   occur in our own files' values when something is odd). */
static bool odd_whitespace(const char *text) {
  for (const unsigned char *p = (const unsigned char *)text; *p; p++)
    if ((*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
         is_space((char)*p)) ||
        unicode_space(p))
      return true;
  return false;
}

static char *strip(char *s) {
  while (is_space(*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && is_space(s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* configparser's inline_comment_prefixes=(';',): the first ';' at the
   start of the line or after whitespace starts a comment.  Returns its
   offset, or -1. */
static long inline_comment(const char *line) {
  for (const char *p = line; (p = strchr(p, ';')); p++)
    if (p == line || is_space(p[-1]))
      return p - line;
  return -1;
}

static long find_entry(const struct acfg *cfg, const char *sect,
                       const char *key) {
  for (size_t i = 0; i < cfg->n; i++)
    if (strcmp(cfg->sects[i], sect) == 0 && strcmp(cfg->keys[i], key) == 0)
      return (long)i;
  return -1;
}

static void add_entry(struct acfg *cfg, const char *sect, const char *key,
                      const char *val) {
  cfg->sects = xrealloc(cfg->sects, (cfg->n + 1) * sizeof *cfg->sects);
  cfg->keys = xrealloc(cfg->keys, (cfg->n + 1) * sizeof *cfg->keys);
  cfg->vals = xrealloc(cfg->vals, (cfg->n + 1) * sizeof *cfg->vals);
  cfg->sects[cfg->n] = xstrdup(sect);
  cfg->keys[cfg->n] = xstrdup(key);
  cfg->vals[cfg->n] = xstrdup(val);
  cfg->n++;
}

/* Appends one more line (maybe empty) to entry I's value. */
static void continue_entry(struct acfg *cfg, size_t i, const char *more) {
  char *joined = xasprintf("%s\n%s", cfg->vals[i], more);
  free(cfg->vals[i]);
  cfg->vals[i] = joined;
}

/* The parser's position: the section lines go to, the option a
   continuation line would extend, the indentation that started it. */
struct cp_state {
  char *sect;   /* current section, NULL before the first header */
  long opt;     /* entry a deeper-indented line continues, or -1 */
  size_t level; /* indentation of the line that set SECT or OPT */
  char **seen;  /* section headers met (duplicates are errors) */
  size_t n_seen;
  int lineno;
};

static void cp_state_clear(struct cp_state *st) {
  free(st->sect);
  for (size_t i = 0; i < st->n_seen; i++)
    free(st->seen[i]);
  free(st->seen);
}

/* A section header line "[NAME]..." (NAME: up to the last ']', not
   empty).  Returns 1 if VALUE is one, 0 if not, -1 (E set) on a
   duplicate. */
static int cp_header(struct cp_state *st, const char *value,
                     struct msg_err *e) {
  const char *close = strrchr(value, ']');
  if (value[0] != '[' || !close || close - value < 2)
    return 0;
  cleanup_free char *name = xstrndup(value + 1, (size_t)(close - value - 1));
  if (strcmp(name, ACFG_DEFAULT_SECTION) != 0) {
    for (size_t i = 0; i < st->n_seen; i++)
      if (strcmp(st->seen[i], name) == 0) {
        msg_err_set(e, "ansible.cfg line %d: duplicate section [%.60s]",
                    st->lineno, name);
        return -1;
      }
    st->seen = xrealloc(st->seen, (st->n_seen + 1) * sizeof *st->seen);
    st->seen[st->n_seen++] = xstrdup(name);
  }
  free(st->sect);
  st->sect = steal_pointer(&name);
  st->opt = -1;
  return 1;
}

/* An option line "key = value" (or ':') in the current section. */
static int cp_option(struct acfg *cfg, struct cp_state *st, char *value,
                     struct msg_err *e) {
  if (!st->sect) {
    msg_err_set(e, "ansible.cfg line %d: no section header before it",
                st->lineno);
    return -1;
  }
  char *sep = strpbrk(value, "=:");
  if (!sep || sep == value) {
    msg_err_set(e, "ansible.cfg line %d: not 'key = value'", st->lineno);
    return -1;
  }
  *sep = '\0';
  char *key = strip(value), *val = strip(sep + 1);
  for (char *p = key; *p; p++) {
    if ((unsigned char)*p >= 0x80) {
      msg_err_set(e, "ansible.cfg line %d: a non-ASCII option name",
                  st->lineno);
      return -1;
    }
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  }
  if (find_entry(cfg, st->sect, key) >= 0) {
    msg_err_set(e, "ansible.cfg line %d: duplicate option %.60s in [%.60s]",
                st->lineno, key, st->sect);
    return -1;
  }
  st->opt = (long)cfg->n;
  add_entry(cfg, st->sect, key, val);
  return 0;
}

/* One line of the file, as configparser's _read() takes it. */
static int cp_line(struct acfg *cfg, struct cp_state *st, char *line,
                   struct msg_err *e) {
  st->lineno++;
  long comment = inline_comment(line);
  char *first = line + strspn(line, " \t\r\v\f\x1c\x1d\x1e\x1f");
  if (*first == '#' || *first == ';')
    comment = 0;
  size_t level = (size_t)(first - line);
  if (comment >= 0)
    line[comment] = '\0';
  char *value = strip(line);
  if (!*value) {
    if (comment < 0 && st->sect && st->opt >= 0)
      continue_entry(cfg, (size_t)st->opt, "");
    return 0;
  }
  if (st->sect && st->opt >= 0 && level > st->level) {
    continue_entry(cfg, (size_t)st->opt, value);
    return 0;
  }
  st->level = level;
  int header = cp_header(st, value, e);
  if (header != 0)
    return header < 0 ? -1 : 0;
  return cp_option(cfg, st, value, e);
}

/* configparser's last step: each value's lines joined, trailing
   whitespace dropped.  Then what we refuse to read. */
static int cp_finish(struct acfg *cfg, struct msg_err *e) {
  for (size_t i = 0; i < cfg->n; i++) {
    size_t n = strlen(cfg->vals[i]);
    while (n > 0 &&
           (is_space(cfg->vals[i][n - 1]) || cfg->vals[i][n - 1] == '\n'))
      cfg->vals[i][--n] = '\0';
    if (strcmp(cfg->sects[i], ACFG_DEFAULT_SECTION) == 0) {
      msg_err_set(e,
                  "ansible.cfg: [DEFAULT] sets %.60s, which every section "
                  "inherits",
                  cfg->keys[i]);
      return -1;
    }
    if (strcmp(cfg->sects[i], ACFG_DEFAULTS) == 0 &&
        strchr(cfg->vals[i], '%')) {
      msg_err_set(e, "ansible.cfg: '%%' in %.60s", cfg->keys[i]);
      return -1;
    }
  }
  return 0;
}

int acfg_parse(struct acfg *cfg, const char *text, struct msg_err *e) {
  if (odd_whitespace(text)) {
    msg_err_set(e, "ansible.cfg holds whitespace Python strips and we do not");
    return -1;
  }
  cleanup_free char *copy = xstrdup(text);
  struct cp_state st = {.opt = -1};
  int rc = 0;
  for (char *line = copy, *next; line && rc == 0; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (!next && !*line)
      break;
    rc = cp_line(cfg, &st, line, e);
  }
  cp_state_clear(&st);
  return rc < 0 ? -1 : cp_finish(cfg, e);
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
  size_t len;
  cleanup_free char *text = util_read_file(cfg->path, ACFG_MAX_SIZE, &len);
  if (!text) {
    msg_err_set(e, "cannot read %s: %s", cfg->path, strerror(errno));
    return -1;
  }
  if (strlen(text) != len) {
    msg_err_set(e, "%s holds a NUL byte", cfg->path);
    return -1;
  }
  return acfg_parse(cfg, text, e);
}

void acfg_clear(struct acfg *cfg) {
  for (size_t i = 0; i < cfg->n; i++) {
    free(cfg->sects[i]);
    free(cfg->keys[i]);
    free(cfg->vals[i]);
  }
  free(cfg->sects);
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
  long i = find_entry(cfg, ACFG_DEFAULTS, key);
  return i >= 0 ? cfg->vals[i] : NULL;
}

bool acfg_section_used(const struct acfg *cfg, const char *prefix) {
  for (size_t i = 0; i < cfg->n; i++)
    if (strncmp(cfg->sects[i], prefix, strlen(prefix)) == 0)
      return true;
  return false;
}

/* ansible's unquote(): one pair of matching surrounding quotes removed
   (not when the closing one is escaped).  Returns a new string. */
static char *unquote(const char *v) {
  size_t n = strlen(v);
  if (n > 1 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0] &&
      v[n - 2] != '\\')
    return xstrndup(v + 1, n - 2);
  return xstrdup(v);
}

int acfg_vault_ids(const struct acfg *cfg, bool *match, char **identity,
                   struct msg_err *e) {
  *identity = NULL;
  if (acfg_get(cfg, "ANSIBLE_VAULT_IDENTITY_LIST", "vault_identity_list")) {
    msg_err_set(e, "vault_identity_list is set");
    return -1;
  }
  const char *m = acfg_get(cfg, "ANSIBLE_VAULT_ID_MATCH", "vault_id_match");
  cleanup_free char *mv = m ? unquote(m) : NULL;
  *match = mv && *mv;
  const char *id = acfg_get(cfg, "ANSIBLE_VAULT_IDENTITY", "vault_identity");
  *identity = id ? unquote(id) : xstrdup("default");
  return 0;
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
