/* SPDX-License-Identifier: GPL-3.0-or-later */
/* resident.c: the resident runner, the core's side (docs/resident.md;
 * the front's side is rescall.c).  `r42intercept-runner --resident DIR KEY
 * IDLE`, started by a front that found none, holds the core loaded and its
 * libraries initialised, and listens on DIR/resident-KEY.sock (one per
 * KEY: a lock file).
 * It keeps one fork of itself ready, the spare, waiting for a connection.
 * The spare that gets one says so (and the resident forks the next
 * spare), reads the request (same user only, bounded in size and time),
 * answers ACCEPTED, and once the front committed becomes the call: the
 * caller's descriptors, working directory, umask, signal state and
 * environment, and r42_runner_main() as the front would have run it.  It
 * sends its exit status itself; a fall-back sends the front the stdin to
 * give the real program instead, and the front execs it in the caller's
 * process.  The resident relays the rest: the front's signals to the call,
 * SIGKILL to the call when the front goes away, the wait status of a call
 * that ended otherwise (a signal).
 * The resident reads no secret and keeps no state of a call: every call
 * starts from the same freshly initialised copy.  It ends after IDLE
 * seconds without a call (none running), or once its socket is removed or
 * replaced and its calls ended. */
#define _GNU_SOURCE
#include "resident.h"

#include "../shim/match.h"
#include "evlog.h"
#include "resproto.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RES_MAX_CALLS                                                         \
  64                        /* calls at once; more wait (then run in their    \
                               front: rescall.c gives up after 3 s) */
#define RES_REQUEST_MS 5000 /* to receive a request */
#define RES_COMMIT_MS 10000 /* for the front to commit */
#define RES_TICK_MS 1000    /* how often the idle time is checked */

/* What a spare tells the resident on its channel. */
enum res_news {
  RES_TAKEN = 'T',    /* it has a connection: it is a call now, or ends */
  RES_COMMITTED = 'C' /* the front committed: the connection attached */
};

static int call_sock = -1; /* in a call: its connection to the front */

bool res_in_call(void) {
  return call_sock >= 0;
}

void res_hand_back(void) {
  fflush(NULL);
  struct rp_msg m = {RP_HANDBACK, 0};
  int fd = STDIN_FILENO;
  _exit(rp_send(call_sock, &m, sizeof m, &fd, 1) == 0 ? 0 : 1);
}

/* ---- one call (in the spare) ------------------------------------------- */

/* A request's strings: COUNT of them from *P (END: the end), into OUT
   (COUNT + 1 pointers, NULL-terminated).  Returns 0, or -1 when they are
   not there. */
static int split(char **p, const char *end, uint32_t count, char **out) {
  for (uint32_t i = 0; i < count; i++) {
    char *nul = memchr(*p, '\0', (size_t)(end - *p));
    if (!nul)
      return -1;
    out[i] = *p;
    *p = nul + 1;
  }
  out[count] = NULL;
  return 0;
}

/* The signal state of the call: RQ's (the caller's). */
static void caller_signals(const struct rp_request *rq) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig = 1; sig <= 64 && sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP)
      continue;
    signal(sig, rq->ignored >> (sig - 1) & 1 ? SIG_IGN : SIG_DFL);
    if (rq->blocked >> (sig - 1) & 1)
      sigaddset(&mask, sig);
  }
  sigprocmask(SIG_SETMASK, &mask, NULL);
}

/* A call's request: its header, argv and environment. */
struct res_request {
  struct rp_request rq;
  char **argv, **env;
};

/* Reads and checks the request on CONN into R (argv and environment
   allocated), its working directory into *CWD and its descriptors into
   FDS (*NFDS of them), with the numbers they have in the caller into
   NUMBERS.  Returns 0, or -1. */
