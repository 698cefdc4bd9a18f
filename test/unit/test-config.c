/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-config.c: the runner's settings (config.c): defaults, valid values,
 * invalid values falling back to the default, the deprecated prefix. */
#include "config.h"
#include "tap.h"

#include <stdlib.h>

static const struct cfg *with(const char *name, const char *value) {
  setenv(name, value, 1);
  cfg_reload();
  const struct cfg *c = cfg_get();
  return c;
}

static void defaults(void) {
  const struct cfg *c = cfg_get();
  ok(c->force == CFG_FORCE_AUTO && c->scripts && !c->strict &&
         c->task_timeout == 0 && c->cache && c->cache_ttl == 30 &&
         c->cache_neg_ttl == 5 && !c->profile && !c->log &&
         c->cost_playbook == 2.0 && c->cost_vault == 0.5,
     "defaults");
}

static void task_timeout(void) {
  const char *name = "RANGE42_PROXMOX_API_TASK_TIMEOUT";
  ok(with(name, "45")->task_timeout == 45, "45 raises the wait");
  ok(with(name, "0.5")->task_timeout == 0.5, "0.5");
  ok(with(name, "86400")->task_timeout == 86400, "86400");
  ok(with(name, "abc")->task_timeout == 0, "abc: the action's own");
  ok(with(name, "0")->task_timeout == 0, "0: invalid");
  ok(with(name, "-3")->task_timeout == 0, "-3: invalid");
  ok(with(name, "nan")->task_timeout == 0, "nan: invalid");
  ok(with(name, "86401")->task_timeout == 0, "86401: invalid");
  ok(with(name, "5s")->task_timeout == 0, "5s: invalid");
  unsetenv(name);
}

static void words(void) {
  ok(with("RANGE42_PROXMOX_API_FORCE", "on")->force == CFG_FORCE_ON, "on");
  ok(with("RANGE42_PROXMOX_API_FORCE", "off")->force == CFG_FORCE_OFF, "off");
  ok(with("RANGE42_PROXMOX_API_FORCE", "ON")->force == CFG_FORCE_AUTO,
     "ON: invalid, auto");
  unsetenv("RANGE42_PROXMOX_API_FORCE");
  ok(with("RANGE42_PROXMOX_API_STRICT", "1")->strict, "STRICT=1");
  ok(!with("RANGE42_PROXMOX_API_STRICT", "true")->strict, "STRICT=true");
  unsetenv("RANGE42_PROXMOX_API_STRICT");
  ok(!with("RANGE42_PROXMOX_API_SCRIPTS", "off")->scripts, "SCRIPTS=off");
  ok(with("RANGE42_PROXMOX_API_SCRIPTS", "0")->scripts, "SCRIPTS=0: on");
  unsetenv("RANGE42_PROXMOX_API_SCRIPTS");
  ok(with("RANGE42_PROXMOX_API_CACHE_TTL", "0")->cache_ttl == 0, "TTL 0");
  ok(with("RANGE42_PROXMOX_API_CACHE_TTL", "+7")->cache_ttl == 30,
     "TTL +7: invalid");
  unsetenv("RANGE42_PROXMOX_API_CACHE_TTL");
  const char *res = "RANGE42_PROXMOX_API_RESIDENT";
  ok(with(res, "on")->resident == CFG_RESIDENT_IDLE, "RESIDENT=on");
  ok(with(res, "off")->resident == 0, "RESIDENT=off");
  ok(with(res, "120")->resident == 120, "RESIDENT=120");
  ok(with(res, "0")->resident == CFG_RESIDENT_IDLE, "RESIDENT=0: invalid");
  ok(with(res, "3601")->resident == CFG_RESIDENT_IDLE, "RESIDENT=3601");
  ok(with(res, "12s")->resident == CFG_RESIDENT_IDLE, "RESIDENT=12s");
  ok(cfg_resident_quiet() == CFG_RESIDENT_IDLE, "quiet: the same default");
  ok(with(res, "7")->resident == 7 && cfg_resident_quiet() == 7, "quiet: 7");
  ok(with("RANGE42_PROXMOX_API_CACHE", "off")->resident == 0 &&
         cfg_resident_quiet() == 0,
     "CACHE=off: no resident");
  unsetenv("RANGE42_PROXMOX_API_CACHE");
  unsetenv(res);
}

static void prefixes(void) {
  ok(with("R42_INTERCEPT_PROFILE", "1")->profile, "the old name is read");
  ok(!with("R42INTERCEPT_PROFILE", "0")->profile, "the new name wins");
  unsetenv("R42INTERCEPT_PROFILE");
  unsetenv("R42_INTERCEPT_PROFILE");
  ok_str(with("R42INTERCEPT_LOG", "/tmp/x.log")->log, "/tmp/x.log", "LOG");
  ok(with("R42INTERCEPT_LOG", "")->log == NULL, "LOG empty: none");
  unsetenv("R42INTERCEPT_LOG");
}

int main(void) {
  static const char *const vars[] = {"RANGE42_PROXMOX_API_FORCE",
                                     "RANGE42_PROXMOX_API_SCRIPTS",
                                     "RANGE42_PROXMOX_API_STRICT",
                                     "RANGE42_PROXMOX_API_TASK_TIMEOUT",
                                     "RANGE42_PROXMOX_API_CACHE",
                                     "RANGE42_PROXMOX_API_CACHE_TTL",
                                     "RANGE42_PROXMOX_API_CACHE_NEG_TTL",
                                     "R42INTERCEPT_PROFILE",
                                     "R42_INTERCEPT_PROFILE",
                                     "R42INTERCEPT_LOG",
                                     "R42INTERCEPT_COST_PLAYBOOK",
                                     "R42INTERCEPT_COST_VAULT",
                                     NULL};
  for (const char *const *v = vars; *v; v++)
    unsetenv(*v);
  setenv("R42INTERCEPT_QUIET", "1", 1); /* the trace lines of bad values */
  defaults();
  task_timeout();
  words();
  prefixes();
  return tap_done();
}
