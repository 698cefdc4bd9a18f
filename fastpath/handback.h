/* SPDX-License-Identifier: GPL-3.0-or-later */
/* handback.h: exec'ing the real program in place of the runner (see
   handback.c). */
#ifndef R42_HANDBACK_H
#define R42_HANDBACK_H

/* Execs PATH with ARGV and the runner's environment, with a pass marker
   for KIND (an enum match_kind) in front when libr42intercept.so is loaded
   (LD_PRELOAD, /etc/ld.so.preload), so that the shim's constructor in the
   real program does not re-route it (shim/pass.c).  The exec is the raw system
   call: the preloaded hooks never see it.  Returns only on failure: -1, errno
   set. */
int hb_exec(const char *path, char **argv, int kind);

/* hb_exec(), and when PATH has no #! line (ENOEXEC), PATH run by /bin/sh
   as execvp() runs it.  Returns only on failure: -1, errno set (ENOEXEC
   when the shell could not run it either). */
int hb_exec_program(const char *path, char **argv, int kind);

/* Under RANGE42_PROXMOX_API_FORCE=on, instead of the exec: logs the
   refusal (evlog.h), says it in one error line naming NAME and WHY, and
   exits CFG_FORCE_STATUS (config.h); the real program is not run. */
__attribute__((noreturn)) void hb_refuse(const char *name, const char *why);

#endif
