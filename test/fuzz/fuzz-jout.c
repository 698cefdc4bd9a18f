/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-jout.c: libFuzzer target for the JSON writer (jout.c).  The input
 * is read as a recipe for a JSON tree (types, raw double bytes, string
 * bytes, nesting); the tree is written in both styles and each output
 * must be JSON that cJSON reads back to the same tree (strings that are
 * not UTF-8 come back as valid UTF-8), Python's ASCII only, jq's compact
 * and in the tree's key order, Python's with sorted keys.  Numbers are
 * also checked alone: every finite double reads back as itself, and NaN
 * and the infinities print as each program does.  jout_sort_keys() must
 * keep the tree and its links. */
#include "fuzz.h"

#include "jout.h"

#include <cjson/cJSON.h>
#include <math.h>

#define MAX_DEPTH 24
#define MAX_KIDS 8

struct src {
  const uint8_t *p;
  size_t n;
};

static uint8_t take(struct src *s) {
  if (s->n == 0)
    return 0;
  s->n--;
  return *s->p++;
}

static double take_double(struct src *s) {
  unsigned char b[sizeof(double)] = {0};
  for (size_t i = 0; i < sizeof b; i++)
    b[i] = take(s);
  double x;
  memcpy(&x, b, sizeof x);
  return x;
}

/* A string of up to 63 bytes (a NUL byte ends it early). */
static char *take_string(struct src *s) {
  size_t len = take(s) % 64;
  char *str = calloc(1, len + 1);
  fuzz_assert(str != NULL);
  for (size_t i = 0; i < len; i++)
    str[i] = (char)take(s);
  return str;
}

static cJSON *build(struct src *s, int depth);

static cJSON *build_container(struct src *s, int depth, bool object) {
  cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
  size_t n = take(s) % (MAX_KIDS + 1);
  for (size_t i = 0; i < n && s->n > 0; i++) {
    char *key = object ? take_string(s) : NULL;
    cJSON *kid = build(s, depth + 1);
    if (object && cJSON_GetObjectItemCaseSensitive(c, key))
      cJSON_Delete(kid); /* neither program writes a key twice */
    else if (object)
      cJSON_AddItemToObject(c, key, kid);
    else
      cJSON_AddItemToArray(c, kid);
    free(key);
  }
  return c;
}

static cJSON *build(struct src *s, int depth) {
  uint8_t tag = take(s);
  if (depth >= MAX_DEPTH)
    tag %= 6;
  switch (tag % 8) {
  case 0:
    return cJSON_CreateNull();
  case 1:
    return cJSON_CreateBool(tag & 8);
  case 2: {
    /* cJSON 1.7.15 reads numbers of at most 63 characters, and Python
       writes integral doubles below 1e300 in full: keep them shorter
       (check_number() covers every double) */
    double x = take_double(s);
    return cJSON_CreateNumber(!isfinite(x)     ? 0.5
                              : fabs(x) < 1e50 ? x
                                               : fmod(x, 1e50));
  }
  case 3: {
    int32_t v = (int32_t)((uint32_t)take(s) << 24 | (uint32_t)take(s) << 16 |
                          (uint32_t)take(s) << 8 | take(s));
    return cJSON_CreateNumber(v);
  }
  case 4:
  case 5: {
    char *str = take_string(s);
    cJSON *item = cJSON_CreateString(str);
    free(str);
    return item;
  }
  case 6:
    return build_container(s, depth, false);
  default:
    return build_container(s, depth, true);
  }
}

/* Length of the valid UTF-8 sequence at S (LEN bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t len) {
  if (s[0] < 0x80)
    return 1;
  size_t n = (s[0] & 0xe0) == 0xc0   ? 2
             : (s[0] & 0xf0) == 0xe0 ? 3
             : (s[0] & 0xf8) == 0xf0 ? 4
                                     : 0;
  if (n == 0 || n > len)
    return 0;
  uint32_t cp = s[0] & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  bool ok = cp >= min[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
  return ok ? n : 0;
}

static bool valid_utf8(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  size_t len = strlen(str);
  for (size_t i = 0; i < len;) {
    size_t n = utf8_len(s + i, len - i);
    if (!n)
      return false;
    i += n;
  }
  return true;
}

/* A string written and read back: itself if it was UTF-8, else some
   valid UTF-8. */
static void check_string(const char *orig, const char *back) {
  fuzz_assert(orig && back);
  if (valid_utf8(orig))
    fuzz_assert(strcmp(orig, back) == 0);
  else
    fuzz_assert(valid_utf8(back));
}

static int kid_cmp(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string, y->string);
}

static void check_same(const cJSON *orig, const cJSON *back, bool sorted);

/* The children of ORIG (sorted by key when SORTED) against BACK's. */
static void check_kids(const cJSON *orig, const cJSON *back, bool sorted) {
  int n = cJSON_GetArraySize(orig);
  fuzz_assert(cJSON_GetArraySize(back) == n);
  if (n == 0)
    return;
  const cJSON **kids = calloc((size_t)n, sizeof *kids);
  fuzz_assert(kids != NULL);
  int i = 0;
  for (const cJSON *k = orig->child; k; k = k->next)
    kids[i++] = k;
  bool object = cJSON_IsObject(orig);
  if (object && sorted)
    qsort(kids, (size_t)n, sizeof *kids, kid_cmp);
  i = 0;
  for (const cJSON *b = back->child; b; b = b->next, i++) {
    if (object)
      check_string(kids[i]->string, b->string);
    check_same(kids[i], b, sorted);
  }
  free(kids);
}

