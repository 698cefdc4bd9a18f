/* SPDX-License-Identifier: GPL-3.0-or-later */
/* inventory.c: answers one question about an Ansible inventory: would
 * Ansible run the play on this host, locally, as the devkit's inventory
 * has it?  The host must be declared as a host (a name under
 * [group:children] or a group name is not one), its connection must be
 * "local" (ansible_connection on the host or on "all"), and nothing may
 * apply to it that we would have to interpret: other variables,
 * host_vars/ or group_vars/ directories, inventory or vars plugins and
 * their settings, host ranges or ports that may name it.  YAML
 * inventories are read as Ansible's yaml plugin does, INI ones as its ini
 * plugin does, each only in the forms we follow exactly.  Directories,
 * executable (dynamic) inventories, plugin configurations and encrypted
 * files are refused: Ansible runs or decrypts those. */
#define _GNU_SOURCE
#include "inventory.h"

#include "vault.h"
#include "ydoc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INV_MAX_SIZE (4 * 1024 * 1024)
#define INV_MAX_DEPTH 32

extern char **environ;

/* What the scan found out about the host. */
struct inv_scan {
  const char *host;
  int found;        /* times it is declared as a host */
  bool local;       /* ansible_connection: local on it or on "all" */
  bool group_named; /* a group has its name */
  struct msg_err *e;
};

/* ---- variables --------------------------------------------------------- */

/* An absolute path to an executable python3 or python3.N. */
static bool python3_path(const char *path) {
  const char *base = strrchr(path, '/');
  if (path[0] != '/' || !base || strncmp(base + 1, "python3", 7) != 0)
    return false;
  const char *minor = base + 8;
  if (*minor == '.' && minor[1] &&
      strspn(minor + 1, "0123456789") == strlen(minor + 1))
    minor = "";
  struct stat st;
  return *minor == '\0' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         access(path, X_OK) == 0;
}

/* One variable NAME = VALUE (VALUE NULL: not a plain string) of the host,
   or of a group (any group: we do not work out which ones hold the host;
   ALL: the group "all").  Only the devkit's inventory variables are
   followed.  0 (SC->local set when it makes the connection local), or -1
   with E set. */
static int inv_var(struct inv_scan *sc, const char *name, const char *value,
                   bool counts) {
  if (strcmp(name, "ansible_connection") == 0 && value &&
      strcmp(value, "local") == 0) {
    sc->local = sc->local || counts;
    return 0;
  }
  if (strcmp(name, "ansible_python_interpreter") == 0 && value &&
      python3_path(value))
    return 0;
  msg_err_set(sc->e, "inventory variable %.60s%s%.60s is not one we follow",
              name, value ? "=" : "", value ? value : "");
  return -1;
}

/* Whether the host pattern PATTERN (a host line or key) may name HOST:
   1 exactly, 0 surely not, -1 (E set) when it might (a range such as
   px-[a:z]esting, a HOST:PORT form). */
static int pattern_names(struct inv_scan *sc, const char *pattern) {
  size_t hl = strlen(sc->host), pl = strlen(pattern);
  if (strcmp(pattern, sc->host) == 0)
    return 1;
  const char *open = strchr(pattern, '['), *close = strrchr(pattern, ']');
  bool range = open && close && close > open;
  if ((range && strncmp(pattern, sc->host, (size_t)(open - pattern)) == 0 &&
       pl - (size_t)(close + 1 - pattern) <= hl &&
       strcmp(close + 1,
              sc->host + hl - (pl - (size_t)(close + 1 - pattern))) == 0) ||
      (strncmp(pattern, sc->host, hl) == 0 && pattern[hl] == ':')) {
    msg_err_set(sc->e, "inventory host pattern %.60s may name %.60s", pattern,
                sc->host);
    return -1;
  }
  return 0;
}

/* ---- YAML (ansible's yaml inventory plugin) ---------------------------- */

