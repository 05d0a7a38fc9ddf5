import "./_record.ts";
/**
 * Protocol coverage against the reference, one run: starts this gateway (CLI runner) and the reference
 * OpenClaw gateway (npm `openclaw` on Node 24, bench/_targets.ts) from one config, runs one chat turn on
 * each, and prints markdown tables: methods and events each advertises, the methods the reference Control UI
 * calls that are unknown here, and for every read method both answer, the keys only one side sends (key
 * paths compared recursively; array items merged). Never asserts.
 *
 *   deno run -A bench/coverage.ts [--record tests/fixtures/reference-read-results.json]
 *
 * `--record` writes the reference's `hello-ok` and the read results tests/reference_shapes_test.ts checks.
 */
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { startFakeUpstream } from "../tests/_upstream.ts";
import { keyPaths } from "../tests/_key_paths.ts";
import { methodOfCall, REFERENCE_UI_CALLS } from "../tests/_reference_ui_calls.ts";
import { referenceBlocked, sharedConfig, startTarget, type Target } from "./_targets.ts";
import { printTable } from "./_workload.ts";

const { values } = parseArgs({ options: { record: { type: "string" } } });
const TOKEN = "bench-token-0123456789abcdef";
const SCOPES = ["operator.read", "operator.write", "operator.admin"];

/** A socket after `hello-ok`, with correlated requests. */
interface Session {
  hello: Record<string, unknown>;
  request(method: string, params: unknown, timeoutMs?: number): Promise<Answer>;
  close(): void;
}
type Answer = { ok: true; payload: unknown } | { ok: false; error: { code?: string; message?: string } };

function open(url: string): Promise<Session> {
  const ws = new WebSocket(url);
  const waiting = new Map<string, (answer: Answer) => void>();
  let next = 0;
  const request = (method: string, params: unknown, timeoutMs = 10_000) =>
    new Promise<Answer>((resolve) => {
      const id = `c${++next}`;
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve({ ok: false, error: { code: "TIMEOUT", message: `no answer in ${timeoutMs} ms` } });
      }, timeoutMs);
      waiting.set(id, (answer) => (clearTimeout(timer), resolve(answer)));
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error(`socket error on ${url}`));
    ws.onmessage = async (e) => {
      const frame = JSON.parse(e.data);
      if (frame.type === "event" && frame.event === "connect.challenge") {
        const hello = await request("connect", {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: "gateway-client", version: "coverage", platform: "linux", mode: "backend" },
          role: "operator",
          scopes: SCOPES,
          auth: { token: TOKEN },
        });
        if (!hello.ok) return reject(new Error(JSON.stringify(hello.error)));
        resolve({ hello: hello.payload as Record<string, unknown>, request, close: () => ws.close() });
        return;
      }
      if (frame.type !== "res" || frame.payload?.status === "accepted") return;
      const settle = waiting.get(frame.id);
      waiting.delete(frame.id);
      settle?.(frame.ok ? { ok: true, payload: frame.payload } : { ok: false, error: frame.error ?? {} });
    };
  });
}

