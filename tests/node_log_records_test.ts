// A log record is kept by the memory sink behind `logs.tail` (the last 2,000): under Node 20, records of
// one call site must share one hidden class, as they do under Deno, rather than each holding its own.
import assert from "node:assert/strict";

Deno.test("logger under Node: records from one call site share one hidden class, fields in order", async () => {
  const script = new URL("./_node_log_shapes.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command("node", {
    args: ["--allow-natives-syntax", "--import", "tsx", script],
    cwd: new URL("..", import.meta.url).pathname,
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const result = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(result.root, true);
  assert.equal(result.child, true);
  assert.deepEqual(Object.keys(result.last), [
    "replica",
    "connId",
    "code",
    "time",
    "level",
    "subsystem",
    "msg",
  ]);
  assert.equal(result.last.subsystem, "ws");
});
