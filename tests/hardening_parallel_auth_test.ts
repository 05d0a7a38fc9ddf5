// Parallel credential guesses from one address: the lockout must hold as it does for guesses sent one
// after another, whatever the store's latency (the stores are async, so a check and the failure it
// leads to are no longer one synchronous step).
import assert from "node:assert/strict";
import { createGateway, hooksModule, memoryStores, type RateLimitStore } from "../mod.ts";
import { metricsModule } from "../lib/metrics/mod.ts";
import { connect, connectParams, TOKEN } from "./_helpers.ts";

const ATTACKER = { remoteAddress: "203.0.113.9" };

/** The in-process rate limit store, answering after `ms` as a network store would. */
function slowRateLimits(ms: number): RateLimitStore {
  const base = memoryStores().rateLimits;
  const later = <T>(run: () => Promise<T>) =>
    new Promise<void>((resolve) => setTimeout(resolve, ms)).then(run);
  return {
    hit: (key, policy) => later(() => base.hit(key, policy)),
    peek: (key, policy) => later(() => base.peek(key, policy)),
    reset: (key) => later(() => base.reset(key)),
  };
}

for (const latencyMs of [0, 15]) {
  Deno.test(`parallel wrong tokens over WS (store latency ${latencyMs} ms): two compared, the rest locked out`, async () => {
    const gateway = createGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN, rateLimit: { maxAttempts: 2 } } } },
      stores: latencyMs ? { rateLimits: slowRateLimits(latencyMs) } : {},
    });
    await gateway.start();
    try {
      const results = await Promise.all(
        Array.from(
          { length: 10 },
          () => connect(gateway, connectParams({ auth: { token: "guess" } }), ATTACKER),
        ),
      );
      const codes = results.map((r) => (r.response.error as { details?: { code?: string } }).details?.code);
      for (const r of results) r.socket.close();
      assert.equal(codes.filter((c) => c === "AUTH_TOKEN_MISMATCH").length, 2, JSON.stringify(codes));
      assert.equal(codes.filter((c) => c === "AUTH_RATE_LIMITED").length, 8, JSON.stringify(codes));
    } finally {
      await gateway.stop();
    }
  });
}

Deno.test("parallel wrong bearers over HTTP: two 401s, then 429 for the rest", async () => {
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN, rateLimit: { maxAttempts: 2 } } } },
    stores: { rateLimits: slowRateLimits(10) },
    modules: [metricsModule()],
  });
  await gateway.start();
  try {
    const statuses = await Promise.all(Array.from({ length: 10 }, async () => {
      const response = await gateway.fetch(
        new Request("http://gateway/api/diagnostics/prometheus", {
          headers: { authorization: "Bearer guess" },
        }),
        ATTACKER,
      );
      await response.body?.cancel();
      return response.status;
    }));
    assert.deepEqual(statuses.toSorted(), [401, 401, 429, 429, 429, 429, 429, 429, 429, 429]);
  } finally {
    await gateway.stop();
  }
});

Deno.test("parallel wrong hook tokens: twenty compared, then 429", async () => {
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      hooks: { enabled: true, token: "hook-secret-0123456789" },
    },
    stores: { rateLimits: slowRateLimits(5) },
    modules: [hooksModule()],
  });
  await gateway.start();
  try {
    const statuses = await Promise.all(Array.from({ length: 30 }, async () => {
      const response = await gateway.fetch(
        new Request("http://gateway/hooks/wake", {
          method: "POST",
          headers: { authorization: "Bearer guess", "content-type": "application/json" },
          body: JSON.stringify({ text: "hi" }),
        }),
        ATTACKER,
      );
      await response.body?.cancel();
      return response.status;
    }));
    assert.equal(statuses.filter((s) => s === 401).length, 20, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 10, JSON.stringify(statuses));
  } finally {
    await gateway.stop();
  }
});
