/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ydoc.c: loads one YAML document into a ydoc_node tree with libyaml's
 * event API, and answers the questions Ansible's YAML 1.1 typing raises
 * ("is this plain scalar really the string it looks like?").  Owns no
 * knowledge of playbooks or vaults: play.c, vault.c and inventory.c do. */
#include "ydoc.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YDOC_MAX_DEPTH 64

struct loader {
  yaml_parser_t parser;
  bool secret;
  struct msg_err *err;
};

static struct ydoc_node *new_node(enum ydoc_type type, bool secret) {
  struct ydoc_node *node = xcalloc(1, sizeof *node);
  node->type = type;
  node->secret = secret;
  return node;
}

static void add_kid(struct ydoc_node *parent, struct ydoc_node *kid) {
  if ((parent->n & (parent->n - 1)) == 0) /* 0, 1, 2, 4...: grow */
    parent->kids =
        xrealloc(parent->kids, (parent->n ? parent->n * 2 : 1) * sizeof kid);
  parent->kids[parent->n++] = kid;
}

static void wipe_event(yaml_event_t *ev, bool secret) {
  if (secret && ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value)
    sodium_memzero(ev->data.scalar.value, ev->data.scalar.length);
  yaml_event_delete(ev);
}

/* Next event; 0 or -1 with the error set. */
static int next_event(struct loader *ld, yaml_event_t *ev) {
  if (!yaml_parser_parse(&ld->parser, ev)) {
    msg_err_set(ld->err, "YAML syntax error at line %lu: %s",
                (unsigned long)ld->parser.problem_mark.line + 1,
                ld->parser.problem ? ld->parser.problem : "unknown");
    return -1;
  }
  return 0;
}

static struct ydoc_node *load_node(struct loader *ld, yaml_event_t *ev,
                                   int depth);

static bool has_key(const struct ydoc_node *map, const char *key) {
  return ydoc_get(map, key) != NULL;
}

/* Loads the children of a sequence or mapping until its end event. */
static int load_children(struct loader *ld, struct ydoc_node *parent,
                         yaml_event_type_t end, int depth) {
  for (;;) {
    yaml_event_t ev;
    if (next_event(ld, &ev) < 0)
      return -1;
    if (ev.type == end) {
      yaml_event_delete(&ev);
      break;
    }
    if (parent->type == YDOC_MAP && parent->n % 2 == 0 &&
        ev.type != YAML_SCALAR_EVENT) {
      wipe_event(&ev, ld->secret);
      msg_err_set(ld->err, "YAML: a mapping key is not a scalar");
      return -1;
    }
    if (parent->type == YDOC_MAP && parent->n % 2 == 0) {
      const char *key = (const char *)ev.data.scalar.value;
      if (strcmp(key, "<<") == 0 || has_key(parent, key)) {
        wipe_event(&ev, ld->secret);
        msg_err_set(ld->err, "YAML: merge key or duplicate key");
        return -1;
      }
    }
    struct ydoc_node *kid = load_node(ld, &ev, depth + 1);
    if (!kid)
      return -1;
    add_kid(parent, kid);
  }
  return 0;
}

/* Builds the node that starts with EV (consumed). */
static struct ydoc_node *load_node(struct loader *ld, yaml_event_t *ev,
                                   int depth) {
  struct ydoc_node *node = NULL;
  if (depth > YDOC_MAX_DEPTH) {
    wipe_event(ev, ld->secret);
    msg_err_set(ld->err, "YAML: nested too deeply");
    return NULL;
  }
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    if (ev->data.scalar.anchor) {
      wipe_event(ev, ld->secret);
      msg_err_set(ld->err, "YAML: anchors are not supported");
      return NULL;
    }
    node = new_node(YDOC_SCALAR, ld->secret);
    node->line = (int)ev->start_mark.line + 1;
    node->len = ev->data.scalar.length;
    node->text = xmalloc(node->len + 1);
    memcpy(node->text, ev->data.scalar.value, node->len);
    node->text[node->len] = '\0';
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->tagged = ev->data.scalar.tag != NULL;
    wipe_event(ev, ld->secret);
    return node;
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
    bool anchored = seq ? ev->data.sequence_start.anchor != NULL
                        : ev->data.mapping_start.anchor != NULL;
    bool tagged = seq ? ev->data.sequence_start.tag != NULL
                      : ev->data.mapping_start.tag != NULL;
    int line = (int)ev->start_mark.line + 1;
    yaml_event_delete(ev);
    if (anchored) {
      msg_err_set(ld->err, "YAML: anchors are not supported");
      return NULL;
    }
    node = new_node(seq ? YDOC_SEQ : YDOC_MAP, ld->secret);
    node->tagged = tagged;
    node->line = line;
    if (load_children(ld, node,
                      seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT,
                      depth) < 0) {
      ydoc_free(node);
      return NULL;
    }
    return node;
  }
  case YAML_ALIAS_EVENT:
    yaml_event_delete(ev);
    msg_err_set(ld->err, "YAML: aliases are not supported");
    return NULL;
  default:
    yaml_event_delete(ev);
    msg_err_set(ld->err, "YAML: unexpected event");
    return NULL;
  }
}

