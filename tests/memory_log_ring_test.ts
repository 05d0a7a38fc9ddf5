// The in-memory log (the `logs.tail` buffer when no file is configured) keeps its records in a ring so an
// access line costs no array shift. These pin what the ring must keep: the last `capacity` records in
// write order, the count of dropped ones, and `logs.tail` cursors that run across the wrap.
import assert from "node:assert/strict";
import { type LogRecord, MemoryLogSink } from "../lib/log/logger.ts";
import { MemoryLogTail } from "../lib/log/tail.ts";

const record = (n: number): LogRecord => ({
  time: "t",
  level: "info",
  subsystem: "access",
  msg: `line ${n}`,
});

Deno.test("the ring keeps the newest records oldest first and counts what fell off, at every fill level", () => {
  const sink = new MemoryLogSink(3);
  const seen: string[] = [];
  for (let n = 0; n < 8; n++) {
    sink.write(record(n));
    seen.push(`line ${n}`);
    assert.deepEqual(sink.records.map((r) => r.msg), seen.slice(-3));
    assert.equal(sink.dropped, Math.max(0, seen.length - 3));
  }
});

Deno.test("a ring of capacity 0 keeps nothing and counts every record as dropped", () => {
  const sink = new MemoryLogSink(0);
  sink.write(record(1));
  sink.write(record(2));
  assert.deepEqual(sink.records, []);
  assert.equal(sink.dropped, 2);
});

Deno.test("logs.tail over the ring: a cursor before the wrap continues after it, one that fell off resets", async () => {
  const sink = new MemoryLogSink(4);
  const tail = new MemoryLogTail(sink);
  for (let n = 0; n < 3; n++) sink.write(record(n));
  const first = await tail.tail({});
  assert.deepEqual(first.lines.map((l) => JSON.parse(l).msg), ["line 0", "line 1", "line 2"]);
  for (let n = 3; n < 6; n++) sink.write(record(n));
  const next = await tail.tail({ cursor: first.cursor });
  assert.equal(next.reset, false);
  assert.deepEqual(next.lines.map((l) => JSON.parse(l).msg), ["line 3", "line 4", "line 5"]);
  const stale = await tail.tail({ cursor: 1 });
  assert.equal(stale.reset, true);
  assert.deepEqual(stale.lines.map((l) => JSON.parse(l).msg), ["line 2", "line 3", "line 4", "line 5"]);
});
