// Config sources, layering precedence, reload planning and SecretRef resolution.
import assert from "node:assert/strict";
import { join } from "node:path";
import { diffConfigPaths, planReload, requiresRestart } from "../lib/config/reload-plan.ts";
import {
  envSecretResolver,
  findSecretRefs,
  resolveSecrets,
  secretRefProblem,
} from "../lib/config/secrets.ts";
import {
  envConfigSource,
  layeredConfigSource,
  loadConfig,
  objectConfigSource,
} from "../lib/config/source.ts";
import { execSecretResolver, fileSecretResolver } from "../runner/config/secret-providers.ts";
import { gatewayConfigSource } from "../runner/gateway/config-layers.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("port precedence: --port > OPENCLAW_GATEWAY_PORT > gateway.port > profile default", async () => {
  const root = await tempDir();
  const configPath = join(root, "openclaw.json");
  await Deno.writeTextFile(
    configPath,
    "{ gateway: { port: 3000, bind: 'lan', auth: { token: 'from-file' } } }",
  );
  const port = async (
    env: Record<string, string>,
    flags: { port?: number },
    profile = "default",
    path = configPath,
  ) => {
    const { source } = gatewayConfigSource({ configPath: path, profile, env, flags });
    return (await loadConfig(source)).config.gateway;
  };
  assert.equal((await port({ OPENCLAW_GATEWAY_PORT: "4000" }, { port: 5000 }))?.port, 5000);
  assert.equal((await port({ OPENCLAW_GATEWAY_PORT: "4000" }, {}))?.port, 4000);
  assert.equal((await port({}, {}))?.port, 3000);
  assert.equal((await port({}, {}, "dev", join(root, "none.json")))?.port, 19001);
  assert.equal((await port({}, {}, "default", join(root, "none.json")))?.port, undefined);
  // bind: flag beats the file; auth flags beat the file's credentials.
  const { source } = gatewayConfigSource({
    configPath,
    profile: "default",
    env: {},
    flags: { bind: "loopback", token: "cli" },
  });
  const gw = (await loadConfig(source)).config.gateway;
  assert.deepEqual([gw?.bind, gw?.auth?.token], ["loopback", "cli"]);
  // The file stays the primary layer: its path and hash describe the result.
  assert.equal((await source.load()).origin, configPath);
});

Deno.test("env source: a bad port is an error naming the variable; a bad log level is a warning", async () => {
  await assert.rejects(
    envConfigSource({ OPENCLAW_GATEWAY_PORT: "http" }).load(),
    /OPENCLAW_GATEWAY_PORT must be a port number/,
  );
  const snap = await envConfigSource({ OPENCLAW_LOG_LEVEL: "loud" }).load();
  assert.match(snap.warnings[0], /OPENCLAW_LOG_LEVEL="loud"/);
  const layered = layeredConfigSource([
    objectConfigSource({ logging: { level: "warn" } }),
    envConfigSource({ OPENCLAW_LOG_LEVEL: "debug" }),
  ]);
  assert.equal((await loadConfig(layered)).config.logging?.level, "debug");
});

Deno.test("reload plan: gateway.* restarts except reload/remote; the rest is hot; modes decide", () => {
  const before = {
    gateway: { port: 1, reload: { mode: "hybrid" } },
    agents: { a: 1 },
    logging: { level: "info" },
  };
  const hot = { ...before, logging: { level: "debug" } };
  const restart = { ...before, gateway: { ...before.gateway, port: 2 } };
  assert.deepEqual(diffConfigPaths(before, hot), ["logging.level"]);
  assert.equal(planReload(before, hot, "hybrid").action, "hot");
  assert.equal(planReload(before, restart, "hybrid").action, "restart");
  assert.equal(planReload(before, hot, "restart").action, "restart");
  assert.equal(planReload(before, hot, "off").action, "none");
  const deferred = planReload(before, restart, "hot");
  assert.deepEqual([deferred.action, deferred.deferredPaths], ["none", ["gateway.port"]]);
  assert.equal(planReload(before, structuredClone(before), "hybrid").action, "none");
  assert.equal(requiresRestart("gateway.reload.mode"), false);
  assert.equal(requiresRestart("gateway.remote.url"), false);
  assert.equal(requiresRestart("gateway.auth.token"), true);
  assert.equal(requiresRestart("plugins.load.paths"), true);
  assert.equal(requiresRestart("plugins.entries.x"), false);
  assert.equal(requiresRestart("secrets.egressProxy.enabled"), true);
});

