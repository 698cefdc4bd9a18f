/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c: the ansible-playbook command lines we answer (cli.c). */
#include "cli.h"
#include "tap.h"

#define ARGV(...) ((char *[]){"ansible-playbook", __VA_ARGS__, NULL})

static int parse(char **argv, struct cli_playbook *out) {
  struct msg_err e = {{0}};
  return cli_parse_playbook(argv, out, &e);
}

int main(void) {
  struct cli_playbook c;
  ok(parse(ARGV("-i", "inv.yml", "--vault-password-file", "pw", "/dev/stdin"),
           &c) == 0 &&
         strcmp(c.inventory, "inv.yml") == 0 && c.n_vault_files == 1 &&
         strcmp(c.vault_files[0], "pw") == 0 &&
         strcmp(c.playbook, "/dev/stdin") == 0,
     "the devkit's command line");
  ok(parse(ARGV("--inventory=inv", "--vault-id", "lab@pw1",
                "--vault-pass-file=pw2", "pb.yml"),
           &c) == 0 &&
         c.n_vault_files == 2 && strcmp(c.vault_files[0], "pw1") == 0 &&
         strcmp(c.vault_files[1], "pw2") == 0,
     "--opt=value forms, --vault-id label@file");
  ok(strcmp(c.vault_labels[0], "lab") == 0 && c.vault_labels[1][0] == '\0',
     "each password's --vault-id label is kept (none for a password file)");
  ok(parse(ARGV("-i", "i", "--vault-id", "pw", "--vault-id", "a@b@pw", "pb"),
           &c) == 0 &&
         c.vault_labels[0][0] == '\0' && strcmp(c.vault_labels[1], "a") == 0 &&
         strcmp(c.vault_files[1], "b@pw") == 0,
     "--vault-id without a label; the label ends at the first '@'");
  ok(parse(ARGV("-iinv", "pb.yml"), &c) == 0 &&
         strcmp(c.inventory, "inv") == 0,
     "-iINVENTORY");
  char **refused[] = {
      ARGV("-i", "inv", "-e", "x=1", "pb"),
      ARGV("-i", "inv", "--check", "pb"),
      ARGV("-i", "inv", "-v", "pb"),
      ARGV("-i", "inv", "--limit", "h", "pb"),
      ARGV("-i", "inv", "--tags", "t", "pb"),
      ARGV("-i", "inv", "pb1", "pb2"),
      ARGV("-i", "inv"),
      ARGV("pb"),
      ARGV("-i", "a", "-i", "b", "pb"),
      ARGV("-i", "inv", "--vault-id", "@prompt", "pb"),
      ARGV("-i", "inv", "--ask-vault-pass", "pb"),
      ARGV("-i", "inv", "pb", "--vault-password-file"),
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    struct msg_err e = {{0}};
    ok(cli_parse_playbook(refused[i], &c, &e) < 0 && e.text[0], "refused: %s",
       e.text);
  }
  ok_str(cli_vault_id_file("lab@/x/pw"), "/x/pw", "vault-id with a label");
  ok_str(cli_vault_id_file("/x/pw"), "/x/pw", "vault-id without a label");
  ok(cli_vault_id_file("lab@prompt") == NULL, "vault-id prompt");
  return tap_done();
}
