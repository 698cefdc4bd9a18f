/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dkid.h: is this the devkit's script, and are the helpers it would run
   the devkit's? (see dkid.c) */
#ifndef R42_DKID_H
#define R42_DKID_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>

/* One known version of a devkit file. */
struct dkid_version {
  const char *name;   /* file name */
  const char *digest; /* dknorm_digest() of its text */
  const char *commit; /* the devkit commit that first held it */
  bool answered;      /* the runner reproduces this version */
};

/* A set of versions: the range42 devkit's, or our test fixtures'. */
struct dkid_set {
  const char *label;
  const struct dkid_version *v;
  size_t n;
  const char *companion; /* a file sourced from beside each script */
};

/* The file names checked beside an entry script: the helpers the entry
   scripts run through PATH (NULL-terminated). */
extern const char *const dkid_helpers[];

/* The sets in force: the devkit's, and the test fixtures' when the
   environment has R42INTERCEPT_TEST_FIXTURE_DEVKIT=1.  Returns their
   number, *SETS pointing at them. */
size_t dkid_sets(const struct dkid_set **sets);

/* Checks that the file PATH is an answered version of the entry script
   NAME, in one set, and that each helper it runs, found through PATH as
   bash finds it, is an answered version of that same set; and that the
   environment does not change what bash runs (BASH_ENV, exported
   functions named like them, SHELLOPTS, BASHOPTS, POSIXLY_CORRECT).
   Returns 0, or -1 with E saying what is not known (the version's digest
   or devkit commit). */
int dkid_check(const char *path, const char *name,
               struct msg_err *e) R42_WARN_UNUSED;

#endif