/* A YAML null: an empty value, ~ or null. */
static bool yaml_null(const struct ydoc_node *n) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
  return n && n->type == YDOC_SCALAR && n->plain && !n->tagged &&
         util_str_in(n->text, nulls);
}

/* The text of N when Python loads it as a string (not a number, bool,
   null...), else NULL. */
static const char *yaml_str(const struct ydoc_node *n) {
  const char *s = ydoc_literal(n);
  if (s && n->plain && strspn(s, "-0123456789") == strlen(s))
    return NULL; /* an int */
  return s && strlen(s) == n->len ? s : NULL;
}

static int yaml_vars(struct inv_scan *sc, const struct ydoc_node *vars,
                     bool all) {
  if (yaml_null(vars))
    return 0;
  if (vars->type != YDOC_MAP) {
    msg_err_set(sc->e, "inventory vars are not a mapping");
    return -1;
  }
  for (size_t i = 0; i + 1 < vars->n; i += 2) {
    const char *name = yaml_str(vars->kids[i]);
    if (!name || inv_var(sc, name, ydoc_literal(vars->kids[i + 1]), all) < 0) {
      if (!name)
        msg_err_set(sc->e, "an inventory variable name is not a string");
      return -1;
    }
  }
  return 0;
}

static int yaml_hosts(struct inv_scan *sc, const struct ydoc_node *hosts) {
  if (yaml_null(hosts))
    return 0;
  if (hosts->type != YDOC_MAP) {
    msg_err_set(sc->e, "inventory hosts are not a mapping");
    return -1;
  }
  for (size_t i = 0; i + 1 < hosts->n; i += 2) {
    const char *pattern = yaml_str(hosts->kids[i]);
    int names = pattern ? pattern_names(sc, pattern) : -1;
    if (names < 0) {
      if (!pattern)
        msg_err_set(sc->e, "an inventory host name is not a string");
      return -1;
    }
    if (names == 1) {
      sc->found++;
      if (yaml_vars(sc, hosts->kids[i + 1], true) < 0)
        return -1;
    }
  }
  return 0;
}

/* The group NAME defined by G (a mapping of vars, children and hosts, or
   null), and its children. */
