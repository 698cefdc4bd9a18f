/* SPDX-License-Identifier: GPL-3.0-or-later */
/* textout.c: the devkit's --text output, ansible-core 2.14's default
 * callback (no colour, 79 columns) for one play that include_role's the
 * controller role.  It owns reading the role's files for that purpose
 * and rendering the text from the exchanges an action made and its
 * result.  Understood, and nothing else: main.yml a list of named
 * include_tasks each under `when: proxmox_vm_action == "X"`; the
 * action's file one block under the same condition, of named tasks:
 * uri (url of literal text and {{ var }}, method, headers,
 * validate_certs, return_content, body_format, body; optional
 * register), debug with only `var:` (a uri's register, or the action's
 * variable once a set_fact set it), set_fact (optionally with loop over
 * "{{ REG.json.data }}").  Each uri task is the exchange of the same
 * method and URL (the last one not yet passed); other exchanges (task
 * polling) map to no task.  What ansible prints of them: Python's
 * json.dumps and repr of the values, the uri module's result keys. */
#define _GNU_SOURCE
#include "textout.h"

#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOUT_MAX_FILE (1024 * 1024)
#define TOUT_COLUMNS 79

enum tout_kind { TOUT_URI, TOUT_DEBUG, TOUT_SET_FACT };

struct tout_task {
  enum tout_kind kind;
  char *name;
  char *method;     /* uri */
  char *url;        /* uri: the template */
  bool content;     /* uri: return_content */
  char *reg;        /* uri: register, or NULL */
  char *var;        /* debug: the variable */
  char *loop_reg;   /* set_fact: the register looped over, or NULL */
  bool sets_action; /* set_fact: sets the action's variable */
};

/* ---- Python's text of values ------------------------------------------ */

static void put(struct buf *b, const char *s) {
  if (buf_puts(b, s) < 0)
    die_oom();
}

static void putn(struct buf *b, const char *s, size_t n) {
  if (buf_append(b, s, n) < 0)
    die_oom();
}

/* repr() of a float. */
static void py_float(struct buf *b, double v) {
  char digits[40];
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(digits, sizeof digits, "%.*e", prec - 1, v);
    if (strtod(digits, NULL) == v)
      break;
  }
  /* digits: [-]d[.ddd]e[+-]XX */
  char *e = strchr(digits, 'e');
  int exp = atoi(e + 1);
  *e = '\0';
  char mant[40];
  size_t m = 0;
  const char *p = digits;
  bool neg = *p == '-';
  if (neg)
    p++;
  for (; *p; p++)
    if (isdigit((unsigned char)*p))
      mant[m++] = *p;
  mant[m] = '\0';
  if (neg)
    put(b, "-");
  if (exp >= -5 + 1 && exp < 16) { /* fixed notation */
    if (exp < 0) {
      put(b, "0.");
      for (int i = -1; i > exp; i--)
        put(b, "0");
      put(b, mant);
    } else {
      for (int i = 0; i <= exp; i++)
        putn(b, (size_t)i < m ? mant + i : "0", 1);
      put(b, ".");
      if ((size_t)exp + 1 < m)
        put(b, mant + exp + 1);
      else
        put(b, "0");
    }
    return;
  }
  putn(b, mant, 1);
  if (m > 1) {
    put(b, ".");
    put(b, mant + 1);
  }
  if (buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp)) < 0)
    die_oom();
}

static void py_number(struct buf *b, const cJSON *item) {
  const char *text = item->valuestring;
  if (text && !strpbrk(text, ".eE")) {
    put(b, strcmp(text, "-0") == 0 ? "0" : text);
    return;
  }
  double v = text ? strtod(text, NULL) : item->valuedouble;
  if (!text && v > -1e16 && v < 1e16 && v == (double)(long long)v) {
    if (buf_printf(b, "%.0f", v == 0 ? 0.0 : v) < 0)
      die_oom();
    return;
  }
  py_float(b, v);
}

