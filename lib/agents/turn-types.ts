/**
 * What a turn is and what it reports: the input a caller starts it with, its handle, its events and the
 * facts listeners route them by. The runtime (`runtime.ts`) runs turns; the WS methods and the
 * OpenAI-compatible routes build and read these.
 *
 * @module
 */
import type { BusEvent } from "../bus/types.ts";
import type { ChatMessage, ChatRequest, ChatStreamEvent, ToolCall } from "../providers/types.ts";
import type { IdempotencyClaim } from "../state/idempotency.ts";
import type { RunOutcome } from "../state/runs.ts";
import type { TranscriptEntry } from "../state/sessions.ts";
import type { TurnDelivery } from "../state/turn-queue.ts";
import type { GatewayStores } from "../state/stores.ts";

/** Who started a run; decides where its events go. */
export interface RunOrigin {
  /**
   * The entry point: the `agent` method (also hooks and channels), `chat.send`, or the OpenAI-compatible
   * HTTP API; an `http` run sends no `agent` events, and only HTTP clients' runs skip gateway tools.
   */
  kind: "agent" | "chat" | "http";
  /** The socket that asked, when there is one. */
  connId?: string;
  /** A hook or channel started it: the message is outside content, not the operator's. */
  external?: boolean;
  /** A scheduled heartbeat turn: chat surfaces hide its stream and acknowledgements. */
  heartbeat?: boolean;
}

/**
 * What happens during a run, in order: start, output pieces, then end or error. `message` reports a
 * line committed to the transcript; `tool` the start and result of a gateway tool the model called.
 */
export type RunEvent =
  | { type: "start"; startedAt: number }
  | { type: "output"; event: ChatStreamEvent; text: string }
  | { type: "message"; entry: TranscriptEntry }
  | { type: "tool"; phase: "start" | "result"; call: ToolCall; output?: string; isError?: boolean }
  | { type: "end"; outcome: RunOutcome };

/**
 * Hears every event of every run. `published`: the bus events its publishing listener renders for it
 * (see {@link RunEventRenderer}) went out already, along with the turn's last writes.
 */
export type RunEventListener = (run: RunInfo, event: RunEvent, published?: boolean) => void;

/**
 * The bus events that `events` of `run` will publish, rendered without publishing or counting them: a
 * turn on a shared bus publishes its end's events in the batch of its last writes, guarded as they are.
 */
export type RunEventRenderer = (run: RunInfo, events: readonly RunEvent[]) => BusEvent[];

/** The facts about a run that event listeners route by. */
export interface RunInfo {
  /** The run's id, unique across replicas. */
  runId: string;
  /** The full key of the session it runs in (`agent:<agentId>:<rest>`). */
  sessionKey: string;
  /** The id of the agent whose model and tools the run uses. */
  agentId: string;
  /** Who started it, and from which socket. */
  origin: RunOrigin;
  /** The run's session is not stored, so it publishes no `chat` or session events. */
  ephemeral: boolean;
  /** Where the replica that runs the turn sends its reply (a channel's chat, a hook's target). */
  delivery?: TurnDelivery;
}

/** Sampling and tool options passed through to the provider. */
export type TurnParams = Omit<ChatRequest, "model" | "messages">;