static int yaml_group(struct inv_scan *sc, const struct ydoc_node *name_node,
                      const struct ydoc_node *g, int depth) {
  const char *name = yaml_str(name_node);
  if (!name || depth > INV_MAX_DEPTH) {
    msg_err_set(sc->e, "an inventory group name is not a string");
    return -1;
  }
  if (strcmp(name, sc->host) == 0)
    sc->group_named = true;
  if (yaml_null(g))
    return 0;
  if (g->type != YDOC_MAP) {
    msg_err_set(sc->e, "inventory group %.60s is not a mapping", name);
    return -1;
  }
  for (size_t i = 0; i + 1 < g->n; i += 2) {
    const char *key = g->kids[i]->text;
    const struct ydoc_node *v = g->kids[i + 1];
    int rc = 0;
    if (strcmp(key, "vars") == 0)
      rc = yaml_vars(sc, v, strcmp(name, "all") == 0);
    else if (strcmp(key, "hosts") == 0)
      rc = yaml_hosts(sc, v);
    else if (strcmp(key, "children") == 0 && yaml_null(v))
      rc = 0;
    else if (strcmp(key, "children") == 0 && v->type == YDOC_MAP)
      for (size_t k = 0; rc == 0 && k + 1 < v->n; k += 2)
        rc = yaml_group(sc, v->kids[k], v->kids[k + 1], depth + 1);
    else {
      msg_err_set(sc->e, "inventory group %.60s: key %.60s is not followed",
                  name, key);
      rc = -1;
    }
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int yaml_scan(struct inv_scan *sc, const struct ydoc_node *root) {
  if (root->n == 0 || ydoc_get(root, "plugin")) {
    msg_err_set(sc->e, "the inventory is empty or a plugin configuration");
    return -1;
  }
  for (size_t i = 0; i + 1 < root->n; i += 2)
    if (yaml_group(sc, root->kids[i], root->kids[i + 1], 0) < 0)
      return -1;
  return 0;
}

/* ---- INI (ansible's ini inventory plugin) ------------------------------ */

/* The groups an INI inventory names, to find what Ansible rejects
   ([g:vars] or a child of an undefined group). */
struct ini_groups {
  char **defined; /* [g] and [g:children] headers */
  size_t n_defined;
  char **used; /* [g:vars] groups and children */
  size_t n_used;
  bool all_vars; /* the current section is [all:vars] */
};

static void names_add(char ***names, size_t *n, const char *name, size_t len) {
  *names = xrealloc(*names, (*n + 1) * sizeof **names);
  (*names)[(*n)++] = xstrndup(name, len);
}

static void ini_groups_clear(struct ini_groups *g) {
  for (size_t i = 0; i < g->n_defined; i++)
    free(g->defined[i]);
  for (size_t i = 0; i < g->n_used; i++)
    free(g->used[i]);
  free(g->defined);
  free(g->used);
}

static const char INI_SPACE[] = " \t\r";

/* A group name as the plugin's patterns take it: no ':', ']' or blank. */
static size_t ini_name_len(const char *s) {
  return strcspn(s, ":] \t\r");
}

/* A section header [NAME] or [NAME:KIND]; sets *STATE ('h'osts,
   'c'hildren, 'v'ars).  -1 (E set) when the plugin would reject it. */
static int ini_header(struct inv_scan *sc, struct ini_groups *g,
                      const char *line, char *state) {
  size_t n = ini_name_len(line + 1);
  const char *kind = line + 1 + n;
  const char *end = strchr(kind, ']');
  char k = 'h';
  if (n == 0 || !end ||
      (end[1] && end[1 + strspn(end + 1, INI_SPACE)] &&
       end[1 + strspn(end + 1, INI_SPACE)] != '#'))
    k = 0;
  else if (*kind == ':' && end - kind == 9 && !strncmp(kind, ":children", 9))
    k = 'c';
  else if (*kind == ':' && end - kind == 5 && !strncmp(kind, ":vars", 5))
    k = 'v';
  else if (*kind != ']')
    k = 0;
  if (!k) {
    msg_err_set(sc->e, "inventory section %.60s is not one we follow", line);
    return -1;
  }
  if (strncmp(line + 1, sc->host, n) == 0 && sc->host[n] == '\0')
    sc->group_named = true;
  g->all_vars = k == 'v' && n == 3 && strncmp(line + 1, "all", 3) == 0;
  if (k == 'v')
    names_add(&g->used, &g->n_used, line + 1, n);
  else
    names_add(&g->defined, &g->n_defined, line + 1, n);
  *state = k;
  return 0;
}

/* A host line: "PATTERN [key=value...]" (no quotes or escapes: shlex
   would read those). */
static int ini_host(struct inv_scan *sc, char *line) {
  if (strpbrk(line, "'\"\\")) {
    msg_err_set(sc->e, "an inventory host line has quotes or escapes");
    return -1;
  }
  char *save = NULL;
  char *pattern = strtok_r(line, INI_SPACE, &save);
  int names = pattern_names(sc, pattern);
  if (names <= 0)
    return names;
  sc->found++;
  for (char *t = strtok_r(NULL, INI_SPACE, &save); t && *t != '#';
       t = strtok_r(NULL, INI_SPACE, &save)) {
    char *eq = strchr(t, '=');
    if (!eq) {
      msg_err_set(sc->e, "an inventory host line has %.60s", t);
      return -1;
    }
    *eq = '\0';
    if (inv_var(sc, t, eq + 1, true) < 0)
      return -1;
  }
  return 0;
}

/* A [g:vars] line "key=value": the value is taken whole (no comments). */
static int ini_var(struct inv_scan *sc, const struct ini_groups *g,
                   char *line) {
  char *eq = strchr(line, '=');
  if (!eq) {
    msg_err_set(sc->e, "an inventory vars line is not key=value");
    return -1;
  }
  *eq = '\0';
  char *value = eq + 1 + strspn(eq + 1, INI_SPACE);
  size_t k = strlen(line);
  while (k > 0 && strchr(INI_SPACE, line[k - 1]))
    line[--k] = '\0';
  return inv_var(sc, line, value, g->all_vars);
}

/* Ansible's errors for undefined groups: [g:vars] or a child without its
   own [g] or [g:children] section. */
static int ini_check_groups(struct inv_scan *sc, const struct ini_groups *g) {
  for (size_t i = 0; i < g->n_used; i++) {
    bool ok = !strcmp(g->used[i], "all") || !strcmp(g->used[i], "ungrouped");
    for (size_t k = 0; !ok && k < g->n_defined; k++)
      ok = strcmp(g->used[i], g->defined[k]) == 0;
    if (!ok) {
      msg_err_set(sc->e, "inventory group %.60s is not defined", g->used[i]);
      return -1;
    }
  }
  return 0;
}

static int ini_line(struct inv_scan *sc, struct ini_groups *g, char *line,
                    char *state) {
  line += strspn(line, INI_SPACE);
  size_t n = strlen(line);
  while (n > 0 && strchr(INI_SPACE, line[n - 1]))
    line[--n] = '\0';
  if (!*line || *line == '#' || *line == ';')
    return 0;
  if (*line == '[')
    return ini_header(sc, g, line, state);
  if (*state == 'v')
    return ini_var(sc, g, line);
  if (*state == 'c') {
    size_t len = ini_name_len(line);
    const char *rest = line + len + strspn(line + len, INI_SPACE);
    if (len == 0 || (*rest && *rest != '#')) {
      msg_err_set(sc->e, "an inventory children line is not a group name");
      return -1;
    }
    if (len == strlen(sc->host) && strncmp(line, sc->host, len) == 0)
      sc->group_named = true;
    names_add(&g->used, &g->n_used, line, len);
    return 0;
  }
  return ini_host(sc, line);
}

static int ini_scan(struct inv_scan *sc, char *text) {
  for (const unsigned char *p = (const unsigned char *)text; *p; p++)
    if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p >= 0x7f ||
        (*p == '\r' && p[1] != '\n')) {
      msg_err_set(sc->e, "the inventory has bytes we do not split like "
                         "Python");
      return -1;
    }
  struct ini_groups g = {0};
  char state = 'h';
  int rc = 0;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && !rc;
       line = strtok_r(NULL, "\n", &save))
    rc = ini_line(sc, &g, line, &state);
  if (rc == 0)
    rc = ini_check_groups(sc, &g);
  ini_groups_clear(&g);
  return rc;
}

