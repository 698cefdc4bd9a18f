/* test-jout.c: jout.c against what Python's json.dumps and jq 1.6 print
 * (expected texts taken from python3 3.11 and Debian's jq 1.6). */
#include "jout.h"
#include "tap.h"

#include <stdlib.h>

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
  test_limit();
  return tap_done();
}