static int read_request(int conn, struct res_request *r, int *cwd, int *fds,
                        int *numbers, int *nfds) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  int got[RP_MAX_FDS], n = RP_MAX_FDS;
  struct rp_request *rq = &r->rq;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
      cred.uid != getuid() ||
      rp_recv(conn, rq, sizeof *rq, got, &n, RES_REQUEST_MS) != 0)
    return -1;
  *cwd = n > 0 ? got[0] : -1;
  *nfds = n > 0 ? n - 1 : 0;
  memcpy(fds, got + 1, (size_t)*nfds * sizeof *fds);
  size_t numbers_size = (size_t)*nfds * sizeof(int32_t);
  if (n < 4 || (uint32_t)*nfds != rq->nfds || rq->magic != RP_MAGIC ||
      rq->version != RP_VERSION || rq->size > RP_MAX_STRINGS ||
      rq->size < numbers_size || rq->argc < 4 || rq->argc > RP_MAX_COUNT ||
      rq->envc > RP_MAX_COUNT)
    return -1;
  char *payload = malloc((size_t)rq->size + 1);
  r->argv = calloc((size_t)rq->argc + 1, sizeof *r->argv);
  r->env = calloc((size_t)rq->envc + 1, sizeof *r->env);
  if (!payload || !r->argv || !r->env ||
      rp_recv(conn, payload, rq->size, NULL, NULL, RES_REQUEST_MS) != 0)
    return -1;
  for (int i = 0; i < *nfds; i++) {
    int32_t number;
    memcpy(&number, payload + (size_t)i * sizeof number, sizeof number);
    /* in increasing order, 0, 1 and 2 first */
    if (number < 0 || (i < 3 && number != i) ||
        (i > 0 && number <= numbers[i - 1]))
      return -1;
    numbers[i] = number;
  }
  char *p = payload + numbers_size;
  const char *end = payload + rq->size;
  if (split(&p, end, rq->argc, r->argv) < 0 ||
      split(&p, end, rq->envc, r->env) < 0 || p != end)
    return -1;
  /* only a call, as the front was given it */
  return strcmp(r->argv[1], MATCH_RUNNER_MARK) == 0 ? 0 : -1;
}

/* *FD moved to a descriptor above FLOOR (close-on-exec).  Returns 0, or
   -1. */
static int move_above(int *fd, int floor) {
  if (*fd > floor)
    return 0;
  int moved = fcntl(*fd, F_DUPFD_CLOEXEC, floor + 1);
  if (moved < 0)
    return -1;
  close(*fd);
  *fd = moved;
  return 0;
}

/* Puts the caller's descriptors FDS at their NUMBERS (N of them; the
   last, the highest), after moving them and KEEP (the spare's own, NKEEP)
   out of the way; enters the working directory CWD.  Returns 0, or -1. */
static int become_caller(int cwd, int *fds, const int *numbers, int n,
                         int **keep, int nkeep) {
  int top = numbers[n - 1];
  if (fchdir(cwd) < 0)
    return -1;
  close(cwd);
  for (int i = 0; i < nkeep; i++)
    if (move_above(keep[i], top) < 0)
      return -1;
  for (int i = 0; i < n; i++)
    if (move_above(&fds[i], top) < 0)
      return -1;
  for (int i = 0; i < n; i++) {
    if (dup2(fds[i], numbers[i]) < 0) /* close-on-exec cleared */
      return -1;
    close(fds[i]);
  }
  return 0;
}

/* The call: becomes the caller (umask, signals, environment; descriptors
   and working directory are set already) and answers its argv; sends the
   exit status on CONN and ends. */
R42_NORETURN static void run_call(int conn, struct res_request *r,
                                  res_call_fn call) {
  umask((mode_t)r->rq.umask);
  caller_signals(&r->rq);
  environ = r->env;
  call_sock = conn;
  evl_set_pid(r->rq.pid); /* the log names the caller's process */
  int rc = call((int)r->rq.argc, r->argv);
  fflush(NULL);
#ifdef __SANITIZE_ADDRESS__
  exit(rc); /* LeakSanitizer checks at exit(); the resident relays */
#else
  /* the status at once: the front need not wait for this process's end */
  struct rp_msg m = {RP_STATUS, (rc & 0xff) << 8};
  if (rp_send(conn, &m, sizeof m, NULL, 0) < 0) {
    /* the front is gone */
  }
  _exit(rc);
#endif
}

/* Tells the resident on CHAN: NEWS, with FD attached unless -1.  When
   the resident is gone, the call goes on without its relaying. */
static void tell(int chan, char news, int fd) {
  if (rp_send(chan, &news, 1, &fd, fd >= 0 ? 1 : 0) < 0) {
    /* nothing to do */
  }
}

/* The spare: waits for a connection on LISTENER, and serves it as above;
   CHAN: its channel to the resident. */
R42_NORETURN static void spare(int listener, int chan, res_call_fn call) {
  int conn;
  while ((conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) < 0)
    if (errno != EINTR && errno != ECONNABORTED)
      _exit(1);
  tell(chan, RES_TAKEN, -1);
  close(listener);
  struct res_request r;
  int cwd = -1, fds[RP_MAX_FDS], numbers[RP_MAX_FDS], nfds = 0;
  int *keep[] = {&conn, &chan};
  struct rp_msg m = {RP_ACCEPTED, 0};
  if (read_request(conn, &r, &cwd, fds, numbers, &nfds) < 0 ||
      become_caller(cwd, fds, numbers, nfds, keep, 2) < 0 ||
      rp_send(conn, &m, sizeof m, NULL, 0) < 0 ||
      rp_recv(conn, &m, sizeof m, NULL, NULL, RES_COMMIT_MS) != 0 ||
      m.type != RP_ACCEPTED)
    _exit(0); /* nothing done: the front runs the call itself */
  tell(chan, RES_COMMITTED, conn);
  close(chan);
  run_call(conn, &r, call);
}

