/* test-play.c: the playbook parser (play.c) and YAML typing (ydoc.c) on
 * the devkit's exact shape and on shapes that must fall back. */
#include "play.h"
#include "tap.h"

#include <stdlib.h>

/* The devkit's inline playbook (SPEC 1), with EXTRA appended to vars. */
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
  return tap_done();
}
