/* SPDX-License-Identifier: GPL-3.0-or-later */
/* doctor.h: `r42intercept doctor`, would this environment take the fast
   path? (see doctor.c) */
#ifndef R42_DOCTOR_H
#define R42_DOCTOR_H

/* Exit statuses of the doctor. */
#define DOCTOR_OK 0    /* every check passed: the fast path would be taken */
#define DOCTOR_FAIL 1  /* a check failed: the real program would run */
#define DOCTOR_USAGE 2 /* the doctor's own command line is wrong */

/* Checks, one line each on stdout, every condition of the runner's
   decision for the devkit environment (ARGS empty) or for the
   ansible-playbook command line ARGS (NULL-terminated, ARGS[0] the
   program), probing the API itself (no cached verdict).  Never prints a
   secret.  Returns DOCTOR_OK, DOCTOR_FAIL or DOCTOR_USAGE. */
int doctor_main(char **args);

#endif
