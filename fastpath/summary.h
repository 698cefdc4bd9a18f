/* SPDX-License-Identifier: GPL-3.0-or-later */
/* summary.h: the event log's summary (summary.c). */
#ifndef R42_SUMMARY_H
#define R42_SUMMARY_H

/* r42intercept-runner --summary FILE [--json] [--since OFFSET]: prints
   the summary of the event log FILE (from byte OFFSET) on stdout, as text
   or as one JSON document.  Returns the exit status: 0, or 125 when FILE
   cannot be read or the arguments are wrong. */
int sum_main(int argc, char **argv);

#endif
