// The lazy command catalog behind runner/main.ts (the CLI's one command list): each command's words must
// load the module that really serves it, and a run imports only that module; the runner process still
// answers --version, help and unknown words.
import assert from "node:assert/strict";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { CommandCatalog } from "../runner/cli/lazy-commands.ts";
import type { RunnerCommand } from "../runner/command.ts";
import { runnerEnv, runRunner } from "./_runner_process.ts";

const key = (c: RunnerCommand) => c.path.join(" ");

Deno.test("catalog: every command routes to the module that serves it", async () => {
  const catalog = commandCatalog({ isTerminal: false });
  const all = await catalog.all();
  assert.equal(new Set(all.map(key)).size, all.length, "no command path is served twice");
  for (const command of all) {
    const routed = await catalog.commandsFor(command.path, false);
    assert.ok(routed.some((c) => key(c) === key(command)), `${key(command)} routes to its module`);
  }
});

Deno.test("catalog: loads only the module owning the longest matching path; help loads all", async () => {
  const loads: string[] = [];
  const command = (path: string[]): RunnerCommand => ({ path, summary: "", run: () => Promise.resolve(0) });
  const module = (name: string, paths: string[][]) => ({
    paths,
    load: () => {
      loads.push(name);
      return Promise.resolve(paths.map(command));
    },
  });
  const catalog = new CommandCatalog([
    module("run", [["gateway"], ["gateway", "run"]]),
    module("status", [["gateway", "status"]]),
    module("doctor", [["doctor"]]),
  ]);
  assert.deepEqual((await catalog.commandsFor(["gateway", "status", "--json"], false)).map(key), [
    "gateway status",
  ]);
  assert.deepEqual(loads, ["status"]);
  await catalog.commandsFor(["gateway", "--port", "1"], false);
  assert.deepEqual(loads, ["status", "run"]);
  await catalog.commandsFor(["gateway", "status"], false);
  assert.deepEqual(loads, ["status", "run"], "a module loads once");
  assert.equal((await catalog.commandsFor(["gateway"], true)).length, 4);
  assert.equal((await catalog.commandsFor(["nope"], false)).length, 4);
  assert.deepEqual(loads, ["status", "run", "doctor"]);
});

Deno.test("runner process: --version, help and unknown commands still answer", async () => {
  const home = await Deno.makeTempDir();
  try {
    const version = await runRunner(["--version"], runnerEnv(home));
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const help = await runRunner(["--help"], runnerEnv(home));
    assert.equal(help.code, 0);
    for (const path of ["gateway status", "config get", "doctor", "logs"]) {
      assert.match(help.stdout, new RegExp(path));
    }
    const group = await runRunner(["gateway", "--help"], runnerEnv(home));
    assert.match(group.stdout, /gateway install/);
    const unknown = await runRunner(["frobnicate"], runnerEnv(home));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