/* S as a JSON string, ensure_ascii=False. */
static void json_string(struct buf *b, const char *s) {
  put(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    switch (*p) {
    case '"':
      put(b, "\\\"");
      break;
    case '\\':
      put(b, "\\\\");
      break;
    case '\n':
      put(b, "\\n");
      break;
    case '\r':
      put(b, "\\r");
      break;
    case '\t':
      put(b, "\\t");
      break;
    case '\b':
      put(b, "\\b");
      break;
    case '\f':
      put(b, "\\f");
      break;
    default:
      if (*p < 0x20) {
        snprintf(esc, sizeof esc, "\\u%04x", *p);
        put(b, esc);
      } else {
        putn(b, (const char *)p, 1);
      }
    }
  }
  put(b, "\"");
}

static int key_cmp(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string, y->string);
}

static void newline(struct buf *b, int indent, int depth) {
  if (indent < 0)
    return;
  put(b, "\n");
  for (int i = 0; i < indent * depth; i++)
    put(b, " ");
}

void tout_json(struct buf *b, const cJSON *item, int indent, int depth) {
  if (cJSON_IsString(item)) {
    json_string(b, item->valuestring);
  } else if (cJSON_IsNumber(item)) {
    py_number(b, item);
  } else if (cJSON_IsBool(item)) {
    put(b, cJSON_IsTrue(item) ? "true" : "false");
  } else if (cJSON_IsNull(item) ||
             !(cJSON_IsArray(item) || cJSON_IsObject(item))) {
    put(b, "null");
  } else {
    bool obj = cJSON_IsObject(item);
    int n = cJSON_GetArraySize(item);
    if (n == 0) {
      put(b, obj ? "{}" : "[]");
      return;
    }
    const cJSON **kids = xcalloc((size_t)n, sizeof *kids);
    int i = 0;
    for (const cJSON *k = item->child; k && i < n; k = k->next)
      kids[i++] = k;
    if (obj)
      qsort(kids, (size_t)n, sizeof *kids, key_cmp);
    put(b, obj ? "{" : "[");
    for (i = 0; i < n; i++) {
      if (i)
        put(b, indent < 0 ? ", " : ",");
      newline(b, indent, depth + 1);
      if (obj) {
        json_string(b, kids[i]->string);
        put(b, ": ");
      }
      tout_json(b, kids[i], indent, depth + 1);
    }
    free(kids);
    newline(b, indent, depth);
    put(b, obj ? "}" : "]");
  }
}

/* repr() of a str: Python's quote choice and escapes (printable
   non-ASCII kept; C1 controls and U+00A0/U+00AD escaped). */
static void py_string(struct buf *b, const char *s) {
  char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
  putn(b, &q, 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    if (*p == '\\' || *p == (unsigned char)q) {
      put(b, "\\");
      putn(b, (const char *)p, 1);
    } else if (*p == '\n') {
      put(b, "\\n");
    } else if (*p == '\r') {
      put(b, "\\r");
    } else if (*p == '\t') {
      put(b, "\\t");
    } else if (*p < 0x20 || *p == 0x7f) {
      snprintf(esc, sizeof esc, "\\x%02x", *p);
      put(b, esc);
    } else if (*p == 0xc2 && p[1] >= 0x80 && (p[1] <= 0xa0 || p[1] == 0xad)) {
      snprintf(esc, sizeof esc, "\\x%02x", p[1]);
      put(b, esc);
      p++;
    } else {
      putn(b, (const char *)p, 1);
    }
  }
  putn(b, &q, 1);
}

void tout_repr(struct buf *b, const cJSON *item) {
  if (cJSON_IsString(item)) {
    py_string(b, item->valuestring);
  } else if (cJSON_IsNumber(item)) {
    py_number(b, item);
  } else if (cJSON_IsBool(item)) {
    put(b, cJSON_IsTrue(item) ? "True" : "False");
  } else if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
    bool obj = cJSON_IsObject(item);
    put(b, obj ? "{" : "[");
    for (const cJSON *k = item->child; k; k = k->next) {
      if (k != item->child)
        put(b, ", ");
      if (obj) {
        py_string(b, k->string);
        put(b, ": ");
      }
      tout_repr(b, k);
    }
    put(b, obj ? "}" : "]");
  } else {
    put(b, "None");
  }
}

/* ---- bodies: numbers with their text ---------------------------------- */

