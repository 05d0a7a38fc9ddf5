// The no-runtime floor of bench/cluster.ts's broadcast rows: what one event to N loopback sockets costs when
// nothing but the kernel is in the way. A plain TCP server (no HTTP, no WebSocket handshake) that, on
// command, writes one prebuilt WebSocket text frame to every connection it accepted, with one `write(2)`
// per socket, from one thread or two. Its peers are bench/_broadcast_receiver.c in `raw` mode, which reads
// the frames as it reads the gateway's.
//
// On loopback the peer's TCP receive runs inside the sender's `write(2)`, so the loop time here is the
// kernel's own price per socket; no server on this machine can hand 10,000 frames over faster.
//
//   _kernel_floor            prints its port on the first line, then reads stdin lines:
//   broadcast <threads> <bytes> <marker>   -> {"sockets","fanOutMs","failed"}: the frame is a `presence`
//                                             event naming <marker>, padded to <bytes> bytes on the wire
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "_stdin_lines.h"

#define MAX_FRAME 4096

static int *fds, accepted, capacity;
static unsigned char frame[MAX_FRAME];
static size_t frame_len, frame_start; // the frame is frame[frame_start, frame_start + frame_len)

// The second writer is started once and waits between broadcasts, so the thread's CPU stays in the
// process's /proc/<pid>/task account the bench reads (a thread that ended would take its figures along).
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int round_started, round_finished, worker_failed;

static double mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Writes the frame to sockets [from, to); returns how many writes did not take it whole.
static int write_range(int from, int to) {
  int failed = 0;
  for (int i = from; i < to; i++)
    if (write(fds[i], frame + frame_start, frame_len) != (ssize_t)frame_len) failed++;
  return failed;
}

static void *second_writer(void *unused) {
  (void)unused;
  pthread_mutex_lock(&lock);
  for (int seen = 0;; seen++) {
    while (round_started == seen) pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    int failed = write_range(accepted / 2, accepted);
    pthread_mutex_lock(&lock);
    worker_failed = failed;
    round_finished = seen + 1;
    pthread_cond_signal(&done);
  }
  return NULL;
}

// A server frame (unmasked, FIN, text) of about `bytes` bytes carrying a presence row for `marker`: the
// gateway's event has that shape, and its size sets the bytes each write copies.
static void build_frame(size_t bytes, const char *marker) {
  static const char tail[] = "\"}]}}";
  char *body = (char *)frame + 4;
  int fixed = snprintf(body, MAX_FRAME - 4 - sizeof tail,
                       "{\"type\":\"event\",\"event\":\"presence\",\"payload\":{\"presence\":[{\"mode\":"
                       "\"webchat\",\"reason\":\"connect\",\"instanceId\":\"%s\",\"pad\":\"",
                       marker);
  size_t least = fixed + strlen(tail), payload = bytes < 128 ? bytes - 2 : bytes - 4;
  if (payload < least) payload = least;
  if (payload > MAX_FRAME - 4) payload = MAX_FRAME - 4;
  memset(body + fixed, 'x', payload - least);
  memcpy(body + payload - strlen(tail), tail, strlen(tail));
  // The body sits at frame + 4 either way; a short frame's 2-byte header goes right before it.
  if (payload < 126) {
    frame[2] = 0x81, frame[3] = payload;
    frame_start = 2;
  } else {
    frame[0] = 0x81, frame[1] = 126, frame[2] = payload >> 8, frame[3] = payload & 0xff;
    frame_start = 0;
  }
  frame_len = 4 - frame_start + payload;
}

static void broadcast(int threads, size_t bytes, const char *marker) {
  build_frame(bytes, marker);
  double t0 = mono_ms();
  int failed;
  if (threads < 2) failed = write_range(0, accepted);
  else {
    pthread_mutex_lock(&lock);
    round_started++;
    pthread_cond_signal(&go);
    pthread_mutex_unlock(&lock);
    failed = write_range(0, accepted / 2);
    pthread_mutex_lock(&lock);
    while (round_finished != round_started) pthread_cond_wait(&done, &lock);
    failed += worker_failed;
    pthread_mutex_unlock(&lock);
  }
  printf("{\"sockets\":%d,\"fanOutMs\":%.3f,\"failed\":%d}\n", accepted, mono_ms() - t0, failed);
  fflush(stdout);
}

static void accept_pending(int listener) {
  int one = 1;
  for (;;) {
    int fd = accept4(listener, NULL, NULL, 0);
    if (fd < 0) return;
    if (accepted == capacity) {
      capacity = capacity ? capacity * 2 : 1024;
      fds = realloc(fds, capacity * sizeof *fds);
    }
    // As a WebSocket server sets it: each frame leaves at once.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fds[accepted++] = fd;
  }
}

static void command(const char *line) {
  int threads;
  size_t bytes;
  char marker[256];
  if (sscanf(line, "broadcast %d %zu %255s", &threads, &bytes, marker) == 3) broadcast(threads, bytes, marker);
}


int main(void) {
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in address = {.sin_family = AF_INET};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (bind(listener, (struct sockaddr *)&address, size) || listen(listener, 4096) ||
      getsockname(listener, (struct sockaddr *)&address, &size)) {
    perror("listen");
    return 1;
  }
  pthread_t worker;
  pthread_create(&worker, NULL, second_writer, NULL);
  printf("%d\n", ntohs(address.sin_port));
  fflush(stdout);
  // Accepting goes on while the receivers connect: 10,000 connections do not fit in the listen backlog.
  int ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN, .data.fd = listener}, ev[2];
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &e);
  e.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e);
  for (;;) {
    int k = epoll_wait(ep, ev, 2, -1);
    for (int j = 0; j < k; j++) {
      if (ev[j].data.fd == listener) accept_pending(listener);
      else if (!read_commands(command)) return 0;
    }
  }
}
