/* SPDX-License-Identifier: GPL-3.0-or-later */
/* doc.h: the ansible json callback document (see doc.c). */
#ifndef R42_DOC_H
#define R42_DOC_H

#include "buf.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* A document being built for one play on one host. */
struct doc {
  cJSON *root;
  cJSON *tasks;    /* plays[0].tasks */
  cJSON *duration; /* plays[0].play.duration */
  char *host;
  int ok, failures;
};

/* Starts a document for the play NAME at PATH (e.g. "/dev/stdin:1") run
   on HOST.  Free with doc_clear(). */
void doc_init(struct doc *d, const char *name, const char *path,
              const char *host);

/* Appends a task NAME at PATH whose result on the host is RESULT (taken
   over).  FAILED marks it failed ("failed": true, counted in stats). */
void doc_add_task(struct doc *d, const char *name, const char *path,
                  cJSON *result, bool failed);

/* Renders the finished document as the callback does (keys sorted,
   INDENT spaces, <= 0 for one line) followed by a newline.  Returns 0 or
   -1 when OUT is full. */
int doc_render(struct doc *d, int indent, struct buf *out) R42_WARN_UNUSED;

void doc_clear(struct doc *d);

#endif
