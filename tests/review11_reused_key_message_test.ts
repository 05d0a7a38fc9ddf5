// Review 11: a key the idempotency store forgot (its cap) and sent again with another message, in the same
// session, is answered with the first call's run: the new message is dropped without a word (never in the
// transcript, never sent to the model) and the caller gets a reply to a message it did not send. The
// dispatcher promises otherwise (lib/gateway/dispatch.ts: "a replay goes only to a request identical to the
// first: same method, same session, same message. Anything else sent with a used key is refused, never
// answered with another caller's run"); on e92d2b9 such a call ran (the
// model got the message, though the transcript skipped its input line as the run id's saved input).
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { client, lastAnswer, startGateway, TOKEN } from "./_helpers.ts";

type Json = Record<string, unknown>;

Deno.test("review11: a forgotten key sent again with another message is not answered with the first call's run", async () => {
  const stores = {
    ...memoryStores(),
    idempotency: new MemoryIdempotencyStore(() => Date.now(), undefined, 2),
  };
  const gateway = await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: { primary: "local/scripted-1" } } },
    },
    stores,
    modules: [agentsModule()],
  });
  const operator = await client(gateway);
  const agent = (idempotencyKey: string, message: string) =>
    lastAnswer(operator.socket, "agent", { sessionKey: "main", message, idempotencyKey });
  try {
    const first = await agent("k-1", "the first message");
    assert.equal(first.ok, true);
    for (const key of ["k-2", "k-3"]) assert.equal((await agent(key, key)).ok, true);
    const other = await agent("k-1", "another message");
    assert.notDeepEqual(other.payload, first.payload, "answered with the reply to the first message");
    // Refused (the caller is told) or run (the scripted model's reply quotes the message it was given).
    assert.ok(!other.ok || JSON.stringify(other.payload).includes("another message"), JSON.stringify(other));
  } finally {
    operator.socket.close();
    await gateway.stop();
  }
});
