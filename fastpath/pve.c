/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pve.c: talks HTTPS to the Proxmox VE API with libcurl: one easy handle
 * and so one keep-alive TLS connection per runner, the PVEAPIToken header,
 * the certificate checked only when asked (tls.c; by default not at all:
 * the role's validate_certs: no), HTTP/1.1, bounded bodies, and the reason
 * phrase kept (Proxmox puts its error message there).  A request that is
 * not a GET is never sent twice: libcurl re-sends a request, without a
 * word, when the reused connection it went on closes before any answer,
 * and no option stops it; its pre-request callback refuses the second
 * attempt.  Knows nothing of VMs or tasks: action.c does. */
#define _GNU_SOURCE
#include "pve.h"

#include "buf.h"
#include "evlog.h"
#include "tls.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PVE_MAX_BODY (16 * 1024 * 1024)
#define PVE_CONNECT_TIMEOUT_MS 2000L

struct pve {
  CURL *curl;
  struct curl_slist *headers;      /* hold the token: wiped when freed */
  struct curl_slist *json_headers; /* the same + a JSON content type */
  char *base;                      /* https://host/api2/json */
  struct buf body;                 /* the answer being received */
  char reason[200];                /* the last status line's reason phrase */
  char error[CURL_ERROR_SIZE];     /* libcurl's detail of the last failure */
  struct tls_policy tls;           /* the certificate checks asked for */
  bool once; /* the request being made must not be sent twice */
  int sends; /* times libcurl was about to send it */
  enum { PVE_SENT, PVE_NOT_RESENT, PVE_WRONG_CERT } refused; /* and why */
  long connections;
  long profiled_connections; /* for the profile: connections reported */
  long requests;             /* requests made (pve_requests()) */
  bool keep;                 /* keep each exchange (pve_keep) */
  struct pve_exchange *log;  /* the exchanges kept */
  size_t n_log;
  struct pve_exchange cur; /* the headers of the answer being received */
};

static bool plain_host(const char *host) {
  return *host && strspn(host, "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789.-:[]") == strlen(host);
}

static struct curl_slist *append(struct curl_slist *list, const char *h) {
  struct curl_slist *longer = curl_slist_append(list, h);
  if (!longer)
    die_oom();
  return longer;
}

/* The request headers, the secret's line built in wiped memory; JSON adds
   a JSON content type (form bodies get curl's default form type). */
static struct curl_slist *auth_headers(const struct pve_creds *c, bool json) {
  size_t len = strlen("Authorization: PVEAPIToken=") + strlen(c->user) +
               strlen(c->token_id) + strlen(c->secret) + 3;
  char *line = secret_alloc(len);
  snprintf(line, len + 1, "Authorization: PVEAPIToken=%s!%s=%s", c->user,
           c->token_id, c->secret);
  struct curl_slist *list = append(NULL, line);
  secret_free(line);
  list = append(list, "Accept: application/json");
  list = append(list, "Expect:");
  if (json)
    list = append(list, "Content-Type: application/json");
  return list;
}

static size_t pve_write_cb(char *data, size_t size, size_t n, void *arg) {
  struct pve *pve = arg;
  return buf_append(&pve->body, data, size * n) == 0 ? size * n : 0;
}

static void exchange_clear(struct pve_exchange *x) {
  free(x->method);
  free(x->url);
  free(x->reason);
  for (size_t i = 0; i < x->n_headers; i++) {
    free(x->names[i]);
    free(x->values[i]);
  }
  free(x->names);
  free(x->values);
  free(x->body);
  memset(x, 0, sizeof *x);
}

/* Keeps the header line DATA (LEN bytes, "Name: value\r\n") when asked:
   the value trimmed as Python's http.client does. */
static void keep_header(struct pve *pve, const char *data, size_t len) {
  const char *colon = memchr(data, ':', len);
  if (!pve->keep || !colon || colon == data)
    return;
  const char *v = colon + 1, *end = data + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                     end[-1] == '\t'))
    end--;
  struct pve_exchange *x = &pve->cur;
  x->names = xrealloc(x->names, (x->n_headers + 1) * sizeof *x->names);
  x->values = xrealloc(x->values, (x->n_headers + 1) * sizeof *x->values);
  x->names[x->n_headers] = xstrndup(data, (size_t)(colon - data));
  x->values[x->n_headers++] = xstrndup(v, (size_t)(end - v));
}

