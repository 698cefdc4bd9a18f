/* SPDX-License-Identifier: GPL-3.0-or-later */
/* match.h: which execs r42intercept answers (see match.c). */
#ifndef R42_MATCH_H
#define R42_MATCH_H

/* What an exec is, as far as r42intercept cares. */
enum match_kind {
  MATCH_NONE = 0, /* not ours: the real exec runs untouched */
  MATCH_PLAYBOOK, /* ansible-playbook */
  MATCH_VAULT,    /* ansible-vault view */
  MATCH_SCRIPT    /* a devkit entry script of scripts.def */
};

/* Marker the shim puts in argv[1] of the runner, before the original
   program path and argv. */
#define MATCH_RUNNER_MARK "--r42-exec"

/* Classifies an exec of PATH with ARGV.  PATH is what the caller passed
   (a path, or a bare name for the exec*p family: only its basename is
   used).  When the result is not MATCH_NONE, *PROG_INDEX is the index in
   ARGV of the program's own argv[0]: 0 when PATH is the program itself,
   1 or more when PATH is an interpreter (python3, bash, sh) running it.
   Async-signal-safe, allocation-free, never touches errno. */
enum match_kind match_exec(const char *path, char *const argv[],
                           int *prog_index);

/* The part of PATH after its last '/', or PATH itself. */
const char *match_basename(const char *path);

/* Index of the devkit entry script named NAME (a basename) in
   match_script_names, or -1. */
int match_script_index(const char *name);

/* The devkit entry scripts r42intercept answers (the names of
   scripts.def, in its order), NULL-terminated. */
extern const char *const match_script_names[];

#endif
