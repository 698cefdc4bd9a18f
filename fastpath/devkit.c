/* SPDX-License-Identifier: GPL-3.0-or-later */
/* devkit.c: the devkit's observable behaviour, reproduced in C
 * (docs/devkit-scripts.md):
 * which entry scripts exist, how stdin lines become request objects
 * (stdin_or_jsons), which playbook text a request becomes
 * (basic_vm_actions), how jq prints values and lines, how the name
 * filters match, how traces look.  Written from the scripts' behaviour;
 * no script text is reproduced.  Running the requests is run_script.c's
 * business. */
#define _GNU_SOURCE
#include "devkit.h"

#include "dkid.h"
#include "jout.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DK_INDENT "              " /* the 14 spaces of a play var line */

static const struct dk_guest vm_guest = {"proxmox_vm.list.to.jsons.sh",
                                         "vm_list",
                                         "vm_name",
                                         "vm_status",
                                         "vm_meta",
                                         "snapshot_vm_list",
                                         "vm_snapshot_name",
                                         "vm_snapshot_description",
                                         "vm_snapshot_parent"};
static const struct dk_guest lxc_guest = {"proxmox_lxc.list.to.jsons.sh",
                                          "lxc_list",
                                          "lxc_name",
                                          "lxc_status",
                                          "lxc_meta",
                                          "snapshot_lxc_list",
                                          "lxc_snapshot_name",
                                          "lxc_snapshot_description",
                                          "lxc_snapshot_parent"};
#define DK_GUEST_VM (&vm_guest)
#define DK_GUEST_LXC (&lxc_guest)

static const struct dk_script scripts[] = {
#define R42_SCRIPT(name, action, kind, guest, in, args, filter, select, help, \
                   trace)                                                     \
  {name,       action,         DK_##kind, DK_GUEST_##guest,                   \
   DK_IN_##in, DK_ARGS_##args, filter,    select,                             \
   help,       trace},
#include "../shim/scripts.def"
};

/* The fields basic_vm_actions passes on as play vars, in its order; a
   "name=source" entry reads the source field into that var. */
/* clang-format off */
static const char *const play_fields[] = {
    "action", "vm_id", "proxmox_node", "storage_name", "vm_name",
    "vm_snapshot_name", "vm_snapshot_description", "lxc_name",
    "lxc_snapshot_name", "lxc_snapshot_description", "vm_cpu", "vm_cores",
    "vm_sockets", "vm_memory", "vm_disk_size", "vm_iso_file", "lxc_bridge",
    "lxc_cores", "lxc_disk_size=vm_lxc_disk_sizecpu", "lxc_dns_primary",
    "lxc_dns_secondary", "lxc_gateway", "lxc_ip", "lxc_memory",
    "lxc_net_name", "lxc_password", "lxc_ssh_pubkeys", "lxc_template",
    "lxc_disk_size", "proxmox_storage", "vm_new_id", "lxc_description",
    "vm_description", "iso_file_content_type", "iso_file_name", "iso_url",
    "cloudinit_image_path", "proxmox_cluster_color_mapping", "vm_tag_name",
    "lxc_tag_name", "vm_fw_action", "vm_fw_type", "vm_fw_iface",
    "vm_fw_source", "vm_fw_dest", "vm_fw_proto", "vm_fw_dport",
    "vm_fw_sport", "vm_fw_enable", "vm_fw_comment", "vm_fw_pos",
    "vm_fw_log", "vm_fw_alias_cidr", "vm_fw_alias_name",
    "vm_fw_alias_comment", "iface_model", "iface_bridge", "vm_vmnet_id",
    "iface_name", "iface_type", "iface_autostart", "iface_mtu",
    "iface_vlan_id", "iface_vlan_raw_device", "ip_address", "ip_cidr",
    "ip_gateway", "ip_netmask", "ip_comments", "ipv6_address", "ipv6_cidr",
    "ipv6_comments", "ipv6_gateway", "ipv6_netmask", "bridge_ports",
    "bridge_vids", "bridge_vlan_aware", "bond_primary", "bond_mode",
    "bond_xmit_hash_policy", "ovs_bonds", "ovs_bridge", "ovs_options",
    "ovs_ports", "ovs_tag", "iface_slaves", "vm_ci_user", "vm_ci_password",
    "vm_ci_ssh_key", "vm_ci_dns_ips", "vm_ci_dns_domain", "vm_ci_ip",
    "vm_ci_netmask", "vm_ci_ip_gw", "cloudinit_image_full_path",
    "dest_proxmox_storage", NULL};
