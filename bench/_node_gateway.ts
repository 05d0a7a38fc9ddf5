// The gateway on the Node transport, run under Node (`node --import tsx bench/_node_gateway.ts <token>`)
// for bench/cluster.ts's socket rows: in-process stores and the metrics module (whose fan-out figure the
// bench reads), as a CLI-run gateway has them. Prints its port.
import { createGateway, metricsModule } from "../mod.ts";
import { nodeTransport } from "../node.ts";

const gateway = createGateway({
  transport: nodeTransport(),
  hostname: "127.0.0.1",
  port: 0,
  config: { gateway: { auth: { token: process.argv[2] } }, logging: { level: "warn" } },
  modules: [metricsModule()],
});
console.log((await gateway.start())!.port);
