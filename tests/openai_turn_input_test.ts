// Chat Completions and Responses share one mapping from a request to the agent turn it runs.
import assert from "node:assert/strict";
import { turnInput } from "../lib/http/openai/turn-input.ts";

const target = { agentId: "main", sessionKey: "agent:main:openai:u1", ephemeral: true, model: "local/x" };
const signal = new AbortController().signal;
const messages = [
  { role: "system" as const, content: "be brief" },
  { role: "user" as const, content: "hi" },
];

Deno.test("a turn takes the target's session, the messages' system text and the sampling fields as given", () => {
  const input = turnInput(target, messages, {
    tools: [],
    toolChoice: undefined,
    sampling: { maxTokens: 5, temperature: 0.2 },
    ephemeral: target.ephemeral,
  }, signal);
  assert.deepEqual({ ...input, signal: undefined }, {
    sessionKey: "agent:main:openai:u1",
    agentId: "main",
    ephemeral: true,
    messages: [{ role: "user", content: "hi" }],
    context: "session",
    system: "be brief",
    model: "local/x",
    params: { tools: undefined, toolChoice: undefined, maxTokens: 5, temperature: 0.2 },
    signal: undefined,
    origin: { kind: "http" },
  });
  assert.equal(input.signal, signal);
});

Deno.test("instructions come before the messages' system text; a conversation with replies is client-managed", () => {
  const tools = [{ name: "f", parameters: {} }];
  const input = turnInput(target, [...messages, { role: "assistant", content: "yo" }], {
    tools,
    toolChoice: "auto",
    sampling: {},
    instructions: "you are a bot",
    ephemeral: false,
  }, signal);
  assert.equal(input.system, "you are a bot\n\nbe brief");
  assert.equal(input.context, "request");
  assert.equal(input.ephemeral, false);
  assert.deepEqual(input.params, { tools, toolChoice: "auto" });
  assert.equal(
    turnInput(target, [], { tools: [], toolChoice: undefined, sampling: {}, ephemeral: true }, signal)
      .system,
    undefined,
  );
});