/* Keeps the reason phrase of each "HTTP/x.y CODE REASON" status line, and
   the header lines that follow the last one. */
static size_t pve_header_cb(char *data, size_t size, size_t n, void *arg) {
  struct pve *pve = arg;
  size_t len = size * n;
  if (!(len > 5 && strncmp(data, "HTTP/", 5) == 0)) {
    keep_header(pve, data, len);
    return len;
  }
  exchange_clear(&pve->cur); /* a new answer: its own headers */
  const char *sp = memchr(data, ' ', len);
  const char *sp2 =
      sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - data)) : NULL;
  size_t rlen = 0;
  if (sp2) {
    rlen = len - (size_t)(sp2 + 1 - data);
    while (rlen && (sp2[rlen] == '\n' || sp2[rlen] == '\r'))
      rlen--;
    /* sp2[1..rlen] is the phrase */
  }
  if (rlen >= sizeof pve->reason)
    rlen = sizeof pve->reason - 1;
  if (sp2)
    memcpy(pve->reason, sp2 + 1, rlen);
  pve->reason[rlen] = '\0';
  return len;
}

static curl_socket_t pve_open_cb(void *arg, curlsocktype purpose,
                                 struct curl_sockaddr *addr) {
  struct pve *pve = arg;
  (void)purpose;
  pve->connections++;
  /* close-on-exec: a fall-back exec must not inherit the connection */
  return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* libcurl is about to send the request on a connection (TLS done):
   refuses a second send of a request sent once only, and a certificate
   that is not the pinned one, before a byte of the request (and so the
   token) is written. */
static int pve_prereq_cb(void *arg, char *remote_ip, char *local_ip,
                         int remote_port, int local_port) {
  struct pve *pve = arg;
  (void)remote_ip, (void)local_ip, (void)remote_port, (void)local_port;
  if (++pve->sends > 1 && pve->once) {
    pve->refused = PVE_NOT_RESENT;
    return CURL_PREREQFUNC_ABORT;
  }
  if (!tls_peer_matches(&pve->tls, pve->curl)) {
    pve->refused = PVE_WRONG_CERT;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

struct pve *pve_new(const struct pve_creds *creds, struct msg_err *e) {
  if (!plain_host(creds->host)) {
    msg_err_set(e, "proxmox_api_host is not a plain host[:port]");
    return NULL;
  }
  static bool global_done;
  if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    die("curl_global_init failed");
  global_done = true;
  struct pve *pve = xcalloc(1, sizeof *pve);
  pve->curl = curl_easy_init();
  if (!pve->curl)
    die_oom();
  if (tls_policy_from_env(&pve->tls, e) < 0 ||
      tls_apply(&pve->tls, pve->curl, e) < 0) {
    pve_free(pve);
    return NULL;
  }
  pve->headers = auth_headers(creds, false);
  pve->json_headers = auth_headers(creds, true);
  pve->base = xasprintf("https://%s/api2/json", creds->host);
  buf_init(&pve->body, PVE_MAX_BODY);
  CURL *c = pve->curl;
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, PVE_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pve_write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, pve);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, pve_header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, pve);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, pve_open_cb);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, pve);
  curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, pve_prereq_cb);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, pve);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, pve->error);
  return pve;
}

static void wipe_headers(struct curl_slist *list) {
  for (struct curl_slist *h = list; h; h = h->next)
    sodium_memzero(h->data, strlen(h->data));
  curl_slist_free_all(list);
}

void pve_free(struct pve *pve) {
  if (!pve)
    return;
  curl_easy_cleanup(pve->curl);
  tls_policy_clear(&pve->tls);
  wipe_headers(pve->headers);
  wipe_headers(pve->json_headers);
  free(pve->base);
  buf_free(&pve->body);
  pve_keep(pve, false);
  free(pve);
}

/* With profiling on: the request's time, and the TLS handshake's when it
   opened the connection. */
