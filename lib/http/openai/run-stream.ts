/**
 * Runs a turn for a streaming HTTP response. The response status is only decided once the run has
 * produced output or failed: a run that fails before its first token (an unreachable upstream, an
 * unknown model) still gets a proper HTTP error instead of a 200 stream with an error inside.
 *
 * @module
 */
import type { AgentRuntime, RunEvent, TurnInput } from "../../agents/runtime.ts";

/** Events of one run, in order; iteration ends after the `end` event. */
class RunEventQueue implements AsyncIterable<RunEvent> {
  readonly #buffer: RunEvent[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  push(event: RunEvent): void {
    this.#buffer.push(event);
    if (event.type === "end") this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RunEvent> {
    for (;;) {
      const event = this.#buffer.shift();
      if (event) {
        yield event;
        if (event.type === "end") return;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}

/**
 * Starts the turn and waits for its first output. Throws the run's error when it ended before any
 * output; otherwise returns every event, the ones already seen included.
 */
export async function openRunStream(
  runtime: AgentRuntime,
  input: TurnInput,
): Promise<AsyncIterable<RunEvent>> {
  const queue = new RunEventQueue();
  runtime.startTurn({ ...input, stream: true, onEvent: (event) => queue.push(event) });
  const seen: RunEvent[] = [];
  const iterator = queue[Symbol.asyncIterator]();
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) break;
    seen.push(value);
    if (value.type === "output") break;
    if (value.type === "end") {
      if (value.outcome.status !== "ok") throw value.outcome.cause ?? new Error(value.outcome.error?.message);
      break;
    }
  }
  return (async function* () {
    yield* seen;
    yield* iterator;
  })();
}