Deno.test("SecretRef shape checks follow OpenClaw's grammar", () => {
  assert.equal(secretRefProblem({ source: "env", id: "OPENAI_API_KEY" }), undefined);
  assert.match(secretRefProblem({ source: "env", id: "lower" })!, /env id/);
  assert.match(secretRefProblem({ source: "file", id: "relative/path" })!, /JSON pointer/);
  assert.match(secretRefProblem({ source: "exec", id: "a/../b" })!, /segments/);
  assert.match(secretRefProblem({ source: "env", provider: "Bad", id: "X" })!, /provider/);
  assert.deepEqual(
    findSecretRefs({
      a: { source: "env", id: "X" },
      b: [{ source: "file", provider: "f", id: "/k" }],
      secrets: { providers: {} },
    })
      .map((r) => r.path),
    ["a", "b.0"],
  );
});

Deno.test("env, file and exec refs resolve into a copy of the config; failures go stale or cold", async () => {
  const root = await tempDir();
  await Deno.writeTextFile(
    join(root, "s.json"),
    JSON.stringify({ providers: { openai: { apiKey: "sk-file" } } }),
  );
  await Deno.writeTextFile(join(root, "single.txt"), "pw-single\n");
  const resolver = join(root, "vault.sh");
  await Deno.writeTextFile(
    resolver,
    `#!/bin/sh\ncat >/dev/null\nprintf '{"protocolVersion":1,"values":{"db/pass#v":"%s"}}' "$VAULT_VALUE"\n`,
  );
  await Deno.chmod(resolver, 0o755);
  const config = {
    gateway: { auth: { token: { source: "env", id: "GW_TOKEN" } } },
    models: {
      a: { apiKey: { source: "file", provider: "filemain", id: "/providers/openai/apiKey" } },
      b: { apiKey: { source: "file", provider: "single", id: "value" } },
      c: { apiKey: { source: "exec", provider: "vault", id: "db/pass#v" } },
    },
    secrets: {
      providers: {
        filemain: { source: "file", path: join(root, "s.json") },
        single: { source: "file", path: join(root, "single.txt"), mode: "singleValue" },
        vault: { source: "exec", command: resolver, passEnv: ["VAULT_VALUE"] },
      },
    },
  };
  const resolvers = (env: Record<string, string>) => ({
    env: envSecretResolver(env),
    file: fileSecretResolver(root),
    exec: execSecretResolver(env),
  });
  const first = await resolveSecrets(config, {
    resolvers: resolvers({ GW_TOKEN: "tok", VAULT_VALUE: "v1" }),
  });
  assert.deepEqual(first.failures, []);
  const out = first.config as typeof config & { models: Record<string, { apiKey: unknown }> };
  assert.equal((out.gateway.auth as Record<string, unknown>).token, "tok");
  assert.deepEqual([out.models.a.apiKey, out.models.b.apiKey, out.models.c.apiKey], [
    "sk-file",
    "pw-single",
    "v1",
  ]);
  assert.deepEqual(config.gateway.auth.token, { source: "env", id: "GW_TOKEN" }, "the input is not mutated");

  // The token var disappears: the unchanged ref keeps its last good value (stale); a new ref has none (cold).
  const changed = structuredClone(config) as Record<string, unknown> & typeof config;
  (changed.models as Record<string, unknown>).d = { apiKey: { source: "env", id: "NEW_KEY" } };
  const second = await resolveSecrets(changed, {
    resolvers: resolvers({ VAULT_VALUE: "v2" }),
    previous: first.values,
  });
  assert.deepEqual(second.failures.map((f) => [f.path, f.state]), [["gateway.auth.token", "stale"], [
    "models.d.apiKey",
    "cold",
  ]]);
  const out2 = second.config as {
    gateway: { auth: { token: string } };
    models: Record<string, { apiKey?: string }>;
  };
  assert.equal(out2.gateway.auth.token, "tok");
  assert.equal(out2.models.c.apiKey, "v2");
  assert.equal(out2.models.d.apiKey, undefined);
});
