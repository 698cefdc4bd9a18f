/* inventory.c: answers one question about an Ansible inventory file: is
 * this host in it?  YAML inventories are walked (every group's "hosts"
 * and "children"); anything that is not a YAML mapping is read as INI
 * (a host is the first word of a line outside [group:vars] sections).
 * Directories, executable (dynamic) inventories and plugins are refused:
 * Ansible runs those, and we only read files. */
#include "inventory.h"

#include "ydoc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INV_MAX_SIZE (4 * 1024 * 1024)
#define INV_MAX_DEPTH 32

static int yaml_group_has(const struct ydoc_node *group, const char *host,
                          int depth) {
  if (!group || group->type != YDOC_MAP || depth > INV_MAX_DEPTH)
    return 0;
  const struct ydoc_node *hosts = ydoc_get(group, "hosts");
  if (ydoc_get(hosts, host))
    return 1;
  const struct ydoc_node *children = ydoc_get(group, "children");
  for (size_t i = 0;
       children && children->type == YDOC_MAP && i + 1 < children->n; i += 2)
    if (yaml_group_has(children->kids[i + 1], host, depth + 1))
      return 1;
  return 0;
}

static int yaml_has(const struct ydoc_node *root, const char *host) {
  for (size_t i = 0; i + 1 < root->n; i += 2)
    if (yaml_group_has(root->kids[i + 1], host, 0))
      return 1;
  return 0;
}

static int ini_has(char *text, const char *host) {
  bool vars_section = false;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    line += strspn(line, " \t");
    if (*line == '#' || *line == ';' || *line == '\0')
      continue;
    if (*line == '[') {
      vars_section = strstr(line, ":vars]") != NULL;
      continue;
    }
    size_t word = strcspn(line, " \t\r");
    if (!vars_section && word == strlen(host) &&
        strncmp(line, host, word) == 0)
      return 1;
  }
  return 0;
}

int inv_has_host(const char *path, const char *host, struct msg_err *e) {
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111)) {
    msg_err_set(e, "inventory %s is not a plain file", path);
    return -1;
  }
  size_t len;
  cleanup_free char *text = util_read_file(path, INV_MAX_SIZE, &len);
  if (!text) {
    msg_err_set(e, "inventory %s: %s", path, strerror(errno));
    return -1;
  }
  struct msg_err ignored;
  cleanup_ydoc struct ydoc_node *root = ydoc_parse(text, len, false, &ignored);
  if (root && root->type == YDOC_MAP)
    return yaml_has(root, host);
  if (strstr(text, "plugin:")) {
    msg_err_set(e, "inventory %s is a plugin configuration", path);
    return -1;
  }
  return ini_has(text, host);
}