/* Expects event TYPE next. */
static int expect(struct loader *ld, yaml_event_type_t type) {
  yaml_event_t ev;
  if (next_event(ld, &ev) < 0)
    return -1;
  bool ok = ev.type == type;
  wipe_event(&ev, ld->secret);
  if (!ok)
    msg_err_set(ld->err, "YAML: not exactly one document");
  return ok ? 0 : -1;
}

static struct ydoc_node *load_document(struct loader *ld) {
  if (expect(ld, YAML_STREAM_START_EVENT) < 0 ||
      expect(ld, YAML_DOCUMENT_START_EVENT) < 0)
    return NULL;
  yaml_event_t ev;
  if (next_event(ld, &ev) < 0)
    return NULL;
  struct ydoc_node *root = load_node(ld, &ev, 0);
  if (!root)
    return NULL;
  if (expect(ld, YAML_DOCUMENT_END_EVENT) < 0 ||
      expect(ld, YAML_STREAM_END_EVENT) < 0) {
    ydoc_free(root);
    return NULL;
  }
  return root;
}

/* libyaml keeps copies of the input in its buffers: wipe them too. */
static void wipe_parser(yaml_parser_t *p) {
  if (p->raw_buffer.start)
    sodium_memzero(p->raw_buffer.start,
                   (size_t)(p->raw_buffer.end - p->raw_buffer.start));
  if (p->buffer.start)
    sodium_memzero(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
}

struct ydoc_node *ydoc_parse(const char *text, size_t len, bool secret,
                             struct msg_err *e) {
  struct loader ld = {.secret = secret, .err = e};
  if (!yaml_parser_initialize(&ld.parser))
    die_oom();
  /* Ansible reads YAML as UTF-8 only, a leading BOM skipped; libyaml left
     to itself would also decode UTF-16 from its BOM. */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, len);
  yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
  struct ydoc_node *root = load_document(&ld);
  if (secret)
    wipe_parser(&ld.parser);
  yaml_parser_delete(&ld.parser);
  return root;
}

void ydoc_free(struct ydoc_node *node) {
  if (!node)
    return;
  for (size_t i = 0; i < node->n; i++)
    ydoc_free(node->kids[i]);
  free(node->kids);
  if (node->text && node->secret)
    sodium_memzero(node->text, node->len);
  free(node->text);
  free(node);
}

void ydoc_free_cb(struct ydoc_node **node) {
  ydoc_free(*node);
}

const struct ydoc_node *ydoc_get(const struct ydoc_node *map,
                                 const char *key) {
  if (!map || map->type != YDOC_MAP)
    return NULL;
  for (size_t i = 0; i + 1 < map->n; i += 2)
    if (map->kids[i]->type == YDOC_SCALAR &&
        strcmp(map->kids[i]->text, key) == 0)
      return map->kids[i + 1];
  return NULL;
}

/* ---- YAML 1.1 implicit typing (PyYAML's resolvers) -------------------- */

static bool word_in(const char *s, const char *const *list) {
  return util_str_in(s, list);
}

static bool all_of(const char *s, const char *set) {
  return *s && strspn(s, set) == strlen(s);
}

static const char *skip_sign(const char *s) {
  return (*s == '+' || *s == '-') ? s + 1 : s;
}