/* ---- the resident ------------------------------------------------------- */

/* A fork of the resident: the spare, or a call. */
struct res_child {
  pid_t pid;
  int chan; /* the resident's end of its channel, or -1 once closed */
  int conn; /* once committed: the connection to its front, else -1 */
};

struct resident {
  int listener, lock, dirfd, sfd;
  const char *sockname;
  ino_t ino;
  long idle, last;
  res_call_fn call;
  struct res_child kids[RES_MAX_CALLS + 1];
  int nkids;
  int spare; /* index of the spare in KIDS, or -1 */
};

static long now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec;
}

/* Decodes a public key of a throw-away KEY: OpenSSL's decoders fetched
   and cached, as a server certificate's key needs them. */
static void warm_key(EVP_PKEY *key) {
  unsigned char *der = NULL;
  int len = key ? i2d_PUBKEY(key, &der) : -1;
  const unsigned char *p = der;
  if (len > 0)
    EVP_PKEY_free(d2i_PUBKEY(NULL, &p, len));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
}

/* Initialises what every call would: the libraries' global state,
   OpenSSL's tables of algorithms and decoders (which later TLS contexts
   and certificates reuse) and its random generators (which a fork
   reseeds). */
static void warm_up(void) {
  if (sodium_init() < 0)
    return;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_easy_cleanup(curl_easy_init());
  SSL_CTX_free(SSL_CTX_new(TLS_client_method()));
  RAND_status();
  warm_key(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
  warm_key(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
}

/* True while the socket is still the one bound. */
static bool still_ours(const struct resident *r) {
  struct stat st;
  return fstatat(r->dirfd, r->sockname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         st.st_ino == r->ino;
}

/* Forks the next spare, when there is room. */
static void fork_spare(struct resident *r) {
  int pair[2];
  if (r->spare >= 0 || r->nkids > RES_MAX_CALLS ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return;
  pid_t pid = fork();
  if (pid == 0) {
    close(pair[0]);
    close(r->lock);
    close(r->dirfd);
    close(r->sfd);
    for (int i = 0; i < r->nkids; i++) {
      if (r->kids[i].chan >= 0)
        close(r->kids[i].chan);
      if (r->kids[i].conn >= 0)
        close(r->kids[i].conn);
    }
    spare(r->listener, pair[1], r->call);
  }
  close(pair[1]);
  if (pid < 0) {
    close(pair[0]);
    return;
  }
  r->kids[r->nkids] = (struct res_child){pid, pair[0], -1};
  r->spare = r->nkids++;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* News from child K on its channel. */
static void on_news(struct resident *r, int k) {
  struct res_child *c = &r->kids[k];
  char news;
  int fd = -1, nfd = 1;
  if (rp_recv(c->chan, &news, 1, &fd, &nfd, 0) != 0) {
    close_fd(&c->chan); /* it ended, or will */
    return;
  }
  if (news == RES_TAKEN && k == r->spare) {
    r->spare = -1;
    r->last = now_s();
    fork_spare(r);
  } else if (news == RES_COMMITTED && nfd == 1 && c->conn < 0) {
    c->conn = fd;
    fd = -1;
  }
  close_fd(&fd);
}

/* A message from the front of child K's call: a signal to pass on; or the
   front is gone, and the call goes with it. */
static void on_front(struct resident *r, int k) {
  static const int allowed[] = RP_SIGNALS;
  struct res_child *c = &r->kids[k];
  struct rp_msg m;
  if (rp_recv(c->conn, &m, sizeof m, NULL, NULL, RES_TICK_MS) != 0 ||
      m.type != RP_SIGNAL) {
    kill(c->pid, SIGKILL);
    close_fd(&c->conn);
    return;
  }
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    if (m.value == allowed[i])
      kill(c->pid, m.value);
}

/* Reaps the children that ended; a call's front gets its wait status
   (a second one when the call sent its own: the front took the first). */
static void reap(struct resident *r) {
  struct signalfd_siginfo si;
  while (read(r->sfd, &si, sizeof si) > 0)
    ;
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int k = 0; k < r->nkids; k++) {
      struct res_child *c = &r->kids[k];
      if (c->pid != pid)
        continue;
      if (c->conn >= 0) {
        struct rp_msg m = {RP_STATUS, status};
        if (rp_send(c->conn, &m, sizeof m, NULL, 0) < 0) {
          /* the front is gone */
        }
      }
      close_fd(&c->conn);
      close_fd(&c->chan);
      if (r->spare == k)
        r->spare = -1;
      else if (r->spare == r->nkids - 1)
        r->spare = k;
      r->kids[k] = r->kids[--r->nkids];
      break;
    }
  }
}

/* Waits for and handles what happens, at most RES_TICK_MS. */
static void step(struct resident *r) {
  struct pollfd p[2 * (RES_MAX_CALLS + 1) + 1];
  int who[2 * (RES_MAX_CALLS + 1) + 1], n = 0;
  p[n] = (struct pollfd){r->sfd, POLLIN, 0};
  who[n++] = -1;
  for (int k = 0; k < r->nkids; k++) {
    if (r->kids[k].chan >= 0) {
      p[n] = (struct pollfd){r->kids[k].chan, POLLIN, 0};
      who[n++] = k;
    }
    if (r->kids[k].conn >= 0) {
      p[n] = (struct pollfd){r->kids[k].conn, POLLIN, 0};
      who[n++] = k + RES_MAX_CALLS + 1;
    }
  }
  if (poll(p, (nfds_t)n, RES_TICK_MS) <= 0)
    return;
  for (int i = 1; i < n; i++) {
    if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    if (who[i] <= RES_MAX_CALLS)
      on_news(r, who[i]);
    else if (r->kids[who[i] - RES_MAX_CALLS - 1].conn == p[i].fd)
      on_front(r, who[i] - RES_MAX_CALLS - 1);
  }
  if (p[0].revents & POLLIN)
    reap(r); /* last: it moves entries of KIDS */
}

/* True when the resident has nothing running and may end: idle for long
   enough, or its socket gone. */
static bool done(const struct resident *r) {
  bool busy = r->nkids > (r->spare >= 0 ? 1 : 0);
  return !busy && (!still_ours(r) || now_s() - r->last >= r->idle);
}

/* Serves until done(); then ends the spare (which has taken no call: its
   front, if one has just connected, runs the call itself). */
static void serve(struct resident *r) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  r->sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r->sfd < 0)
    return;
  r->last = now_s();
  for (;;) {
    if (r->spare < 0)
      fork_spare(r);
    step(r);
    if (!done(r))
      continue;
    if (r->spare >= 0) {
      struct pollfd p = {r->kids[r->spare].chan, POLLIN, 0};
      if (poll(&p, 1, 0) > 0)
        continue; /* it has just taken one */
      kill(r->kids[r->spare].pid, SIGKILL);
      while (waitpid(r->kids[r->spare].pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
    return;
  }
}

/* Takes the lock and binds the socket of KEY in DIR.  Returns 0, 1 when
   another resident serves KEY, or -1. */
static int bind_socket(struct resident *r, const char *dir, const char *key,
                       char *sockname, size_t size) {
  char lockname[64];
  struct sockaddr_un sa;
  socklen_t len;
  struct stat st;
  r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (r->dirfd < 0 || rp_name(lockname, sizeof lockname, key, "lock") < 0 ||
      rp_name(sockname, size, key, "sock") < 0)
    return -1;
  r->lock = openat(r->dirfd, lockname,
                   O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (r->lock < 0 || flock(r->lock, LOCK_EX | LOCK_NB) < 0)
    return 1;
  unlinkat(r->dirfd, sockname, 0);
  umask(077);
  r->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (r->listener < 0 || rp_address(&sa, &len, dir, r->dirfd, key) < 0 ||
      bind(r->listener, (struct sockaddr *)&sa, len) < 0 ||
      listen(r->listener, RES_MAX_CALLS) < 0 ||
      fstatat(r->dirfd, sockname, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  r->sockname = sockname;
  r->ino = st.st_ino;
  return 0;
}

int res_main(int argc, char **argv, res_call_fn call) {
  char *end = NULL;
  long idle = argc == 5 ? strtol(argv[4], &end, 10) : 0;
  struct stat st;
  if (argc != 5 || argv[2][0] != '/' || strlen(argv[3]) != 16 ||
      strspn(argv[3], "0123456789abcdef") != 16 || *end || idle < 1 ||
      idle > 3600) {
    fprintf(stderr, "usage: r42intercept-runner --resident DIR KEY IDLE "
                    "(started by the runner)\n");
    return 2;
  }
  const char *dir = argv[2];
  if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 0077))
    return 2;
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  struct resident r = {.listener = -1,
                       .lock = -1,
                       .dirfd = -1,
                       .sfd = -1,
                       .idle = idle,
                       .call = call,
                       .spare = -1};
  char sockname[64];
  int rc = bind_socket(&r, dir, argv[3], sockname, sizeof sockname);
  if (rc != 0)
    return rc < 0 ? 1 : 0;
  warm_up();
  serve(&r);
  if (still_ours(&r))
    unlinkat(r.dirfd, sockname, 0);
  return 0;
}
