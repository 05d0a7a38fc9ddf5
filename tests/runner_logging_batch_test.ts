// Access-log records come one per request; the runner's sinks write a burst of them at once (one console
// write, one file write) while every other record still goes out at once and in order.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createRunnerLogging } from "../runner/gateway/logging.ts";
import { tempHome } from "./_runner_process.ts";

Deno.test("runner logging: a burst of access records is one console write; other records keep their order", async () => {
  await using home = await tempHome();
  const writes: string[] = [];
  const logging = createRunnerLogging({}, {
    paths: {
      profile: "default",
      stateDir: home.state,
      configPath: join(home.state, "openclaw.json"),
      logDir: join(home.state, "logs"),
    },
    home: home.home,
    verbose: false,
    isTerminal: false,
    noColor: true,
    writeLine: (line) => writes.push(line),
  });
  const record = (subsystem: string, msg: string, level: "info" | "warn" = "info") => ({
    time: new Date().toISOString(),
    level,
    subsystem,
    msg,
  });
  for (let i = 0; i < 100; i++) logging.sink.write(record("access", `http request ${i}`));
  assert.equal(writes.length, 0, "access records wait for the end of the burst");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(writes.length, 1, "one write for the whole burst");
  assert.equal(writes[0].split("\n").length, 100);

  logging.sink.write(record("access", "http request 100"));
  logging.sink.write(record("gateway", "something worth a warning", "warn"));
  assert.equal(writes.length, 3, "a non-access record writes the gathered ones first, then itself");
  assert.match(writes[1], /http request 100/);
  assert.match(writes[2], /something worth a warning/);

  logging.sink.write(record("access", "http request 101"));
  logging.close();
  const file = await Deno.readTextFile(logging.file.path);
  const lines = file.trim().split("\n").map((l) => JSON.parse(l).msg);
  assert.equal(lines.length, 103, "closing writes what was still gathered");
  assert.deepEqual(lines.slice(-3), ["http request 100", "something worth a warning", "http request 101"]);
});
