// Stdin's command lines for the C bench programs (bench/_broadcast_receiver.c, bench/_kernel_floor.c), which
// both speak JSON lines with bench/cluster.ts: included by each, so the one reader serves both.
#ifndef STDIN_LINES_H
#define STDIN_LINES_H

#include <string.h>
#include <unistd.h>

// Reads what stdin has and hands each whole line (without its newline) to `command`; false at its end. A
// line longer than the buffer reads as the end.
static int read_commands(void (*command)(const char *)) {
  static char line[1024];
  static size_t len;
  ssize_t n = read(0, line + len, sizeof line - 1 - len);
  if (n <= 0) return 0;
  len += n;
  char *start = line, *end;
  while ((end = memchr(start, '\n', line + len - start))) {
    *end = 0;
    command(start);
    start = end + 1;
  }
  len -= start - line;
  memmove(line, start, len);
  return 1;
}

#endif
