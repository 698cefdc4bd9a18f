/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-pass.c: the pass marker (shim/pass.c): its format, parsing, the
 * environment the runner hands back with. */
#include "pass.h"
#include "tap.h"

static void test_format_parse(void) {
  char buf[PASS_MAX];
  pass_format(buf, 4194304, 3);
  ok_str(buf, "R42INTERCEPT_PASS=4194304:3", "format");
  long pid = -1;
  int kind = -1;
  ok(pass_parse(buf, &pid, &kind) == 0 && pid == 4194304 && kind == 3,
     "parse what format wrote");
  ok(pass_is_marker(buf), "a marker is a marker");
  pass_format(buf, 0, 0);
  ok(pass_parse(buf, &pid, &kind) == 0 && pid == 0 && kind == 0,
     "pid 0, any kind");
  const char *bad[] = {
      "R42INTERCEPT_PASS=",      "R42INTERCEPT_PASS=12",
      "R42INTERCEPT_PASS=12:",   "R42INTERCEPT_PASS=x:1",
      "R42INTERCEPT_PASS=1:2:3", "R42INTERCEPT_PASS=-1:1",
      "R42INTERCEPT_PASS=1:100", "R42INTERCEPT_PASS=99999999999:1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ok(pass_parse(bad[i], &pid, &kind) < 0, "malformed: %s", bad[i]);
  ok(!pass_is_marker("R42INTERCEPT_PASSX=1:1"), "another variable");
  ok(!pass_is_marker("PATH=/bin"), "PATH is no marker");
  ok(!pass_is_marker(NULL), "NULL is no marker");
}

static void test_env(void) {
  char *env[] = {"A=1", "R42INTERCEPT_PASS=7:1", "B=2",
                 "R42INTERCEPT_PASS=8:2", NULL};
  char *out[8];
  char marker[] = "R42INTERCEPT_PASS=9:3";
  ok(pass_count(env) == 4, "count");
  size_t n = pass_env(out, env, marker);
  ok(n == 3 && out[0] == marker && out[1] == env[0] && out[2] == env[2] &&
         out[3] == NULL,
     "marker first, stale markers dropped, order kept");
  n = pass_env(out, env, NULL);
  ok(n == 2 && out[0] == env[0] && out[1] == env[2] && out[2] == NULL,
     "no marker: stale ones dropped all the same");
  n = pass_env(out, NULL, marker);
  ok(n == 1 && out[0] == marker && out[1] == NULL, "an empty environment");
}

int main(void) {
  test_format_parse();
  test_env();
  return tap_done();
}