/* The JSON number texts of BODY in document order, into *TEXTS. */
static size_t number_texts(const char *s, size_t len, char ***texts) {
  size_t n = 0;
  *texts = NULL;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"') {
      for (i++; i < len && s[i] != '"'; i++)
        if (s[i] == '\\')
          i++;
    } else if (s[i] == '-' || isdigit((unsigned char)s[i])) {
      size_t j = i;
      while (j < len && strchr("+-.eE0123456789", s[j]) && s[j])
        j++;
      *texts = xrealloc(*texts, (n + 1) * sizeof **texts);
      (*texts)[n++] = xstrndup(s + i, j - i);
      i = j - 1;
    }
  }
  return n;
}

/* Gives each number of ITEM (document order) the next text; false when
   they do not match. */
static bool attach(cJSON *item, char **texts, size_t n, size_t *next) {
  if (cJSON_IsNumber(item)) {
    if (*next >= n)
      return false;
    item->valuestring = texts[*next];
    texts[(*next)++] = NULL;
    return true;
  }
  for (cJSON *k = item->child; k; k = k->next)
    if (!attach(k, texts, n, next))
      return false;
  return true;
}

cJSON *tout_parse_body(const char *body, size_t len) {
  cJSON *root = cJSON_ParseWithLength(body, len);
  if (!root)
    return NULL;
  char **texts;
  size_t n = number_texts(body, len, &texts), next = 0;
  bool ok = attach(root, texts, n, &next) && next == n;
  for (size_t i = 0; i < n; i++)
    free(texts[i]);
  free(texts);
  if (!ok) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

/* ---- the role's files ------------------------------------------------- */

/* A task or include name: a literal of printable ASCII. */
static char *task_name(const struct ydoc_node *task, struct msg_err *e) {
  const char *name = ydoc_literal(ydoc_get(task, "name"));
  if (!name || !*name) {
    msg_err_set(e, "a task without a literal name");
    return NULL;
  }
  for (const char *p = name; *p; p++)
    if (*p < 0x20 || *p > 0x7e) {
      msg_err_set(e, "a task name that is not printable ASCII");
      return NULL;
    }
  return xstrdup(name);
}

/* The X of a `proxmox_vm_action == "X"` condition, or NULL. */
static char *when_action(const struct ydoc_node *when) {
  static const char pre[] = "proxmox_vm_action == \"";
  if (!when || when->type != YDOC_SCALAR || !when->plain || when->tagged)
    return NULL;
  const char *s = when->text;
  if (strncmp(s, pre, sizeof pre - 1) != 0)
    return NULL;
  s += sizeof pre - 1;
  size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
  if (n == 0 || strcmp(s + n, "\"") != 0)
    return NULL;
  return xstrndup(s, n);
}

/* Whether MAP's keys are all among KEYS (NULL-ended). */
static bool keys_within(const struct ydoc_node *map, const char *const *keys) {
  if (!map || map->type != YDOC_MAP)
    return false;
  for (size_t i = 0; i < map->n; i += 2) {
    const char *k = map->kids[i]->text;
    bool found = false;
    for (const char *const *p = keys; *p && !found; p++)
      found = k && strcmp(k, *p) == 0;
    if (!found)
      return false;
  }
  return true;
}

/* The module argument of TASK for NAME or ansible.builtin.NAME. */
static const struct ydoc_node *module(const struct ydoc_node *task,
                                      const char *name, const char **key) {
  static char full[64];
  snprintf(full, sizeof full, "ansible.builtin.%s", name);
  const struct ydoc_node *n = ydoc_get(task, name);
  *key = name;
  if (!n) {
    n = ydoc_get(task, full);
    *key = full;
  }
  return n;
}

static struct ydoc_node *load_yaml(const char *path, struct msg_err *e) {
  size_t len;
  cleanup_free char *text = util_read_file(path, TOUT_MAX_FILE, &len);
  if (!text) {
    msg_err_set(e, "cannot read %.200s: %s", path, util_strerror(errno));
    return NULL;
  }
  return ydoc_parse(text, len, false, e);
}

/* A url template: literal text and {{ name }} only. */
static bool url_ok(const char *url) {
  for (const char *p = url; *p; p++) {
    if (p[0] == '{' && p[1] == '{') {
      const char *end = strstr(p, "}}");
      if (!end)
        return false;
      const char *s = p + 2;
      while (*s == ' ')
        s++;
      size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
      const char *t = s + n;
      while (*t == ' ')
        t++;
      if (n == 0 || t != end)
        return false;
      p = end + 1;
    } else if ((p[0] == '{' && (p[1] == '%' || p[1] == '#')) || *p == '}') {
      return false;
    }
  }
  return true;
}

static int load_uri(struct tout_task *t, const struct ydoc_node *task,
                    const struct ydoc_node *args, struct msg_err *e) {
  static const char *const keys[] = {
      "url",         "method", "headers", "validate_certs", "return_content",
      "body_format", "body",   NULL};
  const char *url = ydoc_get(args, "url") ? ydoc_get(args, "url")->text : NULL;
  const struct ydoc_node *m = ydoc_get(args, "method");
  const struct ydoc_node *rc = ydoc_get(args, "return_content");
  const struct ydoc_node *reg = ydoc_get(task, "register");
  if (!keys_within(args, keys) || !url || !url_ok(url) ||
      (m && !ydoc_literal(m)) || (reg && !ydoc_literal(reg))) {
    msg_err_set(e, "uri task %.80s: arguments we do not reproduce", t->name);
    return -1;
  }
  t->method = xstrdup(m ? ydoc_literal(m) : "GET");
  if (strcmp(t->method, "GET") && strcmp(t->method, "POST") &&
      strcmp(t->method, "DELETE") && strcmp(t->method, "PUT")) {
    msg_err_set(e, "uri task %.80s: method %.10s", t->name, t->method);
    return -1;
  }
  if (rc) {
    const char *v = rc->type == YDOC_SCALAR && rc->plain ? rc->text : "";
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "True"))
      t->content = true;
    else if (!ydoc_is_false(rc)) {
      msg_err_set(e, "uri task %.80s: return_content", t->name);
      return -1;
    }
  }
  t->url = xstrdup(url);
  t->reg = reg ? xstrdup(ydoc_literal(reg)) : NULL;
  return 0;
}

