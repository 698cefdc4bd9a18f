/* SPDX-License-Identifier: GPL-3.0-or-later */
/* empty.c: an empty shared library, the floor any LD_PRELOAD tool pays. */
void r42_bench_empty(void);
void r42_bench_empty(void) {}
