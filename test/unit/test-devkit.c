/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-devkit.c: the devkit's behaviour as devkit.c reproduces it: stdin
 * lines to request objects (jq's fromjson and defaults), jq -r values,
 * the playbook text, name filters and %b traces.  Expected values were
 * taken from jq 1.6 and bash 5.2 (see the comments). */
#include "action.h"
#include "devkit.h"
#include "jout.h"
#include "match.h"
#include "play.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The requests of INPUT as jq -c lines, or "ERROR". */
static char *requests(const char *input, const char *key) {
  struct dk_request *reqs;
  size_t n;
  struct msg_err e = {{0}};
  if (dk_requests(input, strlen(input), key, "px-vault", "", &reqs, &n, &e) <
      0)
    return xstrdup("ERROR");
  struct buf b;
  buf_init(&b, 1 << 16);
  for (size_t i = 0; i < n; i++)
    if (dk_jq_line(&b, reqs[i].obj) < 0)
      printf("# render failed\n");
  dk_requests_free(reqs, n);
  return b.data ? b.data : xstrdup("");
}

static void test_requests(void) {
  /* printf '%s\n' LINE | jq -R -c '(fromjson? // .) as $v | if ($v|type)
     == "object" then $v else {vm_id: $v} end' | jq -c '.proxmox_node //=
     "px-vault" | .action = ""' */
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"100\n",
       "{\"vm_id\":100,\"proxmox_node\":\"px-vault\",\"action\":\"\"}\n"},
      {"007", "{\"vm_id\":7,\"proxmox_node\":\"px-vault\",\"action\":\"\"}\n"},
      {"px-testing\n", "{\"vm_id\":\"px-testing\",\"proxmox_node\":\"px-"
                       "vault\",\"action\":\"\"}\n"},
      {"{\"proxmox_node\":null,\"vm_id\":1,\"action\":\"x\"}\n",
       "{\"proxmox_node\":\"px-vault\",\"vm_id\":1,\"action\":\"\"}\n"},
      {"{\"vm_id\":1.0,\"proxmox_node\":\"n2\",\"d\":\"caf\\u00e9\"}\n",
       "{\"vm_id\":1,\"proxmox_node\":\"n2\",\"d\":\"caf\xc3\xa9\",\"action\":"
       "\"\"}\n"},
      {"\n",
       "{\"vm_id\":\"\",\"proxmox_node\":\"px-vault\",\"action\":\"\"}\n"},
      {"1\n2\n",
       "{\"vm_id\":1,\"proxmox_node\":\"px-vault\",\"action\":\"\"}\n"
       "{\"vm_id\":2,\"proxmox_node\":\"px-vault\",\"action\":\"\"}\n"},
      {"", ""},
      /* forms we do not claim to read like jq */
      {"true\n", "ERROR"},
      {"null\n", "ERROR"},
      {"1.5\n", "ERROR"},
      {"[1]\n", "ERROR"},
      {"{\"a\":{\"b\":1}}\n", "ERROR"},
      {"{\"a\":1,\"a\":2}\n", "ERROR"},
      {"{\"a\":1}x\n", "ERROR"},
      {"two words\n", "ERROR"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = requests(cases[i].in, "vm_id");
    ok_str(got, cases[i].want, "stdin line %zu becomes the devkit's request",
           i + 1);
    free(got);
  }
}

/* One JSON object line of N keys "k0".."k{N-1}", then the keys of EXTRA
   (a JSON fragment, or ""), as dk_requests() reads it: 1 if read, 0 if
   refused. */
static int keys_line_read(size_t n, const char *extra) {
  struct buf b;
  buf_init(&b, 1 << 24);
  int rc = buf_append(&b, "{\"vm_id\":1", 10);
  char key[48];
  for (size_t i = 0; i < n && rc == 0; i++) {
    int len = snprintf(key, sizeof key, ",\"k%zu\":%zu", i, i);
    rc = buf_append(&b, key, (size_t)len);
  }
  if (rc == 0)
    rc = buf_append(&b, extra, strlen(extra));
  if (rc == 0)
    rc = buf_append(&b, "}\n", 2);
  struct dk_request *reqs;
  size_t nreq;
  struct msg_err e = {{0}};
  int read = rc == 0 && dk_requests(b.data, b.len, "vm_id", "px-vault", "",
                                    &reqs, &nreq, &e) == 0;
  if (read)
    dk_requests_free(reqs, nreq);
  buf_free(&b);
  return read;
}