/* Whether a prior task of T registered NAME. */
static bool registered(const struct tout *t, const char *name) {
  for (size_t i = 0; i < t->n_tasks; i++)
    if (t->tasks[i].reg && strcmp(t->tasks[i].reg, name) == 0)
      return true;
  return false;
}

static int load_loop(struct tout *t, struct tout_task *task,
                     const struct ydoc_node *loop, struct msg_err *e) {
  const char *s = loop->type == YDOC_SCALAR ? loop->text : "";
  char reg[64] = "";
  int end = 0;
  if (sscanf(s, "{{ %63[A-Za-z0-9_].json.data }}%n", reg, &end) != 1 ||
      s[end] != '\0' || strncmp(s, "{{ ", 3) || !registered(t, reg)) {
    msg_err_set(e, "set_fact %.80s: a loop we do not reproduce", task->name);
    return -1;
  }
  task->loop_reg = xstrdup(reg);
  return 0;
}

static bool action_set(const struct tout *t) {
  for (size_t i = 0; i < t->n_tasks; i++)
    if (t->tasks[i].sets_action)
      return true;
  return false;
}

/* One task of the block, appended to T's. */
static int load_task(struct tout *t, const struct ydoc_node *node,
                     struct msg_err *e) {
  static const char *const keys[] = {"name",
                                     "uri",
                                     "ansible.builtin.uri",
                                     "debug",
                                     "ansible.builtin.debug",
                                     "set_fact",
                                     "ansible.builtin.set_fact",
                                     "register",
                                     "loop",
                                     NULL};
  if (!keys_within(node, keys) ||
      node->n !=
          (ydoc_get(node, "register") || ydoc_get(node, "loop") ? 6 : 4)) {
    msg_err_set(e, "a task with keys we do not reproduce");
    return -1;
  }
  struct tout_task task = {0};
  if (!(task.name = task_name(node, e)))
    return -1;
  const char *key;
  const struct ydoc_node *args;
  int rc = 0;
  bool reg = ydoc_get(node, "register"), loop = ydoc_get(node, "loop");
  if ((args = module(node, "uri", &key)) && !loop) {
    task.kind = TOUT_URI;
    rc = load_uri(&task, node, args, e);
  } else if ((args = module(node, "debug", &key)) && !reg && !loop) {
    static const char *const dkeys[] = {"var", NULL};
    const char *var = ydoc_literal(ydoc_get(args, "var"));
    task.kind = TOUT_DEBUG;
    if (!keys_within(args, dkeys) || !var ||
        !(registered(t, var) || (!strcmp(var, t->action) && action_set(t)))) {
      msg_err_set(e, "debug %.80s: not a var we reproduce", task.name);
      rc = -1;
    } else {
      task.var = xstrdup(var);
    }
  } else if ((args = module(node, "set_fact", &key)) && !reg &&
             args->type == YDOC_MAP) {
    task.kind = TOUT_SET_FACT;
    task.sets_action = ydoc_get(args, t->action) != NULL;
    if (ydoc_get(args, "cacheable") ||
        (loop && load_loop(t, &task, ydoc_get(node, "loop"), e) < 0)) {
      msg_err_set(e, "set_fact %.80s: not reproduced", task.name);
      rc = -1;
    }
  } else {
    msg_err_set(e, "task %.80s: a module we do not reproduce", task.name);
    rc = -1;
  }
  t->tasks = xrealloc(t->tasks, (t->n_tasks + 1) * sizeof *t->tasks);
  t->tasks[t->n_tasks++] = task;
  return rc;
}

