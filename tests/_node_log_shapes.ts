// Run under Node (`node --allow-natives-syntax --import tsx`) by tests/node_log_records_test.ts: logs as
// a gateway does, one record per connection, and prints whether the records the memory sink keeps share
// one hidden class (V8's `%HaveSameMap`).
import process from "node:process";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";

const haveSameMap = new Function("a", "b", "return %HaveSameMap(a, b)") as (
  a: unknown,
  b: unknown,
) => boolean;
const sink = new MemoryLogSink();
const logger = createLogger({ sinks: [sink] });
const child = logger.child("ws", { replica: "a" });
for (let i = 0; i < 200; i++) {
  logger.info("client connected", { connId: `c-${i}`, remote: "127.0.0.1", client: "cli", mode: "backend" });
  child.info("socket closed", { connId: `c-${i}`, code: 1000 });
}
const records = sink.records;
const shared = (step: number) =>
  records.slice(-100).every((record, i, last) => i < step || haveSameMap(record, last[i - step]));
process.stdout.write(JSON.stringify({ root: shared(2), child: shared(2), last: records.at(-1) }));
