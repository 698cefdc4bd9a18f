/* SPDX-License-Identifier: GPL-3.0-or-later */
/* execbench.c: the cost of being preloaded, per exec.  Runs PROGRAM N
 * times under each LD_PRELOAD setting given (":" meaning none), in turn
 * (A B C A B C ...), timing each fork+exec+wait with CLOCK_MONOTONIC, and
 * prints one line per setting: "median_us mean_us preload".
 * Usage: execbench N PRELOAD[,PRELOAD...] PROGRAM [ARGS...] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETTINGS 8

extern char **environ;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One run of ARGV with LD_PRELOAD=PRELOAD (NULL: none); microseconds. */
static double run_once(const char *preload, char **argv) {
  double t0 = now_us();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    if (preload)
      setenv("LD_PRELOAD", preload, 1);
    else
      unsetenv("LD_PRELOAD");
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "execbench: %s failed\n", argv[0]);
    exit(1);
  }
  return now_us() - t0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr,
            "usage: execbench N PRELOAD[,PRELOAD...] PROGRAM [ARGS]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  char *settings[MAX_SETTINGS];
  int k = 0;
  for (char *save = NULL, *s = strtok_r(argv[2], ",", &save);
       s && k < MAX_SETTINGS; s = strtok_r(NULL, ",", &save))
    settings[k++] = strcmp(s, ":") == 0 ? NULL : s;
  double *times = calloc((size_t)(n * k), sizeof *times);
  if (!times || n <= 0)
    return 2;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < k; j++)
      times[j * n + i] = run_once(settings[j], argv + 3);
  for (int j = 0; j < k; j++) {
    double *t = times + j * n, sum = 0;
    for (int i = 0; i < n; i++)
      sum += t[i];
    qsort(t, (size_t)n, sizeof *t, cmp);
    printf("%.1f %.1f %s\n", t[n / 2], sum / n,
           settings[j] ? settings[j] : ":");
  }
  free(times);
  return 0;
}
