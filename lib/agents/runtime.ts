/**
 * Runs agent turns: picks the agent and model, schedules the turn behind its session (and its lease
 * across replicas), starts and ends it, and aborts and waits for runs of any replica. A turn once its
 * lease is held is `turn-executor.ts`'s, its way through the turn queue `waiting-turns.ts`'s and its run
 * record `run-ledger.ts`'s. WS methods and the OpenAI-compatible HTTP routes both run turns through here.
 *
 * @module
 */
import type { BusEvent } from "../bus/types.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { DEFAULT_MAX_QUEUED_RUNS_PER_CONNECTION } from "../config/sections/gateway.ts";
import { type ErrorShape, GatewayError, toErrorShape } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { ProviderRegistry } from "../providers/registry.ts";
import type { EmbeddingResult, FetchLike, ModelProvider } from "../providers/types.ts";
import type { PeerRegistry } from "../state/peers.ts";
import { FINISHED_RUN_TTL_MS, type RunOutcome, type StoredRun } from "../state/runs.ts";
import type { SessionEntry, TranscriptEntry } from "../state/sessions.ts";
import { SINGLETON_LEASE_TTL_MS } from "../state/singleton.ts";
import { MemoryTurnQueue, type QueuedTurn } from "../state/turn-queue.ts";
import { timeoutSignal } from "../timeout-signal.ts";
import { AgentCatalog, type ResolvedAgent } from "./catalog.ts";
import { RunLedger } from "./run-ledger.ts";
import { type LiveRuns, type RunRecord, RunRegistry } from "./runs.ts";
import { RunScheduler, type ScheduledRun } from "./scheduler.ts";
import {
  sessionLeaseKey,
  type SessionLeaseOptions,
  SessionLeases,
  sessionLeaseTtlOf,
} from "./session-lease.ts";
import type { AgentToolHost } from "./tool-host.ts";
import { TurnExecutor, type TurnReads, type TurnStart } from "./turn-executor.ts";
import type {
  AgentStores,
  RunEvent,
  RunEventListener,
  RunEventRenderer,
  RunHandle,
  RunInfo,
  TurnInput,
  WaitResult,
} from "./turn-types.ts";
import { queuedTurn, resumedInput, TakenOver, type TurnQueueing, WaitingTurns } from "./waiting-turns.ts";

export type {
  AgentStores,
  RunEvent,
  RunEventListener,
  RunEventRenderer,
  RunHandle,
  RunInfo,
  RunOrigin,
  TurnInput,
  TurnParams,
  WaitResult,
} from "./turn-types.ts";
export { RUN_ENDED_EVENT } from "./run-ledger.ts";

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
  /**
   * The replicas alive: with it, `chat.abort` ends at once a running run whose replica is gone (no
   * replica would act on its abort request). Without it no replica is taken for dead.
   */
  peers?: PeerRegistry;
}

/** A turn being started, as `AgentRuntime.#start` hands it to the steps that schedule, run and end it. */
interface Starting {
  info: RunInfo;
  input: TurnInput;
  agent: ResolvedAgent;
  modelRef: string;
  /** Aborts the turn: `chat.abort`, a duplicate's lost claim, a lost lease, a failed queue write. */
  controller: AbortController;
  timeout: ReturnType<typeof timeoutSignal>;
  /** The controller's, the timeout's and the caller's signals together. */
  signal: AbortSignal;
  /** Settled once the turn's input is durable (or could not be written). */
  recorded: PromiseWithResolvers<void>;
  acceptedAt: number;
  /** Whether the turn is not a duplicate; unset when its call held its key before it started. */
  claimed?: Promise<boolean>;
  /** Its queued turn, when it runs from the queue at once; see `AgentRuntime.#start`. */
  resumed?: QueuedTurn;
  restarts: number;
  /** Read along with the lease's latest attempt; dropped when the turn has to wait. */
  reads?: TurnReads;
  /** The turn's lease was lost (rather than the turn told to stop). */
  leaseGone: boolean;
}

