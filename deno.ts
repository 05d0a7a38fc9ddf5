/**
 * The Deno transport (`@openclaw-ts/gateway/deno`): HTTP and WebSockets on one port, served by the
 * hardened engine (HTTP/1.1 and RFC 6455 over raw `Deno.listen` connections, with header timeouts and
 * frame limits enforced while reading) or, with `engine: "native"`, by `Deno.serve`. The core and
 * everything else come from the root entry point.
 *
 * @example Serve a gateway on a free loopback port and ask it for /health
 * ```ts
 * import { createGateway } from "@openclaw-ts/gateway";
 * import { denoTransport } from "@openclaw-ts/gateway/deno";
 *
 * const gateway = createGateway({
 *   transport: denoTransport(),
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 * });
 * const address = await gateway.start();
 * const health = await fetch(`http://127.0.0.1:${address!.port}/health`);
 * if (health.status !== 200) throw new Error(`/health answered ${health.status}`);
 * await health.body?.cancel();
 * await gateway.stop();
 * ```
 *
 * @module
 */
export { type DenoEngine, denoTransport, type DenoTransportOptions } from "./lib/transports/deno.ts";