static void test_duplicate_keys(void) {
  /* jq keeps the last of two equal keys, cJSON the first: a line with a
     duplicate is refused, however many keys it has and wherever the two
     are. */
  ok(keys_line_read(20000, "") == 1, "20000 distinct keys are read");
  ok(keys_line_read(20000, ",\"k19999\":0") == 0,
     "a duplicate of the last key is found");
  ok(keys_line_read(20000, ",\"k0\":0") == 0,
     "a duplicate of the first key is found");
  ok(keys_line_read(20000, ",\"vm_id\":2") == 0,
     "a duplicate of the line's vm_id is found");
  ok(keys_line_read(3, ",\"k\":0,\"k00\":0,\"K1\":0,\"k1 \":0") == 1,
     "keys that are prefixes, case or blank variants are distinct");
  ok(keys_line_read(0, ",\"\":0,\" \":1") == 1, "an empty key is a key");
  ok(keys_line_read(0, ",\"\":0,\"\":1") == 0, "two empty keys are equal");
  ok(keys_line_read(0, ",\"k\\u00e9\":0,\"k\xc3\xa9\":1") == 0,
     "an escaped and a raw key of the same text are equal");
  /* cJSON ends a key at an escaped NUL: "a\0b" and "a\0c" both read as
     "a", a form the check refuses rather than guess */
  ok(keys_line_read(0, ",\"a\\u0000b\":0,\"a\\u0000c\":1") == 0,
     "keys equal up to an escaped NUL are refused");
}

static void test_raw_values(void) {
  /* jq -r '.v // empty' */
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"{\"v\":\"text\\n\\n\"}", "text"},
      {"{\"v\":100}", "100"},
      {"{\"v\":1e3}", "1000"},
      {"{\"v\":0.5}", "0.5"},
      {"{\"v\":true}", "true"},
      {"{\"v\":false}", ""},
      {"{\"v\":null}", ""},
      {"{}", ""},
      {"{\"v\":[1]}", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cJSON *obj = cJSON_Parse(cases[i].json);
    char *got = dk_raw_value(cJSON_GetObjectItemCaseSensitive(obj, "v"));
    ok_str(got, cases[i].want, "jq -r of %s", cases[i].json);
    free(got);
    cJSON_Delete(obj);
  }
}

static void test_playbook(void) {
  cJSON *req = cJSON_Parse(
      "{\"vm_id\":105,\"vm_snapshot_description\":\"say \\\"hi\\\" \\\\t\","
      "\"proxmox_node\":\"px-testing\",\"action\":\"\",\"vm_cpu\":false}");
  struct msg_err e = {{0}};
  char *text =
      dk_playbook(req, "vm_start", "/d/secrets/default_vault.yml", &e);
  ok_str(text,
         "      - hosts: px-testing\n"
         "        gather_facts: false\n"
         "        vars_files:\n"
         "          - \"/d/secrets/default_vault.yml\"\n"
         "        tasks:\n"
         "          - name: RUN range42-ansible_roles-proxmox_controller WITH "
         "VARS\n"
         "            include_role:\n"
         "              name: range42-ansible_roles-proxmox_controller\n"
         "            vars:\n"
         "              proxmox_vm_action: \"vm_start\"\n"
         "      \n"
         "              vm_id: \"105\"\n"
         "              proxmox_node: \"px-testing\"\n"
         "              vm_snapshot_description: \"say \\\"hi\\\" \\t\"\n",
         "the devkit's playbook: fields in its order, '\"' escaped, empty "
         "ones left out");
  struct play play;
  ok(text && play_parse(text, strlen(text), &play, &e) == 0,
     "it parses as the devkit's playbook (%s)", e.text);
  /* YAML reads "\t" in a double-quoted scalar as a tab, as Ansible does */
  ok_str(vars_get(&play.vars, "vm_snapshot_description"), "say \"hi\" \t",
         "its values as Ansible reads them");
  play_clear(&play);
  free(text);
  cJSON_AddItemToObject(req, "vm_name", cJSON_CreateArray());
  ok(dk_playbook(req, "vm_start", "/v", &e) == NULL,
     "an array value is refused (%s)", e.text);
  cJSON_Delete(req);
}

static void test_regex(void) {
  /* jq -c 'select(.vm_name | test($f; "i"))' */
  ok(dk_regex_test("admin", "r42-ADMIN-x", NULL) == 1, "case-insensitive");
  ok(dk_regex_test("^vuln-box-0[01]$", "vuln-box-01", NULL) == 1,
     "anchors and brackets");
  ok(dk_regex_test("^vuln$", "vuln-box-01", NULL) == 0, "no match");
  ok(dk_regex_test("a|b", "xbx", NULL) == 1, "alternation");
  ok(dk_regex_test("\\d+", "1", NULL) == -1, "backslash classes refused");
  ok(dk_regex_test("(?i)x", "x", NULL) == -1, "Oniguruma groups refused");
  ok(dk_regex_test("[[:alpha:]]", "x", NULL) == -1, "POSIX classes refused");
  ok(dk_regex_test("(", "x", NULL) == -1, "an invalid regex is refused");
}

/* shim/scripts.def is the one table: the shim matches exactly the
   scripts the runner knows, each names an action the runner has, and the
   issue-11 scripts are in it (stop_all_vms is not: it runs itself). */
