/* SPDX-License-Identifier: GPL-3.0-or-later */
/* evlog.h: the event log, one JSON line per runner call (evlog.c). */
#ifndef R42_EVLOG_H
#define R42_EVLOG_H

#include <stdbool.h>

/* Starts the record of a call of kind KIND (enum match_kind) to PROGRAM
   (its name, borrowed): its start time and clock.  Without
   R42INTERCEPT_LOG the other functions record nothing. */
void evl_begin(int kind, const char *program);

/* The action the call does (the first one named is kept; borrowed). */
void evl_action(const char *name);

/* One role call done (what one ansible-playbook run of the slow path
   does): on VM_ID (NULL for a list), ERROR its failure or NULL. */
void evl_play(const char *vm_id, const char *error);

/* One more request sent to the API. */
void evl_request(void);

/* Ends the record: the call was answered, with exit STATUS; appends its
   line to the log. */
void evl_answered(int status);

/* Ends the record: the call falls back to the real program for WHY
   (REFUSED: RANGE42_PROXMOX_API_FORCE=on stopped it instead); appends its
   line to the log. */
void evl_fell_back(const char *why, bool refused);

/* The pid the log gives for this call: PID (the front's, for a call the
   resident runner answers) instead of this process's. */
void evl_set_pid(long pid);

#endif
