/**
 * The run-record ledger: a run's record in the shared run store, written as the run is accepted, starts
 * and ends, and the bus event that tells every replica (their `agent.wait` callers) a run ended.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { ClaimGuard } from "../state/idempotency.ts";
import { FINISHED_RUN_TTL_MS, type RunEnd, type RunOutcome, type StoredRun } from "../state/runs.ts";
import type { AgentStores } from "./turn-types.ts";

/** Bus event (internal) telling every replica a run ended: `{ runId, end: RunEnd }`. */
export const RUN_ENDED_EVENT = "agents.run.ended";

/** Writes run records and hears of runs' ends; a store failure is logged, never fails a run. */
export class RunLedger {
  /** Writes to `stores.runs`, tells ends on `stores.bus`, and logs failed writes to `logger`. */
  constructor(
    private readonly stores: Pick<AgentStores, "runs" | "bus">,
    private readonly logger: Logger,
  ) {}

  /**
   * Keeps a run's record in the run store: accepted now (queued or already running), then running
   * (`running()`, once the turn published its start), then ended. The writes go one after another, so a slow store never sees them out of order. With a
   * pending `claim`, the first is sent at once under its guard, with the claim's own round trip, and
   * lands only if this call holds the key; a duplicate (`claimed` false) writes no more: its run id is
   * the first's. `refused` (set when the first is sent under the guard) resolves whether the store refused
   * it: a duplicate's, or one whose claim follows an earlier use of its key (`RunStore.putIfClaimed`).
   */
  track(
    stored: StoredRun,
    activeTtlMs: number,
    claim?: { guard?: ClaimGuard; claimed: Promise<boolean> },
  ): { refused?: Promise<boolean>; running(): void; ended(outcome: RunOutcome, unsaved?: boolean): void } {
    let live = true;
    const won = claim?.claimed.then((won) => live = won);
    const guard = this.stores.runs.putIfClaimed ? claim?.guard : undefined;
    // A store that cannot check a guard would keep a duplicate's record: that put waits for the claim.
    const first = !won || guard ? this.#put(stored, activeTtlMs, guard) : undefined;
    let writes: Promise<unknown> = first
      ? Promise.all([first, won]).then(([landed]) =>
        // Refused while the claim, following an earlier use of its key, waited for the look at the key's
        // run: once it is this call's, the record goes again (that rare path's one more command).
        guard && !landed && live ? this.#put(stored, activeTtlMs) : undefined
      )
      : won!.then(() => live ? this.#put(stored, activeTtlMs) : undefined);
    return {
      refused: guard && first?.then((landed) => !landed),
      running: () => {
        if (stored.state !== "queued") return;
        // Told once the turn's first events are published: a write in their batch would hold their
        // delivery until it is durable (Redis sends a batch's messages after its fsync).
        const published = this.stores.bus.flush?.();
        writes = Promise.all([writes, published]).then(() =>
          live ? this.#put({ ...stored, state: "running" }, activeTtlMs) : undefined
        );
      },
      ended: (outcome, unsaved) => {
        writes = writes.then(() => live ? this.publishEnd(stored, outcome, unsaved) : undefined);
      },
    };
  }

  /**
   * Records a run's state in the run store; a store failure is logged, never fails the run. False only
   * when the store kept its record (the run had ended already) or refused `claim`.
   */
  async #put(run: StoredRun, ttlMs: number, claim?: ClaimGuard): Promise<boolean> {
    try {
      const runs = this.stores.runs;
      if (!claim) return await runs.put(run, ttlMs);
      return await runs.putIfClaimed!(run, ttlMs, claim);
    } catch (error) {
      this.logger.warn("run store write failed", { runId: run.runId, error: String(error) });
    }
    return true;
  }

  /**
   * Records a run's end, then tells every replica (their `agent.wait` callers) it ended. An `unsaved`
   * run's input was never saved: its caller was told to retry, and the retry's records replace this end.
   */
  async publishEnd(stored: StoredRun, outcome: RunOutcome, unsaved = false): Promise<void> {
    const end = runEnd(outcome, unsaved);
    // The record is sent before the event, not awaited first: the in-process store lands it at once, and
    // Redis serves one connection (the bus's too) in order, so the event goes in the same batch, after the
    // record's fsync. The price: a run that a sweep already ended (its replica taken for dead after losing
    // its lease) is told ended a second time, though its record keeps the sweep's end.
    const recorded = this.#put({ ...stored, state: outcome.status, end }, FINISHED_RUN_TTL_MS);
    this.#tell(stored, end);
    await recorded;
  }

  /**
   * Ends a run of another replica (the run store's `endIfOwned`: unless it ended, or a retry took it over)
   * and tells every replica; resolves whether it ended it. A store failure rejects.
   */
  async endOrphan(stored: StoredRun, outcome: RunOutcome): Promise<boolean> {
    const end = runEnd(outcome, false);
    const ended = await this.stores.runs.endIfOwned(
      { ...stored, state: outcome.status, end },
      FINISHED_RUN_TTL_MS,
    );
    if (ended) this.#tell(stored, end);
    return ended;
  }

  #tell(stored: StoredRun, end: RunEnd): void {
    this.stores.bus.publish({
      event: RUN_ENDED_EVENT,
      payload: { runId: stored.runId, end },
      sessionKey: stored.sessionKey,
      internal: true,
    });
  }

  /**
   * How a run of any replica ended, once it has; `undefined` when it has not within `timeoutMs`. An
   * unsaved end does not count: that attempt never ran, and its call's retry (same run id) may be on its way.
   */
  async end(runId: string, timeoutMs: number): Promise<RunEnd | undefined> {
    const ended = Promise.withResolvers<RunEnd | undefined>();
    // Listening before reading the store: an end between the two is heard, not missed.
    const unsubscribe = this.stores.bus.subscribe((event) => {
      if (event.internal && event.event === RUN_ENDED_EVENT) {
        const payload = event.payload as { runId: string; end: RunEnd };
        if (payload.runId === runId && !payload.end.unsaved) ended.resolve(payload.end);
      }
    });
    const timer = setTimeout(() => ended.resolve(undefined), timeoutMs);
    try {
      const stored = await this.stores.runs.get(runId);
      if (stored?.end && !stored.end.unsaved) ended.resolve(stored.end);
      return await ended.promise;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }
}

/** A run's end as the run store keeps it: plain data, its reply without tool calls. */
function runEnd(outcome: RunOutcome, unsaved: boolean): RunEnd {
  const end: RunEnd = { status: outcome.status, startedAt: outcome.startedAt, endedAt: outcome.endedAt };
  if (unsaved) end.unsaved = true;
  if (outcome.error) end.error = outcome.error;
  if (outcome.sessionId) end.sessionId = outcome.sessionId;
  if (outcome.model) end.model = outcome.model;
  if (outcome.result) {
    const { text, finishReason, usage } = outcome.result;
    end.reply = usage ? { text, finishReason, usage } : { text, finishReason };
  }
  return end;
}
