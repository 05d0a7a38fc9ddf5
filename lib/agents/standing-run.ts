/**
 * The earlier run a retried turn stands for. A call sent again with its idempotency key gets the first
 * call's outcome from the idempotency store while the first call's claim lives; once that replica died and
 * its claim lapsed, the retry claims the key afresh, though the turn may have gone on without it: another
 * replica ran (or runs) the dead replica's queued copy under the same run id (the key). The run store,
 * which keeps every run under its id, says whether such a run stands: then the retry starts nothing and is
 * answered with that run's outcome, as a retry of a call still in flight would be.
 *
 * @module
 */
import type { IdempotencyClaim } from "../state/idempotency.ts";
import type { PeerRegistry } from "../state/peers.ts";
import type { RunStore, StoredRun } from "../state/runs.ts";

/** What {@link standingRun} looks at. */
export interface StandingRunSources {
  /** The run store every replica writes. */
  runs: RunStore;
  /** This replica's id in the peers registry. */
  replicaId: string;
  /**
   * Who is alive. Without a registry no replica sweeps dead ones' turns, so only this replica's unended
   * runs stand: another's is left to the call, as before there was this look.
   */
  peers: () => PeerRegistry | undefined;
}

/**
 * The run with this id that a new call for it must not run again, if any: one that ended (unless its end
 * asks for a retry: its replica died mid-turn, a store failed, or its input was never saved), or one not
 * ended whose replica is alive (it runs the turn, or will). A dead replica's unended run is left to the
 * call: it adopts that run's queued copy, or runs the turn again once the run was ended as stopped.
 */
export async function standingRun(
  sources: StandingRunSources,
  runId: string,
): Promise<StoredRun | undefined> {
  const run = await sources.runs.get(runId);
  if (!run) return undefined;
  if (run.end) return run.end.unsaved || run.end.error?.retryable ? undefined : run;
  if (run.replicaId === undefined) return undefined;
  if (run.replicaId === sources.replicaId) return run;
  const peers = sources.peers();
  if (!peers) return undefined;
  const alive = (await peers.list()).some((peer) => peer.replicaId === run.replicaId);
  return alive ? run : undefined;
}

/**
 * `claim`, won only if no earlier run stands (`standing` resolves none): a turn started under it is then a
 * duplicate, which leaves no trace and gives its lease back unused. A failed look rejects it, as a failed
 * claim does.
 */
export function unlessStanding(
  claim: IdempotencyClaim,
  standing: Promise<StoredRun | undefined>,
): IdempotencyClaim {
  return { ...claim, won: claim.won.then(async (won) => won && !await standing) };
}
