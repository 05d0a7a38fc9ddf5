/**
 * What feature modules report to the metrics module. Hooks and channels take one optionally, so they
 * work without metrics and never import the registry.
 *
 * @module
 */

/** Domain events the metrics module counts. */
export interface MetricsRecorder {
  /** A hook request was handled; `hook` is `wake`, `agent`, a mapping id, or `unknown`. */
  webhook(hook: string, outcome: "ok" | "error", seconds: number): void;
  /** A channel received a message from outside. */
  messageReceived(channel: string): void;
  /** A reply was sent (or failed to send) on a channel. */
  messageDelivered(channel: string, outcome: "ok" | "error", seconds: number): void;
}
