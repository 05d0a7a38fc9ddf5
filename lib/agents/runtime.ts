/**
 * Runs agent turns: picks the agent and model, queues the turn behind its session, feeds the model the
 * session's transcript, streams the reply to listeners, and records both sides of the turn. WS methods
 * and the OpenAI-compatible HTTP routes both run turns through here.
 *
 * @module
 */
import type { BusEvent } from "../bus/types.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { DEFAULT_MAX_QUEUED_RUNS_PER_CONNECTION } from "../config/sections/gateway.ts";
import { type ErrorShape, GatewayError, toErrorShape } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { ClaimGuard, IdempotencyClaim } from "../state/idempotency.ts";
import type { GatewayStores } from "../state/stores.ts";
import { ReplyAccumulator } from "../providers/accumulate.ts";
import { ProviderRegistry } from "../providers/registry.ts";
import type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  EmbeddingResult,
  FetchLike,
  ModelProvider,
  ToolCall,
  ToolSpec,
} from "../providers/types.ts";
import { isAbort } from "../providers/upstream-error.ts";
import { timeoutSignal } from "../timeout-signal.ts";
import { AgentCatalog, type ResolvedAgent } from "./catalog.ts";
import { type LiveRuns, type RunRecord, RunRegistry } from "./runs.ts";
import { FINISHED_RUN_TTL_MS, type RunEnd, type RunOutcome, type StoredRun } from "../state/runs.ts";
import { RunScheduler, type ScheduledRun } from "./scheduler.ts";
import { leaseLostError, sessionLeaseKey, type SessionLeaseOptions, SessionLeases } from "./session-lease.ts";
import type {
  AppendGuard,
  NewTranscriptEntry,
  RunEndState,
  SessionEntry,
  SessionRunUpdate,
  TranscriptEntry,
  TranscriptRef,
} from "../state/sessions.ts";
import { type AgentToolHost, MAX_TOOL_STEPS, type ToolRunContext } from "./tool-host.ts";
import { MemoryTurnQueue, type QueuedTurn, type TurnQueue } from "../state/turn-queue.ts";

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

/** Bus event (internal) telling every replica a run ended: `{ runId, end: RunEnd }`. */
export const RUN_ENDED_EVENT = "agents.run.ended";
/** Bus event (internal) asking the replica that runs them to abort runs: `{ sessionKey, runIds }`. */
export const RUN_ABORT_EVENT = "agents.run.abort";

/** What the runtime needs from the gateway and the embedder. */
export interface AgentRuntimeOptions {
  /** The config in force, read at every turn so a reload applies to the next one. */
  config: () => GatewayConfig;
  /** The environment that `${VAR}` and `{ source: "env" }` references in provider API keys resolve from. */
  env: Readonly<Record<string, string | undefined>>;
  /** The clock for timestamps, in ms since the epoch. */
  now: () => number;
  /** Where run and provider warnings go. */
  logger: Logger;
  /** Where sessions, transcripts and run records live, and the bus to other replicas. */
  stores: AgentStores;
  /** Session lease timing and the clock its deadlines are judged by (tests shorten and drive them). */
  lease?: Pick<SessionLeaseOptions, "ttlMs" | "retryMs" | "now">;
  /** How providers reach their upstream APIs (the global `fetch`, or a test double). */
  fetch: FetchLike;
  /** Providers supplied in code (tests, embedders); they win over config entries with the same id. */
  providers?: Record<string, ModelProvider>;
  /** Makes run and session ids; `crypto.randomUUID` by default. */
  newId?: () => string;
  /**
   * This replica's id in the peers registry: the owner named on the turns it queues, which another
   * replica runs once that id is no longer alive. A fresh id by default.
   */
  replicaId?: string;
}

/** What a turn starts with once its session's lease is held. */
interface TurnStart {
  agent: ResolvedAgent;
  modelRef: string;
  signal: AbortSignal;
  /** Settled once the turn's input is written (or could not be). */
  recorded: PromiseWithResolvers<void>;
  /** Read along with the lease's first attempt, or right after the lease was taken. */
  reads: TurnReads;
  /** The owner the session's lease was taken under: the turn's writes are guarded by it. */
  holder: string;
  /** A turn that waited: its input, moved from the turn queue into the transcript before it started. */
  dequeued?: Dequeued;
}

/** A waiting turn's input once it is in the transcript; see `AgentRuntime.#dequeue`. */
interface Dequeued {
  opened: { session: SessionEntry; created: boolean };
  input: { lines: NewTranscriptEntry[]; added: Promise<TranscriptEntry[] | undefined> };
}

/** A waiting turn whose input another replica took from the queue and runs under the same run id. */
class TakenOver extends Error {}

/** What a turn reads before it calls the model; see `AgentRuntime.#readAhead`. */
interface TurnReads {
  /** Unset for an ephemeral session, which is never stored. */
  session?: Promise<SessionEntry | undefined>;
  transcript?: { ref: TranscriptRef; entries: Promise<TranscriptEntry[]> };
  /** The input's lines, appended to that transcript if the attempt got the lease: what was appended, if so. */
  input?: { lines: NewTranscriptEntry[]; added: Promise<TranscriptEntry[] | undefined> };
  /** The new session the input's append stores if the session has none (sent when there was no guess). */
  proposed?: SessionEntry;
  /** The host whose tools the turn is offered, and what its calls are told. */
  tools?: AgentToolHost;
  toolRun: ToolRunContext;
  specs: Promise<ToolSpec[]>;
}

/**
 * How many sessions' transcript refs a runtime remembers, to read a transcript along with the lease
 * before the session's entry says which it is. Only a guess (checked on every turn): the entry decides.
 */
const TRANSCRIPT_GUESSES = 1_000;

/** `promise`, with no unhandled rejection when its reader gives up before awaiting it. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Runs turns and answers questions about sessions. */
export class AgentRuntime {
  readonly #runs = new RunRegistry();
  readonly #scheduler: RunScheduler;
  readonly #listeners = new Set<(run: RunInfo, event: RunEvent) => void>();
  readonly #newId: () => string;
  readonly #unsubscribe: () => void;
  /** Who holds this runtime's session leases. */
  readonly #leaseOwner = crypto.randomUUID();
  readonly #replicaId: string;
  readonly #turnQueue: TurnQueue;
  /** By session key: the transcript each session used last here (see {@link TRANSCRIPT_GUESSES}). */
  readonly #transcripts = new Map<string, TranscriptRef>();
  /** By run id: turns whose withdrawal from the turn queue failed, tried again on a timer. */
  readonly #withdrawals = new Map<string, { sessionKey: string; runId: string; owner: string }>();
  #withdrawTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #tools: AgentToolHost | undefined;
  #snapshot: { config: GatewayConfig; catalog: AgentCatalog; providers: ProviderRegistry } | undefined;