static void profile_request(struct pve *pve, const char *method,
                            const char *path) {
  if (!msg_profiling())
    return;
  curl_off_t connect = 0, tls = 0;
  curl_easy_getinfo(pve->curl, CURLINFO_CONNECT_TIME_T, &connect);
  curl_easy_getinfo(pve->curl, CURLINFO_APPCONNECT_TIME_T, &tls);
  if (tls > 0 && pve->profiled_connections != pve->connections) {
    pve->profiled_connections = pve->connections;
    msg_profile("request %s %s (TCP %.3f + TLS %.3f ms of it)", method, path,
                (double)connect / 1e3, (double)(tls - connect) / 1e3);
  } else {
    msg_profile("request %s %s", method, path);
  }
}

/* Why the request RC ended failed. */
static const char *failure(const struct pve *pve, CURLcode rc) {
  if (pve->refused == PVE_NOT_RESENT)
    return "the connection closed before an answer, and the request is "
           "not sent again (it may have been done)";
  if (pve->refused == PVE_WRONG_CERT)
    return "the server's certificate does not match "
           "RANGE42_PROXMOX_API_FINGERPRINT";
  return pve->error[0] ? pve->error : curl_easy_strerror(rc);
}

/* Adds the exchange just made to the log. */
static void log_exchange(struct pve *pve, const char *method, const char *url,
                         long status) {
  struct pve_exchange *x = &pve->cur;
  x->method = xstrdup(method);
  x->url = xstrdup(url);
  x->status = status;
  x->reason = xstrdup(pve->reason);
  x->body = xmalloc(pve->body.len + 1);
  if (pve->body.len)
    memcpy(x->body, pve->body.data, pve->body.len);
  x->body[pve->body.len] = '\0';
  x->body_len = pve->body.len;
  curl_off_t us = 0;
  curl_easy_getinfo(pve->curl, CURLINFO_TOTAL_TIME_T, &us);
  x->seconds = (double)us / 1e6;
  pve->log = xrealloc(pve->log, (pve->n_log + 1) * sizeof *pve->log);
  pve->log[pve->n_log++] = *x;
  memset(x, 0, sizeof *x);
}

void pve_keep(struct pve *pve, bool on) {
  for (size_t i = 0; i < pve->n_log; i++)
    exchange_clear(&pve->log[i]);
  free(pve->log);
  pve->log = NULL;
  pve->n_log = 0;
  exchange_clear(&pve->cur);
  pve->keep = on;
}

const struct pve_exchange *pve_kept(const struct pve *pve, size_t *n) {
  *n = pve->n_log;
  return pve->log;
}

int pve_request(struct pve *pve, const char *method, const char *path,
                enum pve_body kind, const char *body, double timeout,
                struct pve_reply *reply, struct msg_err *e) {
  memset(reply, 0, sizeof *reply);
  pve->requests++;
  evl_request();
  buf_free(&pve->body);
  exchange_clear(&pve->cur);
  pve->reason[0] = pve->error[0] = '\0';
  pve->once = strcmp(method, "GET") != 0;
  pve->sends = 0;
  pve->refused = PVE_SENT;
  CURL *c = pve->curl;
  cleanup_free char *url = xasprintf("%s%s", pve->base, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  long ms = (long)(timeout * 1000); /* 0 would be no limit at all */
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER,
                   kind == PVE_BODY_JSON ? pve->json_headers : pve->headers);
  if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                     (long)(body ? strlen(body) : 0));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                     strcmp(method, "GET") == 0 ? NULL : method);
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    msg_err_set(e, "%s %s: %s", method, path, failure(pve, rc));
    return -1;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
  profile_request(pve, method, path);
  snprintf(reply->reason, sizeof reply->reason, "%s", pve->reason);
  if (pve->keep)
    log_exchange(pve, method, url, reply->status);
  if (pve->body.len)
    reply->json = cJSON_ParseWithLength(pve->body.data, pve->body.len);
  if (!reply->json)
    reply->not_json = pve->body.len ? "invalid JSON" : "no body";
  return 0;
}

void pve_reply_clear(struct pve_reply *reply) {
  cJSON_Delete(reply->json);
  memset(reply, 0, sizeof *reply);
}

char *pve_escape(const char *s) {
  static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~";
  char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (strchr(safe, *p) && *p)
      *o++ = (char)*p;
    else
      o += sprintf(o, "%%%02X", *p);
  }
  *o = '\0';
  return out;
}

long pve_connections(const struct pve *pve) {
  return pve->connections;
}

long pve_requests(const struct pve *pve) {
  return pve->requests;
}