/* [-+]?(0b[01_]+|0[0-7_]+|0x[0-9a-fA-F_]+|0|[1-9][0-9_]*(:[0-5]?[0-9])*) */
static bool yaml11_int(const char *s) {
  s = skip_sign(s);
  if (s[0] == '0' && s[1] == 'b')
    return all_of(s + 2, "01_");
  if (s[0] == '0' && s[1] == 'x')
    return all_of(s + 2, "0123456789abcdefABCDEF_");
  if (s[0] == '0')
    return s[1] == '\0' || all_of(s + 1, "01234567_");
  return *s >= '1' && *s <= '9' && all_of(s, "0123456789_:");
}

static const char *span(const char *s, const char *set) {
  return s + strspn(s, set);
}

/* [eE][-+][0-9]+ at S, or nothing: returns where it ends, NULL if bad. */
static const char *exponent(const char *s) {
  if (*s != 'e' && *s != 'E')
    return s;
  if (s[1] != '+' && s[1] != '-')
    return NULL;
  const char *end = span(s + 2, "0123456789");
  return end > s + 2 ? end : NULL;
}

/* PyYAML's float forms: [-+]?D[D_]*.[D_]*(exp)?, .[D_]+(exp)?,
   [-+]?D[D_]*(:[0-5]?D)+.[D_]*, [-+]?.inf, .nan (with their casings). */
static bool yaml11_float(const char *s) {
  static const char *const specials[] = {".inf", ".Inf", ".INF", ".nan",
                                         ".NaN", ".NAN", NULL};
  const char *body = skip_sign(s);
  if (word_in(body, specials))
    return true;
  const char *digits = "0123456789", *p = body;
  if (*p == '.') {
    const char *end = span(p + 1, "0123456789_");
    return body == s && end > p + 1 && (end = exponent(end)) && !*end;
  }
  if (!strchr(digits, *p) || !*p)
    return false;
  p = span(p, "0123456789_");
  if (*p == '.') {
    const char *end = exponent(span(p + 1, "0123456789_"));
    return end && !*end;
  }
  bool sexagesimal = false;
  while (*p == ':') {
    const char *q = p + 1;
    if (*q >= '0' && *q <= '5' && q[1] >= '0' && q[1] <= '9')
      q += 2;
    else if (*q >= '0' && *q <= '9')
      q += 1;
    else
      return false;
    p = q;
    sexagesimal = true;
  }
  return sexagesimal && *p == '.' && !*span(p + 1, "0123456789_");
}

/* YYYY-MM-DD...: PyYAML's timestamp resolver starts with 4 digits and '-'. */
static bool yaml11_timestamp(const char *s) {
  return strspn(s, "0123456789") == 4 && s[4] == '-';
}

static bool canonical_decimal(const char *s) {
  return (s[0] == '0' && s[1] == '\0') ||
         (s[0] >= '1' && s[0] <= '9' && all_of(s, "0123456789"));
}

static bool is_bool_word(const char *s) {
  static const char *const words[] = {
      "yes",  "Yes",   "YES",   "no",    "No", "NO", "true", "True",
      "TRUE", "false", "False", "FALSE", "on", "On", "ON",   "off",
      "Off",  "OFF",   "y",     "Y",     "n",  "N",  NULL};
  return word_in(s, words);
}

static bool is_null_word(const char *s) {
  static const char *const words[] = {"", "~", "null", "Null", "NULL", NULL};
  return word_in(s, words);
}

static bool has_jinja(const char *s) {
  return strstr(s, "{{") || strstr(s, "{%") || strstr(s, "{#");
}

const char *ydoc_literal(const struct ydoc_node *node) {
  if (!node || node->type != YDOC_SCALAR || node->tagged)
    return NULL;
  if (strlen(node->text) != node->len || has_jinja(node->text))
    return NULL; /* embedded NUL, or templated */
  if (!node->plain)
    return node->text;
  const char *s = node->text;
  if (is_bool_word(s) || is_null_word(s) || yaml11_float(s) ||
      yaml11_timestamp(s) || strcmp(s, "=") == 0)
    return NULL;
  if (yaml11_int(s) && !canonical_decimal(s))
    return NULL;
  return s;
}

bool ydoc_is_false(const struct ydoc_node *node) {
  static const char *const words[] = {"no",    "No",  "NO",  "false", "False",
                                      "FALSE", "off", "Off", "OFF",   NULL};
  return node && node->type == YDOC_SCALAR && node->plain && !node->tagged &&
         word_in(node->text, words);
}
