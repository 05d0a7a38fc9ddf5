// One receiving process of bench/cluster.ts's broadcast rows, in C: the same JSON-lines protocol as
// bench/_broadcast_receiver.ts, for a fraction of its CPU. The Deno receiver's ~10,000 `onmessage` calls per
// broadcast cost ~100-130 ms of CPU on the cores the server needs, so its "all have it" measured the
// receiver as much as the server; this one reads each socket's bytes once in an epoll loop and allocates
// nothing per frame.
//
// An arrival is the kernel's receive timestamp of the bytes that completed the marker (SO_TIMESTAMPNS,
// CLOCK_REALTIME): when the frame reached the socket, whenever this process gets to read it. That lets it
// read in batches while a broadcast is under way (a 1 ms nap between epoll waits): on loopback the
// receive path runs inside the server's write(2), and waking a receiver blocked in epoll_wait there costs
// the writing thread ~1.3 us a socket (~13 ms of a 10,000-socket broadcast, measured against the
// no-runtime floor), which a receiver on another host would not charge it. TCP reports the stamp of the
// last segment a read took, so a frame read together with a later one gets the later one's time; a
// broadcast sends one frame per socket, so this errs late if at all.
//
//   _broadcast_receiver <port> <count> <connect frame JSON | raw>
//
// With a connect frame it holds real authenticated gateway sockets: HTTP upgrade, the `connect.challenge`
// event, that frame sent masked, the `res` with `"id":"c"` and `"ok":true`. With `raw` it only opens TCP
// connections (the no-runtime floor, bench/_kernel_floor.c), whose frames it reads the same way.
//
// Prints {"held","connectMs","failure"} once connected, then answers each stdin line: `clock` -> {"now"}
// (CLOCK_REALTIME in epoch ms, the clock `wallNow()` reads in the Deno processes; bench/_receivers.ts
// measures the offset anyway), `arm <marker>` -> {"armed":true} and later {"first","last"} (the first and
// last arrival of a frame containing the marker, one per socket; also "bytes", that frame's size on the
// wire, and "lost", sockets that closed before it came, when any did), `close` -> {"closed":true} and exit.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "_stdin_lines.h"

// At most this many sockets between connect and `hello-ok`: the gateway caps unauthenticated sockets per
// client address at 64 (bench/_held_sockets.ts's `hold` uses batches of 50 for the same reason).
#define IN_HANDSHAKE 50
// A handshake that hears nothing for this long has stalled; it is reported, not waited on forever.
#define HANDSHAKE_IDLE_MS 30000
// While armed, the pause between epoll waits (see the top): arrivals keep the kernel's time meanwhile.
#define ARMED_NAP_US 1000
// Enough of a message's start to tell a challenge from a `res` and to quote a refusal.
#define PREFIX 256
#define MAX_MARKER 256
#define STDIN_TAG UINT32_MAX
#define EVENTS 512

enum phase { CONNECTING, UPGRADING, CHALLENGE, AUTHENTICATING, HELD, DEAD };

// One socket's parser state: a frame's header can end in one read and its payload in the next, and one
// read can hold several frames, so everything about the frame in progress lives here.
struct peer {
  int fd;
  uint8_t phase;
  uint8_t arrived;
  uint8_t head[14];
  uint8_t head_len;
  uint8_t opcode;       // of the frame in progress
  uint8_t masked;       // servers do not mask, but a masked frame is still read right
  uint8_t mask[4];
  uint8_t http_crlf;    // how much of the "\r\n\r\n" ending the upgrade response has been seen
  uint8_t ctl_len;
  uint64_t length;      // payload bytes of the frame in progress
  uint64_t left;        // of which not read yet
  uint64_t read;        // payload bytes of the frame in progress read so far (the mask's offset)
  uint16_t prefix_len;
  int match;            // how much of the marker the current message has matched (KMP state)
  char prefix[PREFIX];  // the current message's first bytes (NUL-terminated)
  uint8_t ctl[125];     // a control frame's payload: a ping's, echoed in the pong
};

static struct peer *peers;
static int count, raw, held, in_handshake;
static const char *connect_frame;
static char request[256];
static const char *failure;
static char failure_text[PREFIX + 64];

static char marker[MAX_MARKER];
static int marker_len, kmp[MAX_MARKER];
static int armed, left_to_arrive, lost;
static double first_at, last_at;
static double read_stamp; // the kernel's receive time of the bytes being parsed
static uint64_t marked_bytes; // the marked frame's size on the wire, to size the kernel floor's alike

