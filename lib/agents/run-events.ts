/**
 * Turns run events into protocol events on the bus: `agent` events (`{runId, seq, stream, ts, data}`)
 * to the socket that started the run, `chat` events (delta, final, error, aborted) and
 * `sessions.changed` to every socket that may read sessions.
 *
 * @module
 */
import type { EventBus } from "../types.ts";
import type { RunOutcome } from "./runs.ts";
import type { AgentRuntime, RunEvent, RunInfo } from "./runtime.ts";

interface Counters {
  agent: number;
  chat: number;
}

/** Publishes the events of every run of `runtime` until the returned function is called. */
export function bridgeRunEvents(runtime: AgentRuntime, bus: EventBus, now: () => number): () => void {
  const counters = new Map<string, Counters>();
  return runtime.onRunEvent((run, event) => {
    let seq = counters.get(run.runId);
    if (!seq) counters.set(run.runId, seq = { agent: 0, chat: 0 });
    publishAgentEvent(bus, run, event, seq, now());
    if (!run.ephemeral) publishChatEvent(bus, run, event, seq, now());
    if (event.type === "end") {
      counters.delete(run.runId);
      if (!run.ephemeral) publishSessionsChanged(bus, run.sessionKey, "run", now());
    }
  });
}

/** Tells read-scoped sockets that a session's list row or transcript changed. */
export function publishSessionsChanged(bus: EventBus, sessionKey: string, reason: string, ts: number): void {
  bus.publish({ event: "sessions.changed", payload: { sessionKey, reason, ts }, scope: "operator.read" });
}

function publishAgentEvent(bus: EventBus, run: RunInfo, event: RunEvent, seq: Counters, ts: number): void {
  // Only sockets started runs hear their agent stream; HTTP and in-process callers have no socket.
  if (!run.origin.connId || run.origin.kind === "http") return;
  let stream: string;
  let data: Record<string, unknown>;
  if (event.type === "start") {
    stream = "lifecycle";
    data = { phase: "start", startedAt: event.startedAt };
  } else if (event.type === "output") {
    if (event.event.type !== "text") return;
    stream = "assistant";
    data = { text: event.text, delta: event.event.text };
  } else {
    stream = "lifecycle";
    data = lifecycleEnd(event.outcome);
  }
  bus.publish({
    event: "agent",
    payload: { runId: run.runId, seq: ++seq.agent, stream, ts, data },
    scope: "operator.read",
    connIds: [run.origin.connId],
    dropIfSlow: stream === "assistant",
  });
}

function lifecycleEnd(outcome: RunOutcome): Record<string, unknown> {
  const data: Record<string, unknown> = {
    phase: outcome.status === "ok" ? "end" : "error",
    startedAt: outcome.startedAt,
    endedAt: outcome.endedAt,
  };
  if (outcome.status === "aborted") data.aborted = true;
  if (outcome.error) data.error = outcome.error.message;
  return data;
}

function publishChatEvent(bus: EventBus, run: RunInfo, event: RunEvent, seq: Counters, ts: number): void {
  const base = { runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId };
  if (event.type === "output") {
    if (event.event.type !== "text") return;
    bus.publish({
      event: "chat",
      payload: {
        ...base,
        seq: ++seq.chat,
        state: "delta",
        deltaText: event.event.text,
        message: assistantMessage(event.text, ts),
      },
      scope: "operator.read",
      dropIfSlow: true,
    });
  } else if (event.type === "end") {
    const { outcome } = event;
    const payload: Record<string, unknown> = { ...base, seq: ++seq.chat };
    const text = outcome.result?.text;
    if (text !== undefined) payload.message = assistantMessage(text, outcome.endedAt);
    if (outcome.status === "ok") {
      payload.state = "final";
      payload.stopReason = outcome.result?.finishReason ?? "stop";
      if (outcome.result?.usage) payload.usage = outcome.result.usage;
    } else if (outcome.status === "aborted") {
      payload.state = "aborted";
      payload.stopReason = "aborted";
    } else {
      payload.state = "error";
      payload.errorMessage = outcome.error?.message ?? "run failed";
    }
    bus.publish({ event: "chat", payload, scope: "operator.read" });
  }
}

function assistantMessage(text: string, timestamp: number): Record<string, unknown> {
  return { role: "assistant", content: [{ type: "text", text }], timestamp };
}
