/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-dkid.c: the normal form of a bash script (dknorm.c) and the
 * recognition of the devkit's scripts and helpers (dkid.c).  Run from the
 * project's top directory (it reads test/fixtures/devkit). */
#define _GNU_SOURCE
#include "config.h"
#include "devkit.h"
#include "dkid.h"
#include "dknorm.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *digest(const char *text) {
  static char hex[DKNORM_HEX_LEN + 1];
  struct msg_err e = {{0}};
  return dknorm_digest(text, strlen(text), hex, &e) == 0 ? hex : NULL;
}

/* True if A and B have the same normal form. */
static bool same(const char *a, const char *b) {
  char *da = digest(a);
  char keep[DKNORM_HEX_LEN + 1] = "";
  if (da)
    strcpy(keep, da);
  char *db = digest(b);
  return da && db && strcmp(keep, db) == 0;
}

static const char base[] = "#!/bin/bash\n"
                           "set -euo pipefail\n"
                           "ACTION=\"vm_start\"\n"
                           "echo 'a\n"
                           "\n"
                           "# kept: inside quotes\n"
                           "b'\n"
                           "cat <<EOF\n"
                           "# kept: here-document\n"
                           "\n"
                           "EOF\n"
                           "x=$(\n"
                           "  # a comment inside $( ): code\n"
                           "  date\n"
                           ")\n"
                           "run \\\n"
                           "  --flag\n";

