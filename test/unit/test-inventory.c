/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-inventory.c: would Ansible run the play on the host, locally
 * (inventory.c)?  YAML and INI inventories, host and group variables,
 * group names, host_vars/group_vars directories, plugin settings. */
#define _GNU_SOURCE
#include "inventory.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/r42-inv-XXXXXX";

/* Writes TEXT to DIR/NAME and asks about px-testing (playbook in DIR/pb). */
static int ask(const char *name, const char *text, const char *cfg_text) {
  char *path = xasprintf("%s/%s", dir, name);
  char *pbdir = xasprintf("%s/pb", dir);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  struct acfg cfg = {0};
  struct msg_err e = {{0}};
  int rc = cfg_text && acfg_parse(&cfg, cfg_text, &e) < 0
               ? -2
               : inv_local_host(path, "px-testing", pbdir, &cfg, &e);
  acfg_clear(&cfg);
  unlink(path);
  free(path);
  free(pbdir);
  return rc;
}

#define DEVKIT_HOST                                                           \
  "    px-testing:\n"                                                         \
  "      ansible_connection: local\n"                                         \
  "      ansible_python_interpreter: /usr/bin/python3\n"

static void test_yaml(void) {
  static const struct {
    const char *what, *text;
    int want;
  } cases[] = {
      {"the devkit's inventory", "all:\n  hosts:\n" DEVKIT_HOST, 1},
      {"a host in a child group",
       "all:\n  children:\n    lab:\n      hosts:\n"
       "        px-testing:\n          ansible_connection: local\n",
       1},
      {"local set on all",
       "all:\n  vars:\n    ansible_connection: local\n"
       "  hosts:\n    px-testing:\n",
       1},
      {"another host's range",
       "all:\n  hosts:\n" DEVKIT_HOST
       "    web[01:10]:\n      ansible_connection: "
       "local\n",
       1},
      {"the host absent", "all:\n  hosts:\n    other:\n", 0},
      {"a child group of that name",
       "all:\n  children:\n    px-testing:\n      hosts: {}\n", -1},
      {"a host that is also a group",
       "all:\n  hosts:\n" DEVKIT_HOST "  children:\n    px-testing:\n", -1},
      {"ansible_connection: ssh",
       "all:\n  hosts:\n    px-testing:\n      ansible_connection: ssh\n"
       "      ansible_host: 127.0.0.1\n      ansible_port: 19099\n",
       -1},
      {"no connection (ssh by default)", "all:\n  hosts:\n    px-testing:\n",
       -1},
      {"local with ansible_host",
       "all:\n  hosts:\n" DEVKIT_HOST "      ansible_host: 10.0.0.1\n", -1},
      {"local with ansible_port",
       "all:\n  hosts:\n" DEVKIT_HOST "      ansible_port: 2222\n", -1},
      {"another host variable",
       "all:\n  hosts:\n" DEVKIT_HOST "      proxmox_api_host: x\n", -1},
      {"group vars", "all:\n  hosts:\n" DEVKIT_HOST "  vars:\n    x: 1\n", -1},
      {"ssh on all, local on the host",
       "all:\n  hosts:\n" DEVKIT_HOST "  vars:\n    ansible_connection: ssh\n",
       -1},
      {"a missing interpreter",
       "all:\n  hosts:\n    px-testing:\n      ansible_connection: local\n"
       "      ansible_python_interpreter: /nonexistent/python3\n",
       -1},
      {"a templated connection",
       "all:\n  hosts:\n    px-testing:\n"
       "      ansible_connection: \"{{ 'local' }}\"\n",
       -1},
      {"the host with a port", "all:\n  hosts:\n    px-testing:22:\n", -1},
      {"a range that may name the host",
       "all:\n  hosts:\n    px-test[a:z]ng:\n", -1},
      {"a plugin configuration", "plugin: constructed\n", -1},
      {"an unknown group key", "all:\n  hosts:\n" DEVKIT_HOST "  other: {}\n",
       -1},
      {"hosts as a string", "all:\n  hosts: px-testing\n", -1},
      {"an anchor",
       "all:\n  hosts:\n    px-testing: &h\n"
       "      ansible_connection: local\n    b: *h\n",
       -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ok(ask("inv.yml", cases[i].text, NULL) == cases[i].want, "YAML: %s",
       cases[i].what);
  ok(ask("inv", "all:\n  hosts:\n" DEVKIT_HOST, NULL) == 1,
     "a YAML file without extension");
  ok(ask("inv.ini", "all:\n  hosts:\n" DEVKIT_HOST, NULL) == -1,
     "YAML text in a .ini file is read as INI by Ansible: not ours");
}

static void test_ini(void) {
  static const struct {
    const char *what, *text;
    int want;
  } cases[] = {
      {"an ungrouped host", "px-testing ansible_connection=local\n", 1},
      {"a host in a group, comments",
       "# c\n; c\n[lab] # c\npx-testing ansible_connection=local # c\n", 1},
      {"local on all:vars",
       "[all:vars]\nansible_connection = local\n[lab]\npx-testing\n", 1},
      {"a group under children, not a host",
       "[lab:children]\npx-testing\n\n[px-testing]\n", -1},
      {"the host absent", "[lab]\nother ansible_connection=local\n", 0},
      {"ssh", "[lab]\npx-testing ansible_connection=ssh\n", -1},
      {"no connection", "[lab]\npx-testing\n", -1},
      {"ansible_host", "px-testing ansible_connection=local ansible_host=x\n",
       -1},
      {"other group vars",
       "[lab]\npx-testing ansible_connection=local\n[lab:vars]\nx=1\n", -1},
      {"vars of an undefined group",
       "px-testing ansible_connection=local\n[x:vars]\n", -1},
      {"a child group never defined",
       "[lab:children]\nother\n[lab]\npx-testing ansible_connection=local\n",
       -1},
      {"quotes (shlex)", "px-testing ansible_connection='local'\n", -1},
      {"an unknown section type", "[lab:hosts]\npx-testing\n", -1},
      {"the host with a port", "px-testing:22 ansible_connection=local\n", -1},
      {"a non-ASCII byte",
       "# caf\xc3\xa9\npx-testing "
       "ansible_connection=local\n",
       -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ok(ask("inv.ini", cases[i].text, NULL) == cases[i].want, "INI: %s",
       cases[i].what);
}

static void test_surroundings(void) {
  static const char good[] = "all:\n  hosts:\n" DEVKIT_HOST;
  ok(ask("inv.yml", good, "[inventory]\nenable_plugins = yaml\n") == -1,
     "an [inventory] setting in ansible.cfg");
  ok(ask("inv.yml", good, "[defaults]\nvars_plugins_enabled = x\n") == -1,
     "vars_plugins_enabled in ansible.cfg");
  setenv("ANSIBLE_INVENTORY_ENABLED", "yaml", 1);
  ok(ask("inv.yml", good, NULL) == -1, "ANSIBLE_INVENTORY_ENABLED");
  unsetenv("ANSIBLE_INVENTORY_ENABLED");
  static const char *const dirs[] = {"group_vars", "host_vars",
                                     "pb/group_vars", "pb/host_vars"};
  for (size_t i = 0; i < 4; i++) {
    char *d = xasprintf("%s/%s", dir, dirs[i]);
    mkdir(d, 0700);
    ok(ask("inv.yml", good, NULL) == -1, "a %s directory", dirs[i]);
    rmdir(d);
    free(d);
  }
  ok(ask("inv.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n", NULL) == -1,
     "an encrypted inventory");
  ok(ask("inv.yml", good, NULL) == 1, "the devkit's inventory again");
  char *path = xasprintf("%s/inv.yml", dir);
  struct acfg cfg = {0};
  struct msg_err e = {{0}};
  mkdir(path, 0700);
  ok(inv_local_host(path, "px-testing", dir, &cfg, &e) == -1,
     "an inventory directory");
  rmdir(path);
  free(path);
}

int main(void) {
  setenv("ANSIBLE_HOME", "/nonexistent", 1);
  if (!mkdtemp(dir))
    return 1;
  char *pb = xasprintf("%s/pb", dir);
  mkdir(pb, 0700);
  test_yaml();
  test_ini();
  test_surroundings();
  rmdir(pb);
  free(pb);
  rmdir(dir);
  return tap_done();
}
