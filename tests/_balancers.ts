// Real load balancers (Debian's HAProxy and nginx) on free loopback ports in front of gateway replicas,
// with the configs docs/scale-out.md shows. `HAPROXY` and `NGINX` are where the binaries are, undefined when
// they are not installed.
import { join } from "node:path";
import { findBinary, spawnIn } from "./_daemon.ts";
import { freePort } from "./_runner_process.ts";

const SBIN = ["/usr/sbin", "/usr/bin", "/usr/local/sbin"];
/** The haproxy binary, if installed. */
export const HAPROXY = findBinary("haproxy", SBIN);
/** The nginx binary, if installed. */
export const NGINX = findBinary("nginx", SBIN);

/** The ports docs/scale-out.md's configs use: the frontend, then the three replicas. */
export const DOC_PORTS = { frontend: 8080, replicas: [18789, 18790, 18791] } as const;

/** The fenced block of `lang` (`haproxy`, `nginx`) in docs/scale-out.md. */
export async function docsConfig(lang: string): Promise<string> {
  const text = await Deno.readTextFile(new URL("../docs/scale-out.md", import.meta.url));
  const block = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(text);
  if (!block) throw new Error(`docs/scale-out.md has no ${lang} block`);
  return block[1];
}

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

/** A running balancer: its frontend port and URL (`http://127.0.0.1:port`), and `stop()` (once, however often called). */
export interface Balancer {
  port: number;
  url: string;
  config: string;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy in front of `backends` and resolves once every backend answered through it (each one
 * passed its health check), so a test's first connection can land on any of them.
 */
export async function startHaproxy(backends: readonly Backend[], maxconn?: number): Promise<Balancer> {
  if (!HAPROXY) throw new Error("haproxy is not installed (apt-get install haproxy)");
  const dir = await Deno.makeTempDir({ prefix: "openclaw-haproxy-" });
  const port = freePort();
  const config = haproxyConfig(port, backends, maxconn);
  const file = join(dir, "haproxy.cfg");
  await Deno.writeTextFile(file, config);
  const { stderr, stop } = spawnIn(dir, HAPROXY, ["-f", file, "-db"]);
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

/** `config` (the docs' nginx block) with its ports replaced by `port` and the `backends`' ports. */
export function nginxConfig(config: string, port: number, backends: readonly Backend[]): string {
  let text = config.replace(`127.0.0.1:${DOC_PORTS.frontend};`, `127.0.0.1:${port};`);
  DOC_PORTS.replicas.forEach((docPort, i) =>
    text = text.replace(`127.0.0.1:${docPort} `, `127.0.0.1:${backends[i].port} `)
  );
  return text;
}

/** `nginx -t` on `config`: resolves with nginx's verdict (its stderr) and whether it passed. */
export async function nginxTest(config: string): Promise<{ ok: boolean; output: string }> {
  if (!NGINX) throw new Error("nginx is not installed (apt-get install nginx)");
  const dir = await Deno.makeTempDir({ prefix: "openclaw-nginx-" });
  try {
    await Deno.writeTextFile(join(dir, "nginx.conf"), config);
    const { code, stderr } = await new Deno.Command(NGINX, {
      args: [...nginxArgs(dir), "-t"],
      stdout: "null",
      stderr: "piped",
    })
      .output();
    return { ok: code === 0, output: new TextDecoder().decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The docs' config runs with its own prefix, pid file and error log in `dir`, in the foreground. */
function nginxArgs(dir: string): string[] {
  return [
    "-p",
    dir,
    "-c",
    join(dir, "nginx.conf"),
    "-e",
    join(dir, "error.log"),
    "-g",
    `pid ${dir}/nginx.pid; daemon off;`,
  ];
}

/** Starts nginx with the docs' config in front of `backends`; resolves once it forwards `/ready`. */
export async function startNginx(backends: readonly Backend[]): Promise<Balancer> {
  if (!NGINX) throw new Error("nginx is not installed (apt-get install nginx)");
  const dir = await Deno.makeTempDir({ prefix: "openclaw-nginx-" });
  const port = freePort();
  const config = nginxConfig(await docsConfig("nginx"), port, backends);
  await Deno.writeTextFile(join(dir, "nginx.conf"), config);
  const { stderr, stop } = spawnIn(dir, NGINX, nginxArgs(dir));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await fetch(`${url}/ready`).catch(() => undefined);
    await answer?.body?.cancel();
    if (answer?.status === 200) return { port, url, config, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not forward /ready:\n${await stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
