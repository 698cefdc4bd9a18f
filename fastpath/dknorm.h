/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dknorm.h: the normal form of a bash script and its digest, by which
   r42intercept recognises the devkit's scripts (see dknorm.c). */
#ifndef R42_DKNORM_H
#define R42_DKNORM_H

#include "buf.h"
#include "msg.h"

#define DKNORM_MAX_SCRIPT (256 * 1024)
#define DKNORM_HEX_LEN 64 /* SHA-256, in hex */

/* Appends to OUT the normal form of the bash script TEXT (LEN bytes):
   every line as it is, but whole-line comments, blank lines and trailing
   blanks dropped where bash ignores them (not inside a quoted string or a
   here-document, not after a line continuation; the "#!" line is kept).
   Returns 0, or -1 with E set when we cannot follow its quoting to the
   end (an unterminated quote or here-document) or it holds a NUL. */
int dknorm_text(const char *text, size_t len, struct buf *out,
                struct msg_err *e) R42_WARN_UNUSED;

/* HEX (DKNORM_HEX_LEN + 1 bytes) := the SHA-256 of TEXT's normal form,
   in lower-case hex.  Returns 0, or -1 with E set. */
int dknorm_digest(const char *text, size_t len, char *hex,
                  struct msg_err *e) R42_WARN_UNUSED;

#endif
