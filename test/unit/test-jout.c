/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-jout.c: jout.c against what Python's json.dumps and jq 1.6 print
 * (expected texts taken from python3 3.11 and Debian's jq 1.6). */
#include "jout.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *input = "{\"b\":[1,2.5,{\"z\":null,\"a\":true}],"
                           "\"a\":\"caf\\u00e9 \\ud83d\\ude00 "
                           "\\u007f\\n\\\"q\\\"\",\"c\":{},\"d\":[]}";

static char *render(const char *json, enum jout_style style, int indent) {
  cJSON *tree = cJSON_Parse(json);
  struct buf out;
  buf_init(&out, 1 << 20);
  if (!tree || jout_write(&out, tree, style, indent) < 0)
    printf("# render failed\n");
  cJSON_Delete(tree);
  return out.data;
}

static void test_python(void) {
  char *got = render(input, JOUT_PYTHON, 4);
  ok_str(got,
         "{\n    \"a\": \"caf\\u00e9 \\ud83d\\ude00 \\u007f\\n\\\"q\\\"\",\n"
         "    \"b\": [\n        1,\n        2.5,\n        {\n"
         "            \"a\": true,\n            \"z\": null\n        }\n"
         "    ],\n    \"c\": {},\n    \"d\": []\n}",
         "python indent=4, sort_keys, ensure_ascii");
  free(got);
  got = render("{\"b\":[1,2.5],\"a\":\"x\"}", JOUT_PYTHON, 0);
  ok_str(got, "{\"a\": \"x\", \"b\": [1, 2.5]}", "python one-line separators");
  free(got);
}

static void test_jq(void) {
  char *got = render(input, JOUT_JQ, 0);
  ok_str(got,
         "{\"b\":[1,2.5,{\"z\":null,\"a\":true}],\"a\":\"caf\xc3\xa9 "
         "\xf0\x9f\x98\x80 \\u007f\\n\\\"q\\\"\",\"c\":{},\"d\":[]}",
         "jq -c keeps key order and UTF-8");
  free(got);
  cJSON *tree =
      cJSON_Parse("{\"b\":{\"y\":1,\"x\":2},\"a\":[{\"d\":1,\"c\":2}]}");
  jout_sort_keys(tree);
  struct buf out;
  buf_init(&out, 1024);
  ok(jout_write(&out, tree, JOUT_JQ, 0) == 0, "sorted tree renders");
  ok_str(out.data, "{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"x\":2,\"y\":1}}",
         "jout_sort_keys sorts every level");
  cJSON_AddNumberToObject(tree, "0", 1);
  buf_free(&out);
  ok(jout_write(&out, tree, JOUT_JQ, 0) == 0 &&
         strcmp(out.data, "{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"x\":2,\"y\":1},"
                          "\"0\":1}") == 0,
     "a sorted object still appends at its end (links intact)");
  buf_free(&out);
  cJSON_Delete(tree);
}

static void test_numbers(void) {
  static const struct {
    double x;
    const char *py, *jq;
  } cases[] = {
      {0.1, "0.1", "0.1"},
      {1e16, "10000000000000000", "1e+16"},
      {1.5e16, "15000000000000000", "15000000000000000"},
      {1e17, "100000000000000000", "1e+17"},
      {123456789012.5, "123456789012.5", "123456789012.5"},
      {1e-05, "1e-05", "1e-05"},
      {0.0001, "0.0001", "0.0001"},
      {0.0123, "0.0123", "0.0123"},
      {2.5e-7, "2.5e-07", "2.5e-07"},
      {1.5e300, "1.5e+300", "1.5e+300"},
      {4294967296, "4294967296", "4294967296"},
      {1000000, "1000000", "1000000"},
      {-3.25, "-3.25", "-3.25"},
      {0, "0", "0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct buf py, jq;
    buf_init(&py, 100);
    buf_init(&jq, 100);
    ok(jout_number(&py, cases[i].x, JOUT_PYTHON) == 0 &&
           jout_number(&jq, cases[i].x, JOUT_JQ) == 0,
       "number %s renders", cases[i].jq);
    ok_str(py.data, cases[i].py, "python prints %s", cases[i].py);
    ok_str(jq.data, cases[i].jq, "jq prints %s", cases[i].jq);
    buf_free(&py);
    buf_free(&jq);
  }
}

/* Byte strings that cover UTF-8's edges: each byte alone; each lead byte
   before each kind of next byte; 3- and 4-byte forms at their limits,
   truncated, overlong, surrogates, above U+10FFFF; then pseudo-random
   mixes (a fixed seed).  Writes them to F, one hex line each. */
static void write_utf8_cases(FILE *f) {
  static const unsigned char edges[] = {
      0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
      0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
  size_t ne = sizeof edges;
  for (int b = 1; b < 256; b++)
    fprintf(f, "%02x\n", b);
  for (int lead = 0xc0; lead < 256; lead++)
    for (size_t i = 1; i < ne; i++) {
      fprintf(f, "%02x%02x\n", lead, edges[i]);
      for (size_t j = 1; j < ne; j++)
        fprintf(f, "%02x%02x%02x41\n", lead, edges[i], edges[j]);
    }
  static const char *const forms[] = {
      "e282ac",   "e0a080",   "e09f80",   "efbfbf",   "eda080",
      "ed9fbf",   "edbfbf",   "ee8080",   "f0908080", "f08f8080",
      "f48fbfbf", "f4908080", "f7bfbfbf", "f8888080", "fc848080",
      "e282",     "f09080",   "f090",     "c3",       "c3c3a9",
      "e2e282ac", "80e282ac", "f0e282ac", "eda0bd",   "eda0bdedb080"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
    fprintf(f, "%s\n61%s62\n", forms[i], forms[i]);
  unsigned long x = 42;
  for (int n = 0; n < 3000; n++) {
    int len = 1 + n % 12;
    for (int k = 0; k < len; k++) {
      x = x * 6364136223846793005UL + 1442695040888963407UL;
      unsigned b = (unsigned)(x >> 56);
      /* half the bytes from the edges, so that sequences form often */
      if (b & 1)
        b = edges[1 + (x >> 40) % (ne - 1)];
      fprintf(f, "%02x", b ? b : 0x41);
    }
    fprintf(f, "\n");
  }
}

/* json.dumps() of each hex line of IN decoded with surrogateescape,
   as Ansible holds a path from argv, into OUT. */
static int python_dumps(const char *in, const char *out) {
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json, sys\n"
           "for h in sys.stdin:\n"
           "    t = bytes.fromhex(h.strip()).decode(\"utf-8\", "
           "\"surrogateescape\")\n"
           "    print(json.dumps(t))' <%s >%s",
           in, out);
  return system(cmd);
}

static void test_surrogateescape(void) {
  char in[] = "/tmp/r42-jout-in.XXXXXX", out[] = "/tmp/r42-jout-out.XXXXXX";
  int fi = mkstemp(in), fo = mkstemp(out);
  FILE *f = fi >= 0 ? fdopen(fi, "w") : NULL;
  ok(f && fo >= 0, "temporary files");
  if (!f || fo < 0)
    return;
  write_utf8_cases(f);
  fclose(f);
  close(fo);
  ok(python_dumps(in, out) == 0, "python3 renders the cases");
  FILE *hex = fopen(in, "r"), *want = fopen(out, "r");
  char h[64], w[256];
  size_t n = 0, bad = 0;
  while (hex && want && fgets(h, sizeof h, hex) && fgets(w, sizeof w, want)) {
    char bytes[32];
    size_t len = 0;
    for (unsigned v;
         len < sizeof bytes - 1 && sscanf(h + 2 * len, "%2x", &v) == 1;)
      bytes[len++] = (char)v;
    bytes[len] = '\0';
    w[strcspn(w, "\n")] = '\0';
    cJSON *str = cJSON_CreateString(bytes);
    struct buf got;
    buf_init(&got, 1024);
    if (jout_write(&got, str, JOUT_PYTHON, 0) < 0 || strcmp(got.data, w)) {
      if (bad++ < 5)
        printf("# %s: got %s, python3 %s\n", strtok(h, "\n"), got.data, w);
    }
    buf_free(&got);
    cJSON_Delete(str);
    n++;
  }
  ok(n > 10000 && bad == 0,
     "%zu byte strings render as python3's json.dumps of their "
     "surrogateescape text (%zu differ)",
     n, bad);
  if (hex)
    fclose(hex);
  if (want)
    fclose(want);
  unlink(in);
  unlink(out);
}

static void test_limit(void) {
  cJSON *tree = cJSON_Parse(input);
  struct buf out;
  buf_init(&out, 10);
  ok(jout_write(&out, tree, JOUT_PYTHON, 4) < 0,
     "rendering past the buffer's maximum fails");
  buf_free(&out);
  cJSON_Delete(tree);
}

int main(void) {
  test_python();
  test_jq();
  test_numbers();
  test_surrogateescape();
  test_limit();
  return tap_done();
}