static void test_normal_form(void) {
  struct buf out;
  struct msg_err e = {{0}};
  buf_init(&out, 1 << 20);
  ok(dknorm_text(base, strlen(base), &out, &e) == 0, "a script normalises");
  ok_str(out.data,
         "#!/bin/bash\nset -euo pipefail\nACTION=\"vm_start\"\necho 'a\n\n"
         "# kept: inside quotes\nb'\ncat <<EOF\n# kept: here-document\n\n"
         "EOF\nx=$(\n  date\n)\nrun \\\n  --flag\n",
         "comment and blank lines go only where bash ignores them");
  buf_free(&out);
  static const struct {
    const char *what, *from, *to;
    bool same;
  } cases[] = {
      {"a comment line added", "set -euo", "# guard\n\n  # x\nset -euo", true},
      {"trailing blanks", "pipefail\n", "pipefail \t\n", true},
      {"no final newline", "--flag\n", "--flag", true},
      {"a command added", "ACTION=\"vm_start\"\n",
       "ACTION=\"vm_start\"\necho freeze >&2; exit 3\n", false},
      {"a comment inside a quoted string", "# kept: inside quotes",
       "# changed", false},
      {"a blank line inside a quoted string", "echo 'a\n\n", "echo 'a\n",
       false},
      {"a comment inside a here-document", "# kept: here-document",
       "# changed", false},
      {"trailing blanks inside a here-document", "# kept: here-document\n",
       "# kept: here-document \n", false},
      {"a blank line after a continuation", "run \\\n", "run \\\n\n", false},
      {"an escaped blank at the end", "run \\\n", "run \\ \n", false},
      {"an inline comment", "set -euo pipefail\n", "set -euo pipefail # x\n",
       false},
      {"another interpreter", "#!/bin/bash", "#!/bin/sh", false},
      {"CRLF line ends", "pipefail\n", "pipefail\r\n", false},
      {"indentation", "  date\n", "date\n", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *at = strstr(base, cases[i].from);
    if (!at) {
      ok(0, "%s: pattern not found", cases[i].what);
      continue;
    }
    char *text = xasprintf("%.*s%s%s", (int)(at - base), base, cases[i].to,
                           at + strlen(cases[i].from));
    ok(same(base, text) == cases[i].same, "%s: %s", cases[i].what,
       cases[i].same ? "same normal form" : "another version");
    free(text);
  }
}

static void test_lexer(void) {
  static const struct {
    const char *what, *a, *b;
    bool same;
  } cases[] = {
      {"<<- strips tabs from the delimiter line",
       "cat <<-END\n\t# data\n\tEND\n# c\n", "cat <<-END\n\t# data\n\tEND\n",
       true},
      {"a quoted here-document word", "cat <<'E F'\n# d\nE F\n# c\n",
       "cat <<'E F'\n# d\nE F\n", true},
      {"two here-documents on one line", "cat <<A <<B\n# a\nA\n# b\nB\n# c\n",
       "cat <<A <<B\n# a\nA\n# b\nB\n", true},
      {"a here-document after a continued line",
       "cat <<E \\\n | tr a b\n# d\nE\n", "cat <<E \\\n | tr a b\nE\n", false},
      {"a here-string is not a here-document", "jq . <<<\"$x\"\n# c\n",
       "jq . <<<\"$x\"\n", true},
      {"# inside a word or ${#}", "echo a#b ${#x} $#\n# c\n",
       "echo a#b ${#x} $#\n", true},
      {"nested quotes in $( ) in quotes",
       "echo \"$(basename \"$0\")\n# data\"\n",
       "echo \"$(basename \"$0\")\n\"\n", false},
      {"$'...' with an escaped quote", "echo $'it\\'s\n# data'\n",
       "echo $'it\\'s\n'\n", false},
      {"backquotes", "x=`echo \"\n# data\"`\n", "x=`echo \"\n\"`\n", false},
      {"arithmetic $(( ))", "x=$((1 + (2)))\n# c\n", "x=$((1 + (2)))\n", true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ok(same(cases[i].a, cases[i].b) == cases[i].same, "lexer: %s",
       cases[i].what);
  static const struct {
    const char *what, *text;
  } bad[] = {{"an open single quote", "echo 'open\n"},
             {"an open double quote", "echo \"open\n"},
             {"an unterminated here-document", "cat <<EOF\nno end\n"},
             {"an open $(", "x=$(date\n"},
             {"an open backquote", "echo `open\n"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ok(digest(bad[i].text) == NULL, "no normal form: %s", bad[i].what);
  struct msg_err e = {{0}};
  char hex[DKNORM_HEX_LEN + 1];
  ok(dknorm_digest("a\0b\n", 4, hex, &e) < 0, "a NUL byte: no normal form");
}

/* Every file the runner checks has a version it answers, in each set. */
static void test_tables(void) {
  static const char *const entries[] = {
      "proxmox_vm.list.to.jsons.sh",
      "proxmox_vm.vm_id.start.to.jsons.sh",
      "proxmox_vm.vm_id.stop.to.jsons.sh",
      "proxmox_vm.vm_id.stop_force.to.jsons.sh",
      "proxmox_vm.vm_id.pause.to.jsons.sh",
      "proxmox_vm.vm_id.resume.to.jsons.sh",
      "proxmox_vm.vm_id.list_vm_and_extract_vm_name.to.jsons.sh",
      "proxmox_snapshot_vm.vm_id.create_snapshot.to.jsons.sh",
      "proxmox_snapshot_vm.vm_id.list_snapshot.to.jsons.sh",
      "proxmox_snapshot_vm.vm_id.revert_snapshot.to.jsons.sh",
      "proxmox_snapshot_vm.vm_id.delete_snapshot.to.jsons.sh",
      NULL};
  setenv("R42INTERCEPT_TEST_FIXTURE_DEVKIT", "1", 1);
  cfg_reload(); /* settings are read once per call */
  const struct dkid_set *sets;
  size_t n = dkid_sets(&sets);
  ok(n == 2, "two sets in force under R42INTERCEPT_TEST_FIXTURE_DEVKIT=1");
  for (size_t s = 0; s < n; s++) {
    size_t missing = 0, bad_hex = 0;
    for (int list = 0; list < 2; list++)
      for (const char *const *f = list ? dkid_helpers : entries; *f; f++) {
        bool found = false;
        for (size_t i = 0; i < sets[s].n; i++)
          found = found ||
                  (!strcmp(sets[s].v[i].name, *f) && sets[s].v[i].answered);
        missing += !found;
        ok(dk_find(*f) || list, "%s is a script the runner answers", *f);
      }
    for (size_t i = 0; i < sets[s].n; i++)
      bad_hex +=
          strlen(sets[s].v[i].digest) != DKNORM_HEX_LEN ||
          strspn(sets[s].v[i].digest, "0123456789abcdef") != DKNORM_HEX_LEN;
    ok(missing == 0 && bad_hex == 0,
       "%s: an answered version of every file (%zu missing, %zu bad "
       "digests)",
       sets[s].label, missing, bad_hex);
  }
  unsetenv("R42INTERCEPT_TEST_FIXTURE_DEVKIT");
  cfg_reload(); /* settings are read once per call */
  ok(dkid_sets(&sets) == 1, "only the devkit's set otherwise");
}

static char kit[] = "/tmp/r42-dkid-XXXXXX";

static void copy(const char *from, const char *to) {
  size_t len;
  char *text = util_read_file(from, 1 << 20, &len);
  FILE *f = fopen(to, "w");
  if (text && f)
    fwrite(text, 1, len, f);
  if (f)
    fclose(f);
  chmod(to, 0755);
  free(text);
}

static int check(const char *name) {
  char *path = xasprintf("%s/%s", kit, name);
  struct msg_err e = {{0}};
  int rc = dkid_check(path, name, &e);
  printf("#   %s\n", rc < 0 ? e.text : "known");
  free(path);
  return rc;
}

/* dkid_check() on a copy of our fixture devkit, found through PATH. */
static void test_check(void) {
  static const char start[] = "proxmox_vm.vm_id.start.to.jsons.sh";
  static const char helper[] =
      "proxmox__inc.jsons.basic_vm_actions.to.jsons.sh";
  if (!mkdtemp(kit)) {
    ok(0, "mkdtemp");
    return;
  }
  const char *fixtures = "test/fixtures/devkit";
  const struct dkid_set *sets;
  setenv("R42INTERCEPT_TEST_FIXTURE_DEVKIT", "1", 1);
  cfg_reload(); /* settings are read once per call */
  dkid_sets(&sets);
  for (size_t i = 0; i < sets[1].n; i++) {
    char *from = xasprintf("%s/%s", fixtures, sets[1].v[i].name);
    char *to = xasprintf("%s/%s", kit, sets[1].v[i].name);
    copy(from, to);
    free(from);
    free(to);
  }
  char *old_path = xstrdup(getenv("PATH"));
  char *path = xasprintf("/nonexistent::%s", kit);
  setenv("PATH", path, 1);
  ok(check(start) == 0, "the fixture devkit is known, helpers included");
  unsetenv("R42INTERCEPT_TEST_FIXTURE_DEVKIT");
  cfg_reload(); /* settings are read once per call */
  ok(check(start) < 0, "...only under R42INTERCEPT_TEST_FIXTURE_DEVKIT=1");
  setenv("R42INTERCEPT_TEST_FIXTURE_DEVKIT", "1", 1);
  cfg_reload(); /* settings are read once per call */
  setenv("BASH_FUNC_proxmox__inc.warmup_checks.sh%%", "() { :; }", 1);
  ok(check(start) < 0, "an exported function named like a helper");
  unsetenv("BASH_FUNC_proxmox__inc.warmup_checks.sh%%");
  setenv("BASH_ENV", "/dev/null", 1);
  ok(check(start) < 0, "BASH_ENV");
  unsetenv("BASH_ENV");
  char *h = xasprintf("%s/%s", kit, helper);
  FILE *f = fopen(h, "a");
  fputs("echo modified >&2\n", f);
  fclose(f);
  ok(check(start) < 0, "a modified helper found through PATH");
  unlink(h);
  ok(check(start) < 0, "a helper missing from PATH");
  char *from = xasprintf("%s/%s", fixtures, helper);
  copy(from, h);
  free(from);
  ok(check(start) == 0, "the helper back");
  char *lib = xasprintf("%s/devkit_fixture.lib.sh", kit);
  f = fopen(lib, "a");
  fputs("exit 3\n", f);
  fclose(f);
  ok(check(start) < 0, "a modified file it sources");
  setenv("PATH", old_path, 1);
  free(path);
  free(old_path);
  free(lib);
  free(h);
  unsetenv("R42INTERCEPT_TEST_FIXTURE_DEVKIT");
  cfg_reload(); /* settings are read once per call */
  char *cmd = xasprintf("rm -r '%s'", kit);
  if (system(cmd) != 0)
    ok(0, "rm");
  free(cmd);
}

int main(void) {
  test_normal_form();
  test_lexer();
  test_tables();
  test_check();
  return tap_done();
}
