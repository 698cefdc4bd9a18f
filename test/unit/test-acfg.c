/* test-acfg.c: ansible.cfg parsing, the config file search, and the
 * stdout callback detection (acfg.c). */
#define _GNU_SOURCE
#include "acfg.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse(struct acfg *cfg, const char *text) {
  struct msg_err e = {{0}};
  memset(cfg, 0, sizeof *cfg);
  return acfg_parse(cfg, text, &e);
}

static void test_parse(void) {
  struct acfg cfg;
  ok(parse(&cfg, "# comment\n; comment\n[defaults]\n"
                 "Stdout_Callback = json ; inline\n"
                 "json_indent: 2\n"
                 "roles_path = /a\n  /b\n"
                 "callback_plugins = ./x#not-a-comment\n"
                 "[callback_json]\njson_indent = 9\n") == 0,
     "a config with comments, ':' and continuation parses");
  ok_str(acfg_get(&cfg, NULL, "stdout_callback"), "json",
         "keys are lower-cased, inline '; ' comments cut");
  ok_str(acfg_get(&cfg, NULL, "json_indent"), "2",
         "'key: value' works; other sections do not leak in");
  ok_str(acfg_get(&cfg, NULL, "roles_path"), "/a\n/b",
         "continuation lines join with a newline");
  ok_str(acfg_get(&cfg, NULL, "callback_plugins"), "./x#not-a-comment",
         "'#' is not an inline comment");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]\nno separator here\n") < 0,
     "a line without = or : is an error");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]\nx = %(y)s\n") < 0,
     "interpolation is refused, not guessed");
  acfg_clear(&cfg);
}

static int callback(const char *text, int *indent) {
  struct acfg cfg;
  struct msg_err e = {{0}};
  parse(&cfg, text);
  int rc = acfg_json_callback(&cfg, indent, &e);
  acfg_clear(&cfg);
  return rc;
}

static void test_callback(void) {
  int indent = -1;
  unsetenv("ANSIBLE_STDOUT_CALLBACK");
  unsetenv("ANSIBLE_JSON_INDENT");
  ok(callback("[defaults]\nstdout_callback = json\n", &indent) == 0 &&
         indent == 4,
     "stdout_callback = json is ours, indent 4 by default");
  ok(callback("[defaults]\nstdout_callback = ansible.posix.json\n"
              "json_indent = 0\n",
              &indent) == 0 &&
         indent == 0,
     "ansible.posix.json with json_indent 0");
  ok(callback("[defaults]\nstdout_callback = yaml\n", &indent) < 0,
     "another callback is not ours");
  ok(callback("[defaults]\n", &indent) < 0,
     "the default callback is not ours");
  ok(callback("[defaults]\nstdout_callback = json\ncallbacks_enabled = "
              "profile_tasks\n",
              &indent) < 0,
     "extra callbacks are not ours");
  setenv("ANSIBLE_STDOUT_CALLBACK", "json", 1);
  ok(callback("[defaults]\nstdout_callback = default\n", &indent) == 0,
     "ANSIBLE_STDOUT_CALLBACK overrides the file");
  setenv("ANSIBLE_STDOUT_CALLBACK", "minimal", 1);
  ok(callback("[defaults]\nstdout_callback = json\n", &indent) < 0,
     "ANSIBLE_STDOUT_CALLBACK=minimal is not ours");
  unsetenv("ANSIBLE_STDOUT_CALLBACK");
  setenv("ANSIBLE_JSON_INDENT", "x", 1);
  ok(callback("[defaults]\nstdout_callback = json\n", &indent) < 0,
     "a bad ANSIBLE_JSON_INDENT is refused");
  unsetenv("ANSIBLE_JSON_INDENT");
}

static void test_search(void) {
  char dir[] = "/tmp/r42-acfg-XXXXXX";
  if (!mkdtemp(dir)) {
    ok(0, "mkdtemp");
    return;
  }
  char *file = xasprintf("%s/ansible.cfg", dir);
  FILE *f = fopen(file, "w");
  fputs("[defaults]\nstdout_callback = json\n", f);
  fclose(f);
  struct acfg cfg;
  struct msg_err e = {{0}};
  setenv("ANSIBLE_CONFIG", file, 1);
  ok(acfg_load(&cfg, &e) == 0 && cfg.path && strcmp(cfg.path, file) == 0,
     "ANSIBLE_CONFIG names the file");
  acfg_clear(&cfg);
  setenv("ANSIBLE_CONFIG", dir, 1);
  ok(acfg_load(&cfg, &e) == 0 && cfg.path && strcmp(cfg.path, file) == 0 &&
         strcmp(acfg_get(&cfg, NULL, "stdout_callback"), "json") == 0,
     "ANSIBLE_CONFIG naming a directory means DIR/ansible.cfg");
  acfg_clear(&cfg);
  char *cwd = getcwd(NULL, 0);
  unsetenv("ANSIBLE_CONFIG");
  setenv("HOME", "/nonexistent", 1);
  if (chdir(dir) == 0) {
    ok(acfg_load(&cfg, &e) == 0 && cfg.path &&
           strcmp(cfg.path, "ansible.cfg") == 0,
       "./ansible.cfg is found");
    acfg_clear(&cfg);
    chmod(dir, 0777);
    ok(acfg_load(&cfg, &e) == 0 &&
           (!cfg.path || strcmp(cfg.path, "ansible.cfg") != 0),
       "./ansible.cfg in a world-writable directory is ignored");
    acfg_clear(&cfg);
    chmod(dir, 0700);
    if (chdir(cwd) != 0)
      ok(0, "chdir back");
  }
  unlink(file);
  rmdir(dir);
  free(file);
  free(cwd);
}

int main(void) {
  test_parse();
  test_callback();
  test_search();
  return tap_done();
}