static double wall_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Writes `s` as a JSON string's contents: a refusal quoted from the gateway carries quotes of its own.
static void print_json_text(const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
}

static void fail(const char *why, const char *detail) {
  if (failure) return;
  snprintf(failure_text, sizeof failure_text, "%s%s", why, detail ? detail : "");
  failure = failure_text;
}

// A masked client frame; the small fixed mask key is as valid as a random one for a server.
static int send_frame(int fd, uint8_t opcode, const void *data, size_t len) {
  static uint8_t frame[8192];
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  size_t head = 2;
  if (len > sizeof frame - 8) return -1;
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else {
    frame[1] = 0x80 | 126;
    frame[2] = len >> 8;
    frame[3] = len & 0xff;
    head = 4;
  }
  memcpy(frame + head, key, 4);
  for (size_t i = 0; i < len; i++) frame[head + 4 + i] = ((const uint8_t *)data)[i] ^ key[i % 4];
  size_t total = head + 4 + len;
  return write(fd, frame, total) == (ssize_t)total ? 0 : -1;
}

static void drop(struct peer *p, int ep) {
  if (p->phase == HELD) held--;
  else in_handshake--;
  epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
  close(p->fd);
  if (armed && p->phase == HELD && !p->arrived) {
    lost++;
    left_to_arrive--;
  }
  p->phase = DEAD;
}

static void become_held(struct peer *p, int ep) {
  struct epoll_event e = {.events = EPOLLIN, .data.u32 = p - peers};
  epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &e);
  p->phase = HELD;
  in_handshake--;
  held++;
}

static int header_need(const struct peer *p) {
  if (p->head_len < 2) return 2;
  int len7 = p->head[1] & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (p->head[1] & 0x80 ? 4 : 0);
}

// KMP failure table: a marker's match survives any split of the frame over reads without keeping bytes.
static void set_marker(const char *text) {
  marker_len = strlen(text) < MAX_MARKER ? (int)strlen(text) : MAX_MARKER - 1;
  memcpy(marker, text, marker_len);
  kmp[0] = 0;
  for (int i = 1, k = 0; i < marker_len; i++) {
    while (k && marker[i] != marker[k]) k = kmp[k - 1];
    if (marker[i] == marker[k]) k++;
    kmp[i] = k;
  }
}

static void scan_for_marker(struct peer *p, const uint8_t *data, size_t len) {
  int m = p->match;
  for (size_t i = 0; i < len; i++) {
    while (m && data[i] != (uint8_t)marker[m]) m = kmp[m - 1];
    if (data[i] == (uint8_t)marker[m] && ++m == marker_len) {
      if (read_stamp < first_at) first_at = read_stamp;
      if (read_stamp > last_at) last_at = read_stamp;
      p->arrived = 1;
      marked_bytes = header_need(p) + p->length;
      left_to_arrive--;
      break;
    }
  }
  p->match = m;
}

// A whole text message: during the handshake, the challenge or the answer to our `connect`.
static void message_done(struct peer *p, int ep) {
  p->prefix[p->prefix_len] = 0;
  if (p->phase == CHALLENGE && strstr(p->prefix, "\"event\":\"connect.challenge\"")) {
    if (send_frame(p->fd, 1, connect_frame, strlen(connect_frame)) < 0) {
      fail("sending the connect frame failed", NULL);
      drop(p, ep);
      return;
    }
    p->phase = AUTHENTICATING;
  } else if (p->phase == AUTHENTICATING && strstr(p->prefix, "\"id\":\"c\"")) {
    if (strstr(p->prefix, "\"ok\":true")) become_held(p, ep);
    else {
      fail("the gateway refused the connect: ", p->prefix);
      drop(p, ep);
    }
  }
}

static void frame_done(struct peer *p, int ep) {
  p->head_len = 0;
  if (p->opcode == 9) {
    if (send_frame(p->fd, 10, p->ctl, p->ctl_len) < 0) drop(p, ep);
  } else if (p->opcode == 8) {
    if (p->phase != HELD) fail("the gateway closed a socket during the handshake", NULL);
    drop(p, ep);
  } else if (p->opcode < 8 && (p->head[0] & 0x80)) {
    message_done(p, ep);
  }
}

