/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-textout.c: textout.c against what Python 3.11's json.dumps and
 * repr() print (expected texts from python3), and the shape of
 * ansible-core 2.14's default callback text as observed in real runs
 * (banners, include, loop items, fatal line, recap), on a small role
 * written here; role files outside the forms reproduced are refused. */
#define _GNU_SOURCE
#include "tap.h"
#include "textout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *json_of(const char *text, int indent) {
  cJSON *tree = tout_parse_body(text, strlen(text));
  struct buf out;
  buf_init(&out, 1 << 20);
  if (tree)
    tout_json(&out, tree, indent, 0);
  cJSON_Delete(tree);
  return out.data ? out.data : strdup("(none)");
}

static char *repr_of(const char *text) {
  cJSON *tree = tout_parse_body(text, strlen(text));
  struct buf out;
  buf_init(&out, 1 << 20);
  if (tree)
    tout_repr(&out, tree);
  cJSON_Delete(tree);
  return out.data ? out.data : strdup("(none)");
}

static void test_json(void) {
  char *got = json_of("{\"b\":[1,2.5,{\"z\":null,\"a\":true}],"
                      "\"a\":\"caf\\u00e9 \\u007f\\n\\\"q\\\"\","
                      "\"c\":{},\"d\":[]}",
                      4);
  ok_str(got,
         "{\n    \"a\": \"caf\xc3\xa9 \x7f\\n\\\"q\\\"\",\n    \"b\": [\n"
         "        1,\n        2.5,\n        {\n            \"a\": true,\n"
         "            \"z\": null\n        }\n    ],\n    \"c\": {},\n"
         "    \"d\": []\n}",
         "json.dumps indent=4, sort_keys, ensure_ascii=False");
  free(got);
  got = json_of("{\"x\":1.0,\"a\":[1E2,-0,1e-7]}", -1);
  ok_str(got, "{\"a\": [100.0, 0, 1e-07], \"x\": 1.0}",
         "one line; floats keep being floats");
  free(got);
}

static void test_repr(void) {
  char *got =
      repr_of("{\"vmid\":100,\"name\":\"it's\",\"q\":\"say \\\"hi\\\"\","
              "\"both\":\"a'b\\\"c\",\"cpu\":0.0123,\"one\":1.0,\"t\":true,"
              "\"n\":null,\"l\":[1e-05,\"x\\ty\"]}");
  ok_str(got,
         "{'vmid': 100, 'name': \"it's\", 'q': 'say \"hi\"', "
         "'both': 'a\\'b\"c', 'cpu': 0.0123, 'one': 1.0, 't': True, "
         "'n': None, 'l': [1e-05, 'x\\ty']}",
         "repr: insertion order, Python's quotes, True/None, floats");
  free(got);
  cJSON *n = cJSON_CreateNumber(12345678901234567890.0);
  struct buf out;
  buf_init(&out, 1 << 10);
  tout_repr(&out, n);
  ok_str(out.data, "1.2345678901234567e+19", "a large value made here");
  buf_free(&out);
  cJSON_Delete(n);
}

static char dir[] = "/tmp/r42-test-textout.XXXXXX";

