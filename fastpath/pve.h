/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pve.h: a Proxmox VE API client over one keep-alive HTTPS connection
   (see pve.c). */
#ifndef R42_PVE_H
#define R42_PVE_H

#include "msg.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct pve;

/* The credentials of one API endpoint.  All strings are borrowed. */
struct pve_creds {
  const char *host; /* host or host:port ([v6]:port) */
  const char *user; /* user@realm */
  const char *token_id;
  const char *secret; /* the token's secret */
};

/* One HTTP exchange's outcome. */
struct pve_reply {
  long status;          /* HTTP status code */
  char reason[200];     /* HTTP reason phrase (Proxmox's error message) */
  cJSON *json;          /* the parsed body, or NULL when it is not JSON */
  const char *not_json; /* when json is NULL: "invalid JSON" or "no body" */
};

/* A client for CREDS, checking certificates as the environment asks
   (tls.c).  Nothing is sent yet.  Returns NULL with E set when the host is
   not a plain host[:port] or a verification setting is wrong.  Free with
   pve_free(). */
struct pve *pve_new(const struct pve_creds *creds,
                    struct msg_err *e) R42_WARN_UNUSED;

/* Closes the connection and wipes the credentials.  NULL: nothing. */
void pve_free(struct pve *pve);

/* How a request body is encoded. */
enum pve_body { PVE_BODY_FORM, PVE_BODY_JSON };

/* Sends METHOD (GET, POST, DELETE) PATH (relative to /api2/json, already
   URL-safe) with an optional BODY encoded as KIND (a POST without BODY
   sends an empty form), waiting at most TIMEOUT seconds.  Only a GET may
   go twice (on a new connection when the reused one closed unanswered).
   Returns 0 when an HTTP answer arrived, whatever its status (REPLY is
   filled; clear it with pve_reply_clear()), or -1 with E set on a
   transport failure, a certificate refused, or a request not re-sent. */
int pve_request(struct pve *pve, const char *method, const char *path,
                enum pve_body kind, const char *body, double timeout,
                struct pve_reply *reply, struct msg_err *e) R42_WARN_UNUSED;

void pve_reply_clear(struct pve_reply *reply);

/* Percent-encodes S for use as one path segment.  The caller frees. */
char *pve_escape(const char *s);

/* One exchange as kept by pve_keep(): what ansible's uri module shows of
   it.  Headers are in the order received; a 1xx answer's are not kept. */
struct pve_exchange {
  char *method;
  char *url;        /* the full URL requested */
  long status;      /* HTTP status code */
  char *reason;     /* the reason phrase */
  size_t n_headers; /* response headers: names as sent, values trimmed */
  char **names;
  char **values;
  char *body; /* the body bytes (NUL added), body_len long */
  size_t body_len;
  double seconds; /* the time the request took */
};

/* Starts (ON) or stops keeping each exchange; either way, forgets those
   kept so far. */
void pve_keep(struct pve *pve, bool on);

/* The exchanges kept since pve_keep(PVE, true), in order; *N their
   number.  They stay valid until the next pve_keep() or pve_free(). */
const struct pve_exchange *pve_kept(const struct pve *pve, size_t *n);

/* Number of TCP connections opened so far (keep-alive check). */
long pve_connections(const struct pve *pve);

/* Number of requests made so far (pve_request() calls). */
long pve_requests(const struct pve *pve);

#endif
