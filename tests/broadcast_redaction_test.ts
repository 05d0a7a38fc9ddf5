// A broadcast is redacted once per event, not once per socket: every socket's frame must still leave
// with secret values replaced, exactly as if each frame had been redacted on its own.
import assert from "node:assert/strict";
import { SecretRedactor } from "../lib/log/secret-redactor.ts";
import { eventFrame, preparedEventFrame } from "../lib/protocol/frames.ts";
import { client, startGateway } from "./_helpers.ts";

const SECRET = "sk-broadcast-SECRET-0123456789";
/** A secret whose JSON form differs from its raw form (quote and backslash). */
const QUOTED = 'pa"ss\\word-0123456789';

Deno.test("broadcast redaction: a prepared frame redacted once equals each frame redacted whole", () => {
  const secrets = new SecretRedactor([SECRET, QUOTED]);
  const payload = { text: `key=${SECRET}`, list: [QUOTED, { deep: `${QUOTED}!` }], n: 1 };
  const versions = { presence: 3, health: 9 };
  const prepared = preparedEventFrame("custom.note", payload, versions, (json) => secrets.redactJson(json));
  for (const seq of [undefined, 1, 42, 1_000_000]) {
    const frame = prepared(seq);
    assert.equal(frame, secrets.redactJson(eventFrame("custom.note", payload, seq, versions)));
    assert.ok(!secrets.hits(frame), frame);
  }
});

Deno.test("broadcast redaction: an event carrying a secret reaches every socket redacted, each with its own seq", async () => {
  const gateway = await startGateway({ secretValues: () => [SECRET, QUOTED] });
  const clients = await Promise.all(Array.from({ length: 6 }, () => client(gateway)));
  // One socket is a step ahead, so the sockets' seqs differ while the frame text is shared.
  const first = (clients[0].hello.server as { connId: string }).connId;
  gateway.bus.publish({ event: "custom.warmup", payload: {}, connIds: [first] });
  await clients[0].socket.waitFor((f) => f.event === "custom.warmup");
  gateway.bus.publish({
    event: "custom.note",
    payload: { text: `key=${SECRET}`, list: [QUOTED], n: 1 },
  });
  const notes = await Promise.all(clients.map((c) => c.socket.waitFor((f) => f.event === "custom.note")));
  for (const note of notes) {
    assert.deepEqual(note.payload, {
      text: "key=__OPENCLAW_REDACTED__",
      list: ["__OPENCLAW_REDACTED__"],
      n: 1,
    });
    const text = JSON.stringify(note);
    assert.ok(!text.includes(SECRET) && !text.includes("ss\\\\word"), text);
  }
  assert.equal(notes[0].seq, Number(notes[1].seq) + 1);
  assert.equal(new Set(notes.slice(1).map((n) => n.seq)).size, 1);
  await gateway.stop();
});