static void write_file(const char *rel, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static const char *main_yml = "- name: INCLUDE - a.yml\n"
                              "  include_tasks: a.yml\n"
                              "  when: proxmox_vm_action == \"vm_list\"\n"
                              "- name: INCLUDE - b.yml\n"
                              "  ansible.builtin.include_tasks: \"./b.yml\"\n"
                              "  when: proxmox_vm_action == \"vm_other\"\n";

static const char *a_yml =
    "- block:\n"
    "    - name: GET qemu\n"
    "      uri:\n"
    "        url: \"https://{{ proxmox_api_host }}/api2/json/nodes/"
    "{{proxmox_node}}/qemu\"\n"
    "        headers: {Authorization: \"x\"}\n"
    "        validate_certs: no\n"
    "      register: call\n"
    "    - name: PRINT call\n"
    "      debug:\n"
    "        var: call\n"
    "    - name: BUILD\n"
    "      set_fact:\n"
    "        vm_list: \"{{ (vm_list | default([])) + [item.vmid] }}\"\n"
    "      loop: \"{{ call.json.data }}\"\n"
    "    - name: PRINT JSON\n"
    "      ansible.builtin.debug:\n"
    "        var: vm_list\n"
    "  when: proxmox_vm_action == \"vm_list\"\n";

static void test_render(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/tasks", dir);
  mkdir(path, 0700);
  write_file("tasks/main.yml", main_yml);
  write_file("tasks/a.yml", a_yml);
  struct tout t;
  struct msg_err e = {{0}};
  ok(tout_load(&t, dir, "role", "vm_list", &e) == 0, "the role loads (%s)",
     e.text);
  struct vars v = {0};
  vars_set(&v, "proxmox_api_host", "h:8006");
  vars_set(&v, "proxmox_node", "pve");
  char *names[] = {"Content-Length", "Content-Type"};
  char *values[] = {"27", "application/json;charset=UTF-8"};
  char body[] = "{\"data\":[{\"vmid\":1.5e1}]}";
  struct pve_exchange x[2] = {
      {.method = "GET",
       .url = "https://h:8006/api2/json/nodes/pve/qemu",
       .status = 200,
       .reason = "OK",
       .n_headers = 2,
       .names = names,
       .values = values,
       .body = body,
       .body_len = strlen(body)},
      {.method = "GET",
       .url = "https://h:8006/api2/json/nodes/pve/other",
       .status = 200,
       .reason = "OK",
       .body = "",
       .body_len = 0}};
  cJSON *result = cJSON_Parse("[15]");
  struct tout_call call = {.host = "pve",
                           .task_name = "RUN X",
                           .vars = &v,
                           .x = x,
                           .n_x = 2,
                           .result = result};
  struct buf out;
  buf_init(&out, 1 << 20);
  bool failed = true;
  int rc = tout_render(&t, &call, &out, &failed, &e);
  ok(rc == 0 && !failed, "rendered (%s)", e.text);
  char *want = xasprintf(
      "\nPLAY [pve] "
      "*********************************************************************"
      "\n\nTASK [RUN X] "
      "*******************************************************************"
      "\n\nTASK [role : INCLUDE - a.yml] "
      "**************************************************\n"
      "included: %s/tasks/a.yml for pve\n"
      "\nTASK [role : GET qemu] "
      "*********************************************************\n"
      "ok: [pve]\n"
      "\nTASK [role : PRINT call] "
      "*******************************************************\n"
      "ok: [pve] => {\n    \"call\": {\n        \"changed\": false,\n"
      "        \"content_length\": \"27\",\n"
      "        \"content_type\": \"application/json;charset=UTF-8\",\n"
      "        \"cookies\": {},\n        \"cookies_string\": \"\",\n"
      "        \"elapsed\": 0,\n        \"failed\": false,\n"
      "        \"json\": {\n            \"data\": [\n                {\n"
      "                    \"vmid\": 15.0\n                }\n"
      "            ]\n        },\n        \"msg\": \"OK (27 bytes)\",\n"
      "        \"redirected\": false,\n        \"status\": 200,\n"
      "        \"url\": \"https://h:8006/api2/json/nodes/pve/qemu\"\n"
      "    }\n}\n"
      "\nTASK [role : BUILD] "
      "************************************************************\n"
      "ok: [pve] => (item={'vmid': 15.0})\n"
      "\nTASK [role : PRINT JSON] "
      "*******************************************************\n"
      "ok: [pve] => {\n    \"vm_list\": [\n        15\n    ]\n}\n"
      "\nTASK [role : INCLUDE - b.yml] "
      "**************************************************\n"
      "skipping: [pve]\n"
      "\nPLAY RECAP "
      "*********************************************************************"
      "\npve                        : ok=5    changed=0    unreachable=0    "
      "failed=0    skipped=1    rescued=0    ignored=0   \n\n",
      dir);
  ok_str(out.data, want,
         "the default callback's text, the other exchange mapped to no task");
  free(want);
  buf_free(&out);
  /* the uri answered 500: the fatal line, then the recap */
  x[0].status = 500;
  x[0].reason = "no such node";
  buf_init(&out, 1 << 20);
  rc = tout_render(&t, &call, &out, &failed, &e);
  ok(rc == 0 && failed, "a failed request renders");
  ok(out.data &&
         strstr(out.data,
                "fatal: [pve]: FAILED! => {\"changed\": false, "
                "\"content_length\": \"27\", \"content_type\": "
                "\"application/json;charset=UTF-8\", \"elapsed\": 0, "
                "\"json\": {\"data\": [{\"vmid\": 15.0}]}, \"msg\": "
                "\"Status code was 500 and not [200]: HTTP Error 500: "
                "no such node\", \"redirected\": false, \"status\": "
                "500, \"url\": "
                "\"https://h:8006/api2/json/nodes/pve/qemu\"}\n"
                "\nPLAY RECAP") &&
         strstr(out.data, "failed=1 ") && !strstr(out.data, "INCLUDE - b"),
     "ansible's fatal line, the play stops");
  buf_free(&out);
  /* no exchange for the uri task */
  call.n_x = 0;
  buf_init(&out, 1 << 20);
  ok(tout_render(&t, &call, &out, &failed, &e) < 0, "no exchange: -1 (%s)",
     e.text);
  buf_free(&out);
  tout_clear(&t);
  cJSON_Delete(result);
  vars_clear(&v);
}

/* Role files outside what is reproduced are refused. */
static void test_refused(void) {
  static const struct {
    const char *file, *from, *to, *what;
  } cases[] = {
      {"tasks/a.yml", "      register: call\n",
       "      register: call\n      retries: 2\n", "retries"},
      {"tasks/a.yml", "      uri:\n", "      command:\n", "another module"},
      {"tasks/a.yml", "  when: proxmox_vm_action == \"vm_list\"\n",
       "  when: proxmox_vm_action in [\"vm_list\"]\n",
       "a when of another form"},
      {"tasks/a.yml", "call.json.data", "other.json.data",
       "a loop over something else"},
      {"tasks/a.yml", "        var: vm_list\n", "        msg: hi\n",
       "debug msg"},
      {"tasks/main.yml", "vm_other", "vm_list", "two includes for the action"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *base = strcmp(cases[i].file, "tasks/a.yml") ? main_yml : a_yml;
    const char *at = strstr(base, cases[i].from);
    char text[4096];
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base), base,
             cases[i].to, at + strlen(cases[i].from));
    write_file(cases[i].file, text);
    struct tout t;
    struct msg_err e = {{0}};
    ok(tout_load(&t, dir, "role", "vm_list", &e) < 0, "refused: %s (%s)",
       cases[i].what, e.text);
    write_file(cases[i].file, base);
  }
}

int main(void) {
  test_json();
  test_repr();
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_render();
  test_refused();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    perror("rm");
  return tap_done();
}
