// A gateway in its own process, for tests that measure the process (descriptors under `ulimit -n`,
// peak RSS). Usage: deno run -A tests/_hardening_child.ts <deno|node>; prints `PORT <n>` once listening.
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";
import { TOKEN } from "./_helpers.ts";

const gateway = createGateway({
  transport: Deno.args[0] === "node" ? nodeTransport() : denoTransport(),
  port: 0,
  hostname: "127.0.0.1",
  config: { gateway: { auth: { mode: "token", token: TOKEN } } },
  logLevel: "warn",
  logSinks: [{ write: (record) => console.log(JSON.stringify(record)) }],
});
const address = await gateway.start();
console.log(`PORT ${address!.port}`);
Deno.addSignalListener("SIGTERM", () => gateway.stop().then(() => Deno.exit(0)));
