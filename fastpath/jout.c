/* SPDX-License-Identifier: GPL-3.0-or-later */
/* jout.c: renders cJSON trees as the two programs whose output we must
 * reproduce byte for byte: Ansible's json callback (Python json.dumps
 * with sort_keys, ensure_ascii and an indent) and jq 1.6's -c.  Numbers
 * use the shortest digits that read back as the same double, laid out by
 * each program's rule.  Owns formatting only; trees are built elsewhere. */
#define _GNU_SOURCE
#include "jout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct writer {
  struct buf *out;
  enum jout_style style;
  int indent;
  int failed;
};

static void put(struct writer *w, const char *s, size_t len) {
  if (!w->failed && buf_append(w->out, s, len) < 0)
    w->failed = 1;
}

static void puts_(struct writer *w, const char *s) {
  put(w, s, strlen(s));
}

/* ---- numbers ---------------------------------------------------------- */

/* Shortest decimal digits of X (> 0, finite) that read back as X: writes
   them into DIGITS and returns the decimal exponent (value = 0.DIGITS x
   10^decpt). */
static int shortest_digits(double x, char *digits) {
  char tmp[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
    if (strtod(tmp, NULL) == x || prec == 17)
      break;
  }
  /* tmp is "d.ddde[+-]XX" */
  int n = 0;
  char *e = strchr(tmp, 'e');
  for (char *p = tmp; p < e; p++)
    if (*p != '.')
      digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
  return atoi(e + 1) + 1;
}

/* Writes DIGITS with decimal exponent DECPT in fixed notation. */
static void put_fixed(struct writer *w, const char *digits, int decpt,
                      int python) {
  char s[400];
  int n = 0, nd = (int)strlen(digits);
  if (decpt <= 0) {
    n += snprintf(s + n, sizeof s - (size_t)n, "0.");
    for (int i = 0; i < -decpt; i++)
      s[n++] = '0';
    n += snprintf(s + n, sizeof s - (size_t)n, "%s", digits);
  } else if (decpt >= nd) {
    n += snprintf(s + n, sizeof s - (size_t)n, "%s", digits);
    for (int i = nd; i < decpt; i++)
      s[n++] = '0';
    if (python)
      n += snprintf(s + n, sizeof s - (size_t)n, ".0");
  } else {
    n += snprintf(s + n, sizeof s - (size_t)n, "%.*s.%s", decpt, digits,
                  digits + decpt);
  }
  put(w, s, (size_t)n);
}

/* d[.ddd]e[+-]XX */
static void put_exponent(struct writer *w, const char *digits, int decpt) {
  char s[64];
  int exp = decpt - 1;
  int n = snprintf(s, sizeof s, "%c", digits[0]);
  if (digits[1])
    n += snprintf(s + n, sizeof s - (size_t)n, ".%s", digits + 1);
  snprintf(s + n, sizeof s - (size_t)n, "e%c%02d", exp < 0 ? '-' : '+',
           abs(exp));
  puts_(w, s);
}