/* The action's file: one block under the action's condition. */
static int load_include(struct tout *t, const char *path, struct msg_err *e) {
  static const char *const keys[] = {"block", "when", NULL};
  cleanup_ydoc struct ydoc_node *doc = load_yaml(path, e);
  if (!doc)
    return -1;
  const struct ydoc_node *blk =
      doc->type == YDOC_SEQ && doc->n == 1 ? doc->kids[0] : NULL;
  cleanup_free char *when = when_action(ydoc_get(blk, "when"));
  const struct ydoc_node *tasks = ydoc_get(blk, "block");
  if (!keys_within(blk, keys) || !when || strcmp(when, t->action) || !tasks ||
      tasks->type != YDOC_SEQ) {
    msg_err_set(e, "%.200s is not one block under the action's condition",
                path);
    return -1;
  }
  for (size_t i = 0; i < tasks->n; i++)
    if (load_task(t, tasks->kids[i], e) < 0)
      return -1;
  return 0;
}

/* main.yml: the includes and their conditions. */
static int load_main(struct tout *t, const struct ydoc_node *doc,
                     struct msg_err *e) {
  static const char *const keys[] = {
      "name", "include_tasks", "ansible.builtin.include_tasks", "when", NULL};
  if (doc->type != YDOC_SEQ) {
    msg_err_set(e, "main.yml is not a task list");
    return -1;
  }
  bool found = false;
  t->main_names = xcalloc(doc->n + 1, sizeof *t->main_names);
  for (size_t i = 0; i < doc->n; i++) {
    const struct ydoc_node *task = doc->kids[i];
    const char *key;
    const char *inc = ydoc_literal(module(task, "include_tasks", &key));
    cleanup_free char *when = when_action(ydoc_get(task, "when"));
    if (!keys_within(task, keys) || task->n != 6 || !inc || !when ||
        !(t->main_names[i] = task_name(task, e))) {
      msg_err_set(e, "main.yml task %zu: not an include we reproduce", i + 1);
      return -1;
    }
    t->n_main = i + 1;
    if (strcmp(when, t->action) != 0)
      continue;
    if (found || inc[0] == '/' || strstr(inc, "..")) {
      msg_err_set(e, "main.yml: the action's include is not one plain file");
      return -1;
    }
    found = true;
    t->match = i;
    t->include = xstrdup(inc);
  }
  if (!found) {
    msg_err_set(e, "main.yml has no include for %.40s", t->action);
    return -1;
  }
  return 0;
}

int tout_load(struct tout *t, const char *role_dir, const char *role_name,
              const char *action, struct msg_err *e) {
  memset(t, 0, sizeof *t);
  t->role_dir = xstrdup(role_dir);
  t->role_name = xstrdup(role_name);
  t->action = xstrdup(action);
  cleanup_free char *main_path = xasprintf("%s/tasks/main.yml", role_dir);
  cleanup_ydoc struct ydoc_node *doc = load_yaml(main_path, e);
  int rc = doc ? load_main(t, doc, e) : -1;
  if (rc == 0) {
    cleanup_free char *inc = xasprintf("%s/tasks/%s", role_dir, t->include);
    rc = load_include(t, inc, e);
  }
  if (rc < 0)
    tout_clear(t);
  return rc;
}

