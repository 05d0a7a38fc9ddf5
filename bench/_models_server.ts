// One target of bench/http_models_wrk.ts, alone in its process: the gateway with its OpenAI-compatible
// routes from the tree at <root> (this repository, or an older commit checked out elsewhere, so the two
// run the same script), or a bare Deno.serve floor answering <root>'s /v1/models bytes behind the same
// bearer check. Prints `PORT <n>` once listening.
//
//   deno run -A bench/_models_server.ts <root> <hardened|native|floor|floor-headers> <token>
const [root, kind, token] = Deno.args;
const from = (path: string) => import(new URL(path, `file://${root}/`).href);

async function gateway(engine: "hardened" | "native") {
  const lib = await from("mod.ts");
  const agents = await from("lib/agents/mod.ts");
  // Older trees kept the OpenAI module and the Deno transport elsewhere.
  const { openAiHttpModule } = agents.openAiHttpModule
    ? agents
    : await from("lib/http/openai/openai-module.ts");
  const { denoTransport } = lib.denoTransport ? lib : await from("deno.ts");
  const agentsModule = agents.agentsModule();
  const instance = lib.createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    },
    transport: denoTransport({ engine }),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agentsModule, openAiHttpModule({ agents: agentsModule })],
  });
  return (await instance.start()).port as number;
}

/** The gateway's own answer and (with `withHeaders`) its response headers, served by a bare Deno.serve. */
async function floor(withHeaders: boolean) {
  const port = await gateway("native");
  const response = await fetch(`http://127.0.0.1:${port}/v1/models`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await response.text();
  const headers: [string, string][] = [["content-type", "application/json; charset=utf-8"]];
  if (withHeaders) {
    response.headers.forEach((value, name) => {
      if (!["content-length", "date", "content-type"].includes(name)) headers.push([name, value]);
    });
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.headers.get("authorization") !== `Bearer ${token}`) {
      return Response.json({ error: { message: "Unauthorized", type: "unauthorized" } }, { status: 401 });
    }
    return new Response(body, { headers });
  });
  return server.addr.port;
}

const port = kind === "floor" || kind === "floor-headers"
  ? await floor(kind === "floor-headers")
  : await gateway(kind as "hardened" | "native");
console.log(`PORT ${port}`);
