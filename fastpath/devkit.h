/* devkit.h: what r42intercept knows of the range42 devkit scripts (see
   devkit.c). */
#ifndef R42_DEVKIT_H
#define R42_DEVKIT_H

#include "buf.h"
#include "msg.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The kinds of entry script answered at the script level (SPEC 6). */
enum dk_kind {
  DK_LIST,        /* proxmox_vm.list: vm_list of each node line */
  DK_LIFECYCLE,   /* proxmox_vm.vm_id.{start,stop,...}: one action per VM */
  DK_EXTRACT,     /* proxmox_vm.vm_id.list_vm_and_extract_vm_name */
  DK_SNAP_CREATE, /* proxmox_snapshot_vm.vm_id.create_snapshot */
  DK_SNAP_LIST,   /* proxmox_snapshot_vm.vm_id.list_snapshot */
  DK_SNAP_REVERT, /* ...revert_snapshot */
  DK_SNAP_DELETE  /* ...delete_snapshot */
};

/* One entry script. */
struct dk_script {
  const char *name; /* file name */
  enum dk_kind kind;
  const char *action; /* its ACTION, the role's proxmox_vm_action */
  const char *key;    /* what a bare stdin value means (vm_id or
                         proxmox_node) */
};

/* The entry script called NAME (a basename), or NULL. */
const struct dk_script *dk_find(const char *name);

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
   feeds ansible-playbook for the request REQ and ACTION (SPEC 1): hosts
   from proxmox_node, the vault VAULT_FILE, and one `key: "value"` line for
   each non-empty field the devkit passes on, in its order.  Returns it
   (the caller frees), or NULL with E set when a value would not survive
   the shell the same way (an object or array, a NUL). */
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

#endif
