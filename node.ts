/**
 * The Node transport (`@openclaw-ts/gateway/node`): `node:http` (or `node:https`) for HTTP and `ws` for
 * sockets on one port, and the `node:os` host reader for `controlUiModule({ hostInfo })`. Both run on
 * Node 20+ and on Deno; the core comes from the root entry point.
 *
 * @example Serve a gateway on a free loopback port and ask it for /health
 * ```ts
 * import { createGateway } from "@openclaw-ts/gateway";
 * import { nodeTransport } from "@openclaw-ts/gateway/node";
 *
 * const gateway = createGateway({
 *   transport: nodeTransport(),
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
export { nodeTransport } from "./lib/transports/node.ts";
export { readNodeHostInfo } from "./lib/methods/node-host-info.ts";
export { nodeUiRootFiles } from "./lib/ui/root-files.ts";
