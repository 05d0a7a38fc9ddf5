/**
 * The Deno transport, with a choice of engine. `hardened` (the default) serves HTTP/1.1 and WebSocket
 * from TypeScript over raw `Deno.listen`/`Deno.listenTls` connections, so it bounds the header phase
 * (`headerTimeoutMs`, a 32 KiB head), reads request bodies only as routes pull them, refuses oversize
 * WebSocket frames from their header (1009) and closes invalid UTF-8 with 1007. `native` is `Deno.serve`
 * plus `Deno.upgradeWebSocket`: faster, but without those three bounds (see docs/security.md).
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { GatewayServerHandler } from "../ws/wire.ts";
import { listenHardened } from "./deno/engine.ts";
import {
  addressInUse,
  bindFailed,
  type ListeningServer,
  type ListenOptions,
  readTlsFiles,
  type Transport,
} from "./types.ts";

/** How long `close()` waits for in-flight HTTP requests in each of its two stages. */
const DRAIN_TIMEOUT_MS = 5_000;

/** How long `close()` waits for sockets the gateway already closed to finish their close handshake. */
const CLOSE_GRACE_MS = 1_000;

/** Which engine serves the Deno transport (`gateway.transport.engine`). */
export type DenoEngine = "hardened" | "native";

/** Options for {@link denoTransport}. */
export interface DenoTransportOptions {
  /** `hardened` (default) or `native` (Deno.serve: faster, without the header, frame-size and UTF-8 bounds). */
  engine?: DenoEngine;
  /** How long `close()` waits for in-flight HTTP requests in each of its two stages (default 5 s). */
  drainTimeoutMs?: number;
}

/**
 * `Deno.cpuUsage()` (µs of user and system CPU time) is there at run time but not yet in Deno's published
 * types; read without `node:process`, which `./deno` must not load.
 */
const denoCpuUsage = (Deno as unknown as { cpuUsage?: () => CpuUsage }).cpuUsage;

type CpuUsage = { user: number; system: number };

function sumCpu({ user, system }: CpuUsage): number {
  return user + system;
}

/**
 * Creates the Deno transport.
 *
 * @example Serve on a free loopback port with `Deno.serve` and open a socket to it
 * ```ts
 * import { createGateway } from "@openclaw-ts/gateway";
 * import { denoTransport } from "@openclaw-ts/gateway/deno";
 *
 * const gateway = createGateway({
 *   transport: denoTransport({ engine: "native", drainTimeoutMs: 1_000 }),
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 * });
 * const address = await gateway.start();
 * const socket = new WebSocket(`ws://127.0.0.1:${address!.port}`);
 * const first = await new Promise<string>((resolve) => socket.onmessage = (event) => resolve(event.data));
 * if (JSON.parse(first).event !== "connect.challenge") throw new Error(first);
 * const closed = new Promise((resolve) => socket.onclose = resolve);
 * socket.close();
 * await closed;
 * await gateway.stop();
 * ```
 */
export function denoTransport(transportOptions: DenoTransportOptions = {}): Transport {
  const timeouts = {
    drainTimeoutMs: transportOptions.drainTimeoutMs ?? DRAIN_TIMEOUT_MS,
    closeGraceMs: CLOSE_GRACE_MS,
  };
  const native = transportOptions.engine === "native";
  return {
    name: "deno",
    cloneIsCheap: true,
    interfaceAddresses: () => Deno.networkInterfaces().map((i) => i.address),
    ...(denoCpuUsage ? { cpuUsageMicros: () => sumCpu(denoCpuUsage.call(Deno)) } : {}),
    async listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer> {
      const pem = options.tls && readTlsFiles(options.tls, (path) => Deno.readTextFileSync(path));
      // The engine not chosen is never imported: the runner's default (hardened) does not load `native`.
      const listen = native ? (await import("./deno/native.ts")).listenNative : listenHardened;
      try {
        return await listen(handler, options, pem, timeouts);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw error instanceof Deno.errors.AddrInUse ? addressInUse(options) : bindFailed(options, error);
      }
    },
  };
}