/* clang-format on */

const struct dk_script *dk_scripts(size_t *n) {
  *n = sizeof scripts / sizeof scripts[0];
  return scripts;
}

const struct dk_script *dk_find(const char *name) {
  for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
    if (strcmp(scripts[i].name, name) == 0)
      return &scripts[i];
  return NULL;
}

int dk_check_script(const char *path, const struct dk_script *s,
                    struct msg_err *e) {
  return dkid_check(path, s->name, e);
}

/* ---- jq's views of values ---------------------------------------------- */

int dk_jq_line(struct buf *out, const cJSON *item) {
  if (jout_write(out, item, JOUT_JQ, 0) < 0)
    return -1;
  return buf_puts(out, "\n");
}

char *dk_raw_value(const cJSON *item) {
  if (!item || cJSON_IsNull(item) || cJSON_IsFalse(item))
    return xstrdup("");
  if (cJSON_IsTrue(item))
    return xstrdup("true");
  if (cJSON_IsString(item)) {
    char *s = xstrdup(item->valuestring);
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n')
      s[--n] = '\0';
    return s;
  }
  if (cJSON_IsNumber(item)) {
    struct buf b;
    buf_init(&b, 64);
    if (jout_number(&b, item->valuedouble, JOUT_JQ) < 0)
      die_oom();
    return b.data;
  }
  return NULL;
}

/* ---- stdin lines to requests ---------------------------------------------
 */

static int key_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A JSON object cJSON and jq read alike: scalar values, no duplicate
   keys (found by sorting the keys: a line may hold many). */
static bool plain_object(const cJSON *obj) {
  size_t n = 0;
  for (const cJSON *a = obj->child; a; a = a->next) {
    if (cJSON_IsObject(a) || cJSON_IsArray(a) || cJSON_IsRaw(a))
      return false;
    n++;
  }
  cleanup_free const char **keys = xcalloc(n, sizeof *keys);
  size_t i = 0;
  for (const cJSON *a = obj->child; a; a = a->next)
    keys[i++] = a->string;
  qsort(keys, n, sizeof *keys, key_cmp);
  for (i = 1; i < n; i++)
    if (strcmp(keys[i - 1], keys[i]) == 0)
      return false;
  return true;
}

/* A bare integer, maybe with leading zeros or blanks (jq reads "007" as
   7); at most 15 digits, so a double holds it exactly. */
static bool bare_integer(const char *s) {
  s += strspn(s, " \t");
  s += *s == '-';
  size_t digits = strspn(s, "0123456789");
  return digits > 0 && digits <= 15 &&
         s[digits + strspn(s + digits, " \t")] == '\0';
}

/* Text jq's fromjson rejects for sure, so that it stays the line's text:
   a node or VM name.  Anything that jq might read as a number, a keyword
   or another JSON value is not. */