/** One turn to run. */
export interface TurnInput {
  /** A full session key (`agent:<agentId>:<rest>`); its agent runs the turn. */
  sessionKey: string;
  /** The agent that runs the turn (the one the session key names); an unknown id is refused with `NOT_FOUND`. */
  agentId: string;
  /** The new messages of this turn; they are appended to the transcript. */
  messages: ChatMessage[];
  /**
   * `session` (default): the model sees the transcript, then `messages`. `request`: `messages` already
   * hold the whole conversation (OpenAI clients resend it); only its new tail is recorded.
   */
  context?: "session" | "request";
  /** Appended to the agent's system prompt for this turn. */
  system?: string;
  /** A `provider/model` ref overriding the agent's model for this turn. */
  model?: string;
  /** Sampling and tool options for the provider (temperature, max tokens, tools, ...); none by default. */
  params?: TurnParams;
  /** Stream from the provider (and emit output events); otherwise ask for the whole reply at once. */
  stream?: boolean;
  /** Ephemeral sessions are neither listed nor written to disk (stateless HTTP requests). */
  ephemeral?: boolean;
  /** Aborting it cancels the run (an HTTP client that disconnects). */
  signal?: AbortSignal;
  /** Who starts the turn; decides where its events go and whether gateway tools are offered. */
  origin: RunOrigin;
  /** Where its reply goes besides the transcript; kept with the turn while it waits (see {@link RunInfo}). */
  delivery?: TurnDelivery;
  /**
   * The connection the run is queued for: its runs take turns with other connections' runs for the
   * agent, and at most `gateway.limits.maxQueuedRunsPerConnection` of them may wait to start. Unset
   * (HTTP requests, hooks, channels, in-process calls): the run takes its turn alone, uncapped.
   */
  queueOwner?: string;
  /** Output of this run only, before the runtime-wide listeners see it. */
  onEvent?: (event: RunEvent) => void;
  /**
   * The run's id when the caller names it: WS clients' `idempotencyKey`, which they match the run's
   * events by, as the reference gateway does. A fresh id otherwise.
   */
  runId?: string;
  /**
   * The idempotency claim of the call that starts the turn, while the store has not answered it (the
   * call runs ahead of its claim): the turn's first store commands share the claim's round trip, and
   * until `won` it may be a duplicate. It starts, writes its input and records its run only under the
   * claim; a lost one ends the turn without a trace (no event, no run record, the lease given back).
   */
  claim?: IdempotencyClaim;
  /**
   * What the call that names the run asked (its `MethodCall.fingerprint`), kept on the run's record: a
   * later call of the run id that asked something else is another request's (`standing-run.ts`).
   */
  request?: string;
}

/** A started run. */
export interface RunHandle {
  /** The run's id, for `agent.wait`, `chat.abort` and the run's events. */
  runId: string;
  /** When the runtime accepted the turn, ms since the epoch. */
  acceptedAt: number;
  /** The full key of the session the turn runs in. */
  sessionKey: string;
  /** The id of the agent whose model and limits the run uses (the one the session key names). */
  agentId: string;
  /** Settles with how the run ended: ok, error (with its shape) or aborted. */
  done: Promise<RunOutcome>;
  /**
   * Settles once the turn's input messages are durable: in the transcript, or, for a turn that waits for
   * its session (queued here, or another replica holds its lease), in the turn queue. Rejects when
   * writing them failed, or the turn failed before it could write them (the turn then does not run). For
   * a turn aborted before its input was written (while queued), or a duplicate (its claim lost), it resolves.
   */
  recorded: Promise<void>;
  /** The turn waits behind other runs (of its session, or for a free agent slot) before it starts. */
  waiting: boolean;
  /**
   * Set for a turn started ahead of its claim (`TurnInput.claim`) on a run store that checks claims:
   * resolves whether the store refused the run's first record. It does for a duplicate, and while the
   * claim follows an earlier use of its key: the key's claim lapsed, or a record of the run id was there
   * already (`RunStore.putIfClaimed`).
   */
  recordRefused?: Promise<boolean>;
}

/** What `agent.wait` reports. */
export interface WaitResult {
  /** The id that was asked about, echoed back. */
  runId: string;
  /** `ok` when it finished normally, `error` when it failed or was aborted, `timeout` when it is still going. */
  status: "ok" | "error" | "timeout";
  /** When it started, ms since the epoch; unset on `timeout`. */
  startedAt?: number;
  /** When it ended, ms since the epoch; unset on `timeout`. */
  endedAt?: number;
  /** The error message of a failed or aborted run. */
  error?: string;
}

/** The shared state a runtime keeps its sessions, transcripts and runs in, and talks to other replicas by. */
export type AgentStores =
  & Pick<GatewayStores, "sessions" | "transcripts" | "runs" | "leases" | "bus">
  & Partial<Pick<GatewayStores, "turnQueue">>;
