/**
 * The wait/queue path of a turn: a turn that has to wait for its session (queued behind a run here, or
 * another replica holds its lease) is answered once its input is in the turn queue, so the message
 * survives this replica. Once the turn holds the lease, its input moves from the queue into the
 * transcript; a turn that will not run is taken out again (retried on a timer if the store failed).
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { AppendGuard } from "../state/sessions.ts";
import type { QueuedTurn, TurnQueue } from "../state/turn-queue.ts";
import { leaseLostError } from "./session-lease.ts";
import { standingRun, type StandingRunSources } from "./standing-run.ts";
import { type Dequeued, quiet, type TurnExecutor, type TurnStart } from "./turn-executor.ts";
import type { AgentStores, RunInfo, TurnInput } from "./turn-types.ts";

/** A waiting turn whose input another replica took from the queue and runs under the same run id. */
export class TakenOver extends Error {}

/** How long a failed withdrawal from the turn queue waits before it is tried again. */
const WITHDRAW_RETRY_MS = 2_000;

/** A turn's way through the turn queue; see `WaitingTurns.queueing`. */
export type TurnQueueing = ReturnType<WaitingTurns["queueing"]>;

/** What the wait/queue path needs from its runtime. */
export interface WaitingTurnsOptions {
  /** Where waiting turns' inputs are kept. */
  queue: TurnQueue;
  /** The owner named on the turns this replica queues. */
  replicaId: string;
  /**
   * Where a moved input's session entry and lines go when the queue cannot move them itself, and the run
   * records that say whether an earlier attempt of a moved turn stands.
   */
  stores: Pick<AgentStores, "sessions" | "transcripts" | "runs">;
  /** Who is alive, for the same question (see `standing-run.ts`). */
  peers: StandingRunSources["peers"];
  /** The clock for a new session's timestamps, in ms since the epoch. */
  now: () => number;
  /** Where failed withdrawals are logged. */
  logger: Logger;
  /** Opens sessions and makes lines the way the turn's run does. */
  executor: Pick<TurnExecutor, "openSession" | "line" | "leaseGuard">;
}

/** This replica's waiting turns in the turn queue. */
export class WaitingTurns {
  /** By run id: turns whose withdrawal from the turn queue failed, tried again on a timer. */
  readonly #withdrawals = new Map<string, { sessionKey: string; runId: string; owner: string }>();
  #withdrawTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Queues and moves turns as `options` says. */
  constructor(private readonly options: WaitingTurnsOptions) {}

  /** The turn queue every replica shares. */
  get queue(): TurnQueue {
    return this.options.queue;
  }

  /** Stops retrying failed withdrawals. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#withdrawTimer);
    this.#withdrawTimer = undefined;
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
  queueing(
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
      await quiet(this.queue.enqueue(queuedTurn(info, input, acceptedAt, this.options.replicaId)));
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
            owner: resumed?.owner ?? this.options.replicaId,
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
  async dequeue(info: RunInfo, input: TurnInput, start: TurnStart, owner: string): Promise<Dequeued> {
    const opened = await this.options.executor.openSession(info, this.options.now(), start.reads);
    const { session, created } = opened;
    const ref = { agentId: session.agentId, sessionId: session.sessionId };
    const lines = input.messages.map((message) => this.options.executor.line(info, message));
    const turn = { sessionKey: info.sessionKey, runId: info.runId, owner };
    const queue = this.queue;
    // A new session's entry goes first, as for any turn: no line under an id no one knows. The move
    // stores it in the same step, under the lease, so a turn that lost its lease stores nothing.
    const guard: AppendGuard = {
      ...this.options.executor.leaseGuard(info, start.holder),
      sessionKey: info.sessionKey,
      inputOf: info.runId,
    };
    if (created && queue.moveIfHeld) guard.create = session;
    else if (created) await this.options.stores.sessions.put(session);
    const added = queue.moveIfHeld
      ? await queue.moveIfHeld(turn, ref, lines, guard)
      : (await queue.take(turn.sessionKey, turn.runId, turn.owner))
      ? await this.options.stores.transcripts.append(ref, lines, { inputOf: info.runId })
      : "gone";
    if (added === "gone") throw new TakenOver();
    if (!added) throw leaseLostError(info.sessionKey);
    if (added[0]?.id !== lines[0]?.id && await this.#ranBefore(info.runId)) throw new TakenOver();
    return { opened, input: { lines, added: Promise.resolve(added) } };
  }

  /**
   * Whether another attempt of the run, which saved its input in the transcript, stands (a retry of its
   * call raced the adoption of its queued copy: the copy ran while the retry waited, or the retry ran the
   * turn while the copy waited): this one then ends as that one does. An unended run of this replica
   * is this attempt, as far as it can tell.
   */
  async #ranBefore(runId: string): Promise<boolean> {
    const { stores: { runs }, replicaId, peers } = this.options;
    return await standingRun({ runs, replicaId, peers }, runId) !== undefined;
  }

  /**
   * Takes a turn that will not run out of the turn queue, while `owner` owns it. A store failure is
   * logged and the withdrawal tried again later: left behind, the turn would hold up its session's
   * orphans while this replica lives, and run once it died.
   */
  #withdraw(turn: { sessionKey: string; runId: string; owner: string }): void {
    this.queue.take(turn.sessionKey, turn.runId, turn.owner).then(
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
}

/** What the turn queue keeps of a waiting turn. */
export function queuedTurn(info: RunInfo, input: TurnInput, acceptedAt: number, owner: string): QueuedTurn {
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
  if (input.delivery) turn.delivery = input.delivery;
  return turn;
}

/** The turn a queued one stands for, run by a replica other than the one that accepted it. */
export function resumedInput(turn: QueuedTurn): TurnInput {
  return {
    sessionKey: turn.sessionKey,
    agentId: turn.agentId,
    messages: turn.messages,
    system: turn.system,
    model: turn.model,
    origin: turn.origin,
    delivery: turn.delivery,
    runId: turn.runId,
  };
}
