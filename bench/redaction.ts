/**
 * What value-based redaction adds per outgoing frame, HTTP body and log record: the check against the
 * secret set on text that holds no secret (the usual case), and the structural rewrite when one does.
 *
 *   deno run -A bench/redaction.ts [--secrets 6] [--iterations 200000]
 */
import "./_record.ts";
import { parseArgs } from "node:util";
import { SecretRedactor } from "../lib/log/secret-redactor.ts";

const { values } = parseArgs({
  options: { secrets: { type: "string", default: "6" }, iterations: { type: "string", default: "200000" } },
});
const COUNT = Number(values.secrets);
const ITERATIONS = Number(values.iterations);
const secretList = Array.from({ length: COUNT }, (_, i) => `sk-secret-${i}-${crypto.randomUUID()}`);
const redactor = new SecretRedactor(secretList);

const health = JSON.stringify({
  type: "res",
  id: "r-1",
  ok: true,
  payload: {
    ok: true,
    ts: Date.now(),
    durationMs: 0,
    configReload: { hotReloadStatus: "active" },
    channels: {},
    channelOrder: [],
    channelLabels: {},
    agents: [{ id: "main", model: "local/scripted-1" }],
  },
});
const delta = JSON.stringify({
  type: "event",
  event: "chat",
  payload: { runId: crypto.randomUUID(), state: "delta", deltaText: "lorem ipsum ".repeat(8) },
  seq: 42,
});
const leaking = JSON.stringify({
  type: "event",
  event: "chat",
  payload: { state: "error", errorMessage: `upstream 401: bad key ${secretList[0]}` },
});
const record = {
  time: new Date().toISOString(),
  level: "info",
  subsystem: "ws",
  msg: "client connected",
  connId: crypto.randomUUID(),
  client: "openclaw-control-ui",
};

function measure(name: string, run: () => unknown): string[] {
  for (let i = 0; i < 10_000; i++) run();
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) run();
  const ns = ((performance.now() - started) * 1e6) / ITERATIONS;
  return [name, ns.toFixed(0)];
}

const rows = [
  measure(`health res frame (${health.length} B), no secret`, () => redactor.redactJson(health)),
  measure(`chat delta frame (${delta.length} B), no secret`, () => redactor.redactJson(delta)),
  measure(`chat error frame (${leaking.length} B), one secret`, () => redactor.redactJson(leaking)),
  measure("log record, no secret", () => redactor.redact(record)),
  measure("JSON.stringify of the health payload (for scale)", () => JSON.stringify(JSON.parse(health))),
];
console.log(`| ${COUNT} secrets | ns per call |\n| --- | ---: |`);
for (const [name, ns] of rows) console.log(`| ${name} | ${ns} |`);