static void frame_start(struct peer *p) {
  int len7 = p->head[1] & 0x7f, at = 2;
  p->opcode = p->head[0] & 0x0f;
  p->masked = p->head[1] >> 7;
  p->left = len7;
  if (len7 == 126) p->left = (uint64_t)p->head[2] << 8 | p->head[3], at = 4;
  else if (len7 == 127) {
    p->left = 0;
    for (at = 2; at < 10; at++) p->left = p->left << 8 | p->head[at];
  }
  if (p->masked) memcpy(p->mask, p->head + at, 4);
  p->length = p->left;
  p->read = 0;
  // A continuation frame carries on its message's prefix and match; a control frame sits beside them.
  if (p->opcode == 1 || p->opcode == 2) p->prefix_len = 0, p->match = 0;
  if (p->opcode >= 8) p->ctl_len = 0;
}

static void payload(struct peer *p, uint8_t *data, size_t len) {
  if (p->masked)
    for (size_t i = 0; i < len; i++) data[i] ^= p->mask[(p->read + i) % 4];
  p->read += len;
  if (p->opcode >= 8) {
    size_t room = sizeof p->ctl - p->ctl_len, take = len < room ? len : room;
    memcpy(p->ctl + p->ctl_len, data, take);
    p->ctl_len += take;
  } else if (p->phase != HELD) {
    size_t room = PREFIX - 1 - p->prefix_len, take = len < room ? len : room;
    memcpy(p->prefix + p->prefix_len, data, take);
    p->prefix_len += take;
  } else if (armed && !p->arrived) {
    scan_for_marker(p, data, len);
  }
}

// The upgrade response's head; returns the bytes it took, or -1 when it is not a 101.
static ssize_t http_head(struct peer *p, const uint8_t *buf, size_t n) {
  static const char end[] = "\r\n\r\n";
  size_t i = 0;
  while (i < n && p->http_crlf < 4) {
    char c = buf[i++];
    if (p->prefix_len < PREFIX - 1) p->prefix[p->prefix_len++] = c;
    p->http_crlf = c == end[p->http_crlf] ? p->http_crlf + 1 : c == '\r';
  }
  if (p->http_crlf < 4) return i;
  p->prefix[p->prefix_len] = 0;
  if (strncmp(p->prefix, "HTTP/1.1 101", 12)) {
    p->prefix[strcspn(p->prefix, "\r")] = 0;
    fail("the upgrade was refused: ", p->prefix);
    return -1;
  }
  p->prefix_len = 0;
  p->phase = CHALLENGE;
  return i;
}

static void feed(struct peer *p, uint8_t *buf, size_t n, int ep) {
  size_t i = 0;
  if (p->phase == UPGRADING) {
    ssize_t used = http_head(p, buf, n);
    if (used < 0) {
      drop(p, ep);
      return;
    }
    i = used;
  }
  while (i < n && p->phase != DEAD) {
    int need = header_need(p);
    if (p->head_len < need) {
      p->head[p->head_len++] = buf[i++];
      if (p->head_len == need && header_need(p) == need) {
        frame_start(p);
        if (p->left == 0) frame_done(p, ep);
      }
      continue;
    }
    size_t take = n - i < p->left ? n - i : p->left;
    payload(p, buf + i, take);
    i += take;
    p->left -= take;
    if (p->left == 0) frame_done(p, ep);
  }
}

static void readable(struct peer *p, int ep) {
  static uint8_t buf[65536];
  static char control[CMSG_SPACE(sizeof(struct timespec))];
  struct iovec io = {buf, sizeof buf};
  struct msghdr msg = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n = recvmsg(p->fd, &msg, 0);
  read_stamp = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPNS) continue;
    struct timespec t;
    memcpy(&t, CMSG_DATA(c), sizeof t);
    read_stamp = t.tv_sec * 1e3 + t.tv_nsec / 1e6;
  }
  if (!read_stamp) read_stamp = wall_ms();
  if (n > 0) feed(p, buf, n, ep);
  else if (n == 0 || errno != EAGAIN) {
    if (p->phase != HELD) fail("a socket closed during the handshake", NULL);
    drop(p, ep);
  }
}

// The nonblocking connect finished: send the upgrade (or, raw, hold the bare connection).
static void writable(struct peer *p, int ep) {
  int error = 0;
  socklen_t size = sizeof error;
  getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &error, &size);
  if (error) {
    fail("connect: ", strerror(error));
    drop(p, ep);
    return;
  }
  if (raw) {
    become_held(p, ep);
    return;
  }
  size_t len = strlen(request);
  if (write(p->fd, request, len) != (ssize_t)len) {
    fail("sending the upgrade failed", NULL);
    drop(p, ep);
    return;
  }
  struct epoll_event e = {.events = EPOLLIN, .data.u32 = p - peers};
  epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &e);
  p->phase = UPGRADING;
}

