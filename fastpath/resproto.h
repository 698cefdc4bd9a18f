/* SPDX-License-Identifier: GPL-3.0-or-later */
/* resproto.h: the wire between the runner's front and the resident runner
   (rescall.c, the front's side; resident.c, the resident's side; see
   docs/resident.md).  libc only: the front links it. */
#ifndef R42_RESPROTO_H
#define R42_RESPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define RP_MAGIC 0x52343252u /* "R42R" */
#define RP_VERSION 1u
#define RP_MAX_STRINGS (8u << 20) /* argv + environment, bytes */
#define RP_MAX_COUNT 65536u       /* argv or environment entries */
/* A request carries the caller's working directory and every descriptor
   it leaves open across exec (0, 1, 2 first), at most RP_MAX_FDS in all. */
#define RP_MAX_FDS 64

/* A request: this header with its descriptors attached (the working
   directory, then NFDS open ones), then NFDS int32_t, the numbers they
   have in the caller, then ARGC argv strings and ENVC environment
   strings, each NUL-terminated, SIZE bytes in all. */
struct rp_request {
  uint32_t magic;
  uint32_t version;
  uint32_t argc;
  uint32_t envc;
  uint32_t size;
  uint32_t umask;
  int32_t pid;      /* the front's */
  uint32_t nfds;    /* descriptors besides the working directory */
  uint64_t ignored; /* signals 1-64 the caller ignores (bit N-1: N) */
  uint64_t blocked; /* and those it blocks */
};

/* Every later message, either way. */
struct rp_msg {
  uint32_t type;
  int32_t value;
};

enum rp_type {
  RP_ACCEPTED = 'A', /* resident: the call is ours now (nothing before) */
  RP_STATUS = 'S',   /* resident: the call ended; VALUE: its wait status */
  RP_HANDBACK = 'H', /* resident: exec the real program, with the stdin
                        descriptor attached; then nothing more */
  RP_SIGNAL = 'K'    /* front: VALUE, a signal it received, for the call */
};

/* The signals the front passes on to the call it waits for. */
#define RP_SIGNALS                                                            \
  { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM }

/* The resident's socket for KEY in DIR (a private directory) into SA:
   DIR/resident-KEY.sock, or through /proc/self/fd/DIRFD when that path is
   too long for a socket address.  Returns 0, or -1 (ENAMETOOLONG). */
int rp_address(struct sockaddr_un *sa, socklen_t *len, const char *dir,
               int dirfd, const char *key);

/* The file name of KEY's lock (SUFFIX "lock") or socket ("sock") in the
   directory, into BUF.  Returns 0, or -1. */
int rp_name(char *buf, size_t size, const char *key, const char *suffix);

/* Sends LEN bytes at BUF on the stream socket FD, with the NFDS
   descriptors at FDS attached to the first byte.  Returns 0, or -1 with
   errno set (EPIPE when the peer is gone). */
int rp_send(int fd, const void *buf, size_t len, const int *fds, int nfds);

/* Reads exactly LEN bytes into BUF, within TIMEOUT_MS (-1: no limit);
   descriptors attached to them (at most *NFDS, the rest closed) go to
   FDS, their count to *NFDS (NFDS may be NULL: all closed).  Returns 0,
   1 at end of file before the first byte, or -1 with errno set
   (ETIMEDOUT, EPROTO for end of file within the bytes). */
int rp_recv(int fd, void *buf, size_t len, int *fds, int *nfds,
            int timeout_ms);

#endif