static void test_script_table(void) {
  size_t n, names = 0;
  const struct dk_script *all = dk_scripts(&n);
  for (; match_script_names[names]; names++) {
    const struct dk_script *s = dk_find(match_script_names[names]);
    ok(s == &all[names] && match_script_index(s->name) == (int)names,
       "shim name %zu (%s) is the runner's row %zu", names,
       match_script_names[names], names);
  }
  ok(names == n && n == 34, "%zu names in the shim, %zu rows in the runner",
     names, n);
  for (size_t i = 0; i < n; i++) {
    const struct act_def *a = act_find(all[i].action);
    ok(a || !strcmp(all[i].action, "vm_list"), "%s: its action %s is answered",
       all[i].name, all[i].action);
    ok(act_find(all[i].guest->list_action) &&
           act_find(all[i].guest->snap_list_action),
       "%s: its guest's list actions are answered", all[i].name);
  }
  static const char *const more[] = {
      "proxmox_vm.vm_id.delete.to.jsons.sh",
      "proxmox_vm.list_running.to.jsons.sh",
      "proxmox_vm.list_stopped.to.jsons.sh",
      "proxmox_vm.list_paused.to.jsons.sh",
      "proxmox_vm.list_running_and_extract_vm_id.to.text.sh",
      "proxmox_vm.start_all_vms.to.jsons.sh",
      "proxmox_vm.stop_force_all_vms.to.jsons.sh",
      "proxmox_vm.pause_all_vms.to.jsons.sh",
      "proxmox_vm.resume_all_vms.to.jsons.sh",
      "proxmox_lxc.list.to.jsons.sh",
      "proxmox_lxc.vm_id.list_lxc_and_extract_vm_name.to.jsons.sh",
      "proxmox_lxc.vm_id.start.to.jsons.sh",
      "proxmox_lxc.vm_id.stop.to.jsons.sh",
      "proxmox_lxc.vm_id.stop_force.to.jsons.sh",
      "proxmox_lxc.vm_id.pause.to.jsons.sh",
      "proxmox_lxc.vm_id.resume.to.jsons.sh",
      "proxmox_lxc.vm_id.delete.to.jsons.sh",
      "proxmox_snapshot_lxc.vm_id.create_snapshot.to.jsons.sh",
      "proxmox_snapshot_lxc.vm_id.list_snapshot.to.jsons.sh",
      "proxmox_snapshot_lxc.vm_id.revert_snapshot.to.jsons.sh",
      "proxmox_snapshot_lxc.vm_id.delete_snapshot.to.jsons.sh",
      NULL};
  for (const char *const *m = more; *m; m++)
    ok(match_script_index(*m) >= 0 && dk_find(*m), "%s is answered", *m);
  ok(match_script_index("proxmox_vm.stop_all_vms.to.jsons.sh") < 0,
     "stop_all_vms runs itself (it stops at its own syntax error)");
}

/* The twelve container and delete actions are in the action table, with their
   timeouts. */
static void test_actions(void) {
  static const struct {
    const char *name;
    double timeout;
  } want[] = {{"vm_delete", 60},
              {"lxc_list", 0},
              {"lxc_start", 30},
              {"lxc_stop", 30},
              {"lxc_stop_force", 30},
              {"lxc_pause", 10},
              {"lxc_resume", 10},
              {"lxc_delete", 60},
              {"snapshot_lxc_create", 60},
              {"snapshot_lxc_list", 0},
              {"snapshot_lxc_revert", 120},
              {"snapshot_lxc_delete", 60}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const struct act_def *a = act_find(want[i].name);
    ok(a && a->timeout == want[i].timeout, "action %s, timeout %g s",
       want[i].name, want[i].timeout);
  }
}

/* The creates: their timeouts, and what act_check() asks of their play
   variables: every required value, optional ones only as literals. */
static void test_creates(void) {
  const struct act_def *vm = act_find("vm_create");
  const struct act_def *ct = act_find("lxc_create");
  ok(vm && vm->timeout == 60 && ct && ct->timeout == 120,
     "vm_create (60 s) and lxc_create (120 s) are answered");
  if (!vm || !ct)
    return;
  struct vars v = {0};
  static const char *const kv[][2] = {
      {"vm_cpu", "host"}, {"vm_cores", "2"}, {"vm_sockets", "1"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    vars_set(&v, kv[i][0], kv[i][1]);
  struct act_call call = {.def = vm,
                          .node = "px-testing",
                          .vm_id = "2222",
                          .vm_name = "a",
                          .vars = &v};
  struct msg_err e = {{0}};
  ok(act_check(&call, &e) < 0 && strstr(e.text, "vm_memory"),
     "vm_create without vm_memory: %s", e.text);
  vars_set(&v, "vm_memory", "2048");
  ok(act_check(&call, &e) == 0, "vm_create with its six values");
  vars_set(&v, "vm_disk_size", NULL);
  ok(act_check(&call, &e) < 0 && strstr(e.text, "vm_disk_size"),
     "vm_create with a vm_disk_size that is not a literal: %s", e.text);
  call.def = ct;
  call.vm_name = "ct";
  ok(act_check(&call, &e) < 0 && strstr(e.text, "lxc_template"),
     "lxc_create without its values: %s", e.text);
  vars_clear(&v);
}

int main(void) {
  test_script_table();
  test_actions();
  test_creates();
  test_requests();
  test_duplicate_keys();
  test_raw_values();
  test_playbook();
  test_regex();
  return tap_done();
}