static void check_same(const cJSON *orig, const cJSON *back, bool sorted) {
  fuzz_assert(back != NULL);
  fuzz_assert((orig->type & 0xff) == (back->type & 0xff));
  if (cJSON_IsNumber(orig))
    fuzz_assert(orig->valuedouble == back->valuedouble);
  else if (cJSON_IsString(orig))
    check_string(orig->valuestring, back->valuestring);
  else if (cJSON_IsArray(orig) || cJSON_IsObject(orig))
    check_kids(orig, back, sorted);
}

/* True when every key and string of TREE is valid UTF-8. */
static bool tree_utf8(const cJSON *tree) {
  if (tree->string && !valid_utf8(tree->string))
    return false;
  if (cJSON_IsString(tree) && !valid_utf8(tree->valuestring))
    return false;
  for (const cJSON *k = tree->child; k; k = k->next)
    if (!tree_utf8(k))
      return false;
  return true;
}

static void check_style(const cJSON *tree, enum jout_style style, int indent,
                        size_t max) {
  struct buf out;
  buf_init(&out, max);
  if (jout_write(&out, tree, style, indent) < 0) {
    fuzz_assert(max < (1 << 24)); /* only a small maximum may be reached */
    buf_free(&out);
    return;
  }
  fuzz_assert(out.data && out.len == strlen(out.data));
  for (size_t i = 0; i < out.len; i++) {
    unsigned char c = (unsigned char)out.data[i];
    if (style == JOUT_PYTHON)
      fuzz_assert(c < 0x80 && (c >= 0x20 || (c == '\n' && indent > 0)));
    else
      fuzz_assert(c >= 0x20);
  }
  if (style == JOUT_PYTHON && !tree_utf8(tree)) {
    /* Bytes that are not UTF-8 print as Python's lone surrogate escapes
       (\udcXX), which Python reads back and cJSON refuses; their exact
       text is checked against python3 in test/unit/test-jout.c. */
    fuzz_assert(strstr(out.data, "\\udc") != NULL);
    buf_free(&out);
    return;
  }
  cJSON *back = cJSON_ParseWithOpts(out.data, NULL, 1);
  fuzz_assert(back != NULL);
  check_same(tree, back, style == JOUT_PYTHON);
  cJSON_Delete(back);
  buf_free(&out);
}

/* One number alone, in both styles. */
static void check_number(double x) {
  for (int style = JOUT_PYTHON; style <= JOUT_JQ; style++) {
    struct buf out;
    buf_init(&out, 1024);
    fuzz_assert(jout_number(&out, x, (enum jout_style)style) == 0);
    fuzz_assert(out.data != NULL);
    if (isfinite(x)) {
      char *end = NULL;
      fuzz_assert(strtod(out.data, &end) == x && *end == '\0');
    } else if (style == JOUT_PYTHON) {
      fuzz_assert(strcmp(out.data, isnan(x) ? "NaN"
                                   : x > 0  ? "Infinity"
                                            : "-Infinity") == 0);
    } else {
      fuzz_assert(strcmp(out.data, isnan(x) ? "null"
                                   : x > 0  ? "1.7976931348623157e+308"
                                           : "-1.7976931348623157e+308") == 0);
    }
    buf_free(&out);
  }
}

/* jout_sort_keys() keeps the same tree, sorts every object, keeps the
   links (next/prev, the head's prev being the tail). */
static void check_sorted(const cJSON *tree) {
  cJSON *copy = cJSON_Duplicate(tree, 1);
  fuzz_assert(copy != NULL);
  jout_sort_keys(copy);
  fuzz_assert(cJSON_Compare(tree, copy, 1));
  cJSON *stack[MAX_DEPTH * (MAX_KIDS + 1) + 2];
  size_t top = 0;
  stack[top++] = copy;
  while (top > 0) {
    cJSON *c = stack[--top];
    if (!c->child)
      continue;
    fuzz_assert(c->child->prev != NULL);
    for (cJSON *k = c->child; k; k = k->next) {
      if (k->next)
        fuzz_assert(k->next->prev == k);
      else
        fuzz_assert(c->child->prev == k);
      if (cJSON_IsObject(c) && k->next)
        fuzz_assert(strcmp(k->string, k->next->string) <= 0);
      if (k->child && top < sizeof stack / sizeof stack[0])
        stack[top++] = k;
    }
  }
  cJSON_Delete(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct src s = {data, size};
  uint8_t opts = take(&s);
  int indent = (int)(opts % 10) - 1; /* -1 .. 8 */
  size_t max = opts & 0x80 ? (size_t)take(&s) * 4 : (size_t)1 << 24;
  check_number(take_double(&s));
  cJSON *tree = build(&s, 0);
  check_style(tree, JOUT_PYTHON, indent, max);
  check_style(tree, JOUT_JQ, 0, max);
  check_sorted(tree);
  cJSON_Delete(tree);
  return 0;
}