static void put_number(struct writer *w, double x) {
  if (isnan(x) || isinf(x)) {
    /* Python writes NaN/Infinity; jq writes null for NaN, 1.797e+308. */
    puts_(w, w->style == JOUT_PYTHON
                 ? (isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity"))
                 : (isnan(x) ? "null"
                             : (x > 0 ? "1.7976931348623157e+308"
                                      : "-1.7976931348623157e+308")));
    return;
  }
  bool python = w->style == JOUT_PYTHON;
  if (python && x == floor(x) && fabs(x) < 1e300) {
    char s[400];
    snprintf(s, sizeof s, "%.0f", x);
    puts_(w, strcmp(s, "-0") == 0 ? "0" : s);
    return;
  }
  if (x == 0) {
    puts_(w, signbit(x) ? (python ? "-0.0" : "-0") : (python ? "0.0" : "0"));
    return;
  }
  if (x < 0) {
    puts_(w, "-");
    x = -x;
  }
  char digits[24];
  int decpt = shortest_digits(x, digits);
  int nd = (int)strlen(digits);
  /* Python repr: fixed for 1e-4 <= x < 1e16.  jq (dtoa's g_fmt): fixed
     unless decpt <= -4 or decpt > ndigits + 15. */
  bool fixed =
      python ? (decpt > -4 && decpt <= 16) : (decpt > -4 && decpt <= nd + 15);
  if (fixed)
    put_fixed(w, digits, decpt, python);
  else
    put_exponent(w, digits, decpt);
}

int jout_number(struct buf *out, double x, enum jout_style style) {
  struct writer w = {.out = out, .style = style};
  put_number(&w, x);
  return w.failed ? -1 : 0;
}

/* ---- strings ---------------------------------------------------------- */

/* Decodes one UTF-8 sequence at S (LEN bytes left).  Returns the code
   point and sets *USED, or returns -1 for an invalid sequence. */
static long utf8_decode(const unsigned char *s, size_t len, size_t *used) {
  static const unsigned char lead_mask[] = {0, 0, 0x1f, 0x0f, 0x07};
  size_t n = s[0] < 0x80   ? 1
             : s[0] < 0xc2 ? 0
             : s[0] < 0xe0 ? 2
             : s[0] < 0xf0 ? 3
             : s[0] < 0xf5 ? 4
                           : 0;
  if (n == 0 || n > len)
    return -1;
  if (n == 1) {
    *used = 1;
    return s[0];
  }
  long cp = s[0] & lead_mask[n];
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return -1;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  static const long min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return -1;
  *used = n;
  return cp;
}

static void put_u(struct writer *w, long cp) {
  char s[8];
  snprintf(s, sizeof s, "\\u%04lx", cp);
  puts_(w, s);
}

static void put_string(struct writer *w, const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  size_t len = strlen(str);
  puts_(w, "\"");
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    const char *esc = c == '"'    ? "\\\""
                      : c == '\\' ? "\\\\"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t"
                      : c == '\b' ? "\\b"
                      : c == '\f' ? "\\f"
                                  : NULL;
    if (esc) {
      puts_(w, esc);
      i++;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      put_u(w, c);
      i++;
      continue;
    }
    if (c < 0x80) {
      put(w, (const char *)s + i, 1);
      i++;
      continue;
    }
    size_t used = 0;
    long cp = utf8_decode(s + i, len - i, &used);
    if (cp < 0) {
      /* A byte that starts no valid sequence: jq writes U+FFFD; Python,
         whose text came through surrogateescape (argv, environment,
         paths), holds U+DC00 + the byte. */
      cp = w->style == JOUT_JQ ? 0xfffd : 0xdc00 + c;
      used = 1;
    }
    if (w->style == JOUT_JQ) {
      if (cp == 0xfffd && used == 1)
        puts_(w, "\xef\xbf\xbd");
      else
        put(w, (const char *)s + i, used);
    } else if (cp > 0xffff) {
      put_u(w, 0xd800 + ((cp - 0x10000) >> 10));
      put_u(w, 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else {
      put_u(w, cp);
    }
    i += used;
  }
  puts_(w, "\"");
}

/* ---- containers ------------------------------------------------------- */

static int key_cmp(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string, y->string);
}

static void newline(struct writer *w, int depth) {
  if (w->style != JOUT_PYTHON || w->indent <= 0)
    return;
  puts_(w, "\n");
  for (int i = 0; i < depth * w->indent; i++)
    puts_(w, " ");
}

static const char *item_sep(const struct writer *w) {
  return w->style == JOUT_JQ || w->indent > 0 ? "," : ", ";
}

static void put_value(struct writer *w, const cJSON *item, int depth);

static void put_container(struct writer *w, const cJSON *item, int depth) {
  bool object = cJSON_IsObject(item);
  int n = cJSON_GetArraySize(item);
  if (n == 0) {
    puts_(w, object ? "{}" : "[]");
    return;
  }
  const cJSON **kids = xcalloc((size_t)n, sizeof *kids);
  int i = 0;
  for (const cJSON *k = item->child; k && i < n; k = k->next)
    kids[i++] = k;
  if (object && w->style == JOUT_PYTHON)
    qsort(kids, (size_t)n, sizeof *kids, key_cmp);
  puts_(w, object ? "{" : "[");
  for (i = 0; i < n; i++) {
    if (i > 0)
      puts_(w, item_sep(w));
    newline(w, depth + 1);
    if (object) {
      put_string(w, kids[i]->string);
      puts_(w, w->style == JOUT_JQ ? ":" : ": ");
    }
    put_value(w, kids[i], depth + 1);
  }
  newline(w, depth);
  puts_(w, object ? "}" : "]");
  free(kids);
}

static void put_value(struct writer *w, const cJSON *item, int depth) {
  if (cJSON_IsObject(item) || cJSON_IsArray(item))
    put_container(w, item, depth);
  else if (cJSON_IsString(item))
    put_string(w, item->valuestring);
  else if (cJSON_IsNumber(item))
    put_number(w, item->valuedouble);
  else if (cJSON_IsTrue(item))
    puts_(w, "true");
  else if (cJSON_IsFalse(item))
    puts_(w, "false");
  else
    puts_(w, "null");
}

int jout_write(struct buf *out, const cJSON *item, enum jout_style style,
               int indent) {
  struct writer w = {.out = out, .style = style, .indent = indent};
  put_value(&w, item, 0);
  return w.failed ? -1 : 0;
}

void jout_sort_keys(cJSON *item) {
  int n = cJSON_GetArraySize(item);
  if (n == 0)
    return;
  cJSON **kids = xcalloc((size_t)n, sizeof *kids);
  int i = 0;
  for (cJSON *k = item->child; k && i < n; k = k->next) {
    jout_sort_keys(k);
    kids[i++] = k;
  }
  if (cJSON_IsObject(item)) {
    qsort(kids, (size_t)n, sizeof *kids, key_cmp);
    /* relink in order: child, next, and the head's prev is the tail */
    for (i = 0; i < n; i++) {
      kids[i]->next = i + 1 < n ? kids[i + 1] : NULL;
      kids[i]->prev = i > 0 ? kids[i - 1] : kids[n - 1];
    }
    item->child = kids[0];
  }
  free(kids);
}
