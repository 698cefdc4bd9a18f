/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-play.c: the playbook parser (play.c) and YAML typing (ydoc.c) on
 * the devkit's exact shape and on shapes that must fall back. */
#include "play.h"
#include "tap.h"

#include <stdlib.h>

/* The devkit's inline playbook (docs/decision.md section 1), EXTRA appended
   to vars. */
static char *devkit_playbook(const char *action, const char *extra) {
  return xasprintf("      - hosts: px-testing\n"
                   "        gather_facts: false\n"
                   "        vars_files:\n"
                   "          - \"/srv/devkit/secrets/default_vault.yml\"\n"
                   "        tasks:\n"
                   "          - name: RUN " PLAY_ROLE_NAME " WITH VARS\n"
                   "            include_role:\n"
                   "              name: " PLAY_ROLE_NAME "\n"
                   "            vars:\n"
                   "              proxmox_vm_action: \"%s\"\n"
                   "%s",
                   action, extra);
}

static int parse(const char *text, struct play *p, struct msg_err *e) {
  return play_parse(text, strlen(text), p, e);
}

static void test_devkit_shape(void) {
  char *text = devkit_playbook(
      "vm_start", "\n              action: \"vm_start\"\n"
                  "              vm_id: \"105\"\n"
                  "              proxmox_node: \"px-testing\"\n"
                  "              vm_snapshot_description: \"say \\\"hi\\\" "
                  "caf\xc3\xa9\"\n");
  struct play p;
  struct msg_err e = {{0}};
  ok(parse(text, &p, &e) == 0, "the devkit's playbook parses (%s)", e.text);
  ok_str(p.hosts, "px-testing", "hosts");
  ok_str(p.vars_file, "/srv/devkit/secrets/default_vault.yml", "vars_files");
  ok_str(vars_get(&p.vars, "proxmox_vm_action"), "vm_start", "the action");
  ok_str(vars_get(&p.vars, "vm_id"), "105", "vm_id stays the string given");
  ok_str(vars_get(&p.vars, "vm_snapshot_description"),
         "say \"hi\" caf\xc3\xa9", "\\\" and UTF-8 arrive resolved");
  ok(p.play_line == 1 && p.task_line == 6, "play and task lines (%d, %d)",
     p.play_line, p.task_line);
  play_clear(&p);
  free(text);
}

/* Each of these must be refused (the real ansible-playbook runs). */
static void test_refused(void) {
  static const struct {
    const char *what, *from, *to;
  } cases[] = {
      {"two plays", "      - hosts: px-testing\n",
       "      - hosts: a\n        tasks: []\n      - hosts: px-testing\n"},
      {"gather_facts true", "gather_facts: false", "gather_facts: true"},
      {"a host pattern", "hosts: px-testing", "hosts: all:!x"},
      {"become on the play", "        gather_facts: false\n",
       "        gather_facts: false\n        become: true\n"},
      {"another role", "name: " PLAY_ROLE_NAME "\n", "name: other_role\n"},
      {"a templated var", "\"105\"", "\"{{ lookup('env','X') }}\""},
      {"a var steering ansible", "vm_id: \"105\"",
       "ansible_connection: \"ssh\""},
      {"an anchor", "vm_id: \"105\"", "vm_id: &a \"105\""},
      {"a tagged value", "vm_id: \"105\"", "vm_id: !unsafe \"105\""},
      {"a duplicate key", "vm_id: \"105\"",
       "vm_id: \"105\"\n"
       "              vm_id: \"106\""},
      {"a typed value (bool)", "vm_id: \"105\"", "vm_id: yes"},
      {"a float value", "vm_id: \"105\"", "vm_id: 1.5"},
      {"an octal-looking value", "vm_id: \"105\"", "vm_id: 0105"},
      {"a second task", "        tasks:\n",
       "        tasks:\n          - debug: msg=x\n"},
      {"a when on the task", "            vars:\n",
       "            when: x\n            vars:\n"},
      {"YAML syntax error", "vm_id: \"105\"", "vm_id: \"105"},
  };
  char *good = devkit_playbook("vm_start", "\n              vm_id: \"105\"\n");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *at = strstr(good, cases[i].from);
    if (!at) {
      ok(0, "%s: pattern not found", cases[i].what);
      continue;
    }
    char *bad = xasprintf("%.*s%s%s", (int)(at - good), good, cases[i].to,
                          at + strlen(cases[i].from));
    struct play p;
    struct msg_err e = {{0}};
    ok(parse(bad, &p, &e) < 0 && e.text[0], "refused: %s (%s)", cases[i].what,
       e.text);
    free(bad);
  }
  struct play p;
  struct msg_err e = {{0}};
  ok(parse(good, &p, &e) == 0, "the unmodified playbook still parses");
  play_clear(&p);
  ok(parse("vm_id: 105 ", &p, &e) < 0, "a mapping is not a playbook");
  ok(parse("", &p, &e) < 0, "empty input is not a playbook");
  free(good);
}

