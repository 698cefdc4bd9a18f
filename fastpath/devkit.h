/* SPDX-License-Identifier: GPL-3.0-or-later */
/* devkit.h: what r42intercept knows of the range42 devkit scripts (see
   devkit.c). */
#ifndef R42_DEVKIT_H
#define R42_DEVKIT_H

#include "buf.h"
#include "msg.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The kinds of entry script answered at the script level (the KIND
   column of shim/scripts.def). */
enum dk_kind {
  DK_LIST,        /* one line per guest of each node line */
  DK_IDS,         /* list_running's vm_ids, as text */
  DK_PER_ID,      /* the script's action on each id */
  DK_EXTRACT,     /* the list line of each id */
  DK_DELETE,      /* name looked up, line traced, the action */
  DK_ALL,         /* the action on every VM of a state list */
  DK_SNAP_CREATE, /* snapshot create, defaults from the list */
  DK_SNAP_LIST,   /* one line per snapshot entry */
  DK_SNAP_CHANGE  /* snapshot revert/delete, default: the latest */
};

/* What a script's stdin holds (the STDIN column). */
enum dk_stdin {
  DK_IN_IDS,    /* ids or JSON lines; a terminal is an error */
  DK_IN_NODES,  /* node names or JSON lines; a terminal: the vault's */
  DK_IN_DRAINED /* read and dropped, then the state list reads it */
};

/* How a script reads its arguments (the ARGS column). */
enum dk_args {
  DK_ARGS_FIRST,  /* only $1: --json or nothing */
  DK_ARGS_FILTER, /* --json anywhere, at most one word: a filter */
  DK_ARGS_SPIN,   /* --json anywhere; a word: the script spins */
  DK_ARGS_WORD,   /* only $1: --json, nothing, or a filter */
  DK_ARGS_NONE    /* none read */
};

/* What the scripts of one kind of guest (VMs or containers) call
   things. */
struct dk_guest {
  const char *list_script;      /* proxmox_<g>.list.to.jsons.sh */
  const char *list_action;      /* vm_list, lxc_list */
  const char *name_key;         /* vm_name, lxc_name */
  const char *status_key;       /* vm_status, lxc_status */
  const char *meta_key;         /* vm_meta, lxc_meta */
  const char *snap_list_action; /* snapshot_<g>_list */
  const char *snap_name_key;    /* <g>_snapshot_name */
  const char *snap_desc_key;    /* <g>_snapshot_description */
  const char *snap_parent_key;  /* <g>_snapshot_parent */
};

/* One entry script: a row of shim/scripts.def. */
struct dk_script {
  const char *name;   /* file name */
  const char *action; /* its ACTION, the role's proxmox_vm_action */
  enum dk_kind kind;
  const struct dk_guest *guest;
  enum dk_stdin in;
  enum dk_args args;
  const char *filter_key; /* what a name filter matches, or NULL */
  const char *select;     /* the vm_status a state list keeps, or NULL */
  bool help;              /* -h/--help prints a help page */
  bool trace;             /* the final request line is traced */
};

/* The entry script called NAME (a basename), or NULL. */
const struct dk_script *dk_find(const char *name);

/* The entry scripts, in the order of shim/scripts.def; *N is their
   number. */
const struct dk_script *dk_scripts(size_t *n);

/* Checks that PATH is a version of the devkit's script S that we
   reproduce, and so are the helpers it runs (dkid_check()).  Returns 0,
   or -1 with E set. */
int dk_check_script(const char *path, const struct dk_script *s,
                    struct msg_err *e) R42_WARN_UNUSED;

/* One stdin line, turned into the request object the devkit's
   devkit_proxmox.STDIN.stdin_or_jsons.to.jsons.sh makes of it. */
struct dk_request {
  cJSON *obj;    /* the JSON object, keys in jq's order */
  size_t offset; /* where its line starts in the input */
};

/* Splits INPUT (LEN bytes) into lines and converts each like the devkit:
   a JSON object is kept, any other value V becomes {KEY: V} (false, null
   and text that is not JSON become the line's text), then proxmox_node
   defaults to NODE and action is set to ACTION.  Forms whose conversion we
   cannot be sure of (nested values, duplicate keys, JSON jq and cJSON
   might read differently) are refused.  Returns 0 with *REQS (N of them,
   free with dk_requests_free()), or -1 with E set. */
int dk_requests(const char *input, size_t len, const char *key,
                const char *node, const char *action, struct dk_request **reqs,
                size_t *n, struct msg_err *e) R42_WARN_UNUSED;

void dk_requests_free(struct dk_request *reqs, size_t n);

/* The inline playbook proxmox__inc.jsons.basic_vm_actions.to.jsons.sh
   feeds ansible-playbook for the request REQ and ACTION (docs/decision.md
   section 1): hosts from proxmox_node, the vault VAULT_FILE, and one `key:
   "value"` line for each non-empty field the devkit passes on, in its order.
   Returns it (the caller frees), or NULL with E set when a value would not
   survive the shell the same way (an object or array, a NUL). */
char *dk_playbook(const cJSON *req, const char *action, const char *vault_file,
                  struct msg_err *e) R42_WARN_UNUSED;

/* ITEM as `jq -r` prints it, without trailing newlines (what the shell's
   $(...) keeps): a string's text, a number in jq's format, "true"; ""
   for null and false.  Returns a new string, or NULL for an object or
   array.  The caller frees. */
char *dk_raw_value(const cJSON *item);

/* Appends ITEM to OUT as one `jq -c` line (a trailing newline included). */
int dk_jq_line(struct buf *out, const cJSON *item) R42_WARN_UNUSED;

/* `test(RE; "i")` of jq for the filters we can reproduce with a POSIX
   extended regex (letters, digits, "-_ ." and the operators ^$|*+?()[]{}).
   Returns 1 if TEXT matches, 0 if not, -1 (E set) if RE is not one of
   those. */
int dk_regex_test(const char *re, const char *text, struct msg_err *e);

/* The devkit's echo_trace.to.text.to.stderr.sh: ":: TRACE :: " and TEXT in
   yellow, with printf %b escapes applied as bash does. */
void dk_trace(const char *text);

/* The devkit's echo_error.to.text.to.stderr.sh, likewise in red. */
void dk_error(const char *text);

/* The devkit's echo_pass.to.text.to.stderr.sh, likewise in green. */
void dk_pass(const char *text);

#endif
