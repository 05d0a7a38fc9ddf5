// Two parts of lib/gateway/ on their own, without sockets: who an event reaches, and how stop() drains.
import assert from "node:assert/strict";
import { z } from "zod";
import { SocketTopics } from "../lib/bus/topics.ts";
import { fanOut, type FanOutTarget } from "../lib/gateway/fan-out.ts";
import { createDispatcher } from "../lib/gateway/dispatch.ts";
import type { GatewayState } from "../lib/gateway/core.ts";
import { SecretRedactor } from "../lib/log/secret-redactor.ts";
import { MethodRegistry } from "../lib/methods/registry.ts";
import { DEFAULT_OPERATOR_SCOPES } from "../lib/protocol/scopes.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { defineMethod, GatewayError } from "../mod.ts";

type Sent = [connId: string, event: string, versions: unknown, dropIfSlow: unknown];

function target(connId: string, ready: boolean, scopes: string[], sent: Sent[]): FanOutTarget {
  return {
    connId,
    ready,
    caller: { connId, role: "operator", scopes, authMethod: "token" },
    sendEvent: (event, _payload, versions, dropIfSlow) =>
      void sent.push([connId, event, versions, dropIfSlow]),
  };
}

Deno.test("fan-out: ready, addressed, in-scope connections only; presence/health carry the versions at publish", () => {
  const sent: Sent[] = [];
  const stateVersion = { presence: 3, health: 7 };
  const topics = new SocketTopics();
  topics.add("reader", "session:main");
  const deliver = fanOut(
    [
      target("reader", true, ["operator.read"], sent),
      target("writer", true, ["operator.write"], sent),
      target("pending", false, ["operator.read"], sent),
    ],
    {
      stateVersion,
      noteVersions: (seen) => {
        stateVersion.presence = Math.max(stateVersion.presence, seen.presence ?? 0);
        stateVersion.health = Math.max(stateVersion.health, seen.health ?? 0);
        return stateVersion;
      },
      secrets: new SecretRedactor(),
    },
    topics,
  );

  deliver({ event: "presence", payload: {} });
  stateVersion.presence = 4; // later bumps must not leak into what was already sent
  deliver({ event: "config.changed", payload: {}, scope: "operator.read" });
  deliver({ event: "chat", payload: {}, connIds: ["writer"] });
  deliver({ event: "session.message", payload: {}, topics: ["session:main"], scope: "operator.read" });
  deliver({ event: "session.message", payload: {}, topics: ["session:other"] });
  deliver({ event: "tick", payload: {}, dropIfSlow: true });
  // Another replica's change carries its versions; they are newer than ours, so they are what is sent.
  deliver({ event: "health", payload: {}, stateVersion: { health: 9 } });

  const presenceVersions = { presence: 3, health: 7 };
  assert.deepEqual(sent, [
    ["reader", "presence", presenceVersions, undefined],
    ["writer", "presence", presenceVersions, undefined],
    ["reader", "config.changed", undefined, undefined],
    // operator.write implies operator.read.
    ["writer", "config.changed", undefined, undefined],
    ["writer", "chat", undefined, undefined],
    // Topic events reach subscribers only; a topic nobody here holds reaches no one.
    ["reader", "session.message", undefined, undefined],
    ["reader", "tick", undefined, true],
    ["writer", "tick", undefined, true],
    ["reader", "health", { presence: 4, health: 9 }, undefined],
    ["writer", "health", { presence: 4, health: 9 }, undefined],
  ]);
});

Deno.test("dispatch: drain waits for in-flight calls (bounded by its timeout); a stopping gateway refuses new ones", async () => {
  const registry = new MethodRegistry();
  let finish!: () => void;
  registry.register(defineMethod({
    name: "slow",
    scope: "operator.read",
    params: z.strictObject({}),
    handler: () => new Promise<string>((r) => (finish = () => r("done"))),
  }));
  registry.register(defineMethod({
    name: "hang",
    scope: "operator.read",
    params: z.strictObject({}),
    handler: () => new Promise(() => {}),
  }));
  const state = { phase: "running" } as GatewayState;
  const { dispatch, drain } = createDispatcher({
    state,
    registry,
    stores: memoryStores(),
  });
  const caller = {
    connId: "c",
    role: "operator" as const,
    scopes: DEFAULT_OPERATOR_SCOPES,
    authMethod: "token",
  };
  const io = { ack() {}, sendEvent() {} };
  const call = (method: string) => dispatch(caller, "1", method, {}, new AbortController().signal, io);

  assert.equal(
    await Promise.race([drain(10_000), "idle"]),
    undefined,
    "nothing in flight: drain is immediate",
  );

  const order: string[] = [];
  const slow = call("slow").then((v) => void order.push(`call ${v}`));
  state.phase = "stopping";
  const drained = drain(10_000).then(() => void order.push("drained"));
  await assert.rejects(
    call("slow"),
    (e) => e instanceof GatewayError && e.code === "UNAVAILABLE" && e.retryable,
  );
  finish();
  await Promise.all([slow, drained]);
  // The last call's answer goes out before drain lets stop() close the sockets.
  assert.deepEqual(order, ["call done", "drained"]);

  state.phase = "running";
  void call("hang");
  const started = performance.now();
  await drain(50);
  assert.ok(performance.now() - started >= 45, "a call that never finishes holds drain only for its timeout");
});