void tout_clear(struct tout *t) {
  for (size_t i = 0; i < t->n_tasks; i++) {
    struct tout_task *k = &t->tasks[i];
    free(k->name);
    free(k->method);
    free(k->url);
    free(k->reg);
    free(k->var);
    free(k->loop_reg);
  }
  free(t->tasks);
  for (size_t i = 0; i < t->n_main; i++)
    free(t->main_names[i]);
  free(t->main_names);
  free(t->include);
  free(t->role_dir);
  free(t->role_name);
  free(t->action);
  memset(t, 0, sizeof *t);
}

/* ---- rendering -------------------------------------------------------- */

struct render {
  const struct tout *t;
  const struct tout_call *call;
  struct buf *out;
  size_t next_x; /* exchanges before it are passed */
  cJSON **regs;  /* each task's registered result (uri), or NULL */
  const struct pve_exchange **xs; /* each uri task's exchange */
  bool action_skipped; /* the set_fact of the action var was skipped */
  int ok, skipped;
};

static void banner(struct buf *b, const char *msg) {
  int stars = TOUT_COLUMNS - (int)strlen(msg);
  if (stars <= 3)
    stars = 3;
  put(b, "\n");
  put(b, msg);
  put(b, " ");
  for (int i = 0; i < stars; i++)
    put(b, "*");
  put(b, "\n");
}

static void task_banner(struct render *r, const char *name) {
  cleanup_free char *msg = xasprintf("TASK [%s : %s]", r->t->role_name, name);
  banner(r->out, msg);
}

/* The url template TPL with the call's vars; NULL when one is missing. */
static char *expand(const char *tpl, const struct vars *v) {
  struct buf b;
  buf_init(&b, 1 << 16);
  for (const char *p = tpl; *p; p++) {
    if (p[0] == '{' && p[1] == '{') {
      const char *s = p + 2, *end = strstr(p, "}}");
      while (*s == ' ')
        s++;
      size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
      cleanup_free char *name = xstrndup(s, n);
      const char *val = vars_get(v, name);
      if (!val) {
        buf_free(&b);
        return NULL;
      }
      put(&b, val);
      p = end + 1;
    } else {
      putn(&b, p, 1);
    }
  }
  return b.data ? b.data : xstrdup("");
}

/* The last exchange from the cursor on with METHOD and URL. */
static const struct pve_exchange *find_x(struct render *r, const char *method,
                                         const char *url) {
  const struct pve_exchange *found = NULL;
  size_t at = 0;
  for (size_t i = r->next_x; i < r->call->n_x; i++) {
    const struct pve_exchange *x = &r->call->x[i];
    if (!strcmp(x->method, method) && !strcmp(x->url, url)) {
      found = x;
      at = i;
    }
  }
  if (found)
    r->next_x = at + 1;
  return found;
}

static const char *header(const struct pve_exchange *x, const char *name) {
  const char *v = NULL;
  for (size_t i = 0; i < x->n_headers; i++)
    if (!strcasecmp(x->names[i], name))
      v = x->values[i];
  return v;
}

/* Whether the uri module parses X's body as JSON: a json or javascript
   (sub)type, in UTF-8.  -1 when the charset is another. */
