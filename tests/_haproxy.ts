// A real HAProxy (Debian's) on a free loopback port in front of gateway replicas, with the config
// docs/scale-out.md shows. `HAPROXY` is where the binary is, undefined when it is not installed.
import { join } from "node:path";
import { freePort } from "./_runner_process.ts";

function findHaproxy(): string | undefined {
  for (
    const dir of ["/usr/sbin", "/usr/bin", "/usr/local/sbin", ...(Deno.env.get("PATH") ?? "").split(":")]
  ) {
    try {
      if (Deno.statSync(join(dir, "haproxy")).isFile) return join(dir, "haproxy");
    } catch { /* not here */ }
  }
  return undefined;
}

/** The haproxy binary, if installed. */
export const HAPROXY = findHaproxy();

/** A replica behind the balancer: its server name and loopback port. */
export interface Backend {
  name: string;
  port: number;
}

/**
 * The config docs/scale-out.md shows, for a frontend on `port` and `backends` on loopback. No stickiness:
 * any replica serves any client. Upgraded WebSockets are tunnels (`timeout tunnel`); `/ready` takes a
 * draining or dead replica out within two failed checks, and a connection refused by a replica that died
 * between checks is redispatched to another.
 */
export function haproxyConfig(port: number, backends: readonly Backend[], maxconn = 2_000): string {
  return `global
  maxconn ${maxconn * backends.length + 100}

defaults
  mode http
  option forwardfor
  option redispatch
  retries 2
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  timeout tunnel 1h

frontend gateway
  bind 127.0.0.1:${port}
  default_backend replicas

backend replicas
  balance leastconn
  option httpchk GET /ready
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 maxconn ${maxconn}
  http-response set-header X-OpenClaw-Replica %[srv_name]
${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check`).join("\n")}
`;
}

/** A running HAProxy: its frontend URL (`http://127.0.0.1:port`), and `stop()` (once, however often called). */
export interface Haproxy {
  port: number;
  url: string;
  config: string;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy in front of `backends` and resolves once every backend answered through it (each one
 * passed its health check), so a test's first connection can land on any of them.
 */
export async function startHaproxy(backends: readonly Backend[], maxconn?: number): Promise<Haproxy> {
  if (!HAPROXY) throw new Error("haproxy is not installed (apt-get install haproxy)");
  const dir = await Deno.makeTempDir({ prefix: "openclaw-haproxy-" });
  const port = freePort();
  const config = haproxyConfig(port, backends, maxconn);
  const file = join(dir, "haproxy.cfg");
  await Deno.writeTextFile(file, config);
  const child = new Deno.Command(HAPROXY, {
    args: ["-f", file, "-db"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true });
    })();
  const url = `http://127.0.0.1:${port}`;
  const seen = new Set<string>();
  const deadline = Date.now() + 20_000;
  while (seen.size < backends.length) {
    const answer = await fetch(`${url}/ready`).catch(() => undefined);
    await answer?.body?.cancel();
    const replica = answer?.status === 200 ? answer.headers.get("x-openclaw-replica") : null;
    if (replica) seen.add(replica);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not reach every replica (saw ${[...seen]}):\n${await stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, url, config, stop };
}
