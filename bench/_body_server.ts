// A gateway with every body-taking route on (webhook channel, hooks, /v1/*, /tools/invoke) for
// body_flood.ts. Takes the repository root to load (so an older checkout can be measured too) and
// prints `PORT <n>` once it listens.
const root = Deno.args[0]
  ? new URL(`file://${Deno.args[0].replace(/\/?$/, "/")}`)
  : new URL("../", import.meta.url);
const m = await import(new URL("mod.ts", root).href);
// Older checkouts export the transports from mod.ts; newer ones from their own entry points.
const transports = m.denoTransport ? m : {
  denoTransport: (await import(new URL("deno.ts", root).href)).denoTransport,
  nodeTransport: (await import(new URL("node.ts", root).href)).nodeTransport,
};
const agents = m.agentsModule();
const channels = m.channelsModule({ agents });
const gateway = m.createGateway({
  config: {
    gateway: {
      auth: { mode: "token", token: "bench-token" },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    channels: { webhook: { secret: "bench-secret", outboundUrl: "http://127.0.0.1:9/" } },
    hooks: { enabled: true, token: "bench-hook-token" },
  },
  transport: Deno.env.get("BENCH_TRANSPORT") === "node"
    ? transports.nodeTransport()
    : transports.denoTransport(),
  hostname: "127.0.0.1",
  port: 0,
  modules: [
    agents,
    channels,
    m.hooksModule({ agents, channels }),
    m.toolsModule({ agents }),
    m.openAiHttpModule({ agents }),
  ],
});
const { port } = await gateway.start();
console.log(`PORT ${port}`);
