/**
 * The earlier run a retried turn stands for. A call sent again with its idempotency key gets the first
 * call's outcome from the idempotency store while the first call's claim lives; once that replica died and
 * its claim lapsed, the retry claims the key afresh, though the turn may have gone on without it: another
 * replica ran (or runs) the dead replica's queued copy under the same run id (the key). The run store,
 * which keeps every run under its id, says whether such a run stands: then the retry starts nothing and is
 * answered with that run's outcome, as a retry of a call still in flight would be.
 *
 * Two places ask. The call, once its claim turns out to follow a lapsed one ({@link endedRun}; what its
 * turn sent ahead of the look is refused until the call confirms the claim): only an ended run settles
 * it there, an unended one is left to the turn queue (a live replica running it holds the session). And
 * a waiting turn whose input, moved from the turn queue, was in the transcript already
 * ({@link standingRun}): another attempt ran, or runs, the turn (a retry raced the adoption of its queued
 * copy).
 *
 * @module
 */
import { type IdempotencyClaim, IdempotencyConflict } from "../state/idempotency.ts";
import type { PeerRegistry } from "../state/peers.ts";
import type { RunEnd, RunStore, StoredRun } from "../state/runs.ts";

/**
 * Whether a new call of an ended run is answered with its end: not when the end asks for a retry (its
 * replica died mid-turn, a store failed) or the run's input was never saved.
 */
function endStands(end: RunEnd): boolean {
  return !end.unsaved && !end.error?.retryable;
}

/**
 * The run with this id, if it ended as a new call of it is answered (see {@link endStands}). A run of
 * another session, or one that was asked something else, is another request's, its key reused once the
 * idempotency store forgot it: refused with {@link IdempotencyConflict}, as the store refuses a key reused
 * for a different request, so the call never learns that run's outcome and its message is never dropped.
 */
export async function endedRun(
  runs: RunStore,
  turn: { runId: string; sessionKey: string; request?: string },
): Promise<StoredRun | undefined> {
  const run = await runs.get(turn.runId);
  // The session key names the agent too, in the form every caller's key is normalized to (an agent id's
  // case may differ between a run record and a call).
  const another = run &&
    (run.sessionKey !== turn.sessionKey ||
      (run.request !== undefined && turn.request !== undefined && run.request !== turn.request));
  if (another) throw new IdempotencyConflict(turn.runId);
  return run?.end && endStands(run.end) ? run : undefined;
}

/** What {@link standingRun} looks at. */
export interface StandingRunSources {
  /** The run store every replica writes. */
  runs: RunStore;
  /** This replica's id in the peers registry. */
  replicaId: string;
  /**
   * Who is alive. Without a registry no replica sweeps dead ones' turns, so another replica's unended run
   * does not stand: the turn runs, as before there was this look.
   */
  peers: () => PeerRegistry | undefined;
}

/**
 * The run with this id that another attempt of the turn must not run again, if any: one that ended as
 * {@link endedRun} says, or one not ended whose replica (another one) is alive: it runs the turn.
 */
export async function standingRun(
  sources: StandingRunSources,
  runId: string,
): Promise<StoredRun | undefined> {
  const run = await sources.runs.get(runId);
  if (run?.end) return endStands(run.end) ? run : undefined;
  if (run?.replicaId === undefined || run.replicaId === sources.replicaId) return undefined;
  const peers = sources.peers();
  if (!peers) return undefined;
  const alive = (await peers.list()).some((peer) => peer.replicaId === run.replicaId);
  return alive ? run : undefined;
}

/**
 * `claim`, won only if `earlier` resolves none: a turn started under it is then a duplicate, which leaves
 * no trace and gives its lease back unused. A failed look rejects it, as a failed claim does.
 */
export function unlessRan(
  claim: IdempotencyClaim,
  earlier: Promise<StoredRun | undefined>,
): IdempotencyClaim {
  return { ...claim, won: claim.won.then(async (won) => won && !await earlier) };
}
