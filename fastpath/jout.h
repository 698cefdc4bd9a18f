/* SPDX-License-Identifier: GPL-3.0-or-later */
/* jout.h: JSON text exactly as Python's json.dumps or jq -c writes it
   (see jout.c). */
#ifndef R42_JOUT_H
#define R42_JOUT_H

#include "buf.h"

#include <cjson/cJSON.h>

enum jout_style {
  JOUT_PYTHON, /* json.dumps(sort_keys=True, ensure_ascii=True, indent) */
  JOUT_JQ      /* jq 1.6 -c: compact, UTF-8 as is */
};

/* Appends ITEM to OUT in STYLE.  JOUT_PYTHON writes object keys sorted
   (byte order, which is code point order, like Python's sort_keys);
   JOUT_JQ keeps the tree's order, as jq does.  INDENT is
   the indent width for JOUT_PYTHON (<= 0: one line with ", " and ": ");
   ignored for JOUT_JQ.  Integral numbers print as integers.  Returns 0,
   or -1 when OUT's maximum is reached. */
int jout_write(struct buf *out, const cJSON *item, enum jout_style style,
               int indent) R42_WARN_UNUSED;

/* Sorts the keys of every object in ITEM, recursively, in place (the
   order jq keeps when it reads Ansible's sorted output). */
void jout_sort_keys(cJSON *item);

/* Appends the number X as STYLE prints it (for the unit tests). */
int jout_number(struct buf *out, double x,
                enum jout_style style) R42_WARN_UNUSED;

#endif
