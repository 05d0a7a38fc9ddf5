/**
 * Turns run events into protocol events on the bus: `agent` events (`{runId, seq, stream, ts, data}`)
 * to the socket that started the run, `chat` events (delta, final, error, aborted) to
 * every socket that may read sessions, `sessions.changed` to the sockets that called `sessions.subscribe`,
 * and `session.message` / `session.tool` to the sockets subscribed to the session.
 *
 * @module
 */
import type { BusEvent } from "../bus/types.ts";
import type { EventBus } from "../types.ts";
import type { RunOutcome } from "../state/runs.ts";
import { DEFAULT_ACK_MAX_CHARS } from "./heartbeat-config.ts";
import { classifyHeartbeatReply } from "./heartbeat-reply.ts";
import type { AgentRuntime, RunEvent, RunInfo } from "./runtime.ts";
import { publishSessionMessage, publishSessionTool, SESSIONS_TOPIC } from "./session-events.ts";

/** Where the publishing helpers put an event: the bus, or a list of events rendered ahead. */
type Publisher = Pick<EventBus, "publish">;

interface Counters {
  agent: number;
  chat: number;
}

/**
 * Publishes the events of every run of `runtime` until the returned function is called. It also renders
 * a turn's end events ahead, without publishing or counting them, for the turn to publish them along
 * with its last writes; a run event whose bus events went out so (`published`) is only counted.
 */
export function bridgeRunEvents(
  runtime: AgentRuntime,
  bus: EventBus,
  now: () => number,
): () => void {
  const counters = new Map<string, Counters>();
  const fresh = (): Counters => ({ agent: 0, chat: 0 });
  return runtime.onRunEvent((run, event, published) => {
    let seq = counters.get(run.runId);
    if (!seq) counters.set(run.runId, seq = fresh());
    const events = busEvents(run, event, seq, now());
    if (event.type === "end") counters.delete(run.runId);
    if (!published) { for (const each of events) bus.publish(each); }
  }, (run, events) => {
    // A copy: the events are counted once they are told (`published`), or rendered again if they were not.
    const seq = { ...counters.get(run.runId) ?? fresh() };
    return events.flatMap((event) => busEvents(run, event, seq, now()));
  });
}

/** The bus events of one run event, numbered in the run's sequences (`seq`, advanced). */
function busEvents(run: RunInfo, event: RunEvent, seq: Counters, ts: number): BusEvent[] {
  const bus: BusEvent[] = [];
  const sink: Publisher = { publish: (each) => bus.push(each) };
  if (event.type === "message") {
    publishSessionMessage(sink, run, event.entry);
    return bus;
  }
  const agentPayload = agentEventPayload(run, event, seq, ts);
  if (agentPayload) publishAgentEvent(sink, run, agentPayload);
  if (agentPayload && event.type === "tool" && !run.ephemeral) publishSessionTool(sink, run, agentPayload);
  if (!run.ephemeral) publishChatEvent(sink, run, event, seq, ts);
  if (event.type === "end" && !run.ephemeral) publishSessionsChanged(sink, run.sessionKey, "run", ts);
  return bus;
}

/**
 * Tells the `sessions.subscribe` sockets that a session's list row or transcript changed; `extra` adds
 * the reference's fields (`agentId`, the `session` row, ...). With no key it says the list changed.
 */
export function publishSessionsChanged(
  bus: Publisher,
  sessionKey: string | undefined,
  reason: string,
  ts: number,
  extra: Record<string, unknown> = {},
): void {
  bus.publish({
    event: "sessions.changed",
    payload: sessionKey === undefined ? { reason, ts, ...extra } : { sessionKey, ...extra, reason, ts },
    scope: "operator.read",
    topics: [SESSIONS_TOPIC],
    ...(sessionKey === undefined ? {} : { sessionKey }),
  });
}

/** The `agent` event payload of a run event, numbered in the run's agent sequence; none for the rest. */
function agentEventPayload(
  run: RunInfo,
  event: RunEvent,
  seq: Counters,
  ts: number,
): Record<string, unknown> | undefined {
  let stream: string;
  let data: Record<string, unknown>;
  if (event.type === "start") {
    stream = "lifecycle";
    data = { phase: "start", startedAt: event.startedAt };
  } else if (event.type === "output") {
    if (event.event.type !== "text") return undefined;
    stream = "assistant";
    data = { text: event.text, delta: event.event.text };
  } else if (event.type === "tool") {
    stream = "tool";
    data = { phase: event.phase, name: event.call.name, toolCallId: event.call.id };
    if (event.phase === "start") data.args = parseArgs(event.call.arguments);
    else Object.assign(data, { result: event.output, isError: event.isError ?? false });
  } else if (event.type === "end") {
    stream = "lifecycle";
    data = lifecycleEnd(event.outcome);
  } else {
    return undefined;
  }
  return { runId: run.runId, seq: ++seq.agent, stream, ts, data };
}

function publishAgentEvent(bus: Publisher, run: RunInfo, payload: Record<string, unknown>): void {
  // Only sockets started runs hear their agent stream; HTTP and in-process callers have no socket.
  if (!run.origin.connId || run.origin.kind === "http") return;
  bus.publish({
    event: "agent",
    payload,
    scope: "operator.read",
    // The socket that started the run is on the replica that runs it: a process-local address.
    connIds: [run.origin.connId],
    sessionKey: run.sessionKey,
    dropIfSlow: payload.stream === "assistant",
  });
}

/** Tool arguments as the model sent them: parsed JSON, or the raw text when it is not JSON. */
function parseArgs(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
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

function publishChatEvent(bus: Publisher, run: RunInfo, event: RunEvent, seq: Counters, ts: number): void {
  const base = { runId: run.runId, sessionKey: run.sessionKey, agentId: run.agentId };
  if (event.type === "output") {
    // A heartbeat's stream is never shown live: it may turn out to be an acknowledgement.
    if (event.event.type !== "text" || run.origin.heartbeat) return;
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
      sessionKey: run.sessionKey,
      dropIfSlow: true,
    });
  } else if (event.type === "end") {
    const { outcome } = event;
    const payload: Record<string, unknown> = { ...base, seq: ++seq.chat };
    const text = run.origin.heartbeat ? heartbeatChatText(outcome.result?.text) : outcome.result?.text;
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
      // The reference's stopReason for a failed turn: any `message` above is partial, not a reply.
      payload.stopReason = "error";
      payload.errorMessage = outcome.error?.message ?? "run failed";
    }
    bus.publish({ event: "chat", payload, scope: "operator.read", sessionKey: run.sessionKey });
  }
}

/**
 * What chat shows of a heartbeat's reply: nothing for an acknowledgement (the reference applies its fixed
 * 300-character budget here, whatever `ackMaxChars` says), the alert without its `HEARTBEAT_OK` otherwise.
 */
function heartbeatChatText(text: string | undefined): string | undefined {
  const reply = classifyHeartbeatReply(text ?? "", DEFAULT_ACK_MAX_CHARS);
  return reply.kind === "alert" ? reply.text : undefined;
}

function assistantMessage(text: string, timestamp: number): Record<string, unknown> {
  return { role: "assistant", content: [{ type: "text", text }], timestamp };
}