static int json_type(const struct pve_exchange *x) {
  const char *ct = header(x, "content-type");
  if (!ct)
    return 0;
  const char *slash = strchr(ct, '/');
  if (!slash)
    return 0;
  size_t n = strcspn(slash + 1, "; ");
  cleanup_free char *sub = xstrndup(slash + 1, n);
  for (char *p = sub; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  const char *plus = strchr(sub, '+');
  const char *t = plus ? plus + 1 : sub;
  const char *cs = strcasestr(ct, "charset=");
  if (cs && strncasecmp(cs + 8, "utf-8", 5) && strncasecmp(cs + 8, "utf8", 4))
    return -1;
  return !strcmp(t, "json") || !strcmp(t, "javascript");
}

/* Whether S is valid UTF-8 (what to_text decodes without surrogates). */
static bool utf8_ok(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    int n = *p < 0x80             ? 0
            : (*p & 0xe0) == 0xc0 ? 1
            : (*p & 0xf0) == 0xe0 ? 2
            : (*p & 0xf8) == 0xf0 ? 3
                                  : -1;
    if (n < 0 || (n == 1 && *p < 0xc2))
      return false;
    for (int i = 1; i <= n; i++)
      if ((p[i] & 0xc0) != 0x80)
        return false;
    p += n + 1;
  }
  return true;
}

/* The uri module's result for X (headers, status, json, ...): OK says
   whether it is the registered result of a success (cookies, failed) or
   a failure's. */
static cJSON *uri_result(const struct tout_task *task,
                         const struct pve_exchange *x, bool ok,
                         struct msg_err *e) {
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; i < x->n_headers; i++) {
    cleanup_free char *key = xstrdup(x->names[i]);
    for (char *p = key; *p; p++)
      *p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
    cJSON *old = cJSON_GetObjectItemCaseSensitive(o, key);
    if (old) { /* repeated: joined, as ansible's urls does */
      cleanup_free char *v =
          xasprintf("%s, %s", old->valuestring, x->values[i]);
      cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(v));
    } else {
      cJSON_AddStringToObject(o, key, x->values[i]);
    }
  }
  int js = json_type(x);
  if (js < 0 || strlen(x->body) != x->body_len || !utf8_ok(x->body)) {
    msg_err_set(e, "%s %s: a body we do not reproduce", x->method, x->url);
    cJSON_Delete(o);
    return NULL;
  }
  const char *len = header(x, "content-length");
  cleanup_free char *msg = xasprintf("OK (%s bytes)", len ? len : "unknown");
  if (!ok) {
    free(msg);
    msg = xasprintf("Status code was %ld and not [200]: HTTP Error %ld: %s",
                    x->status, x->status, x->reason);
  } else {
    cJSON_AddItemToObject(o, "cookies", cJSON_CreateObject());
    cJSON_AddStringToObject(o, "cookies_string", "");
    cJSON_AddBoolToObject(o, "failed", false);
  }
  cJSON_AddBoolToObject(o, "changed", false);
  cJSON_AddNumberToObject(o, "elapsed", (double)(long long)x->seconds);
  cJSON_AddStringToObject(o, "msg", msg);
  cJSON_AddBoolToObject(o, "redirected", false);
  cJSON_AddNumberToObject(o, "status", (double)x->status);
  cJSON_AddStringToObject(o, "url", x->url);
  cJSON *parsed = js ? tout_parse_body(x->body, x->body_len) : NULL;
  if (parsed)
    cJSON_AddItemToObject(o, "json", parsed);
  if (task->content)
    cJSON_AddStringToObject(o, "content", x->body);
  return o;
}

static void ok_line(struct render *r) {
  put(r->out, "ok: [");
  put(r->out, r->call->host);
  put(r->out, "]");
}

/* "ok: [host] => " and {NAME: VALUE} as the debug module's result. */
static void debug_line(struct render *r, const char *name,
                       const cJSON *value) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, name,
                        value ? cJSON_Duplicate(value, true)
                              : cJSON_CreateString("VARIABLE IS NOT "
                                                   "DEFINED!"));
  ok_line(r);
  put(r->out, " => ");
  tout_json(r->out, o, 4, 0);
  put(r->out, "\n");
  cJSON_Delete(o);
}