static bool plain_text(const char *s) {
  static const char *const words[] = {"true", "false",    "null",
                                      "nan",  "infinity", NULL};
  if (strchr("0123456789+-.", *s) && *s)
    return false;
  if (strspn(s, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(s))
    return false;
  cleanup_free char *lower = xstrdup(s);
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return !util_str_in(lower, words);
}

/* jq's (fromjson? // .) and {KEY: .} on one line.  Returns the object or
   NULL (E set) for a form we do not reproduce. */
static cJSON *line_object(const char *line, size_t len, const char *key,
                          struct msg_err *e) {
  cleanup_free char *text = xstrndup(line, len);
  if (strlen(text) != len) {
    msg_err_set(e, "a stdin line holds a NUL byte");
    return NULL;
  }
  if (text[strspn(text, " \t")] == '{') {
    cJSON *obj = cJSON_ParseWithOpts(text, NULL, 1);
    if (obj && cJSON_IsObject(obj) && plain_object(obj))
      return obj;
    cJSON_Delete(obj);
    msg_err_set(e, "a stdin line is a JSON object we do not reproduce");
    return NULL;
  }
  cJSON *value;
  if (bare_integer(text))
    value = cJSON_CreateNumber(strtod(text, NULL));
  else if (plain_text(text))
    value = cJSON_CreateString(text); /* not JSON: the text itself */
  else {
    msg_err_set(e, "a stdin line is neither an id, a name nor an object");
    return NULL;
  }
  cJSON *obj = cJSON_CreateObject();
  cJSON_AddItemToObject(obj, key, value);
  return obj;
}

/* .proxmox_node //= NODE | .action = ACTION, keeping jq's key order. */
static void complete_request(cJSON *obj, const char *node,
                             const char *action) {
  cJSON *pn = cJSON_GetObjectItemCaseSensitive(obj, "proxmox_node");
  if (!pn)
    cJSON_AddStringToObject(obj, "proxmox_node", node);
  else if (cJSON_IsNull(pn) || cJSON_IsFalse(pn))
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "proxmox_node",
                                           cJSON_CreateString(node));
  if (cJSON_GetObjectItemCaseSensitive(obj, "action"))
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "action",
                                           cJSON_CreateString(action));
  else
    cJSON_AddStringToObject(obj, "action", action);
}

int dk_requests(const char *input, size_t len, const char *key,
                const char *node, const char *action, struct dk_request **reqs,
                size_t *n, struct msg_err *e) {
  *reqs = NULL;
  *n = 0;
  for (size_t at = 0; at < len;) {
    const char *nl = memchr(input + at, '\n', len - at);
    size_t line_len = nl ? (size_t)(nl - (input + at)) : len - at;
    cJSON *obj = line_object(input + at, line_len, key, e);
    if (!obj) {
      dk_requests_free(*reqs, *n);
      *reqs = NULL;
      *n = 0;
      return -1;
    }
    complete_request(obj, node, action);
    *reqs = xrealloc(*reqs, (*n + 1) * sizeof **reqs);
    (*reqs)[(*n)++] = (struct dk_request){obj, at};
    at += line_len + (nl ? 1 : 0);
  }
  return 0;
}

void dk_requests_free(struct dk_request *reqs, size_t n) {
  for (size_t i = 0; i < n; i++)
    cJSON_Delete(reqs[i].obj);
  free(reqs);
}

/* ---- the playbook ----------------------------------------------------- */

/* Appends `\n<indent>NAME: "VALUE"` with '"' escaped as the devkit does
   (and nothing else: YAML then reads the rest, as it does for Ansible). */
static void add_var(struct buf *b, const char *name, const char *value) {
  if (buf_printf(b, "\n" DK_INDENT "%s: \"", name) < 0)
    die_oom();
  for (const char *p = value; *p; p++)
    if ((*p == '"' && buf_puts(b, "\\\"") < 0) ||
        (*p != '"' && buf_append(b, p, 1) < 0))
      die_oom();
  if (buf_puts(b, "\"") < 0)
    die_oom();
}

char *dk_playbook(const cJSON *req, const char *action, const char *vault_file,
                  struct msg_err *e) {
  cleanup_free char *host =
      dk_raw_value(cJSON_GetObjectItemCaseSensitive(req, "proxmox_node"));
  if (!host) {
    msg_err_set(e, "proxmox_node is not a plain value");
    return NULL;
  }
  struct buf b;
  buf_init(&b, 1 << 20);
  for (const char *const *f = play_fields; *f; f++) {
    const char *eq = strchr(*f, '=');
    cleanup_free char *name =
        eq ? xstrndup(*f, (size_t)(eq - *f)) : xstrdup(*f);
    const char *source = eq ? eq + 1 : *f;
    cleanup_free char *value =
        dk_raw_value(cJSON_GetObjectItemCaseSensitive(req, source));
    if (!value) {
      buf_free(&b);
      msg_err_set(e, "field %.60s is an object or array", source);
      return NULL;
    }
    if (*value)
      add_var(&b, name, value);
  }
  char *text = xasprintf(
      "      - hosts: %s\n"
      "        gather_facts: false\n"
      "        vars_files:\n"
      "          - \"%s\"\n"
      "        tasks:\n"
      "          - name: RUN range42-ansible_roles-proxmox_controller WITH "
      "VARS\n"
      "            include_role:\n"
      "              name: range42-ansible_roles-proxmox_controller\n"
      "            vars:\n"
      "              proxmox_vm_action: \"%s\"\n"
      "      %s\n",
      host, vault_file, action, b.data ? b.data : "");
  buf_free(&b);
  return text;
}