  /** Subscribes to the bus at once, so {@link AgentRuntime.close} must follow. */
  constructor(private readonly options: AgentRuntimeOptions) {
    this.#newId = options.newId ?? (() => crypto.randomUUID());
    this.#replicaId = options.replicaId ?? this.#leaseOwner;
    this.#turnQueue = options.stores.turnQueue ?? new MemoryTurnQueue();
    const logger = options.logger;
    this.#scheduler = new RunScheduler(
      new SessionLeases({
        store: options.stores.leases,
        owner: this.#leaseOwner,
        ...options.lease,
        onRenewError: (error) => logger.warn("session lease store failed", { error: String(error) }),
      }),
    );
    this.#unsubscribe = options.stores.bus.subscribe((event) => this.#onBusEvent(event));
  }

  /** This process's live runs, read-only; the run store knows those of every replica. */
  get runs(): LiveRuns {
    return this.#runs;
  }

  /** Stops listening to the bus (abort requests from other replicas). Runs in flight are not touched. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#withdrawTimer);
    this.#withdrawTimer = undefined;
    this.#unsubscribe();
  }

  /** The agents of the config in force. */
  agents(): AgentCatalog {
    return this.#current().catalog;
  }

  /** The providers of the config in force. */
  providers(): ProviderRegistry {
    return this.#current().providers;
  }

  /**
   * Offers the host's tools to runs started over WS (HTTP clients bring their own tools) and executes
   * the calls the model makes to them. Returns the function that withdraws the host.
   */
  useTools(host: AgentToolHost): () => void {
    this.#tools = host;
    return () => {
      if (this.#tools === host) this.#tools = undefined;
    };
  }

  /** Sees every event of every run. */
  onRunEvent(listener: (run: RunInfo, event: RunEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Accepts a turn and returns at once; the turn waits for its session and agent slot, then runs.
   * Unknown agents and models, and turns past their connection's queue limit, are refused here,
   * before anything is queued.
   */
  startTurn(input: TurnInput): RunHandle {
    return this.#start(input);
  }

  /**
   * Runs the waiting turns whose replica is not in `alive` (it died before running them) under their
   * own run ids, oldest first: a session's turns are resumed up to its first turn of a live replica (or
   * of this one), which runs before the rest. Turns already resumed here are left alone; a turn whose
   * run already ended (aborted while its withdrawal failed) is taken out, not run.
   */
  async resumeOrphans(alive: ReadonlySet<string>): Promise<void> {
    const queue = this.#turnQueue;
    for (const sessionKey of await queue.sessions()) {
      for (const turn of await queue.list(sessionKey)) {
        if (alive.has(turn.owner) || turn.owner === this.#replicaId) break;
        if (!await this.#resumeOrphan(turn)) break;
      }
    }
  }

  /** Runs (or drops) one waiting turn of a dead replica; false when the session's later turns must wait. */
  async #resumeOrphan(turn: QueuedTurn): Promise<boolean> {
    if (this.#runs.get(turn.runId)) return true;
    const stored = await this.options.stores.runs.get(turn.runId);
    if (stored?.end) {
      await this.#turnQueue.take(turn.sessionKey, turn.runId, turn.owner);
      return true;
    }
    try {
      this.#start(resumedInput(turn), turn);
      return true;
    } catch (error) {
      // An agent or model this replica's config does not know: the turn waits for a replica that does,
      // for a while; then it ends with that error, so as not to hold up its session for good.
      const expired = this.options.now() - turn.acceptedAt > ORPHAN_TTL_MS;
      const message = expired
        ? "dropped a waiting turn no replica could run"
        : "could not resume a waiting turn";
      this.options.logger.warn(message, { runId: turn.runId, error: String(error) });
      if (expired) await this.#endWaiting(turn, stored, "error", toErrorShape(error), turn.owner);
      return expired;
    }
  }

  /**
   * Starts a turn; `resumed` is its queued turn when it runs from the queue at once: a dead replica's,
   * run in its place, or this replica's own, run again after a failure before its input moved
   * (`restarts` counts those).
   */
  #start(input: TurnInput, resumed?: QueuedTurn, restarts = 0): RunHandle {
    const agent = this.agents().get(input.agentId);
    const model = this.providers().resolve(input.model ?? agent.model);
    const run: ScheduledRun = {
      sessionKey: input.sessionKey,
      agent,
      owner: input.queueOwner,
      maxQueued: this.options.config().gateway?.limits?.maxQueuedRunsPerConnection ??
        DEFAULT_MAX_QUEUED_RUNS_PER_CONNECTION,
    };
    // Refused before anything (the timeout's timer above all) exists for the turn.
    this.#scheduler.admit(run);
    const runId = input.runId ?? this.#newId();
    const controller = new AbortController();
    const timeout = timeoutSignal(agent.timeoutMs);
    const signals = [controller.signal, timeout.signal];
    if (input.signal) signals.push(input.signal);
    const signal = AbortSignal.any(signals);
    const info: RunInfo = {
      runId,
      sessionKey: input.sessionKey,
      agentId: agent.id,
      origin: input.origin,
      ephemeral: input.ephemeral ?? false,
    };
    const recorded = Promise.withResolvers<void>();
    const acceptedAt = resumed?.acceptedAt ?? this.options.now();
    // Whether the turn is not a duplicate; unset when its call held its key before it started.
    const claimed = input.claim?.won.catch(() => false);
    // A duplicate stops waiting for its lease at once.
    claimed?.then((won) => won || controller.abort(claimLost()));
    const queue = this.#queueing(info, input, { acceptedAt, recorded, controller, resumed, claimed });
    // What the turn reads first goes along with the first attempt at its lease (one round trip on Redis);
    // a turn that had to wait reads it once it holds the lease.
    let reads: TurnReads | undefined;
    let leaseGone = false;
    // The scheduler calls back only after it returned, by which time `record` and `tracked` exist.
    const begin = async (leaseLost: AbortSignal, holder: string) => {
      // A run whose lease is lost stops as if aborted: another replica may run the session now.
      leaseLost.addEventListener("abort", () => {
        leaseGone = !controller.signal.aborted;
        controller.abort(leaseLost.reason);
      }, { once: true });
      reads ??= this.#readAhead(info, input, holder, !queue.queued);
      const start: TurnStart = { agent, modelRef: model.ref, signal, recorded, reads, holder };
      if (queue.queued) {
        await queue.queued;
        start.dequeued = await this.#dequeue(info, input, start, resumed?.owner ?? this.#replicaId);
        queue.moved = true;
      }
      record.state = "running";
      tracked.running();
      return this.#execute(info, input, start);
    };
    const scheduled = this.#scheduler.schedule(run, signal, (leaseLost, holder) =>
      // The claim was answered with the lease attempt: a duplicate gives the lease back unused.
      claimed
        ? claimed.then((won) => won ? begin(leaseLost, holder) : Promise.reject(claimLost()))
        : begin(leaseLost, holder), {
      // Another replica runs this session: its caller is answered once the input is queued, not after
      // that replica's turn. What the first attempt read is stale by then.
      onWait: () => {
        queue.enqueue();
        reads = undefined;
      },
      onAttempt: (holder) => reads = this.#readAhead(info, input, holder, !queue.queued),
    });
    if (scheduled.waiting) queue.enqueue();
    // A run that starts at once is recorded as running straight away: one store write fewer per turn.
    const stored: StoredRun = {
      runId,
      sessionKey: input.sessionKey,
      agentId: agent.id,
      acceptedAt,
      state: scheduled.waiting ? "queued" : "running",
    };
    const tracked = this.#trackRun(
      stored,
      agent.timeoutMs + FINISHED_RUN_TTL_MS,
      claimed && { guard: input.claim?.guard, claimed },
    );
    // Whether the turn was told to stop (by its caller, its timeout, `chat.abort`, a failed queue write),
    // rather than failed on its own (a lease lost, a store that failed): only then is its input withdrawn.
    const stopped = () =>
      timeout.signal.aborted || input.signal?.aborted === true ||
      (controller.signal.aborted && !leaseGone);
    const done = scheduled.done.catch(async (error) => {
      if (error instanceof TakenOver) {
        queue.elsewhere = true;
        return this.#endedElsewhere(info, agent.timeoutMs);
      }
      // A duplicate's end is told to no one: the first call's run carries this run id.
      if (claimed && !(await claimed)) return this.#queuedOutcome(info, error, signal);
      // An acknowledged input stays queued: it runs again here, or (a resumed turn, or too many failures)
      // waits, its run unended, for the sweeper to run it once this replica is gone.
      const again = queue.kept(stopped()) && !resumed && restarts < MAX_RESTARTS &&
        this.#restart(info, input, acceptedAt, { error, restarts });
      if (again) return again.done;
      // Its input was saved nowhere (its lease attempt or first read failed): its caller must not be
      // told otherwise, and a failed claim is abandoned, so the client's retry runs the turn. (A queued
      // input's `recorded` settled with its queue write; this changes nothing for it.)
      if (!signal.aborted) recorded.reject(error);
      return this.#queuedFailure(info, input, error, signal);
    });
    // An aborted turn, or a duplicate, that never got as far as writing its input has nothing more to
    // wait for.
    done.finally(() => {
      timeout.clear();
      recorded.resolve();
      queue.ended(stopped());
    });
    done.then((outcome) => queue.elsewhere || queue.keeping || tracked.ended(outcome));
    // Callers that do not wait for it must not see an unhandled rejection.
    recorded.promise.catch(() => {});
    const record: RunRecord = { ...stored, controller, done };
    this.#runs.add(record);
    return {
      runId,
      acceptedAt: record.acceptedAt,
      sessionKey: input.sessionKey,
      agentId: agent.id,
      done,
      recorded: recorded.promise,
      waiting: scheduled.waiting,
    };
  }

  /** Runs a turn whose input is still queued here again, as its own resumed turn; unset if refused. */
  #restart(
    info: RunInfo,
    input: TurnInput,
    acceptedAt: number,
    { error, restarts }: { error: unknown; restarts: number },
  ): RunHandle | undefined {
    this.options.logger.warn("restarting a waiting turn", { runId: info.runId, error: String(error) });
    try {
      const turn = queuedTurn(info, input, acceptedAt, this.#replicaId);
      return this.#start({ ...input, runId: info.runId, claim: undefined }, turn, restarts + 1);
    } catch (refused) {
      this.options.logger.warn("could not restart a waiting turn", {
        runId: info.runId,
        error: String(refused),
      });
      return undefined;
    }
  }

  /**
   * A turn's way through the turn queue. A turn that has to wait is answered before it runs, so
   * `enqueue()` writes its input there first (the answer means the message survives this replica; HTTP
   * callers wait for the whole turn instead): `queued` is that write, which settles `recorded`, and whose
   * failure aborts the turn (a caller told the message could not be saved must not see it run). `moved`
   * is set once the input is in the transcript, `elsewhere` when another replica took it. An input
   * that did not move stays queued unless the turn was stopped (`kept()` says so and sets `keeping`: the
   * run's end is then not told, since the input runs again); `ended()` withdraws a stopped turn's input.
   */
  #queueing(
    info: RunInfo,
    input: TurnInput,
    { acceptedAt, recorded, controller, resumed, claimed }: {
      acceptedAt: number;
      recorded: PromiseWithResolvers<void>;
      controller: AbortController;
      resumed?: QueuedTurn;
      claimed?: Promise<boolean>;
    },
  ) {
    const durable = !info.ephemeral && input.origin.kind !== "http" &&
      (input.context ?? "session") === "session";
    const write = async () => {
      // A duplicate (its claim lost) queues nothing: its run id is the first call's, whose turn that is.
      if (claimed && !(await claimed)) return;
      state.written = true;
      await quiet(this.#turnQueue.enqueue(queuedTurn(info, input, acceptedAt, this.#replicaId)));
    };
    const state = {
      queued: resumed && Promise.resolve(),
      /** Whether the input was sent to the queue by this turn (a resumed one's was, by its first owner). */
      written: resumed !== undefined,
      moved: false,
      elsewhere: false,
      keeping: false,
      enqueue: () => {
        if (state.queued) return;
        if (!durable) return recorded.resolve();
        state.queued = write();
        state.queued.then(() => recorded.resolve(), (error) => {
          recorded.reject(error);
          controller.abort(error);
        });
      },
      kept: (stopped: boolean) => {
        state.keeping = state.written && !state.moved && !state.elsewhere && !stopped;
        return state.keeping;
      },
      ended: (stopped: boolean) => {
        if (state.written && !state.moved && !state.elsewhere && !state.keeping && stopped) {
          this.#withdraw({
            sessionKey: info.sessionKey,
            runId: info.runId,
            owner: resumed?.owner ?? this.#replicaId,
          });
        }
      },
    };
    return state;
  }

  /**
   * Moves a waiting turn's input from the turn queue into its transcript under the lease the turn holds,
   * before anything of the turn is announced or sent to the model. Throws {@link TakenOver} when the
   * input is no longer queued, or no longer its owner's: another replica took it (this one looked dead)
   * or adopted it (a retry of its call) and runs the turn, or `chat.abort` took it out.
   */
  async #dequeue(info: RunInfo, input: TurnInput, start: TurnStart, owner: string): Promise<Dequeued> {
    const opened = await this.#openSession(info, this.options.now(), start.reads);
    const { session, created } = opened;
    const ref = { agentId: session.agentId, sessionId: session.sessionId };
    const lines = input.messages.map((message) => this.#line(info, message));
    const turn = { sessionKey: info.sessionKey, runId: info.runId, owner };
    const queue = this.#turnQueue;
    // A new session's entry goes first, as for any turn: no line under an id no one knows. The move
    // stores it in the same step, under the lease, so a turn that lost its lease stores nothing.
    const guard = { ...this.#leaseGuard(info, start.holder), sessionKey: info.sessionKey };
    if (created && queue.moveIfHeld) guard.create = session;
    else if (created) await this.options.stores.sessions.put(session);
    const added = queue.moveIfHeld
      ? await queue.moveIfHeld(turn, ref, lines, guard)
      : (await queue.take(turn.sessionKey, turn.runId, turn.owner))
      ? await this.options.stores.transcripts.append(ref, lines)
      : "gone";
    if (added === "gone") throw new TakenOver();
    if (!added) throw leaseLostError(info.sessionKey);
    return { opened, input: { lines, added: Promise.resolve(added) } };
  }

  /**
   * Takes a turn that will not run out of the turn queue, while `owner` owns it. A store failure is
   * logged and the withdrawal tried again later: left behind, the turn would hold up its session's
   * orphans while this replica lives, and run once it died.
   */
  #withdraw(turn: { sessionKey: string; runId: string; owner: string }): void {
    this.#turnQueue.take(turn.sessionKey, turn.runId, turn.owner).then(
      () => this.#withdrawals.delete(turn.runId),
      (error) => {
        this.options.logger.warn("could not withdraw a waiting turn", {
          runId: turn.runId,
          error: String(error),
        });
        this.#withdrawals.set(turn.runId, turn);
        this.#withdrawLater();
      },
    );
  }

  /** Tries the failed withdrawals again after {@link WITHDRAW_RETRY_MS}, until they are done. */
  #withdrawLater(): void {
    if (this.#withdrawTimer !== undefined || this.#closed) return;
    this.#withdrawTimer = setTimeout(() => {
      this.#withdrawTimer = undefined;
      for (const turn of this.#withdrawals.values()) this.#withdraw(turn);
    }, WITHDRAW_RETRY_MS);
  }

  /**
   * How a turn that another replica took over ends here: as that replica's run (same id) ends, as
   * `agent.wait` hears it, with that run's session, model and reply. It cannot outlast its own agent's timeout there; a minute more covers the wait
   * for the session's lease.
   */
  async #endedElsewhere(info: RunInfo, timeoutMs: number): Promise<RunOutcome> {
    const end = await this.#runEnd(info.runId, timeoutMs + 60_000);
    const now = this.options.now();
    const outcome: RunOutcome = {
      runId: info.runId,
      sessionKey: info.sessionKey,
      sessionId: end?.sessionId ?? "",
      agentId: info.agentId,
      status: end?.status ?? "error",
      startedAt: end?.startedAt ?? now,
      endedAt: end?.endedAt ?? now,
    };
    if (end?.model) outcome.model = end.model;
    if (end?.reply) outcome.result = { ...end.reply, toolCalls: [] };
    const error = end
      ? end.error
      : { code: "UNAVAILABLE", message: "the replica that took over the run never ended it" };
    if (error) outcome.error = error;
    return outcome;
  }

  /** Whether a turn of `sessionKey` is running or queued. */
  busy(sessionKey: string): boolean {
    return this.runs.active(sessionKey).length > 0;
  }

  /**
   * Waits up to `timeoutMs` for a run of any replica to end; never cancels it. A run that ended before
   * is answered from the run store, one that ends later from the bus.
   */
  async wait(runId: string, timeoutMs: number): Promise<WaitResult> {
    const end = await this.#runEnd(runId, timeoutMs);
    if (!end) return { runId, status: "timeout" };
    const result: WaitResult = {
      runId,
      status: end.status === "ok" ? "ok" : "error",
      startedAt: end.startedAt,
      endedAt: end.endedAt,
    };
    if (end.error) result.error = end.error.message;
    return result;
  }

  /** How a run of any replica ended, once it has; `undefined` when it has not within `timeoutMs`. */
  async #runEnd(runId: string, timeoutMs: number): Promise<RunEnd | undefined> {
    const ended = Promise.withResolvers<RunEnd | undefined>();
    // Listening before reading the store: an end between the two is heard, not missed.
    const unsubscribe = this.options.stores.bus.subscribe((event) => {
      if (event.internal && event.event === RUN_ENDED_EVENT) {
        const payload = event.payload as { runId: string; end: RunEnd };
        if (payload.runId === runId) ended.resolve(payload.end);
      }
    });
    const timer = setTimeout(() => ended.resolve(undefined), timeoutMs);
    try {
      const stored = await this.options.stores.runs.get(runId);
      if (stored?.end) ended.resolve(stored.end);
      return await ended.promise;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }

  /**
   * Aborts one run of a session, or all of them (queued first), whichever replica runs them: the
   * request goes over the bus to the replica that owns each run. A waiting turn of another replica is
   * taken out of the turn queue here (its replica may be dead) and ends aborted; its replica, if alive,
   * finds it gone. Returns the run ids asked to abort.
   */
  async abort(sessionKey: string, runId?: string): Promise<string[]> {
    const [active, waiting] = await Promise.all([
      this.options.stores.runs.active(sessionKey),
      this.#turnQueue.list(sessionKey),
    ]);
    // A run of this process whose record a slow store has not written yet is still found.
    const local = this.runs.active(sessionKey).map((r) => r.runId);
    const stored = [...active.map((r) => r.runId), ...waiting.map((t) => t.runId)];
    const runIds = [...new Set([...local, ...stored])].filter((id) => runId === undefined || id === runId);
    const theirs = waiting.filter((turn) => runIds.includes(turn.runId) && !this.#runs.get(turn.runId));
    await Promise.all(
      theirs.map((turn) =>
        this.#endWaiting(turn, active.find((r) => r.runId === turn.runId), "aborted", {
          code: "INVALID_REQUEST",
          message: "run aborted before it started",
        })
      ),
    );
    if (runIds.length) {
      this.options.stores.bus.publish({
        event: RUN_ABORT_EVENT,
        payload: { sessionKey, runIds },
        sessionKey,
        internal: true,
      });
    }
    return runIds;
  }

  /**
   * Takes a waiting turn that will not run out of the queue (while `owner`, if given, owns it) and, if it
   * was there, records its run's end and tells every replica.
   */
  async #endWaiting(
    turn: QueuedTurn,
    stored: StoredRun | undefined,
    status: "aborted" | "error",
    error: ErrorShape,
    owner?: string,
  ): Promise<void> {
    if (!await this.#turnQueue.take(turn.sessionKey, turn.runId, owner)) return;
    const now = this.options.now();
    const { runId, sessionKey, agentId, acceptedAt } = turn;
    await this.#publishEnd(stored ?? { runId, sessionKey, agentId, acceptedAt, state: "queued" }, {
      runId,
      sessionKey,
      sessionId: "",
      agentId,
      status,
      startedAt: now,
      endedAt: now,
      error,
    });
  }

  /** Aborts the session's runs on every replica and waits for those of this one to end. */
  async stopRuns(key: string): Promise<void> {
    const running = this.runs.active(key);
    await this.abort(key);
    await Promise.all(running.map((run) => run.done));
  }

  /** Whether a turn of the session runs or waits on any replica. */
  async hasActiveRun(key: string): Promise<boolean> {
    return this.busy(key) || (await this.options.stores.runs.active(key)).length > 0;
  }

  /** The stored session with this full key, or `undefined` when there is none. */
  session(key: string): Promise<SessionEntry | undefined> {
    return this.options.stores.sessions.get(key);
  }

  /** Every stored session, ephemeral ones excepted (they are never stored). */
  listSessions(): Promise<SessionEntry[]> {
    return this.options.stores.sessions.list();
  }

  /** The transcript of a session's current `sessionId`. */
  async transcript(entry: SessionEntry): Promise<TranscriptEntry[]> {
    return await this.options.stores.transcripts.read({ agentId: entry.agentId, sessionId: entry.sessionId });
  }

  /**
   * Starts a fresh transcript under the same key; the old transcript stays on disk. Runs of the session
   * are aborted and awaited first, so none of them writes into the new session.
   */
  async resetSession(key: string, agentId: string): Promise<SessionEntry> {
    await this.stopRuns(key);
    const now = this.options.now();
    const previous = await this.options.stores.sessions.get(key);
    const entry: SessionEntry = {
      key,
      agentId: previous?.agentId ?? agentId,
      sessionId: this.#newId(),
      createdAt: now,
      updatedAt: now,
      inputTokens: 0,
      outputTokens: 0,
    };
    if (previous?.model) entry.model = previous.model;
    // A reset starts a new transcript, not a new session: what the operator set on it stays.
    for (const field of KEPT_ON_RESET) {
      if (previous?.[field] !== undefined) Object.assign(entry, { [field]: previous[field] });
    }
    await this.options.stores.sessions.put(entry);
    return entry;
  }

  /** Embeds with the agent's embedding model, or the `provider/model` in `model`. */
  async embed(
    agentId: string | undefined,
    model: string | undefined,
    input: string[],
    signal: AbortSignal,
  ): Promise<{ model: string; result: EmbeddingResult }> {
    const agent = this.agents().get(agentId);
    const resolved = this.providers().resolve(model ?? agent.embeddingModel);
    const result = await resolved.provider.embed({ model: resolved.model, input }, signal);
    return { model: resolved.ref, result };
  }

  #current(): { config: GatewayConfig; catalog: AgentCatalog; providers: ProviderRegistry } {
    const config = this.options.config();
    if (this.#snapshot?.config !== config) {
      this.#snapshot = {
        config,
        catalog: new AgentCatalog(config.agents),
        providers: new ProviderRegistry(config.models, {
          fetch: this.options.fetch,
          env: this.options.env,
          logger: this.options.logger,
          providers: this.options.providers,
        }),
      };
    }
    return this.#snapshot;
  }

  #emit(info: RunInfo, input: TurnInput, event: RunEvent): void {
    const deliver = (listener: () => void) => {
      try {
        listener();
      } catch (error) {
        this.options.logger.warn("run event listener failed", { runId: info.runId, error: String(error) });
      }
    };
    if (input.onEvent) deliver(() => input.onEvent!(event));
    for (const listener of this.#listeners) deliver(() => listener(info, event));
  }

  async #execute(info: RunInfo, input: TurnInput, start: TurnStart): Promise<RunOutcome> {
    const { agent, signal, recorded, reads } = start;
    const guard = this.#leaseGuard(info, start.holder);
    let modelRef = start.modelRef;
    const startedAt = this.options.now();
    // Start is announced before anything is written, so a write failure still ends in a lifecycle end.
    this.#emit(info, input, { type: "start", startedAt });
    const { session, created } = start.dequeued?.opened ?? await this.#openSession(info, startedAt, reads);
    // A model chosen for the session (`sessions.patch`) serves its turns unless the turn names one.
    if (input.model === undefined && session.modelOverride) {
      modelRef = this.providers().resolve(session.modelOverride).ref;
    }
    const ref = { agentId: session.agentId, sessionId: session.sessionId };
    const line = (message: ChatMessage, extra: Partial<NewTranscriptEntry> = {}) =>
      this.#line(info, message, extra);
    const { fresh, prior: priorRead, inputWritten } = this.#openTranscript(info, input, reads, {
      session,
      created,
    }, start.dequeued?.input);
    // Told only once the turn's first events are on the bus: the caller then writes (an idempotent call
    // stores its outcome), and a write in their batch would hold their delivery until it is durable.
    inputWritten.then(() => this.#published()).then(
      () => recorded.resolve(),
      (error) => recorded.reject(error),
    );
    const writeFailed = new AbortController();
    inputWritten.catch((error) => writeFailed.abort(error));
    const modelSignal = AbortSignal.any([signal, writeFailed.signal]);
    const prior = await priorRead;

    const system = [agent.systemPrompt, input.system].filter(Boolean).join("\n\n");
    const messages: ChatMessage[] = [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      ...prior.map(toMessage),
      ...input.messages,
    ];
    const { provider, model } = this.providers().resolve(modelRef);
    const request: ChatRequest = { ...input.params, model, messages };
    const { tools, toolRun } = reads;
    const specs = await reads.specs;
    const offered = new Set(specs.map((spec) => spec.name));
    if (specs.length) request.tools = specs;
    let acc = new ReplyAccumulator();
    let outcome: RunOutcome;
    try {
      let result: ChatResult;
      for (let step = 1;; step++) {
        acc = new ReplyAccumulator();
        result = await this.#callModel(provider, request, info, input, acc, modelSignal);
        const calls = result.toolCalls;
        if (!tools || step >= MAX_TOOL_STEPS || !calls.length || !calls.every((c) => offered.has(c.name))) {
          break;
        }
        await inputWritten;
        const turn = await this.#runTools(tools, toolRun, info, input, result, signal);
        const facts = replyFacts(modelRef, result, "ok");
        const stepLines = turn.map((m, i) => line(m, i === 0 ? facts : {}));
        if (!await this.#record(info, input, ref, stepLines, guard)) throw leaseLostError(info.sessionKey);
        request.messages = [...request.messages, ...turn];
      }
      outcome = this.#outcome(info, session, startedAt, modelRef, "ok", { result });
    } catch (error) {
      // The input could not be written: the turn fails as if it never reached the model.
      if (writeFailed.signal.aborted) throw writeFailed.signal.reason;
      const aborted = signal.aborted &&
        !(signal.reason instanceof DOMException && signal.reason.name === "TimeoutError");
      const cause = signal.aborted && !aborted
        ? new GatewayError(
          "AGENT_TIMEOUT",
          `agent '${agent.id}' did not finish within ${agent.timeoutMs / 1000} s`,
        )
        : error;
      if (!aborted && !isAbort(cause)) {
        this.options.logger.warn("agent run failed", { runId: info.runId, error: String(error) });
      }
      outcome = this.#outcome(info, session, startedAt, modelRef, aborted ? "aborted" : "error", {
        result: acc.text ? acc.result() : undefined,
        cause,
      });
    }
    await inputWritten;
    const reply = outcome.result;
    if (!info.ephemeral) {
      const lines: NewTranscriptEntry[] = [];
      if (reply && (reply.text || reply.toolCalls.length)) {
        const message: ChatMessage = { role: "assistant", content: reply.text };
        if (reply.toolCalls.length) message.toolCalls = reply.toolCalls;
        lines.push(line(message, replyFacts(modelRef, reply, outcome.status)));
      }
      // Not with events still in flight (a model that answered at once): they would wait for the fsync.
      await this.#published();
      // Sent together (one round trip, one fsync on Redis): the row's counts never wait for the reply's line.
      const [written] = await Promise.all([
        this.#record(info, input, ref, lines, guard),
        this.#recordRun(session, outcome, fresh, guard),
      ]);
      // The lease ran out unnoticed (a stalled event loop): another replica may write the session now.
      if (!written) {
        outcome = this.#outcome(info, session, startedAt, modelRef, "error", {
          cause: leaseLostError(info.sessionKey),
        });
      }
    }
    this.#emit(info, input, { type: "end", outcome });
    // The lease goes back only once the end's events are on the bus.
    await this.#published();
    return outcome;
  }

  /**
   * Settles once the events published so far are on the bus. A store write sent in their batch would
   * hold their delivery until it is durable (Redis answers a batch, and sends its pub/sub messages,
   * only after the batch's fsync), so a turn's writes wait for its events in flight.
   */
  async #published(): Promise<void> {
    await this.options.stores.bus.flush?.();
  }

  /**
   * Reads what the session said before this turn and writes the turn's input (unless it went with the
   * lease attempt). The input becomes durable while the model already works on it, which keeps the disk
   * off the time to first token: a crash still loses at most this turn, and the reply is written after it.
   */
  #openTranscript(
    info: RunInfo,
    input: TurnInput,
    reads: TurnReads,
    { session, created }: { session: SessionEntry; created: boolean },
    moved?: TurnReads["input"],
  ): { fresh: ChatMessage[]; prior: Promise<TranscriptEntry[]>; inputWritten: Promise<void> } {
    const ref = { agentId: session.agentId, sessionId: session.sessionId };
    if (!info.ephemeral) this.#transcriptSeen(info.sessionKey, ref);
    const context = input.context ?? "session";
    const guessed = reads.transcript?.ref.agentId === ref.agentId &&
        reads.transcript.ref.sessionId === ref.sessionId
      ? reads.transcript
      : undefined;
    // Unless read with the lease attempt, sent before the input's append: one round trip carries both.
    const prior = context === "session" && !info.ephemeral && !created
      ? guessed?.entries ?? this.options.stores.transcripts.read(ref)
      : Promise.resolve([]);
    const fresh = context === "request" ? newTail(input.messages) : input.messages;
    const early = moved ?? (guessed && reads.input);
    const inputLines = early ? early.lines : fresh.map((m) => this.#line(info, m));
    const inputWritten = (async () => {
      const added = early && await early.added;
      if (added) return this.#announce(info, input, added);
      // A new session's entry goes first: a crash must not orphan lines under an id no one knows.
      if (created && !info.ephemeral) await this.options.stores.sessions.put(session);
      await this.#record(info, input, ref, inputLines);
    })();
    // A store that serves the read after the append starts would list this turn's lines too.
    const own = new Set(inputLines.map((l) => l.id));
    return { fresh, prior: quiet(prior.then((lines) => lines.filter((l) => !own.has(l.id)))), inputWritten };
  }

  /**
   * Sends the reads a turn starts with, to travel with an attempt at its session's lease: the session's
   * entry, the transcript this replica last saw it use (on the guess that it is still current; the turn
   * checks it against the entry), and the specs of the host's tools it is offered (none for HTTP
   * clients and turns that bring their own).
   */
  #readAhead(info: RunInfo, input: TurnInput, holder: string, early: boolean): TurnReads {
    const toolRun: ToolRunContext = {
      runId: info.runId,
      sessionKey: info.sessionKey,
      agentId: info.agentId,
      ...(input.origin.external ? { external: true } : {}),
    };
    const tools = input.origin.kind !== "http" && !input.params?.tools?.length ? this.#tools : undefined;
    const reads: TurnReads = {
      tools,
      toolRun,
      specs: quiet((async () => (await tools?.specs(toolRun)) ?? [])()),
    };
    if (info.ephemeral) return reads;
    reads.session = quiet(this.options.stores.sessions.get(info.sessionKey));
    if ((input.context ?? "session") !== "session") return reads;
    const { transcripts } = this.options.stores;
    const guess = this.#transcripts.get(info.sessionKey);
    const appendIfHeld = early ? transcripts.appendIfHeld?.bind(transcripts) : undefined;
    if (!guess && !appendIfHeld) return reads;
    // No guess (a session new to this replica): the turn proposes a new session, stored with its input
    // in the same step if the session has no entry yet. If it has, the turn reads it after all.
    const proposed = guess ? undefined : this.#newSession(info, this.options.now());
    const ref = guess ?? { agentId: proposed!.agentId, sessionId: proposed!.sessionId };
    reads.transcript = { ref, entries: guess ? quiet(transcripts.read(ref)) : Promise.resolve([]) };
    if (appendIfHeld) {
      // Written only if this attempt gets the lease and the guess is right, checked in the same step.
      const lines = input.messages.map((message) => this.#line(info, message));
      const guard: AppendGuard = { ...this.#leaseGuard(info, holder), sessionKey: info.sessionKey };
      // Sent before the claim is answered: lands only if the turn is not a duplicate.
      if (input.claim?.guard) guard.claim = input.claim.guard;
      if (proposed) guard.create = reads.proposed = proposed;
      reads.input = { lines, added: quiet(appendIfHeld(ref, lines, guard)) };
    }
    return reads;
  }

  /** A transcript line of this run; the store numbers it as it appends it. */
  #line(info: RunInfo, message: ChatMessage, extra: Partial<NewTranscriptEntry> = {}): NewTranscriptEntry {
    return {
      id: this.#newId(),
      ts: this.options.now(),
      runId: info.runId,
      ...fromMessage(message),
      ...extra,
    };
  }

  /** Remembers the transcript a session uses, most recent last, forgetting the oldest past the cap. */
  #transcriptSeen(sessionKey: string, ref: TranscriptRef): void {
    this.#transcripts.delete(sessionKey);
    this.#transcripts.set(sessionKey, ref);
    if (this.#transcripts.size > TRANSCRIPT_GUESSES) {
      this.#transcripts.delete(this.#transcripts.keys().next().value!);
    }
  }

  /** One model step: streamed (emitting output events) unless the turn asked for a whole reply. */
  async #callModel(
    provider: ModelProvider,
    request: ChatRequest,
    info: RunInfo,
    input: TurnInput,
    acc: ReplyAccumulator,
    signal: AbortSignal,
  ): Promise<ChatResult> {
    if (input.stream === false) return await provider.completeChat(request, signal);
    for await (const event of provider.streamChat(request, signal)) {
      acc.add(event);
      this.#emit(info, input, { type: "output", event, text: acc.text });
    }
    return acc.result();
  }

  /** Executes the tool calls of one model step; returns the assistant message and one result per call. */
  async #runTools(
    tools: AgentToolHost,
    run: ToolRunContext,
    info: RunInfo,
    input: TurnInput,
    step: ChatResult,
    signal: AbortSignal,
  ): Promise<ChatMessage[]> {
    const turn: ChatMessage[] = [{ role: "assistant", content: step.text, toolCalls: step.toolCalls }];
    for (const call of step.toolCalls) {
      signal.throwIfAborted();
      this.#emit(info, input, { type: "tool", phase: "start", call });
      const { output, isError } = await tools.execute(call, run, signal);
      this.#emit(info, input, { type: "tool", phase: "result", call, output, isError });
      turn.push({ role: "tool", content: output, toolCallId: call.id, name: call.name });
    }
    return turn;
  }

  /**
   * Appends lines to a durable session's transcript and reports each one; with `guard`, only while the
   * turn's lease holds (when the store can check it). False when the guard refused them.
   */
  async #record(
    info: RunInfo,
    input: TurnInput,
    ref: TranscriptRef,
    lines: NewTranscriptEntry[],
    guard?: AppendGuard,
  ): Promise<boolean> {
    if (info.ephemeral || !lines.length) return true;
    const { transcripts } = this.options.stores;
    const added = guard && transcripts.appendIfHeld
      ? await transcripts.appendIfHeld(ref, lines, guard)
      : await transcripts.append(ref, lines);
    if (added) this.#announce(info, input, added);
    return added !== undefined;
  }

  /** What a write of the turn requires: its session's lease, held under `holder`. */
  #leaseGuard(info: RunInfo, holder: string): AppendGuard {
    return { lease: sessionLeaseKey(info.sessionKey), owner: holder };
  }

  /** Reports lines the store appended. */
  #announce(info: RunInfo, input: TurnInput, added: readonly TranscriptEntry[]): void {
    for (const entry of added) this.#emit(info, input, { type: "message", entry });
  }

  /** A run that never started: aborted or timed out while queued, or the session could not open. */
  #queuedFailure(info: RunInfo, input: TurnInput, error: unknown, signal: AbortSignal): RunOutcome {
    if (!signal.aborted) {
      this.options.logger.error("agent run failed outside the model call", {
        runId: info.runId,
        error: String(error),
      });
    }
    const outcome = this.#queuedOutcome(info, error, signal);
    this.#emit(info, input, { type: "end", outcome });
    return outcome;
  }

  /** How a run that never started ended, told to no one (a duplicate's is dropped silently). */
  #queuedOutcome(info: RunInfo, error: unknown, signal: AbortSignal): RunOutcome {
    const now = this.options.now();
    const aborted = signal.aborted;
    return {
      runId: info.runId,
      sessionKey: info.sessionKey,
      sessionId: "",
      agentId: info.agentId,
      status: aborted ? "aborted" : "error",
      startedAt: now,
      endedAt: now,
      error: aborted
        ? { code: "INVALID_REQUEST", message: "run aborted before it started" }
        : toErrorShape(error),
      cause: error,
    };
  }

  #outcome(
    info: RunInfo,
    session: SessionEntry,
    startedAt: number,
    model: string,
    status: RunOutcome["status"],
    extra: { result?: ChatResult; cause?: unknown },
  ): RunOutcome {
    const outcome: RunOutcome = {
      runId: info.runId,
      sessionKey: info.sessionKey,
      sessionId: session.sessionId,
      agentId: session.agentId,
      status,
      startedAt,
      endedAt: this.options.now(),
      model,
    };
    if (extra.result) outcome.result = extra.result;
    if (status === "aborted") outcome.error = { code: "INVALID_REQUEST", message: "run aborted" };
    else if (extra.cause !== undefined) outcome.error = toErrorShape(extra.cause);
    if (extra.cause !== undefined) outcome.cause = extra.cause;
    return outcome;
  }

  /**
   * The run's session entry (its read sent with the lease's attempt, if any); a `created` one is the
   * proposed one, if any, and written with the run's input.
   */
  async #openSession(
    info: RunInfo,
    now: number,
    reads: TurnReads,
  ): Promise<{ session: SessionEntry; created: boolean }> {
    const existing = info.ephemeral
      ? undefined
      : await (reads.session ?? this.options.stores.sessions.get(info.sessionKey));
    if (existing) return { session: existing, created: false };
    return { session: reads.proposed ?? this.#newSession(info, now), created: true };
  }

  /** A new session entry under the run's key, with a transcript of its own. */
  #newSession(info: RunInfo, now: number): SessionEntry {
    return {
      key: info.sessionKey,
      agentId: info.agentId,
      sessionId: this.#newId(),
      createdAt: now,
      updatedAt: now,
      inputTokens: 0,
      outputTokens: 0,
    };
  }

  /** Applies the finished run to its session's row; with `guard`, only while the turn's lease holds. */
  async #recordRun(
    session: SessionEntry,
    outcome: RunOutcome,
    fresh: ChatMessage[],
    guard?: AppendGuard,
  ): Promise<void> {
    const usage = outcome.result?.usage;
    const preview = outcome.result?.text || fresh.at(-1)?.content;
    const { sessions } = this.options.stores;
    const update: SessionRunUpdate = {
      sessionId: session.sessionId,
      updatedAt: outcome.endedAt,
      model: outcome.model,
      lastRunId: outcome.runId,
      lastRunState: endState(outcome),
      lastActivityAt: outcome.endedAt,
      ...(preview ? { lastMessagePreview: preview.slice(0, 200) } : {}),
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
    };
    if (guard && sessions.recordRunIfHeld) await sessions.recordRunIfHeld(session.key, update, guard);
    else await sessions.recordRun(session.key, update);
  }

  /**
   * Keeps a run's record in the run store: accepted now (queued or already running), then running,
   * then ended. The writes go one after another, so a slow store never sees them out of order. With a
   * pending `claim`, the first is sent at once under its guard, with the claim's own round trip, and
   * lands only if this call holds the key; a duplicate (`claimed` false) writes no more: its run id is
   * the first's.
   */
  #trackRun(
    stored: StoredRun,
    activeTtlMs: number,
    claim?: { guard?: ClaimGuard; claimed: Promise<boolean> },
  ): { running(): void; ended(outcome: RunOutcome): void } {
    let live = true;
    let writes: Promise<unknown> = this.#putRun(stored, activeTtlMs, claim?.guard);
    if (claim) writes = Promise.all([writes, claim.claimed.then((won) => live = won)]);
    return {
      running: () => {
        if (stored.state !== "queued") return;
        writes = writes.then(() =>
          live ? this.#putRun({ ...stored, state: "running" }, activeTtlMs) : undefined
        );
      },
      ended: (outcome) => {
        writes = writes.then(() => live ? this.#publishEnd(stored, outcome) : undefined);
      },
    };
  }

  /** Records a run's state in the run store; a store failure is logged, never fails the run. */
  async #putRun(run: StoredRun, ttlMs: number, claim?: ClaimGuard): Promise<void> {
    try {
      await this.options.stores.runs.put(run, ttlMs, claim);
    } catch (error) {
      this.options.logger.warn("run store write failed", { runId: run.runId, error: String(error) });
    }
  }

  /** Records a run's end, then tells every replica (their `agent.wait` callers) it ended. */
  async #publishEnd(stored: StoredRun, outcome: RunOutcome): Promise<void> {
    const end: RunEnd = { status: outcome.status, startedAt: outcome.startedAt, endedAt: outcome.endedAt };
    if (outcome.error) end.error = outcome.error;
    if (outcome.sessionId) end.sessionId = outcome.sessionId;
    if (outcome.model) end.model = outcome.model;
    if (outcome.result) {
      const { text, finishReason, usage } = outcome.result;
      end.reply = usage ? { text, finishReason, usage } : { text, finishReason };
    }
    await this.#putRun({ ...stored, state: outcome.status, end }, FINISHED_RUN_TTL_MS);
    this.options.stores.bus.publish({
      event: RUN_ENDED_EVENT,
      payload: { runId: stored.runId, end },
      sessionKey: stored.sessionKey,
      internal: true,
    });
  }

  /** Abort requests from any replica reach the runs of this one. */
  #onBusEvent(event: BusEvent): void {
    if (!event.internal || event.event !== RUN_ABORT_EVENT) return;
    for (const runId of (event.payload as { runIds: string[] }).runIds) {
      this.#runs.get(runId)?.controller.abort(new GatewayError("INVALID_REQUEST", "run aborted"));
    }
  }
}

