/* SPDX-License-Identifier: GPL-3.0-or-later */
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

/* configparser (strict, as ansible-core 2.14 builds it) rejects these:
   ansible-playbook then ends with "Error reading config file", rc 5. */
static void test_configparser_errors(void) {
  static const struct {
    const char *what, *text;
  } cases[] = {
      {"a duplicate option",
       "[defaults]\nstdout_callback = json\nstdout_callback = json\n"},
      {"a duplicate option in another case",
       "[defaults]\nStdout_Callback = json\nstdout_callback = json\n"},
      {"a duplicate section",
       "[defaults]\nstdout_callback = json\n[defaults]\nx = 1\n"},
      {"a duplicate option in another section",
       "[defaults]\nstdout_callback = json\n[x]\na = 1\na = 2\n"},
      {"a duplicate option across two [DEFAULT]",
       "[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n[defaults]\n"},
      {"an option before any section", "a = 1\n[defaults]\n"},
      {"an empty option name", "[defaults]\n= json\n"},
      {"an empty section name", "[]\na = 1\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct acfg cfg;
    ok(parse(&cfg, cases[i].text) < 0, "refused: %s", cases[i].what);
    acfg_clear(&cfg);
  }
}

/* configparser's other rules, followed exactly or refused. */
static void test_configparser_rules(void) {
  struct acfg cfg;
  ok(parse(&cfg,
           "[defaults]\n  roles_path = /a\n  stdout_callback = json\n") == 0 &&
         acfg_get(&cfg, NULL, "stdout_callback") &&
         strcmp(acfg_get(&cfg, NULL, "roles_path"), "/a") == 0,
     "options indented alike are two options, not a continuation");
  acfg_clear(&cfg);
  ok(parse(&cfg, "  [defaults]\n  roles_path = /a\n    /b\n") == 0 &&
         strcmp(acfg_get(&cfg, NULL, "roles_path"), "/a\n/b") == 0,
     "a continuation is a line indented deeper than its option");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]\nroles_path = /a\n\n  /b\n\n") == 0 &&
         strcmp(acfg_get(&cfg, NULL, "roles_path"), "/a\n\n/b") == 0,
     "a blank line inside a value is kept, trailing ones are not");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]\nroles_path = /a\n  ; c\n  /b\n") == 0 &&
         strcmp(acfg_get(&cfg, NULL, "roles_path"), "/a\n/b") == 0,
     "a comment line inside a value is dropped");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults] ; c\nstdout_callback = json\t; c\n"
                 "callbacks_enabled\t:\tx = y\n") == 0 &&
         strcmp(acfg_get(&cfg, NULL, "stdout_callback"), "json") == 0 &&
         strcmp(acfg_get(&cfg, NULL, "callbacks_enabled"), "x = y") == 0,
     "';' after a tab is a comment; the first '=' or ':' separates");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]x\nstdout_callback = json\n") == 0 &&
         acfg_get(&cfg, NULL, "stdout_callback"),
     "text after a section header's ']' is ignored, as configparser does");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[DEFAULT]\ncallbacks_enabled = profile_tasks\n"
                 "[defaults]\nstdout_callback = json\n") < 0,
     "[DEFAULT] values (carried into every section) are refused");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[DEFAULT]\n[defaults]\nstdout_callback = json\n") == 0,
     "an empty [DEFAULT] changes nothing");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]\nstdout_callback = json\f\n") < 0 &&
         parse(&cfg, "[defaults]\nstdout_callback = json\xc2\xa0\n") < 0,
     "whitespace we do not strip like Python is refused");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[defaults]\nstdout_callbac\xe2\x84\xaa = json\n") < 0,
     "a non-ASCII option name (Python lower-cases it) is refused");
  acfg_clear(&cfg);
  ok(parse(&cfg, "# caf\xc3\xa9\n[defaults]\nstdout_callback = json\n") == 0,
     "UTF-8 in a comment is fine");
  acfg_clear(&cfg);
  ok(parse(&cfg, "[inventory]\nenable_plugins = ini\n[defaults]\n") == 0 &&
         acfg_section_used(&cfg, "inventory") &&
         !acfg_section_used(&cfg, "colors"),
     "sections other than [defaults] are known by name");
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
  test_configparser_errors();
  test_configparser_rules();
  test_callback();
  test_search();
  return tap_done();
}