/** The reference answers `UNAVAILABLE` (retryable) while its sidecars start: retry for up to a minute. */
async function openWhenReady(url: string): Promise<Session> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await open(url);
    } catch (error) {
      if (Date.now() > deadline || !String(error).includes('"retryable":true')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const require = createRequire(import.meta.url);
const schemaFile = require.resolve("@openclaw/gateway-protocol").replace(
  /dist\/index\.mjs$/,
  "protocol.schema.json",
);
const schemaMethods: Record<string, { scope?: string }> =
  JSON.parse(await Deno.readTextFile(schemaFile)).methods;

/** Params a read method is called with: what the reference UI sends, else a session or agent, else none. */
function paramsFor(method: string): Record<string, unknown> {
  const ui = Object.entries(REFERENCE_UI_CALLS).find(([key]) => methodOfCall(key) === method);
  if (ui) return ui[1];
  if (method === "chat.history") return { sessionKey: "agent:main:main" };
  return {};
}

/** One gateway's view: what it advertises and what each read method answered. */
interface Observed {
  hello: Record<string, unknown>;
  results: Record<string, Answer>;
}

async function observe(target: Target, readMethods: (advertised: string[]) => string[]): Promise<Observed> {
  const session = await openWhenReady(target.wsUrl);
  try {
    const sent = await session.request("chat.send", {
      sessionKey: "agent:main:main",
      message: "hello",
      idempotencyKey: `coverage-${target.kind}`,
    });
    if (sent.ok) {
      await session.request("agent.wait", { runId: `coverage-${target.kind}`, timeoutMs: 30_000 }, 35_000);
    }
    // Both report `eventLoop` only once a full sampling window (a second or more) has passed.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const features = session.hello.features as { methods: string[] };
    const results: Record<string, Answer> = {};
    for (const method of readMethods(features.methods)) {
      results[method] = await session.request(method, paramsFor(method));
    }
    return { hello: session.hello, results };
  } finally {
    session.close();
  }
}

const upstream = startFakeUpstream();
const blocked = referenceBlocked();
if (blocked) {
  console.error(`coverage needs the reference: ${blocked}`);
  Deno.exit(2);
}
const config = (port: number) => {
  const shared = sharedConfig(port, TOKEN, upstream.url) as { gateway: { http: { endpoints: object } } };
  shared.gateway.http.endpoints = { chatCompletions: { enabled: true }, responses: { enabled: true } };
  return shared;
};

// One at a time: the reference takes ~1 GB and most of the CPU while it starts.
const observed: Record<"ours" | "reference", Observed> = {} as never;
let oursMethods: string[] = [];
for (const kind of ["ours", "reference"] as const) {
  const target = await startTarget(kind, config);
  try {
    observed[kind] = await observe(target, (advertised) => {
      if (kind === "ours") oursMethods = advertised;
      const both = kind === "ours" ? advertised : advertised.filter((m) => oursMethods.includes(m));
      return both.filter((m) => schemaMethods[m]?.scope === "operator.read").sort();
    });
  } finally {
    await target.stop();
  }
}
await upstream.close();

const ours = observed.ours;
const reference = observed.reference;
const listOf = (o: Observed, key: "methods" | "events") =>
  (o.hello.features as Record<string, string[]>)[key] ?? [];

console.log("## Advertised in hello-ok\n");
printTable(
  ["", "ours", "reference", "both", "reference only"],
  (["methods", "events"] as const).map((key) => {
    const a = listOf(ours, key);
    const b = listOf(reference, key);
    return [
      key,
      a.length,
      b.length,
      a.filter((m) => b.includes(m)).length,
      b.filter((m) => !a.includes(m)).length,
    ];
  }),
);

const uiMethods = [...new Set(Object.keys(REFERENCE_UI_CALLS).map(methodOfCall))];
const unknownHere = uiMethods.filter((m) => !listOf(ours, "methods").includes(m));
console.log(
  `\n## Methods the reference Control UI calls (${uiMethods.length}) that are unknown here: ${unknownHere.length}\n`,
);
console.log(unknownHere.length ? unknownHere.map((m) => `- ${m}`).join("\n") : "(none)");

const shorten = (paths: string[]) =>
  paths.length > 6 ? `${paths.slice(0, 6).join(", ")}, … (${paths.length})` : paths.join(", ");
const answered = (a: Answer | undefined) => !a ? "—" : a.ok ? "ok" : (a.error.code ?? "error");
const rows: (string | number)[][] = [];
const compare = (name: string, a: unknown, b: unknown, status: string) => {
  const mine = keyPaths(a);
  const theirs = keyPaths(b);
  const onlyRef = [...theirs].filter((p) => !mine.has(p));
  const onlyOurs = [...mine].filter((p) => !theirs.has(p));
  rows.push([name, status, onlyRef.length ? shorten(onlyRef) : "", onlyOurs.length ? shorten(onlyOurs) : ""]);
};
compare(
  "hello-ok (features lists aside)",
  withoutLists(ours.hello),
  withoutLists(reference.hello),
  "ok / ok",
);
for (const method of Object.keys(reference.results)) {
  const a = ours.results[method];
  const b = reference.results[method];
  const status = `${answered(a)} / ${answered(b)}`;
  if (a?.ok && b.ok) compare(method, a.payload, b.payload, status);
  else rows.push([method, status, "", ""]);
}
console.log("\n## Read methods both advertise: key paths only one side sends (ours / reference answer)\n");
printTable(
  ["method", "answer", "only the reference sends", "only we send"],
  rows.map((r) => r.map((c) => String(c).replaceAll("|", "/"))),
);

function withoutLists(hello: Record<string, unknown>): Record<string, unknown> {
  const features = hello.features as Record<string, unknown>;
  return { ...hello, features: Object.fromEntries(Object.keys(features).map((k) => [k, []])) };
}

if (values.record) {
  await Deno.writeTextFile(values.record, JSON.stringify(recordable(reference), null, 1) + "\n");
  console.log(`\nrecorded the reference's answers in ${values.record}`);
}

/**
 * What tests/reference_shapes_test.ts compares with: `hello-ok` and the answers of the methods whose
 * shapes it checks (the others are large and unchecked), with the reference's temporary state directory
 * written as `<STATE_DIR>`, as the shared captures write it.
 */
function recordable(o: Observed): unknown {
  const methods = ["health", "status", "models.list", "config.get", "chat.history", "sessions.list"];
  const results = Object.fromEntries(
    methods.flatMap((m) => o.results[m]?.ok ? [[m, (o.results[m] as { payload: unknown }).payload]] : []),
  );
  const text = JSON.stringify({ hello: o.hello, results });
  return JSON.parse(text.replace(/\/tmp\/bench-reference-[A-Za-z0-9_]+\/state/g, "<STATE_DIR>"));
}