/** How long a dead replica's waiting turn that no replica can run (its agent or model unknown) is kept. */
const ORPHAN_TTL_MS = 60 * 60_000;
/** How many times a turn whose input stays queued after a failure is run again here before it is left. */
const MAX_RESTARTS = 3;
/** How long a failed withdrawal from the turn queue waits before it is tried again. */
const WITHDRAW_RETRY_MS = 2_000;

/** Why a turn whose call lost its idempotency claim (a duplicate) stopped; no one is told. */
function claimLost(): GatewayError {
  return new GatewayError("UNAVAILABLE", "another call holds this idempotency key", { retryable: true });
}

/** The session fields an operator set that outlive a reset. */
const KEPT_ON_RESET = [
  "label",
  "displayName",
  "icon",
  "color",
  "category",
  "pinnedAt",
  "archivedAt",
  "modelOverride",
  "createdVia",
] as const;

function endState(outcome: RunOutcome): RunEndState {
  if (outcome.status === "ok") return "done";
  if (outcome.status === "aborted") return "killed";
  return outcome.error?.code === "AGENT_TIMEOUT" ? "timeout" : "failed";
}

/** The messages after the last assistant message: what a client-managed conversation adds this turn. */
function newTail(messages: ChatMessage[]): ChatMessage[] {
  const lastAssistant = messages.findLastIndex((m) => m.role === "assistant");
  return messages.slice(lastAssistant + 1).filter((m) => m.role !== "system");
}

