/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-match.c: the shim's "is this exec ours?" decision (shim/match.c),
 * called directly, without LD_PRELOAD. */
#include "match.h"
#include "tap.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

static void check(const char *path, char **argv, enum match_kind want,
                  int want_index, const char *what) {
  int index = -7;
  enum match_kind got = match_exec(path, argv, &index);
  ok(got == want && (want == MATCH_NONE || index == want_index),
     "%s (kind %d, index %d)", what, got, index);
}

int main(void) {
  check("/usr/bin/ansible-playbook",
        ARGV("ansible-playbook", "-i", "inv", "/dev/stdin"), MATCH_PLAYBOOK, 0,
        "ansible-playbook by path");
  check("ansible-playbook", ARGV("ansible-playbook", "x.yml"), MATCH_PLAYBOOK,
        0, "ansible-playbook by name (exec*p)");
  check("/usr/bin/python3",
        ARGV("python3", "/usr/bin/ansible-playbook", "-i", "inv", "pb"),
        MATCH_PLAYBOOK, 1, "python3 running ansible-playbook");
  check("/usr/bin/python3.11",
        ARGV("python3.11", "-u", "-W", "ignore", "-X", "dev",
             "/usr/bin/ansible-playbook", "pb"),
        MATCH_PLAYBOOK, 6, "python3.11 with options before the script");
  check("/usr/bin/python3", ARGV("python3", "-Es", "ansible-playbook"),
        MATCH_PLAYBOOK, 2, "python3 with a flag cluster");
  check("/usr/bin/python3", ARGV("python3", "-c", "ansible-playbook"),
        MATCH_NONE, 0, "python3 -c is not a script");
  check("/usr/bin/python3", ARGV("python3", "-m", "ansible-playbook"),
        MATCH_NONE, 0, "python3 -m is not a script");
  check("/usr/bin/python3", ARGV("python3", "-W"), MATCH_NONE, 0,
        "python3 -W without its value");
  check("/usr/bin/python3", ARGV("python3", "script.py"), MATCH_NONE, 0,
        "python3 running something else");
  check("/usr/bin/ansible-vault",
        ARGV("ansible-vault", "view", "--vault-password-file", "p", "v"),
        MATCH_VAULT, 0, "ansible-vault view");
  check("/usr/bin/ansible-vault", ARGV("ansible-vault", "encrypt", "v"),
        MATCH_NONE, 0, "ansible-vault encrypt is not ours");
  check("/opt/devkit/proxmox_vm.vm_id.start.to.jsons.sh",
        ARGV("proxmox_vm.vm_id.start.to.jsons.sh"), MATCH_SCRIPT, 0,
        "a devkit entry script run directly");
  check("/bin/bash",
        ARGV("bash", "/opt/devkit/proxmox_vm.list.to.jsons.sh", "admin"),
        MATCH_SCRIPT, 1, "bash SCRIPT");
  check("/bin/sh", ARGV("sh", "proxmox_vm.list.to.jsons.sh"), MATCH_SCRIPT, 1,
        "sh SCRIPT");
  check("/bin/bash", ARGV("bash", "-x", "proxmox_vm.list.to.jsons.sh"),
        MATCH_NONE, 0, "bash -x SCRIPT is not ours");
  check("/opt/devkit/proxmox_vm.vm_id.start.to.jsons.sh.bak", ARGV("x"),
        MATCH_NONE, 0, "a similar name is not ours");
  check("/usr/bin/jq", ARGV("jq", "-c", "."), MATCH_NONE, 0, "jq");
  check("/bin/bash", ARGV("bash", "-c", "ansible-playbook"), MATCH_NONE, 0,
        "bash -c");
  check("/usr/bin/ansible-playbook", ARGV(NULL), MATCH_NONE, 0,
        "an empty argv");
  ok_str(match_basename("/a/b/c"), "c", "basename of a path");
  ok_str(match_basename("c"), "c", "basename of a name");
  return tap_done();
}
