// What a socket keeps for its lifetime: 10,000 sockets each keep it, so the handshake's objects (connect
// params, the upgrade request's headers and URL) go once hello-ok is sent, and a socket that never sends
// a request never gets an AbortController.
import assert from "node:assert/strict";
import { createLogger } from "../lib/log/logger.ts";
import type { CallerIdentity } from "../lib/methods/descriptor.ts";
import { Connection, type ConnectionHost } from "../lib/ws/connection.ts";
import { HandshakeDeadlines } from "../lib/ws/handshake-deadlines.ts";
import { connectParams } from "./_helpers.ts";

function harness() {
  const sent: string[] = [];
  const signals: AbortSignal[] = [];
  let ids = 0;
  const caller: CallerIdentity = {
    connId: "c-1",
    role: "operator",
    client: { id: "gateway-client", mode: "backend" },
    remoteAddress: "203.0.113.9",
    scopes: ["operator.read"],
    authMethod: "token",
  };
  const host: ConnectionHost = {
    logger: createLogger({ sinks: [] }),
    policy: { maxPayload: 1 << 20, maxBufferedBytes: 1 << 20, handshakeTimeoutMs: 60_000 },
    secrets: { redactJson: (text) => text, redactText: (text) => text },
    handshakeDeadlines: new HandshakeDeadlines(60_000),
    now: () => 1,
    newId: () => `id-${++ids}`,
    authenticate: (params, connection) => {
      // The handshake still sees everything it needs.
      assert.equal(connection.info?.headers.get("user-agent"), "test");
      assert.deepEqual(connection.connectParams, params);
      return Promise.resolve(caller);
    },
    hello: () => Promise.resolve({ type: "hello-ok" }),
    dispatch: (_connection, _id, _method, _params, signal) => {
      signals.push(signal);
      return Promise.resolve({});
    },
    authenticated: () => {},
    closed: () => {},
  };
  const wire = {
    send: (text: string) => void sent.push(text),
    close: () => {},
    bufferedAmount: () => 0,
  };
  const info = {
    remoteAddress: "203.0.113.9",
    headers: new Headers({ "user-agent": "test" }),
    url: "ws://x/",
  };
  return { connection: new Connection(host, wire, info), sent, signals, caller };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
};

Deno.test("connection: after hello-ok it keeps the caps, the peer address and the caller, not the handshake", async () => {
  const { connection, sent, signals, caller } = harness();
  const params = connectParams({ caps: ["approvals"] });
  connection.message(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
  await until(() => connection.ready && sent.length === 2);
  assert.ok(JSON.parse(sent[1]).ok, sent[1]);
  assert.equal(connection.connectParams, undefined);
  assert.equal(connection.info, undefined);
  assert.deepEqual(connection.caps, ["approvals"]);
  assert.equal(connection.remoteAddress, "203.0.113.9");
  // The same caller, key for key and in the same order (its own copy, sharing a hidden class).
  assert.deepEqual(Object.entries(connection.caller!), Object.entries(caller));
  // Requests still get a signal, aborted when the socket closes.
  connection.message(JSON.stringify({ type: "req", id: "r", method: "health" }));
  await until(() => sent.length === 3);
  assert.equal(signals.length, 1);
  assert.equal(signals[0].aborted, false);
  connection.closed(1000, "bye");
  assert.equal(signals[0].aborted, true);
});

Deno.test("handshake deadlines: pending sockets expire in order on one timer; none pending, no timer", async () => {
  const deadlines = new HandshakeDeadlines(30);
  const expired: string[] = [];
  const socket = (name: string) => ({ handshakeExpired: () => void expired.push(name) });
  deadlines.add(socket("a"));
  await new Promise((r) => setTimeout(r, 10));
  deadlines.add(socket("b"));
  deadlines.add(socket("c"));
  await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(expired, ["a"]);
  await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(expired, ["a", "b", "c"]);
  for (let i = 0; i < 3; i++) deadlines.settled();
  // Settled before their deadline: no timer is left behind (the test's op sanitizer checks).
  deadlines.add(socket("d"));
  deadlines.add(socket("e"));
  deadlines.settled();
  deadlines.settled();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(expired, ["a", "b", "c"]);
});