/* ---- name filters ------------------------------------------------------ */

int dk_regex_test(const char *re, const char *text, struct msg_err *e) {
  static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "-_ .^$|*+?()[]{},";
  if (strspn(re, allowed) != strlen(re) || strstr(re, "(?") ||
      strstr(re, "[:") || strstr(re, "[=") || strstr(re, "[.")) {
    msg_err_set(e, "the filter '%.60s' is not one we match like jq", re);
    return -1;
  }
  regex_t rx;
  if (regcomp(&rx, re, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
    msg_err_set(e, "the filter '%.60s' is not a regex we read like jq", re);
    return -1;
  }
  int rc = regexec(&rx, text, 0, NULL, 0) == 0;
  regfree(&rx);
  return rc;
}

/* ---- traces ------------------------------------------------------------ */

/* Bash's printf %b expansion of TEXT into OUT. */
static void expand_b(const char *text, struct buf *out) {
  for (const char *p = text; *p; p++) {
    char c = *p;
    if (c != '\\' || !p[1]) {
      if (buf_append(out, &c, 1) < 0)
        return;
      continue;
    }
    const char *simple = "\\\\a\ab\be\033E\033f\fn\nr\rt\tv\v";
    const char *hit = NULL;
    for (const char *s = simple; *s; s += 2)
      if (s[0] == p[1])
        hit = s + 1;
    if (p[1] == 'c')
      return; /* \c: no further output */
    if (hit) {
      if (buf_append(out, hit, 1) < 0)
        return;
      p++;
      continue;
    }
    int base = p[1] == '0' ? 8 : (p[1] == 'x' ? 16 : (p[1] == 'u' ? 16 : 0));
    int max = p[1] == '0' ? 3 : (p[1] == 'x' ? 2 : 4);
    if (!base) {
      if (buf_append(out, p, 1) < 0) /* unknown escape: kept */
        return;
      continue;
    }
    const char *d = p + 2;
    long v = 0;
    int k = 0;
    for (; k < max && *d; k++, d++) {
      int x = (*d >= '0' && *d <= '9')   ? *d - '0'
              : (*d >= 'a' && *d <= 'f') ? *d - 'a' + 10
              : (*d >= 'A' && *d <= 'F') ? *d - 'A' + 10
                                         : 99;
      if (x >= base)
        break;
      v = v * base + x;
    }
    if (k == 0 && base == 16) {
      if (buf_append(out, p, 1) < 0)
        return;
      continue;
    }
    char u[4];
    int n = 0;
    if (p[1] != 'u' || v < 0x80)
      u[n++] = (char)v;
    else if (v < 0x800) {
      u[n++] = (char)(0xc0 | v >> 6);
      u[n++] = (char)(0x80 | (v & 0x3f));
    } else {
      u[n++] = (char)(0xe0 | v >> 12);
      u[n++] = (char)(0x80 | ((v >> 6) & 0x3f));
      u[n++] = (char)(0x80 | (v & 0x3f));
    }
    if (buf_append(out, u, (size_t)n) < 0)
      return;
    p = d - 1;
  }
}

static void devkit_line(void (*say)(const char *, ...), const char *text) {
  struct buf b;
  buf_init(&b, 1 << 20);
  expand_b(text, &b);
  say("%s", b.data ? b.data : "");
  buf_free(&b);
}

void dk_trace(const char *text) {
  devkit_line(msg_trace, text);
}

void dk_error(const char *text) {
  devkit_line(msg_error, text);
}

void dk_pass(const char *text) {
  devkit_line(msg_pass, text);
}
