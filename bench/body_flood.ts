// Chunked body floods against every body-taking route of a gateway in a child process: how many bytes
// the server let the client send before answering, and how far the child's peak RSS (VmHWM) grew.
//
//   deno run -A bench/body_flood.ts [MiB per flood, default 400] [repository root to measure, default this one]
import "./_record.ts";
import { signWebhookBody } from "../lib/channels/mod.ts";

const MiB = 1024 * 1024;
const total = Number(Deno.args[0] ?? 400) * MiB;
const root = Deno.args[1];
const encoder = new TextEncoder();

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_body_server.ts", import.meta.url).pathname, ...(root ? [root] : [])],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let out = "";
while (!/PORT (\d+)/.test(out)) out += (await reader.read()).value ?? "";
const port = Number(/PORT (\d+)/.exec(out)![1]);

function peakRssMiB(): number {
  const status = Deno.readTextFileSync(`/proc/${server.pid}/status`);
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    return true;
  } catch {
    return false;
  }
}

async function flood(path: string, headers: Record<string, string>) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let done = false;
  const answered = (async () => {
    const buf = new Uint8Array(16 * 1024);
    let text = "";
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (/\r\n\r\n/.test(text)) break;
    }
    done = true;
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  })();
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Transfer-Encoding: chunked\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  await writeAll(conn, encoder.encode(head));
  const data = new Uint8Array(256 * 1024).fill(0x61);
  const frame = new Uint8Array([
    ...encoder.encode(`${data.length.toString(16)}\r\n`),
    ...data,
    ...encoder.encode("\r\n"),
  ]);
  let sent = 0;
  const started = performance.now();
  while (!done && sent < total) {
    if (!await Promise.race([writeAll(conn, frame), answered.then(() => false)])) break;
    sent += data.length;
  }
  if (!done) await writeAll(conn, encoder.encode("0\r\n\r\n"));
  const status = await answered;
  conn.close();
  return { status, sentMiB: sent / MiB, ms: performance.now() - started };
}

const ts = Date.now();
const cases: [string, string, Record<string, string>][] = [
  ["webhook channel, unsigned", "/channels/webhook/inbound", {}],
  ["webhook channel, signed headers", "/channels/webhook/inbound", {
    "x-openclaw-signature": await signWebhookBody("bench-secret", ts, "{}"),
    "x-openclaw-timestamp": String(ts),
  }],
  ["hooks, no token", "/hooks/agent", {}],
  ["hooks, hook token", "/hooks/agent", { Authorization: "Bearer bench-hook-token" }],
  ["/v1/chat/completions, token", "/v1/chat/completions", { Authorization: "Bearer bench-token" }],
  ["/tools/invoke, token", "/tools/invoke", { Authorization: "Bearer bench-token" }],
];
console.log(`\n${root ?? "this checkout"}: ${total / MiB} MiB chunked floods, one after another\n`);
console.log("| route | status | MiB the server let in | ms | child peak RSS after (MiB) |");
console.log("| --- | --- | --- | --- | --- |");
console.log(`| (idle) | | | | ${peakRssMiB().toFixed(0)} |`);
for (const [label, path, headers] of cases) {
  const r = await flood(path, headers);
  console.log(
    `| ${label} | ${r.status} | ${r.sentMiB.toFixed(1)} | ${r.ms.toFixed(0)} | ${peakRssMiB().toFixed(0)} |`,
  );
}
server.kill("SIGTERM");
await server.status;
