/* SPDX-License-Identifier: GPL-3.0-or-later */
/* keytool.c: the kernel keyring, for the keyring tests (62-keyring.bats).
 * Never prints a key's payload.  Usage:
 *   keytool session NAME CMD [ARGS...]  joins (or starts) the session
 *                                       keyring NAME, then execs CMD (a
 *                                       keyring lives while a process
 *                                       holds it: keep one running)
 *   keytool deny ERRNO CMD [ARGS...]    execs CMD with add_key, keyctl and
 *                                       request_key failing with ERRNO
 *                                       (EPERM, ENOSYS, EACCES, EDQUOT;
 *                                       seccomp)
 *   keytool list                        one line per r42intercept key of
 *                                       the session keyring: "ID PERM DESC"
 *   keytool read ID                     "read LEN" if the key's payload can
 *                                       be read, else "errno=NAME"
 * Exits 0, or 2 on a usage or system error. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int usage(void) {
  fputs("usage: keytool session NAME CMD... | deny ERRNO CMD... | list | "
        "read ID\n",
        stderr);
  return 2;
}

static int run(char **argv) {
  execvp(argv[0], argv);
  fprintf(stderr, "keytool: %s: %s\n", argv[0], strerror(errno));
  return 2;
}

static int session(const char *name, char **argv) {
  /* The kernel finds a named keyring for a process that does not possess
     it only if its user may search it: add that, so that the next
     keytool session NAME joins the same one while someone holds it. */
  long ring = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
  if (ring < 0 || syscall(SYS_keyctl, KEYCTL_SETPERM, ring, 0x3f1b0000L) < 0) {
    fprintf(stderr, "keytool: join %s: %s\n", name, strerror(errno));
    return 2;
  }
  return run(argv);
}

static int errno_of(const char *name) {
  static const struct {
    const char *name;
    int value;
  } known[] = {{"EPERM", EPERM},
               {"ENOSYS", ENOSYS},
               {"EACCES", EACCES},
               {"EDQUOT", EDQUOT}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(name, known[i].name) == 0)
      return known[i].value;
  return -1;
}

/* A seccomp filter: the three keyring syscalls fail with ERR. */
static int deny(int err, char **argv) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_add_key, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_keyctl, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_request_key, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K,
               SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    fprintf(stderr, "keytool: seccomp: %s\n", strerror(errno));
    return 2;
  }
  return run(argv);
}

static int list(void) {
  int32_t ids[256];
  long n = syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, ids,
                   (long)sizeof ids);
  if (n < 0) {
    fprintf(stderr, "keytool: read the session keyring: %s\n",
            strerror(errno));
    return 2;
  }
  size_t count = (size_t)n / sizeof(int32_t);
  for (size_t i = 0; i < count && i < sizeof ids / sizeof ids[0]; i++) {
    char d[512];
    long len =
        syscall(SYS_keyctl, KEYCTL_DESCRIBE, (long)ids[i], d, (long)sizeof d);
    if (len <= 0 || (size_t)len > sizeof d)
      continue;
    d[sizeof d - 1] = '\0';
    char type[32], desc[400];
    unsigned uid, gid, perm;
    if (sscanf(d, "%31[^;];%u;%u;%x;%399s", type, &uid, &gid, &perm, desc) ==
            5 &&
        strncmp(desc, "r42intercept:", 13) == 0)
      printf("%d %08x %s\n", ids[i], perm, desc);
  }
  return 0;
}

static int read_key(const char *id) {
  char buf[32768];
  long n = syscall(SYS_keyctl, KEYCTL_READ, strtol(id, NULL, 10), buf,
                   (long)sizeof buf);
  explicit_bzero(buf, sizeof buf);
  if (n < 0)
    printf("errno=%s\n", strerrorname_np(errno));
  else
    printf("read %ld\n", n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "session") == 0)
    return session(argv[2], argv + 3);
  if (argc >= 4 && strcmp(argv[1], "deny") == 0 && errno_of(argv[2]) > 0)
    return deny(errno_of(argv[2]), argv + 3);
  if (argc == 2 && strcmp(argv[1], "list") == 0)
    return list();
  if (argc == 3 && strcmp(argv[1], "read") == 0)
    return read_key(argv[2]);
  return usage();
}