static void dispatch(struct peer *p, uint32_t events, int ep) {
  if (p->phase == DEAD) return;
  if (p->phase == CONNECTING) writable(p, ep);
  else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(p, ep);
}

static void start(struct peer *p, const struct sockaddr_in *to, int ep) {
  p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  p->phase = DEAD; // until the connect is under way
  if (p->fd < 0) {
    fail("socket: ", strerror(errno));
    return;
  }
  int one = 1;
  setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (connect(p->fd, (const struct sockaddr *)to, sizeof *to) && errno != EINPROGRESS) {
    fail("connect: ", strerror(errno));
    close(p->fd);
    return;
  }
  struct epoll_event e = {.events = EPOLLOUT, .data.u32 = p - peers};
  epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &e);
  p->phase = CONNECTING;
  in_handshake++;
}

// Up to IN_HANDSHAKE sockets in their handshake at a time; the first failure stops new ones (as `hold` does).
static void hold_all(const struct sockaddr_in *to, int ep) {
  struct epoll_event ev[256];
  int started = 0;
  double heard = mono_ms();
  for (;;) {
    while (!failure && started < count && in_handshake < IN_HANDSHAKE) start(&peers[started++], to, ep);
    if (in_handshake == 0 && (failure || started == count)) return;
    int k = epoll_wait(ep, ev, 256, 1000);
    if (k > 0) heard = mono_ms();
    else if (mono_ms() - heard > HANDSHAKE_IDLE_MS) {
      fail("the handshakes stalled", NULL);
      for (int i = 0; i < started; i++)
        if (peers[i].phase != HELD && peers[i].phase != DEAD) drop(&peers[i], ep);
      return;
    }
    for (int j = 0; j < k; j++) dispatch(&peers[ev[j].data.u32], ev[j].events, ep);
  }
}

static void arm(const char *text) {
  set_marker(text);
  for (int i = 0; i < count; i++) peers[i].arrived = 0, peers[i].match = 0;
  armed = 1;
  left_to_arrive = held;
  lost = 0;
  first_at = 1e300;
  last_at = 0;
  printf("{\"armed\":true}\n");
}

static void close_all(void) {
  static const uint8_t normal[2] = {1000 >> 8, 1000 & 0xff};
  for (int i = 0; i < count; i++) {
    if (peers[i].phase != HELD) continue;
    if (!raw) send_frame(peers[i].fd, 8, normal, 2);
    close(peers[i].fd);
  }
  printf("{\"closed\":true}\n");
  fflush(stdout);
  exit(0);
}

static void command(const char *line) {
  if (!strcmp(line, "clock")) printf("{\"now\":%.4f}\n", wall_ms());
  else if (!strncmp(line, "arm ", 4)) arm(line + 4);
  else if (!strcmp(line, "close")) close_all();
  fflush(stdout);
}


static void serve(int ep) {
  struct epoll_event e = {.events = EPOLLIN, .data.u32 = STDIN_TAG}, ev[EVENTS];
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e);
  for (;;) {
    int k = epoll_wait(ep, ev, EVENTS, -1);
    for (int j = 0; j < k; j++) {
      if (ev[j].data.u32 != STDIN_TAG) dispatch(&peers[ev[j].data.u32], ev[j].events, ep);
      else if (!read_commands(command)) exit(0);
    }
    if (armed && left_to_arrive == 0) {
      armed = 0;
      printf("{\"first\":%.4f,\"last\":%.4f,\"bytes\":%llu", first_at, last_at,
             (unsigned long long)marked_bytes);
      if (lost) printf(",\"lost\":%d", lost);
      printf("}\n");
      fflush(stdout);
    }
    // During a broadcast, let readiness pile up (see the top) unless a backlog is already waiting.
    if (armed && k < EVENTS) usleep(ARMED_NAP_US);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <port> <count> <connect frame JSON | raw>\n", argv[0]);
    return 2;
  }
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  int port = atoi(argv[1]);
  count = atoi(argv[2]);
  raw = !strcmp(argv[3], "raw");
  connect_frame = argv[3];
  snprintf(request, sizeof request,
           "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
           port);
  peers = calloc(count > 0 ? count : 1, sizeof *peers);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ep = epoll_create1(0);
  double t0 = mono_ms();
  hold_all(&to, ep);
  printf("{\"held\":%d,\"connectMs\":%.3f", held, mono_ms() - t0);
  if (failure) {
    printf(",\"failure\":\"");
    print_json_text(failure);
    putchar('"');
  }
  printf("}\n");
  fflush(stdout);
  serve(ep);
}
