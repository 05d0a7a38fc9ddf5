/**
 * Accepts connections until the listener closes. A failing `accept()` (EMFILE under a connection flood)
 * is logged at most once a second and retried with backoff, so the listener outlives the flood.
 *
 * @module
 */
import type { Logger } from "../../log/logger.ts";
import { throttledWarning } from "../types.ts";

/** The longest pause between retries of a failing `accept()`. */
const MAX_BACKOFF_MS = 1_000;

/**
 * Runs `onConnection` for each accepted connection; resolves when `listener` is closed. `stopped`
 * tells a close from a failure.
 */
export async function acceptLoop(
  listener: Deno.Listener,
  onConnection: (conn: Deno.Conn) => void,
  stopped: () => boolean,
  logger: Logger | undefined,
): Promise<void> {
  const acceptFailed = throttledWarning(logger, "accepting connections failed; retrying");
  let backoffMs = 0;
  while (!stopped()) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (stopped() || error instanceof Deno.errors.BadResource) return;
      acceptFailed({ error: String(error) });
      backoffMs = Math.min(Math.max(backoffMs * 2, 10), MAX_BACKOFF_MS);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      continue;
    }
    backoffMs = 0;
    onConnection(conn);
  }
}