/* ---- the inventory file and its surroundings --------------------------- */

/* Settings that change how Ansible reads inventories or which variables
   reach a host: inventory plugin settings, vars plugins, precedence. */
static int settings_ok(const struct acfg *cfg, struct msg_err *e) {
  static const char *const envs[] = {"ANSIBLE_YAML_FILENAME_EXT",
                                     "ANSIBLE_VARS_ENABLED",
                                     "ANSIBLE_VARS_PLUGINS",
                                     "ANSIBLE_PRECEDENCE",
                                     "ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS",
                                     NULL};
  static const char *const keys[] = {"yaml_valid_extensions",
                                     "vars_plugins_enabled",
                                     "vars_plugins",
                                     "precedence",
                                     "force_valid_group_names",
                                     "home",
                                     NULL};
  const char *set = NULL;
  for (char **v = environ; *v && !set; v++)
    if (strncmp(*v, "ANSIBLE_INVENTORY_", 18) == 0)
      set = "an ANSIBLE_INVENTORY_* variable";
  for (size_t i = 0; envs[i] && !set; i++)
    if (getenv(envs[i]))
      set = envs[i];
  for (size_t i = 0; keys[i] && !set; i++)
    if (acfg_get(cfg, NULL, keys[i]))
      set = keys[i];
  if (!set && acfg_section_used(cfg, "inventory"))
    set = "an [inventory] setting";
  const char *home = getenv("ANSIBLE_HOME");
  const char *user = getenv("HOME");
  cleanup_free char *mine =
      home ? xasprintf("%s/plugins/vars", home)
           : xasprintf("%s/.ansible/plugins/vars", user ? user : "");
  struct stat st;
  if (!set && (stat(mine, &st) == 0 ||
               stat("/usr/share/ansible/plugins/vars", &st) == 0))
    set = "a vars plugin directory";
  if (set) {
    msg_err_set(e, "%s is set or exists (inventory or vars plugins)", set);
    return -1;
  }
  return 0;
}

