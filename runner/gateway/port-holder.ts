/**
 * Who holds a port a start could not bind: an OpenClaw gateway (it greets a WebSocket with
 * `connect.challenge`) or some other program, named from `/proc` where it can be. A gateway may be on its
 * way out (a restart), so it is worth waiting for; anything else is reported at once.
 *
 * @module
 */
import { listenerPids } from "./free-port.ts";

/** What answers on a port. */
export interface PortHolder {
  gateway: boolean;
  /** `pid 1234 (python3)` where `/proc` tells, else undefined. */
  process?: string;
}

const PROBE_TIMEOUT_MS = 1500;

/** Whether `ws://host:port` opens with the gateway's challenge. */
function speaksGateway(hostname: string, port: number): Promise<boolean> {
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  return new Promise((resolve) => {
    let ws: WebSocket;
    const done = (answer: boolean) => {
      clearTimeout(timer);
      try {
        ws.close();
      } catch { /* never opened */ }
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    try {
      ws = new WebSocket(`ws://${host.includes(":") ? `[${host}]` : host}:${port}`);
    } catch {
      return done(false);
    }
    ws.onmessage = (event) => {
      try {
        const frame = JSON.parse(String(event.data));
        done(frame?.type === "event" && frame?.event === "connect.challenge");
      } catch {
        done(false);
      }
    };
    ws.onerror = () => done(false);
    ws.onclose = () => done(false);
  });
}

/**
 * Whether `http://host:port/health` answers as a gateway does (`{"ok":…,"status":"live"}`): a gateway that
 * is draining or still starting refuses new sockets, yet it will let the port go.
 */
async function answersGatewayHealth(hostname: string, port: number): Promise<boolean> {
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  try {
    const response = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}/health`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const body = await response.json().catch(() => undefined);
    return typeof body?.ok === "boolean" && body?.status === "live";
  } catch {
    return false;
  }
}

async function processName(pid: number): Promise<string | undefined> {
  const name = await Deno.readTextFile(`/proc/${pid}/comm`).catch(() => undefined);
  return name?.trim() || undefined;
}

/** Probes the holder of `hostname:port`. */
export async function probePortHolder(hostname: string, port: number): Promise<PortHolder> {
  const [challenge, health, pids] = await Promise.all([
    speaksGateway(hostname, port),
    answersGatewayHealth(hostname, port),
    listenerPids(port).catch(() => []),
  ]);
  const gateway = challenge || health;
  const names = await Promise.all(pids.map(async (pid) => {
    const name = await processName(pid);
    return name ? `pid ${pid} (${name})` : `pid ${pid}`;
  }));
  return { gateway, ...(names.length ? { process: names.join(", ") } : {}) };
}

/** The message for a port that stayed taken. */
export function portTakenMessage(hostname: string, port: number, holder: PortHolder): string {
  const where = `${hostname}:${port}`;
  const who = holder.process ? ` (${holder.process})` : "";
  return holder.gateway
    ? `another OpenClaw gateway is already listening on ws://${where}${who}; stop it (\`openclaw gateway stop\`), ` +
      `pick another port with --port, or pass --force to stop it`
    : `port ${port} on ${hostname} is held by another program that is not an OpenClaw gateway${who}; ` +
      `stop it, pick another port with --port (or gateway.port), or pass --force to stop it`;
}
