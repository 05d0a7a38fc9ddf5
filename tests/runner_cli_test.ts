// CLI plumbing: global flags, command lookup, help, exit codes, one-line errors, profile paths.
import assert from "node:assert/strict";
import type { CliContext, RunnerCommand } from "../runner/command.ts";
import { intFlag, parseFlags } from "../runner/cli/args.ts";
import { defineCommand } from "../runner/cli/define-command.ts";
import { findCommand, parseGlobalFlags, runCli } from "../runner/cli/dispatch.ts";
import { CliError } from "../runner/cli/errors.ts";
import { resolveProfilePaths } from "../runner/cli/profile-paths.ts";

function harness(commands: RunnerCommand[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    run: (argv: string[]) =>
      runCli(argv, {
        output: { out: (t) => out.push(t), err: (t) => err.push(t) },
        env: { HOME: "/home/u", ...env },
        osHome: "/home/os",
        shutdownSignal: new AbortController().signal,
        commands,
        version: "9.9.9",
      }),
  };
}

const seen: { args?: string[]; context?: CliContext } = {};
const probe = defineCommand({
  path: ["gateway", "probe"],
  summary: "probe it",
  flags: { port: { type: "string", description: "port" }, json: { type: "boolean", description: "json" } },
  run({ flags, positionals }, context) {
    seen.args = positionals;
    seen.context = context;
    if (flags.port === "fail") throw new CliError("no gateway at that port", 3);
    return Promise.resolve(intFlag(flags, "port", 1, 65535) ?? 0);
  },
});
const gateway: RunnerCommand = { path: ["gateway"], summary: "run it", run: () => Promise.resolve(0) };

Deno.test("global flags are read only before the command", () => {
  const { globals, rest } = parseGlobalFlags(["--dev", "--log-level=debug", "gateway", "--dev"]);
  assert.equal(globals.dev, true);
  assert.equal(globals.logLevel, "debug");
  assert.deepEqual(rest, ["gateway", "--dev"]);
  assert.throws(() => parseGlobalFlags(["--dev", "--profile", "work"]), /conflict/);
  assert.throws(() => parseGlobalFlags(["--profile"]), /needs a value/);
});

Deno.test("the longest command path wins", () => {
  assert.deepEqual(findCommand([gateway, probe], ["gateway", "probe", "--port", "1"])?.args, ["--port", "1"]);
  assert.equal(findCommand([gateway, probe], ["gateway", "--port", "1"])?.command, gateway);
  assert.equal(findCommand([gateway, probe], ["status"]), undefined);
});

Deno.test("runCli dispatches with the profile's paths and returns the command's exit code", async () => {
  const h = harness([gateway, probe]);
  assert.equal(await h.run(["--profile", "work", "gateway", "probe", "--port", "7", "extra"]), 7);
  assert.deepEqual(seen.args, ["extra"]);
  assert.equal(seen.context?.paths.stateDir, "/home/u/.openclaw-work");
  assert.equal(seen.context?.paths.configPath, "/home/u/.openclaw-work/openclaw.json");
  assert.equal(seen.context?.dev, false);
});

Deno.test("usage errors exit 2 with one line naming the help command", async () => {
  const h = harness([gateway, probe]);
  assert.equal(await h.run(["gateway", "probe", "--nope"]), 2);
  assert.deepEqual(h.err, ['openclaw: unknown option "--nope". Try: openclaw gateway probe --help']);
  assert.equal(await h.run(["frobnicate"]), 2);
  assert.match(h.err[1], /unknown command "frobnicate"/);
  assert.equal(await h.run(["gateway", "probe", "--port", "70000"]), 2);
  assert.match(h.err[2], /--port must be a whole number from 1 to 65535/);
});

Deno.test("command failures keep their exit code; --json turns them into one JSON document", async () => {
  const h = harness([probe]);
  assert.equal(await h.run(["gateway", "probe", "--port", "fail"]), 3);
  assert.deepEqual(h.err, ["openclaw: no gateway at that port"]);
  assert.equal(await h.run(["gateway", "probe", "--port", "fail", "--json"]), 3);
  assert.deepEqual(JSON.parse(h.out[0]), {
    ok: false,
    error: { type: "cli_error", message: "no gateway at that port" },
  });
});

Deno.test("--help works at the root, on commands and on groups; --version prints the version", async () => {
  const h = harness([gateway, probe]);
  assert.equal(await h.run(["--help"]), 0);
  assert.match(h.out[0], /gateway probe\s+probe it/);
  assert.equal(await h.run(["gateway", "probe", "--help"]), 0);
  assert.match(h.out[1], /Usage: openclaw gateway probe/);
  assert.match(h.out[1], /--port <value>\s+port/);
  assert.equal(await h.run(["gateway", "--help"]), 0);
  assert.match(h.out[2], /Subcommands:\n\s+gateway probe/);
  assert.equal(await h.run(["-V"]), 0);
  assert.equal(h.out[3], "9.9.9");
  assert.equal(await h.run([]), 2);
});

Deno.test("parseFlags reports a missing value", () => {
  assert.throws(
    () => parseFlags(["--port"], { port: { type: "string", description: "" } }, "openclaw x"),
    /option "--port" needs a value\. Try: openclaw x --help/,
  );
});

Deno.test("profile paths: default, --dev, --profile, env overrides", () => {
  const env = { HOME: "/h" };
  const at = (dev: boolean, profile?: string, extra: Record<string, string> = {}) =>
    resolveProfilePaths({ dev, profile, env: { ...env, ...extra }, osHome: "/os" });
  assert.deepEqual(at(false), {
    profile: "default",
    stateDir: "/h/.openclaw",
    configPath: "/h/.openclaw/openclaw.json",
    logDir: "/h/.openclaw/logs",
  });
  assert.equal(at(true).stateDir, "/h/.openclaw-dev");
  assert.equal(at(true).profile, "dev");
  assert.equal(at(false, "work").configPath, "/h/.openclaw-work/openclaw.json");
  assert.equal(at(false, undefined, { OPENCLAW_PROFILE: "ci" }).stateDir, "/h/.openclaw-ci");
  assert.equal(at(false, undefined, { OPENCLAW_STATE_DIR: "/srv/oc" }).configPath, "/srv/oc/openclaw.json");
  assert.equal(at(false, undefined, { OPENCLAW_CONFIG_PATH: "~/cfg/a.json" }).configPath, "/h/cfg/a.json");
  assert.equal(at(false, undefined, { OPENCLAW_HOME: "/alt" }).stateDir, "/alt/.openclaw");
  // An explicit profile replaces a state dir inherited from another profile, but keeps a custom one.
  assert.equal(at(false, "work", { OPENCLAW_STATE_DIR: "/h/.openclaw" }).stateDir, "/h/.openclaw-work");
  assert.equal(at(false, "work", { OPENCLAW_STATE_DIR: "/srv/oc" }).stateDir, "/srv/oc");
  assert.throws(() => at(false, "../etc"), /invalid profile name/);
});