function fromMessage(
  message: ChatMessage,
): Pick<TranscriptEntry, "role" | "content" | "toolCalls" | "toolCallId"> {
  const entry: Pick<TranscriptEntry, "role" | "content" | "toolCalls" | "toolCallId"> = {
    role: message.role,
    content: message.content,
  };
  if (message.toolCalls?.length) entry.toolCalls = message.toolCalls;
  if (message.toolCallId) entry.toolCallId = message.toolCallId;
  return entry;
}

function toMessage(entry: TranscriptEntry): ChatMessage {
  const message: ChatMessage = { role: entry.role, content: entry.content };
  if (entry.toolCalls?.length) message.toolCalls = entry.toolCalls;
  if (entry.toolCallId) message.toolCallId = entry.toolCallId;
  return message;
}

/** The reference's stop reasons for a model's finish reason (its OpenAI mapping). */
const STOP_REASONS: Record<ChatResult["finishReason"], string> = {
  stop: "stop",
  length: "length",
  tool_calls: "toolUse",
  content_filter: "error",
};

/**
 * What an assistant line records about the reply: the model that wrote it, its token counts when the
 * provider reported them, and why it stopped (a turn that did not finish normally says so instead).
 */
function replyFacts(
  modelRef: string,
  reply: ChatResult,
  status: RunOutcome["status"],
): Partial<NewTranscriptEntry> {
  const facts: Partial<NewTranscriptEntry> = {
    model: modelRef,
    stopReason: status === "ok" ? STOP_REASONS[reply.finishReason] ?? "stop" : status,
  };
  if (reply.usage) facts.usage = reply.usage;
  return facts;
}

/** What the turn queue keeps of a waiting turn. */
function queuedTurn(info: RunInfo, input: TurnInput, acceptedAt: number, owner: string): QueuedTurn {
  const turn: QueuedTurn = {
    runId: info.runId,
    sessionKey: info.sessionKey,
    agentId: info.agentId,
    messages: input.messages,
    origin: info.origin,
    acceptedAt,
    owner,
  };
  if (input.system) turn.system = input.system;
  if (input.model) turn.model = input.model;
  return turn;
}

/** The turn a queued one stands for, run by a replica other than the one that accepted it. */
function resumedInput(turn: QueuedTurn): TurnInput {
  return {
    sessionKey: turn.sessionKey,
    agentId: turn.agentId,
    messages: turn.messages,
    system: turn.system,
    model: turn.model,
    origin: turn.origin,
    runId: turn.runId,
  };
}