/* The task's var names: Ansible's isidentifier() (ansible/utils/vars.py):
   an ASCII Python identifier that is not a keyword (True, False and None
   included), and a YAML string (an unquoted true, yes or null is not). */
static void test_var_names(void) {
  static const struct {
    const char *key;
    bool good;
  } cases[] = {
      {"\"my var\"", false}, {"my-var", false},   {"1var", false},
      {"\"True\"", false},   {"\"None\"", false}, {"class", false},
      {"\"async\"", false},  {"123", false},      {"\"caf\xc3\xa9\"", false},
      {"true", false},       {"yes", false},      {"null", false},
      {"\"\"", false},       {"\"a.b\"", false},  {"_x", true},
      {"match", true},       {"\"true\"", true},  {"Vm_2", true},
      {"'yes'", true},       {"__class__", true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *extra = xasprintf("\n              %s: \"x\"\n", cases[i].key);
    char *text = devkit_playbook("vm_list", extra);
    struct play p;
    struct msg_err e = {{0}};
    int rc = parse(text, &p, &e);
    ok((rc == 0) == cases[i].good, "var name %s is %s (%s)", cases[i].key,
       cases[i].good ? "accepted" : "refused", e.text);
    if (rc == 0)
      play_clear(&p);
    free(text);
    free(extra);
  }
}

/* TEXT re-encoded as UTF-16 (LE or BE), with a BOM if asked. */
static char *utf16(const char *text, bool be, bool bom, size_t *len) {
  size_t n = strlen(text);
  char *out = xmalloc(2 * n + 2);
  size_t k = 0;
  if (bom) {
    out[k++] = be ? '\xfe' : '\xff';
    out[k++] = be ? '\xff' : '\xfe';
  }
  for (size_t i = 0; i < n; i++) { /* ASCII only */
    out[k++] = be ? 0 : text[i];
    out[k++] = be ? text[i] : 0;
  }
  *len = k;
  return out;
}

/* Ansible reads playbooks as UTF-8 (a BOM is allowed); libyaml would
   decode UTF-16 by itself. */
static void test_encodings(void) {
  char *good = devkit_playbook("vm_list", "");
  struct play p;
  struct msg_err e = {{0}};
  for (int be = 0; be <= 1; be++)
    for (int bom = 0; bom <= 1; bom++) {
      size_t len;
      char *text = utf16(good, be, bom, &len);
      int rc = play_parse(text, len, &p, &e);
      ok(rc < 0, "a UTF-16%s playbook %s a BOM is refused", be ? "BE" : "LE",
         bom ? "with" : "without");
      if (rc == 0)
        play_clear(&p);
      free(text);
    }
  size_t n = strlen(good);
  char *u32 = xcalloc(4 * n + 4, 1); /* UTF-32LE with its BOM */
  memcpy(u32, "\xff\xfe\0\0", 4);
  for (size_t i = 0; i < n; i++)
    u32[4 + 4 * i] = good[i];
  ok(play_parse(u32, 4 * n + 4, &p, &e) < 0, "a UTF-32 playbook is refused");
  free(u32);
  char *bom8 = xasprintf("\xef\xbb\xbf%s", good);
  ok(parse(bom8, &p, &e) == 0, "a UTF-8 playbook with a BOM parses (%s)",
     e.text);
  play_clear(&p);
  free(bom8);
  free(good);
}

static void test_literals(void) {
  static const struct {
    const char *yaml;
    const char *want; /* NULL: not a literal string */
  } cases[] = {
      {"v: px-testing", "px-testing"},
      {"v: 105", "105"},
      {"v: 0", "0"},
      {"v: 127.0.0.1:8006", "127.0.0.1:8006"},
      {"v: root@pam", "root@pam"},
      {"v: 'yes'", "yes"},
      {"v: yes", NULL},
      {"v: Off", NULL},
      {"v: ~", NULL},
      {"v: null", NULL},
      {"v:", NULL},
      {"v: 0x1F", NULL},
      {"v: 1_000", NULL},
      {"v: 1e3", "1e3"},
      {"v: 1.5", NULL},
      {"v: .5", NULL},
      {"v: 1.0e+3", NULL},
      {"v: 1:30.5", NULL},
      {"v: 10.0.0.5", "10.0.0.5"},
      {"v: -.inf", NULL},
      {"v: .inf", NULL},
      {"v: 2026-11-28", NULL},
      {"v: 1:30", NULL},
      {"v: \"{{ x }}\"", NULL},
      {"v: !!str 5", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct msg_err e = {{0}};
    struct ydoc_node *root =
        ydoc_parse(cases[i].yaml, strlen(cases[i].yaml), false, &e);
    const char *got = ydoc_literal(ydoc_get(root, "v"));
    ok_str(got, cases[i].want, "YAML 1.1 typing of \"%s\"", cases[i].yaml);
    ydoc_free(root);
  }
}

int main(void) {
  test_devkit_shape();
  test_refused();
  test_literals();
  test_var_names();
  test_encodings();
  return tap_done();
}