/** Runs turns and answers questions about sessions. */
export class AgentRuntime {
  readonly #runs = new RunRegistry();
  readonly #ledger: RunLedger;
  readonly #executor: TurnExecutor;
  readonly #scheduler: RunScheduler;
  readonly #listeners = new Set<RunEventListener>();
  /** The renderer of the listener that publishes run events on the bus, if any. */
  #render: RunEventRenderer | undefined;
  readonly #newId: () => string;
  readonly #unsubscribe: () => void;
  /** Who holds this runtime's session leases. */
  readonly #leaseOwner = crypto.randomUUID();
  readonly #replicaId: string;
  readonly #waiting: WaitingTurns;
  /** Aborted runs of other replicas, checked again once a dead replica has dropped out of the peers. */
  readonly #abortChecks = new Set<ReturnType<typeof setTimeout>>();
  #tools: AgentToolHost | undefined;
  #snapshot: { config: GatewayConfig; catalog: AgentCatalog; providers: ProviderRegistry } | undefined;

  /** Subscribes to the bus at once, so {@link AgentRuntime.close} must follow. */
  constructor(private readonly options: AgentRuntimeOptions) {
    this.#newId = options.newId ?? (() => crypto.randomUUID());
    this.#replicaId = options.replicaId ?? this.#leaseOwner;
    this.#ledger = new RunLedger(options.stores, options.logger);
    this.#executor = new TurnExecutor({
      stores: options.stores,
      now: options.now,
      logger: options.logger,
      newId: this.#newId,
      providers: () => this.providers(),
      tools: () => this.#tools,
      emit: (info, input, event, published) => this.#emit(info, input, event, published),
      render: (info, events) => this.#render?.(info, events),
    });
    this.#waiting = new WaitingTurns({
      queue: options.stores.turnQueue ?? new MemoryTurnQueue(),
      replicaId: this.#replicaId,
      stores: options.stores,
      peers: () => options.peers,
      now: options.now,
      logger: options.logger,
      executor: this.#executor,
    });
    const logger = options.logger;
    this.#scheduler = new RunScheduler(
      new SessionLeases({
        store: options.stores.leases,
        owner: this.#leaseOwner,
        ttlMs: () => sessionLeaseTtlOf(options.config().gateway?.cluster),
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
    for (const timer of this.#abortChecks) clearTimeout(timer);
    this.#waiting.close();
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

  /**
   * Sees every event of every run. `render`, from the listener that publishes them on the bus, lets a
   * turn publish its end's events along with its last writes (then told to it as `published`).
   */
  onRunEvent(listener: RunEventListener, render?: RunEventRenderer): () => void {
    this.#listeners.add(listener);
    // One slot: the gateway registers one bus bridge per runtime, the only listener that publishes. With
    // none left (or a second replacing it), turns only lose the shortcut: they write, then publish.
    if (render) this.#render = render;
    return () => {
      this.#listeners.delete(listener);
      if (this.#render === render) this.#render = undefined;
    };
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
    const queue = this.#waiting.queue;
    for (const sessionKey of await queue.sessions()) {
      for (const turn of await queue.list(sessionKey)) {
        if (alive.has(turn.owner) || turn.owner === this.#replicaId) break;
        if (!await this.#resumeOrphan(turn)) break;
      }
    }
  }

  /**
   * Ends the running runs of replicas not in `alive` (they died mid-turn): each with a retryable error
   * once its session's lease, which a live replica running it would hold, is free, so `agent.wait`
   * answers and the session's clients hear the run failed. The lease is held while ending it.
   */
  async endOrphanedRuns(alive: ReadonlySet<string>): Promise<void> {
    for (const run of await this.options.stores.runs.running()) {
      if (!run.replicaId || alive.has(run.replicaId) || run.replicaId === this.#replicaId) continue;
      const leases = this.options.stores.leases;
      const key = sessionLeaseKey(run.sessionKey);
      const token = await leases.acquire(key, `${this.#leaseOwner}/orphans`, ORPHAN_END_LEASE_MS);
      if (token === null) continue;
      try {
        await this.#endOrphan(run, "error", replicaStopped());
      } finally {
        await leases.release(key, token);
      }
    }
  }

  /** Ends another replica's run as `status` unless it ended or was taken over; tells its session's clients. */
  async #endOrphan(run: StoredRun, status: "aborted" | "error", error: GatewayError): Promise<void> {
    const now = this.options.now();
    const { runId, sessionKey, agentId } = run;
    const outcome: RunOutcome = {
      runId,
      sessionKey,
      sessionId: "",
      agentId,
      status,
      startedAt: run.acceptedAt,
      endedAt: now,
      error: toErrorShape(error),
    };
    if (!await this.#ledger.endOrphan(run, outcome)) return;
    this.options.logger.warn("ended a run whose replica is gone", {
      runId,
      replicaId: run.replicaId,
      status,
    });
    const info: RunInfo = {
      runId,
      sessionKey,
      agentId,
      origin: { kind: "agent" },
      ephemeral: run.ephemeral ?? false,
    };
    this.#emit(info, undefined, { type: "end", outcome });
  }

  /** Runs (or drops) one waiting turn of a dead replica; false when the session's later turns must wait. */
  async #resumeOrphan(turn: QueuedTurn): Promise<boolean> {
    if (this.#runs.get(turn.runId)) return true;
    const stored = await this.options.stores.runs.get(turn.runId);
    if (stored?.end) {
      await this.#waiting.queue.take(turn.sessionKey, turn.runId, turn.owner);
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
    const turn = this.#starting(input, agent, model.ref, { resumed, restarts });
    const { info, claimed, controller, acceptedAt } = turn;
    const queue = this.#waiting.queueing(info, input, turn);
    // The scheduler calls back only after it returned, by which time `record` and `tracked` exist.
    const begin = (leaseLost: AbortSignal, holder: string) =>
      this.#begin(turn, queue, { leaseLost, holder }, {
        running: () => record.state = "running",
        started: () => tracked.running(),
        ended,
      });
    const scheduled = this.#scheduler.schedule(run, turn.signal, (leaseLost, holder) =>
      // The claim was answered with the lease attempt: a duplicate gives the lease back unused.
      claimed
        ? claimed.then((won) => won ? begin(leaseLost, holder) : Promise.reject(claimLost()))
        : begin(leaseLost, holder), {
      // Another replica runs this session: its caller is answered once the input is queued, not after
      // that replica's turn. What the first attempt read is stale by then.
      onWait: () => {
        queue.enqueue();
        turn.reads = undefined;
      },
      onAttempt: (holder) => turn.reads = this.#executor.readAhead(info, input, holder, !queue.queued),
    });
    if (scheduled.waiting) queue.enqueue();
    // A run that starts at once is recorded as running straight away: one store write fewer per turn.
    const stored: StoredRun = {
      runId: info.runId,
      sessionKey: input.sessionKey,
      agentId: agent.id,
      acceptedAt,
      state: scheduled.waiting ? "queued" : "running",
      replicaId: this.#replicaId,
    };
    if (info.ephemeral) stored.ephemeral = true;
    if (input.request !== undefined) stored.request = input.request;
    // The first record goes now, ahead of the lease attempt (the scheduler starts nothing before `schedule`
    // returned): when it finds the run's record, its mark on the claim is there for the input's append.
    const tracked = this.#ledger.track(
      stored,
      agent.timeoutMs + FINISHED_RUN_TTL_MS,
      claimed && { guard: input.claim?.guard, claimed },
    );
    // A turn whose input was never saved had its caller told to retry: its end leaves the run id to it.
    let unsaved = false;
    turn.recorded.promise.catch(() => unsaved = true);
    let told = false;
    function ended(outcome: RunOutcome): void {
      if (told || queue.elsewhere || queue.keeping) return;
      told = true;
      tracked.ended(outcome, unsaved);
    }
    const done = this.#ending(turn, queue, scheduled.done);
    done.then(ended);
    const record: RunRecord = { ...stored, controller, done };
    // A turn run ahead of its claim is this replica's run only once the claim is won: a duplicate (the
    // same call sent again here) must not take the place of the turn that carries its run id.
    if (claimed) claimed.then((won) => won && this.#runs.add(record));
    else this.#runs.add(record);
    return {
      runId: info.runId,
      acceptedAt,
      sessionKey: input.sessionKey,
      agentId: agent.id,
      done,
      recorded: turn.recorded.promise,
      waiting: scheduled.waiting,
      recordRefused: tracked.refused,
    };
  }

  /** What a turn starts with before it is scheduled: its id, its signals, and whether it is a duplicate. */
  #starting(
    input: TurnInput,
    agent: ResolvedAgent,
    modelRef: string,
    { resumed, restarts }: { resumed?: QueuedTurn; restarts: number },
  ): Starting {
    const controller = new AbortController();
    const timeout = timeoutSignal(agent.timeoutMs);
    const signals = [controller.signal, timeout.signal];
    if (input.signal) signals.push(input.signal);
    const info: RunInfo = {
      runId: input.runId ?? this.#newId(),
      sessionKey: input.sessionKey,
      agentId: agent.id,
      origin: input.origin,
      ephemeral: input.ephemeral ?? false,
    };
    if (input.delivery) info.delivery = input.delivery;
    // Whether the turn is not a duplicate; unset when its call held its key before it started.
    const claimed = input.claim?.won.catch(() => false);
    // A duplicate stops waiting for its lease at once.
    claimed?.then((won) => won || controller.abort(claimLost()));
    return {
      info,
      input,
      agent,
      modelRef,
      controller,
      timeout,
      signal: AbortSignal.any(signals),
      recorded: Promise.withResolvers<void>(),
      acceptedAt: resumed?.acceptedAt ?? this.options.now(),
      claimed,
      resumed,
      restarts,
      leaseGone: false,
    };
  }

  /**
   * Runs a turn once it holds its session's lease (under `holder`): a waiting turn's input moves from
   * the queue into the transcript first; `running` is told just before the turn executes, `started`
   * right after it published its start (the executor does before its first await).
   */
  async #begin(
    turn: Starting,
    queue: TurnQueueing,
    { leaseLost, holder }: { leaseLost: AbortSignal; holder: string },
    { running, started, ended }: { running(): void; started(): void; ended(outcome: RunOutcome): void },
  ): Promise<RunOutcome> {
    const { info, input, controller } = turn;
    // A run whose lease is lost stops as if aborted: another replica may run the session now.
    leaseLost.addEventListener("abort", () => {
      turn.leaseGone = !controller.signal.aborted;
      controller.abort(leaseLost.reason);
    }, { once: true });
    // What the turn reads first goes along with the first attempt at its lease (one round trip on Redis);
    // a turn that had to wait reads it once it holds the lease.
    turn.reads ??= this.#executor.readAhead(info, input, holder, !queue.queued);
    const { agent, modelRef, signal, recorded, reads } = turn;
    const start: TurnStart = { agent, modelRef, signal, recorded, reads, holder };
    if (queue.queued) {
      await queue.queued;
      start.dequeued = await this.#waiting.dequeue(
        info,
        input,
        start,
        turn.resumed?.owner ?? this.#replicaId,
      );
      queue.moved = true;
    }
    running();
    const executed = this.#executor.execute(info, input, start);
    started();
    const outcome = await executed;
    // Told before the lease goes back, in the same tick: the run's end and the lease's release travel
    // together (one batch, one fsync on Redis) instead of one after the other's answer.
    ended(outcome);
    return outcome;
  }

  /**
   * How a scheduled turn ends: as it ran, or, when it never ran, as a duplicate (told no one), as the run
   * of the replica that took it over, run again here (its input still queued), or failed.
   */
  #ending(turn: Starting, queue: TurnQueueing, scheduled: Promise<RunOutcome>): Promise<RunOutcome> {
    const { info, input, claimed, controller, timeout, signal, recorded, resumed, restarts } = turn;
    // Whether the turn was told to stop (by its caller, its timeout, `chat.abort`, a failed queue write),
    // rather than failed on its own (a lease lost, a store that failed): only then is its input withdrawn.
    const stopped = () =>
      timeout.signal.aborted || input.signal?.aborted === true ||
      (controller.signal.aborted && !turn.leaseGone);
    const done = scheduled.catch(async (error) => {
      if (error instanceof TakenOver) {
        queue.elsewhere = true;
        return this.#endedElsewhere(info, turn.agent.timeoutMs);
      }
      // A duplicate's end is told to no one: the first call's run carries this run id.
      if (claimed && !(await claimed)) return this.#queuedOutcome(info, error, signal);
      // An acknowledged input stays queued: it runs again here, or (a resumed turn, or too many failures)
      // waits, its run unended, for the sweeper to run it once this replica is gone.
      const again = queue.kept(stopped()) && !resumed && restarts < MAX_RESTARTS &&
        this.#restart(info, input, turn.acceptedAt, { error, restarts });
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
    // Callers that do not wait for it must not see an unhandled rejection.
    recorded.promise.catch(() => {});
    return done;
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
   * How a turn that another replica took over ends here: as that replica's run (same id) ends, as
   * `agent.wait` hears it, with that run's session, model and reply. It cannot outlast its own agent's timeout there; a minute more covers the wait
   * for the session's lease.
   */
  async #endedElsewhere(info: RunInfo, timeoutMs: number): Promise<RunOutcome> {
    const end = await this.#ledger.end(info.runId, timeoutMs + 60_000);
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

  /**
   * How a run of any replica ended, once it ends, as `#endedElsewhere` tells it: the answer to a call
   * that this earlier run stands for (`standing-run.ts`).
   */
  outcomeOf(run: StoredRun): Promise<RunOutcome> {
    const { runId, sessionKey, agentId } = run;
    const info: RunInfo = { runId, sessionKey, agentId, origin: { kind: "agent" }, ephemeral: false };
    return this.#endedElsewhere(info, this.agents().get(agentId).timeoutMs);
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
    const end = await this.#ledger.end(runId, timeoutMs);
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

  /**
   * Aborts one run of a session, or all of them (queued first), whichever replica runs them: the
   * request goes over the bus to the replica that owns each run. A waiting turn of another replica is
   * taken out of the turn queue here (its replica may be dead) and ends aborted; its replica, if alive,
   * finds it gone. Returns the run ids asked to abort.
   */
  async abort(sessionKey: string, runId?: string): Promise<string[]> {
    const [active, waiting] = await Promise.all([
      this.options.stores.runs.active(sessionKey),
      this.#waiting.queue.list(sessionKey),
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
    const running = active.filter((r) =>
      r.state === "running" && r.replicaId && r.replicaId !== this.#replicaId && runIds.includes(r.runId)
    );
    if (running.length) await this.#abortElsewhere(running);
    return runIds;
  }

  /**
   * Running runs of other replicas asked to abort: those of a replica the peers no longer list are ended
   * here at once (none would act on the request); the others are looked at again once a peer's TTL has
   * passed, in case their replica died just now.
   */
  async #abortElsewhere(runs: StoredRun[], again = true): Promise<void> {
    const peers = this.options.peers;
    if (!peers) return;
    const alive = new Set((await peers.list()).map((peer) => peer.replicaId));
    const aborted = new GatewayError("INVALID_REQUEST", "run aborted");
    await Promise.all(
      runs.filter((r) => !alive.has(r.replicaId!)).map((r) => this.#endOrphan(r, "aborted", aborted)),
    );
    const later = runs.filter((r) => alive.has(r.replicaId!));
    if (!later.length || !again) return;
    const ttlMs = this.options.config().gateway?.cluster?.leaseTtlMs ?? SINGLETON_LEASE_TTL_MS;
    const timer = setTimeout(() => {
      this.#abortChecks.delete(timer);
      this.#abortElsewhere(later, false).catch((error) =>
        this.options.logger.warn("could not end an aborted run", { error: String(error) })
      );
    }, ttlMs + ABORT_RECHECK_MARGIN_MS);
    this.#abortChecks.add(timer);
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
    if (!await this.#waiting.queue.take(turn.sessionKey, turn.runId, owner)) return;
    const now = this.options.now();
    const { runId, sessionKey, agentId, acceptedAt } = turn;
    await this.#ledger.publishEnd(stored ?? { runId, sessionKey, agentId, acceptedAt, state: "queued" }, {
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

  #emit(info: RunInfo, input: TurnInput | undefined, event: RunEvent, published = false): void {
    const deliver = (listener: () => void) => {
      try {
        listener();
      } catch (error) {
        this.options.logger.warn("run event listener failed", { runId: info.runId, error: String(error) });
      }
    };
    if (input?.onEvent) deliver(() => input.onEvent!(event));
    for (const listener of this.#listeners) deliver(() => listener(info, event, published));
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
/** How long the lease taken to end a dead replica's run lasts, should this replica die holding it. */
const ORPHAN_END_LEASE_MS = 10_000;
/** How long after a peer's TTL an aborted run of a replica that looked alive is looked at again. */
const ABORT_RECHECK_MARGIN_MS = 500;
/** Why a run whose replica died mid-turn ended; its caller may send it again. */
function replicaStopped(): GatewayError {
  return new GatewayError("UNAVAILABLE", "the run ended: its replica stopped mid-turn; retry the turn", {
    retryable: true,
  });
}
/** How many times a turn whose input stays queued after a failure is run again here before it is left. */
const MAX_RESTARTS = 3;
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