/* host_vars/ and group_vars/ beside the inventory or the playbook. */
static int no_vars_dirs(const char *inventory, const char *playbook_dir,
                        struct msg_err *e) {
  const char *slash = strrchr(inventory, '/');
  cleanup_free char *inv_dir =
      slash ? xstrndup(inventory, (size_t)(slash - inventory)) : xstrdup(".");
  const char *dirs[] = {*inv_dir ? inv_dir : "/", playbook_dir};
  for (size_t i = 0; i < 2; i++)
    for (int k = 0; k < 2; k++) {
      cleanup_free char *p =
          xasprintf("%s/%s", dirs[i], k ? "host_vars" : "group_vars");
      struct stat st;
      if (lstat(p, &st) == 0) {
        msg_err_set(e, "%.200s exists", p);
        return -1;
      }
    }
  return 0;
}

/* How Ansible's plugins take the file: the yaml plugin for .yml, .yaml,
   .json or no extension (the ini plugin when that YAML is not a mapping),
   else the ini plugin. */
static bool yaml_extension(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base)
    return true; /* Python's splitext: no extension */
  static const char *const exts[] = {".yml", ".yaml", ".json", NULL};
  return util_str_in(dot, exts);
}

int inv_local_host(const char *path, const char *host,
                   const char *playbook_dir, const struct acfg *cfg,
                   struct msg_err *e) {
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111)) {
    msg_err_set(e, "inventory %s is not a plain file", path);
    return -1;
  }
  if (settings_ok(cfg, e) < 0 || no_vars_dirs(path, playbook_dir, e) < 0)
    return -1;
  size_t len;
  cleanup_free char *text = util_read_file(path, INV_MAX_SIZE, &len);
  if (!text) {
    msg_err_set(e, "inventory %s: %s", path, strerror(errno));
    return -1;
  }
  if (strlen(text) != len || vault_is_encrypted(text, len)) {
    msg_err_set(e, "inventory %s holds a NUL or is encrypted", path);
    return -1;
  }
  struct inv_scan sc = {.host = host, .e = e};
  int rc;
  bool yaml = yaml_extension(path);
  cleanup_ydoc struct ydoc_node *root =
      yaml ? ydoc_parse(text, len, false, e) : NULL;
  if (yaml && !root)
    return -1; /* not YAML we read, or the ini plugin's business */
  if (root && root->type == YDOC_MAP)
    rc = yaml_scan(&sc, root);
  else
    rc = ini_scan(&sc, text);
  if (rc < 0)
    return -1;
  if (sc.group_named) {
    msg_err_set(e, "%.64s is a group name in the inventory", host);
    return -1;
  }
  if (sc.found == 0)
    return 0;
  if (!sc.local) {
    msg_err_set(e, "host %.64s does not have ansible_connection: local", host);
    return -1;
  }
  return 1;
}
