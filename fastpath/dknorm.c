/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dknorm.c: the normal form of a bash script: what r42intercept digests to
 * recognise a version of a devkit script, so that editing a comment or a
 * blank line does not make it unknown while any other edit does.  Lines
 * are kept byte for byte except whole-line comments, blank lines and
 * trailing blanks where bash ignores them.  To know where that is, a
 * small lexer follows bash's quoting across lines: single, double and $'
 * quotes, backslashes, $(...) and `...` (whose contents are code again),
 * comments, line continuations and here-documents (whose bodies are
 * data).  A script whose quoting it cannot follow to a clean end has no
 * normal form; it is then simply not recognised.  The digest is SHA-256
 * (libcrypto, with the CPU's SHA instructions where it has them). */
#include "dknorm.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#define DKNORM_MAX_NEST 64
#define DKNORM_MAX_HEREDOCS 16
#define DKNORM_MAX_DELIM 128

/* Where the lexer is. */
enum lex_ctx {
  LEX_CODE, /* top level */
  LEX_SUB,  /* $( ... ): code */
  LEX_BQ,   /* ` ... `: code */
  LEX_DQ,   /* " ... " */
  LEX_SQ,   /* ' ... ' */
  LEX_DSQ   /* $' ... ' */
};

struct heredoc {
  char delim[DKNORM_MAX_DELIM];
  bool strip_tabs; /* <<- */
};

struct lexer {
  enum lex_ctx stack[DKNORM_MAX_NEST];
  int parens[DKNORM_MAX_NEST]; /* open '(' inside each $( */
  int depth;                   /* stack[depth] is the current context */
  bool cont;                   /* the last line ended in a continuation */
  struct heredoc pending[DKNORM_MAX_HEREDOCS]; /* to start after the line */
  int n_pending;
  int in_body; /* bodies left to read, pending[0] being read; 0: none */
  bool error;
};

static bool is_code(const struct lexer *lx) {
  enum lex_ctx c = lx->stack[lx->depth];
  return c == LEX_CODE || c == LEX_SUB || c == LEX_BQ;
}

static void push(struct lexer *lx, enum lex_ctx c) {
  if (lx->depth + 1 >= DKNORM_MAX_NEST) {
    lx->error = true;
    return;
  }
  lx->stack[++lx->depth] = c;
  lx->parens[lx->depth] = 0;
}

static void pop(struct lexer *lx) {
  if (lx->depth == 0)
    lx->error = true;
  else
    lx->depth--;
}

/* A '#' at I starts a comment when it begins a word. */
static bool word_start(const char *line, size_t i) {
  return i == 0 || strchr(" \t;&|()<>", line[i - 1]) != NULL;
}

/* Reads the here-document word after "<<" or "<<-" at LINE[*I], quotes
   removed, into the pending list. */
static void heredoc_word(struct lexer *lx, const char *line, size_t len,
                         size_t *i) {
  struct heredoc h = {.strip_tabs = false};
  if (*i < len && line[*i] == '-') {
    h.strip_tabs = true;
    (*i)++;
  }
  while (*i < len && (line[*i] == ' ' || line[*i] == '\t'))
    (*i)++;
  size_t n = 0;
  char quote = 0;
  for (; *i < len; (*i)++) {
    char c = line[*i];
    if (!quote && strchr(" \t;&|()<>", c))
      break;
    if (!quote && (c == '\'' || c == '"')) {
      quote = c;
      continue;
    }
    if (quote && c == quote) {
      quote = 0;
      continue;
    }
    if (!quote && c == '\\' && *i + 1 < len)
      c = line[++*i];
    if (n + 1 >= DKNORM_MAX_DELIM) {
      lx->error = true;
      return;
    }
    h.delim[n++] = c;
  }
  if (quote || n == 0 || lx->n_pending == DKNORM_MAX_HEREDOCS) {
    lx->error = true;
    return;
  }
  lx->pending[lx->n_pending++] = h;
  (*i)--; /* the caller's loop steps past the word's last byte */
}

/* One byte (or escape) of code at LINE[*I]; returns false at a comment
   (the rest of the line is ignored). */
static bool lex_code(struct lexer *lx, const char *line, size_t len,
                     size_t *i) {
  char c = line[*i], next = *i + 1 < len ? line[*i + 1] : '\0';
  enum lex_ctx ctx = lx->stack[lx->depth];
  if (c == '\\') {
    if (*i + 1 == len)
      lx->cont = true;
    (*i)++;
  } else if (c == '#' && word_start(line, *i)) {
    return false;
  } else if (c == '\'') {
    push(lx, LEX_SQ);
  } else if (c == '"') {
    push(lx, LEX_DQ);
  } else if (c == '$' && (next == '\'' || next == '"' || next == '(')) {
    push(lx, next == '\'' ? LEX_DSQ : next == '"' ? LEX_DQ : LEX_SUB);
    (*i)++;
  } else if (c == '`') {
    if (ctx == LEX_BQ)
      pop(lx);
    else
      push(lx, LEX_BQ);
  } else if (c == '(' && ctx == LEX_SUB) {
    lx->parens[lx->depth]++;
  } else if (c == ')' && ctx == LEX_SUB) {
    if (lx->parens[lx->depth]-- == 0)
      pop(lx);
  } else if (c == '<' && next == '<') {
    if (*i + 2 < len && line[*i + 2] == '<') {
      *i += 2; /* <<< here-string */
    } else {
      *i += 2;
      heredoc_word(lx, line, len, i);
    }
  }
  return true;
}

/* One byte (or escape) inside quotes at LINE[*I]. */
static void lex_quoted(struct lexer *lx, const char *line, size_t len,
                       size_t *i) {
  char c = line[*i], next = *i + 1 < len ? line[*i + 1] : '\0';
  switch (lx->stack[lx->depth]) {
  case LEX_SQ:
    if (c == '\'')
      pop(lx);
    break;
  case LEX_DSQ:
    if (c == '\\')
      (*i)++;
    else if (c == '\'')
      pop(lx);
    break;
  default: /* LEX_DQ */
    if (c == '\\')
      (*i)++;
    else if (c == '"')
      pop(lx);
    else if (c == '`')
      push(lx, LEX_BQ);
    else if (c == '$' && next == '(') {
      push(lx, LEX_SUB);
      (*i)++;
    }
  }
}

/* The bytes that matter in each context (the others are skipped fast). */
enum { SP_CODE = 1, SP_DQ = 2, SP_SQ = 4, SP_DSQ = 8 };
static const unsigned char special[256] = {
    ['\\'] = SP_CODE | SP_DQ | SP_DSQ,
    ['#'] = SP_CODE,
    ['\''] = SP_CODE | SP_SQ | SP_DSQ,
    ['"'] = SP_CODE | SP_DQ,
    ['$'] = SP_CODE | SP_DQ,
    ['`'] = SP_CODE | SP_DQ,
    ['('] = SP_CODE,
    [')'] = SP_CODE,
    ['<'] = SP_CODE,
};

static unsigned char special_mask(const struct lexer *lx) {
  switch (lx->stack[lx->depth]) {
  case LEX_DQ:
    return SP_DQ;
  case LEX_SQ:
    return SP_SQ;
  case LEX_DSQ:
    return SP_DSQ;
  default:
    return SP_CODE;
  }
}

/* Follows LINE's quoting; the line ends inside whatever is still open. */
static void lex_line(struct lexer *lx, const char *line, size_t len) {
  lx->cont = false;
  unsigned char mask = special_mask(lx);
  for (size_t i = 0; i < len && !lx->error; i++) {
    if (!(special[(unsigned char)line[i]] & mask))
      continue;
    if (!is_code(lx))
      lex_quoted(lx, line, len, &i);
    else if (!lex_code(lx, line, len, &i))
      break;
    mask = special_mask(lx);
  }
}

/* True if LINE ends the here-document being read. */
static bool ends_body(const struct lexer *lx, const char *line, size_t len) {
  const struct heredoc *h = &lx->pending[0];
  if (h->strip_tabs)
    while (len > 0 && *line == '\t') {
      line++;
      len--;
    }
  return len == strlen(h->delim) && memcmp(line, h->delim, len) == 0;
}

/* A here-document body line: kept as it is.  The last one ends it. */
static void body_line(struct lexer *lx, const char *line, size_t len) {
  if (!ends_body(lx, line, len))
    return;
  memmove(&lx->pending[0], &lx->pending[1],
          (size_t)(lx->n_pending - 1) * sizeof lx->pending[0]);
  lx->n_pending--;
  lx->in_body = lx->n_pending;
}

/* The number of blanks (spaces, tabs) LINE starts with. */
static size_t blanks(const char *line, size_t len) {
  size_t n = 0;
  while (n < len && (line[n] == ' ' || line[n] == '\t'))
    n++;
  return n;
}

static int emit(struct buf *out, const char *line, size_t len) {
  if (buf_append(out, line, len) < 0 || buf_append(out, "\n", 1) < 0)
    return -1;
  return 0;
}

/* One line of code (its start is in code or in quotes). */
static int code_line(struct lexer *lx, const char *line, size_t len,
                     bool first, struct buf *out) {
  bool droppable = is_code(lx) && !lx->cont;
  size_t lead = blanks(line, len);
  if (droppable && lead == len)
    return 0;
  if (droppable && line[lead] == '#' &&
      !(first && len >= 2 && line[0] == '#' && line[1] == '!'))
    return 0;
  lex_line(lx, line, len);
  size_t keep = len;
  if (is_code(lx) && !lx->cont && !(first && line[0] == '#')) {
    while (keep > 0 && (line[keep - 1] == ' ' || line[keep - 1] == '\t'))
      keep--;
    if (keep < len && keep > 0 && line[keep - 1] == '\\')
      keep = len; /* "\ " escapes a blank: not a continuation */
  }
  /* here-document bodies start after the line that ends the command */
  if (lx->n_pending > 0 && is_code(lx) && !lx->cont)
    lx->in_body = lx->n_pending;
  return emit(out, line, keep);
}

int dknorm_text(const char *text, size_t len, struct buf *out,
                struct msg_err *e) {
  if (memchr(text, '\0', len)) {
    msg_err_set(e, "the script holds a NUL byte");
    return -1;
  }
  struct lexer lx = {.stack = {LEX_CODE}};
  bool first = true;
  for (size_t at = 0; at < len && !lx.error;) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
    if (lx.in_body) {
      body_line(&lx, text + at, n);
      if (emit(out, text + at, n) < 0)
        lx.error = true;
    } else if (code_line(&lx, text + at, n, first, out) < 0) {
      lx.error = true;
    }
    first = false;
    at += n + (nl ? 1 : 0);
  }
  if (lx.error || lx.depth != 0 || lx.n_pending != 0) {
    msg_err_set(e, "the script's quoting cannot be followed to its end");
    return -1;
  }
  return 0;
}

int dknorm_digest(const char *text, size_t len, char *hex, struct msg_err *e) {
  struct buf norm;
  buf_init(&norm, DKNORM_MAX_SCRIPT + 1);
  int rc = dknorm_text(text, len, &norm, e);
  if (rc == 0) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(norm.data ? norm.data : "", norm.len, md, &n, EVP_sha256(),
                    NULL) ||
        n != DKNORM_HEX_LEN / 2) {
      msg_err_set(e, "SHA-256 failed");
      rc = -1;
    } else {
      sodium_bin2hex(hex, DKNORM_HEX_LEN + 1, md, n);
    }
  }
  buf_free(&norm);
  return rc;
}
