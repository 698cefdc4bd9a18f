/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-devkit.c: libFuzzer target for the devkit's stdin lines
 * (devkit.c): the input is a script's stdin, turned into requests by
 * dk_requests() for a vm_id script and for the list script (node key),
 * each request into the devkit's playbook by dk_playbook(), which is then
 * parsed by play_parse() as run_script.c does.  Checks the contracts:
 * every request is an object with the script's action and a
 * proxmox_node, line offsets increase, jq -c lines read back as JSON, and
 * a playbook that parses asks for the script's action. */
#include "fuzz.h"

#include "devkit.h"
#include "play.h"

#include <cjson/cJSON.h>

#define VAULT_FILE "/devkit/secrets/default_vault.yml"

static void check_request(const cJSON *obj, const char *action) {
  fuzz_assert(cJSON_IsObject(obj));
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, "action");
  fuzz_assert(cJSON_IsString(a) && strcmp(a->valuestring, action) == 0);
  fuzz_assert(cJSON_GetObjectItemCaseSensitive(obj, "proxmox_node"));
  struct buf line;
  buf_init(&line, 1 << 22);
  fuzz_assert(dk_jq_line(&line, obj) == 0);
  fuzz_assert(line.len > 0 && line.data[line.len - 1] == '\n');
  cJSON *back = cJSON_Parse(line.data);
  fuzz_assert(back && cJSON_IsObject(back));
  cJSON_Delete(back);
  buf_free(&line);
}

static void check_playbook(const cJSON *obj, const char *action) {
  struct msg_err e;
  char *text = dk_playbook(obj, action, VAULT_FILE, &e);
  if (!text)
    return;
  struct play play;
  if (play_parse(text, strlen(text), &play, &e) == 0) {
    const char *got = vars_get(&play.vars, "proxmox_vm_action");
    fuzz_assert(got && strcmp(got, action) == 0);
    fuzz_assert(strcmp(play.vars_file, VAULT_FILE) == 0);
    play_clear(&play);
  }
  free(text);
}

static void one_script(const char *input, size_t len, const char *key,
                       const char *action) {
  struct dk_request *reqs = NULL;
  size_t n = 0;
  struct msg_err e;
  if (dk_requests(input, len, key, "px-testing", action, &reqs, &n, &e) < 0) {
    fuzz_assert(reqs == NULL && n == 0);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    fuzz_assert(reqs[i].offset < len);
    fuzz_assert(i == 0 || reqs[i].offset > reqs[i - 1].offset);
    check_request(reqs[i].obj, action);
    check_playbook(reqs[i].obj, action);
  }
  dk_requests_free(reqs, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *input = fuzz_cstr(data, size);
  one_script(input, size, "vm_id", "vm_start");
  one_script(input, size, "proxmox_node", "vm_list");
  free(input);
  return 0;
}
