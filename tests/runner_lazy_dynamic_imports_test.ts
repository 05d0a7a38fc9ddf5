// The runner loads a dynamic `import()` only when it runs, both from its sources (deno.json's `unstable`
// list) and as the bundle (BUNDLE_RUN_FLAGS): Deno's default reads every statically analyzable target with
// the entry's module graph, so an idle gateway kept the code of every command and feature it never ran
// (bench/idle_rss.ts). The probe is a program whose only dynamic import, never called, names a FIFO: read
// with the graph, the start blocks on it; loaded lazily, the program runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { BUNDLE_RUN_FLAGS } from "../runner/commands/ops/host.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const unix = Deno.build.os !== "windows";

/** Runs the probe with `flags`; whether it printed "ran" within the time (a start blocked on the FIFO does not). */
async function probeRuns(flags: string[]): Promise<boolean> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      'export function later() {\n  return import("./fifo.ts");\n}\nconsole.log("ran");\n',
    );
    const made = await new Deno.Command("mkfifo", { args: [join(dir, "fifo.ts")] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...flags, join(dir, "main.ts")],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const { stdout } = await child.output();
    clearTimeout(timer);
    return new TextDecoder().decode(stdout).includes("ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "from the sources (deno.json), a dynamic import is not read until it runs",
  ignore: !unix,
  async fn() {
    assert.ok(await probeRuns(["--config", CONFIG]));
  },
});

Deno.test({
  name: "the bundle's run flags (service, install-cli) load dynamic imports lazily too",
  ignore: !unix,
  async fn() {
    assert.ok(await probeRuns([...BUNDLE_RUN_FLAGS]));
    const config = JSON.parse(await Deno.readTextFile(CONFIG));
    assert.match(config.tasks["install-cli"], new RegExp(` ${BUNDLE_RUN_FLAGS.join(" ")} dist/main\\.js$`));
  },
});