/* Task I of the block.  1 when it failed (the play stops), 0, or -1. */
static int render_task(struct render *r, size_t i, struct msg_err *e) {
  const struct tout_task *task = &r->t->tasks[i];
  task_banner(r, task->name);
  if (task->kind == TOUT_URI) {
    cleanup_free char *url = expand(task->url, r->call->vars);
    const struct pve_exchange *x = url ? find_x(r, task->method, url) : NULL;
    if (!x) {
      msg_err_set(e, "uri task %.80s: no exchange of the action", task->name);
      return -1;
    }
    bool ok = x->status == 200;
    if (!ok && x->status < 400) {
      msg_err_set(e, "uri task %.80s: status %ld", task->name, x->status);
      return -1;
    }
    cJSON *res = uri_result(task, x, ok, e);
    if (!res)
      return -1;
    if (!ok) {
      put(r->out, "fatal: [");
      put(r->out, r->call->host);
      put(r->out, "]: FAILED! => ");
      tout_json(r->out, res, -1, 0);
      put(r->out, "\n");
      cJSON_Delete(res);
      return 1;
    }
    r->regs[i] = res;
    r->xs[i] = x;
    ok_line(r);
    put(r->out, "\n");
    r->ok++;
    return 0;
  }
  if (task->kind == TOUT_DEBUG) {
    const cJSON *v = NULL;
    for (size_t k = 0; k < i; k++)
      if (r->t->tasks[k].reg && !strcmp(r->t->tasks[k].reg, task->var))
        v = r->regs[k];
    if (!v && !strcmp(task->var, r->t->action)) {
      if (!r->call->result) {
        msg_err_set(e, "debug %.80s: no result", task->name);
        return -1;
      }
      v = r->action_skipped ? NULL : r->call->result;
    }
    debug_line(r, task->var, v);
    r->ok++;
    return 0;
  }
  if (!task->loop_reg) {
    ok_line(r);
    put(r->out, "\n");
    r->ok++;
    return 0;
  }
  const cJSON *items = NULL;
  for (size_t k = 0; k < i; k++)
    if (r->t->tasks[k].reg && !strcmp(r->t->tasks[k].reg, task->loop_reg))
      items = cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(r->regs[k], "json"), "data");
  if (!cJSON_IsArray(items)) {
    msg_err_set(e, "set_fact %.80s: its loop is not a list", task->name);
    return -1;
  }
  if (!items->child) {
    put(r->out, "skipping: [");
    put(r->out, r->call->host);
    put(r->out, "]\n");
    r->skipped++;
    if (task->sets_action)
      r->action_skipped = true;
    return 0;
  }
  for (const cJSON *it = items->child; it; it = it->next) {
    ok_line(r);
    put(r->out, " => (item=");
    tout_repr(r->out, it);
    put(r->out, ")\n");
  }
  r->ok++;
  return 0;
}

static void recap(struct render *r, bool failed) {
  banner(r->out, "PLAY RECAP");
  if (buf_printf(r->out,
                 "%-26s : ok=%-4d changed=%-4d unreachable=%-4d failed=%-4d "
                 "skipped=%-4d rescued=%-4d ignored=%-4d\n\n",
                 r->call->host, r->ok, 0, 0, failed ? 1 : 0, r->skipped, 0,
                 0) < 0)
    die_oom();
}

int tout_render(const struct tout *t, const struct tout_call *call,
                struct buf *out, bool *failed, struct msg_err *e) {
  struct render r = {.t = t, .call = call, .out = out};
  r.regs = xcalloc(t->n_tasks + 1, sizeof *r.regs);
  r.xs = xcalloc(t->n_tasks + 1, sizeof *r.xs);
  *failed = false;
  cleanup_free char *play = xasprintf("PLAY [%s]", call->host);
  banner(out, play);
  cleanup_free char *run = xasprintf("TASK [%s]", call->task_name);
  banner(out, run);
  int rc = 0;
  for (size_t i = 0; i < t->n_main && rc == 0 && !*failed; i++) {
    task_banner(&r, t->main_names[i]);
    if (i != t->match) {
      put(out, "skipping: [");
      put(out, call->host);
      put(out, "]\n");
      r.skipped++;
      continue;
    }
    if (buf_printf(out, "included: %s/tasks/%s for %s\n", t->role_dir,
                   t->include, call->host) < 0)
      die_oom();
    r.ok++;
    for (size_t k = 0; k < t->n_tasks && rc == 0; k++) {
      rc = render_task(&r, k, e);
      if (rc == 1) {
        *failed = true;
        rc = 0;
        break;
      }
    }
  }
  if (rc == 0)
    recap(&r, *failed);
  for (size_t i = 0; i < t->n_tasks; i++)
    cJSON_Delete(r.regs[i]);
  free(r.regs);
  free(r.xs);
  return rc;
}
