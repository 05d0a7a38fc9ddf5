import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureDevConfig } from "../runner/gateway/dev-profile.ts";
import { parseJson5 } from "../lib/config/json5.ts";
import { validateConfig } from "../lib/config/schema.ts";

async function devPaths() {
  const stateDir = await Deno.makeTempDir();
  return {
    profile: "dev",
    stateDir,
    configPath: join(stateDir, "openclaw.json"),
    logDir: join(stateDir, "logs"),
  };
}

Deno.test("--dev first run prefers a local model server that answers, keeping the built-in model", async () => {
  const paths = await devPaths();
  const setup = await ensureDevConfig(paths, {
    detect: () =>
      Promise.resolve({
        providerId: "ollama",
        config: {
          baseUrl: "http://127.0.0.1:11434/v1",
          api: "openai-completions",
          models: [{ id: "qwen3:8b" }],
        },
        defaultModel: "ollama/qwen3:8b",
      }),
  });
  assert.equal(setup.created, true);
  assert.equal(setup.detected?.providerId, "ollama");
  const config = parseJson5(await Deno.readTextFile(paths.configPath)) as {
    models: { providers: Record<string, { baseUrl: string }> };
    agents: { defaults: { model: { primary: string } } };
  };
  assert.equal(config.models.providers.ollama.baseUrl, "http://127.0.0.1:11434/v1");
  assert.equal(config.agents.defaults.model.primary, "ollama/qwen3:8b");
  assert.equal(validateConfig(config).ok, true);
  // A second start keeps the config as it is (no new token, no new probe).
  assert.deepEqual(await ensureDevConfig(paths, { detect: () => Promise.reject(new Error("not called")) }), {
    created: false,
  });
  await Deno.remove(paths.stateDir, { recursive: true });
});

Deno.test("--dev first run without a local model server uses the built-in model", async () => {
  const paths = await devPaths();
  const setup = await ensureDevConfig(paths, { detect: () => Promise.resolve(undefined) });
  assert.equal(setup.detected, undefined);
  const config = parseJson5(await Deno.readTextFile(paths.configPath)) as {
    models?: unknown;
    agents: { defaults: { model: { primary: string } } };
  };
  assert.equal(config.models, undefined);
  assert.equal(config.agents.defaults.model.primary, "local/scripted-1");
  await Deno.remove(paths.stateDir, { recursive: true });
});
