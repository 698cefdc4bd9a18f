/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: the runner's core (r42intercept-core.so).  Its one entry point,
 * r42_runner_main(), is called by the front (front.c, r42intercept-runner,
 * the program the preloaded shim execs in place of an intercepted one):
 *     r42intercept-runner --r42-exec PROGRAM-PATH ARGV0 ARGV1 ...
 * It protects itself against core dumps, classifies the call again (the
 * same match_exec() as the shim) and hands it to the mode that answers it;
 * every mode falls back to the real program when it cannot answer
 * exactly.  `--resident DIR KEY IDLE` serves calls from the fronts that
 * follow, each in a fork of it (resident.c).  `--doctor [ARGS]` runs the
 * doctor (doctor.c), `--summary FILE` summarises an event log (summary.c). */
#include "../shim/match.h"
#include "doctor.h"
#include "evlog.h"
#include "msg.h"
#include "resident.h"
#include "run.h"
#include "summary.h"

#include <sodium.h>
#include <string.h>

/* The front looks this up with dlsym(); everything else stays hidden. */
int r42_runner_main(int argc, char **argv)
    __attribute__((visibility("default")));

/* Answers the call in ARGV (the front's argv, checked by it).  Returns the
   exit status, or does not return (the real program runs). */
int r42_runner_main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--resident") == 0)
    return res_main(argc, argv, r42_runner_main); /* nothing read before */
  fb_protect();                                   /* before anything is read */
  msg_profile("start");                           /* starts the clock */
  if (res_in_call())
    msg_profile("call handed over to the resident runner");
  if (argc >= 2 && strcmp(argv[1], "--doctor") == 0) {
    if (sodium_init() < 0)
      die("libsodium cannot be initialised");
    return doctor_main(argv + 2);
  }
  if (argc >= 2 && strcmp(argv[1], "--summary") == 0)
    return sum_main(argc, argv);
  if (argc < 4 || strcmp(argv[1], MATCH_RUNNER_MARK) != 0)
    die("usage: r42intercept-runner " MATCH_RUNNER_MARK
        " PROGRAM ARGV0 [ARGS...] (started by libr42intercept.so)");
  if (sodium_init() < 0)
    die("libsodium cannot be initialised");
  const char *path = argv[2];
  char **prog_argv = argv + 3;
  int prog = 0;
  enum match_kind kind = match_exec(path, prog_argv, &prog);
  struct fb fb;
  fb_init(&fb, path, prog_argv, match_basename(prog_argv[prog]));
  fb.kind = kind;
  evl_begin(kind, fb.name);
  int rc;
  switch (kind) {
  case MATCH_PLAYBOOK:
    rc = run_playbook(&fb, prog_argv + prog);
    break;
  case MATCH_VAULT:
    rc = run_vault_view(&fb, prog_argv + prog);
    break;
  case MATCH_SCRIPT:
    rc = run_script(&fb, prog_argv, prog);
    break;
  default:
    fb_exec(&fb, "not a program r42intercept answers");
  }
  fb_clear(&fb);
  evl_answered(rc);
  return rc;
}
