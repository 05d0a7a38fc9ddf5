// health and status summarize sessions from a list sorted and grouped once per read, not on every call.
import assert from "node:assert/strict";
import { AgentCatalog } from "../lib/agents/catalog.ts";
import { agentsHealth, byRecency, statusSessions } from "../lib/agents/health.ts";
import type { SessionEntry } from "../lib/state/sessions.ts";

const entry = (agentId: string, n: number) =>
  ({ key: `agent:${agentId}:s${n}`, agentId, sessionId: `id${n}`, updatedAt: 1000 + n }) as SessionEntry;

const agents = { entries: { main: {}, ops: {} } };

Deno.test("byRecency: newest first, in all and per agent", () => {
  const sessions = byRecency([entry("main", 1), entry("ops", 5), entry("main", 9), entry("main", 3)]);
  assert.deepEqual(sessions.all.map((s) => s.updatedAt), [1009, 1005, 1003, 1001]);
  assert.deepEqual(sessions.byAgent.get("main")!.map((s) => s.updatedAt), [1009, 1003, 1001]);
  assert.deepEqual(sessions.byAgent.get("ops")!.map((s) => s.updatedAt), [1005]);
});

Deno.test("a health or status call over the grouped list sorts nothing", () => {
  const catalog = new AgentCatalog(agents);
  const sessions = byRecency(Array.from({ length: 40 }, (_, i) => entry(i % 3 ? "main" : "ops", i)));
  const sort = Array.prototype.sort;
  let sorts = 0;
  Array.prototype.sort = function (this: unknown[], ...args) {
    sorts++;
    return sort.apply(this, args);
  } as typeof sort;
  try {
    const health = agentsHealth({}, catalog, sessions, 2000);
    const status = statusSessions(catalog, sessions, 2000);
    assert.equal(sorts, 0);
    assert.deepEqual(
      health.sessions.recent.map((r) => r.key),
      [38, 37, 35, 34, 32].map((n) => `agent:main:s${n}`),
    );
    assert.equal(health.sessions.count, 26);
    assert.equal(health.agents[1].sessions.recent[0].key, "agent:ops:s39");
    assert.equal(status.count, 40);
    assert.equal(status.recent[0].key, "agent:ops:s39");
    assert.equal(status.byAgent[1].count, 14);
  } finally {
    Array.prototype.sort = sort;
  }
});
