/**
 * The heartbeat runner: on each agent's cadence it runs the heartbeat prompt as a turn of the agent's
 * heartbeat session (through the runtime, so the session's lease and queue apply), swallows
 * acknowledgements (`NO_REPLY`, `HEARTBEAT_OK`), delivers alerts to the resolved route, and publishes the
 * outcome as a `heartbeat` event. Each turn takes the system events queued for its session (hook wakes
 * with `next-heartbeat`, from any replica). One replica runs it (a singleton); a config reload reschedules it.
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { timeoutSignal } from "../timeout-signal.ts";
import { type HeartbeatPlan, heartbeatPlans } from "./heartbeat-config.ts";
import type { HeartbeatEvent, HeartbeatState } from "./heartbeat-events.ts";
import { withinActiveHours } from "./heartbeat-hours.ts";
import { classifyHeartbeatReply } from "./heartbeat-reply.ts";
import { type HeartbeatRoute, heartbeatRoute } from "./heartbeat-route.ts";
import type { RunOutcome } from "../state/runs.ts";
import { systemEventLines, type SystemEventStore } from "../state/system-events.ts";
import type { AgentRuntime } from "./runtime.ts";
import type { ChannelDelivery } from "./service.ts";

/** Previews in events are cut to this many characters. */
const PREVIEW_CHARS = 200;

/** What the runner needs. */
export interface HeartbeatRunnerOptions {
  /** Runs the turns. */
  runtime: AgentRuntime;
  /** The config in force, read at every reschedule and beat. */
  config: () => GatewayConfig;
  /** The gateway clock, epoch milliseconds. */
  now: () => number;
  /** Where failures are logged. */
  logger: Logger;
  /** Publishes outcomes and says whether heartbeats are switched on. */
  state: HeartbeatState;
  /** The channel sender, when the channels module is installed. */
  delivery: () => ChannelDelivery | undefined;
  /** The events queued for the session's next turn, shared by every replica. */
  systemEvents: SystemEventStore;
}

interface Scheduled {
  plan: HeartbeatPlan;
  dueAt: number;
  timer: ReturnType<typeof setTimeout>;
}

/** The longest delay a timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Schedules and runs the heartbeats of the config in force. */
export class HeartbeatRunner {
  readonly #scheduled = new Map<string, Scheduled>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #signal: AbortSignal | undefined;

  /** A runner that does nothing until {@link HeartbeatRunner.run}. */
  constructor(private readonly options: HeartbeatRunnerOptions) {}

  /** Runs heartbeats until `signal` aborts, then waits for the turns in flight to end. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    this.reschedule();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    for (const scheduled of this.#scheduled.values()) clearTimeout(scheduled.timer);
    this.#scheduled.clear();
    this.#signal = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Brings the schedule in line with the config in force: an agent whose cadence is unchanged keeps its
   * next due time, a new or changed one is due one interval from now, a disabled one stops. Does nothing
   * on a replica that is not running the heartbeats.
   */
  reschedule(): void {
    if (!this.#signal || this.#signal.aborted) return;
    const plans = heartbeatPlans(this.options.config(), this.options.runtime.agents());
    const wanted = new Map(plans.map((plan) => [plan.agentId, plan]));
    for (const [agentId, scheduled] of this.#scheduled) {
      if (wanted.get(agentId)?.everyMs === scheduled.plan.everyMs) continue;
      clearTimeout(scheduled.timer);
      this.#scheduled.delete(agentId);
    }
    for (const plan of plans) {
      const current = this.#scheduled.get(plan.agentId);
      if (current) current.plan = plan;
      else this.#arm(plan, this.options.now() + plan.everyMs);
    }
  }

  /** Runs one heartbeat of `plan` now; resolves with the event it published, if any. */
  async #beat(plan: HeartbeatPlan, signal: AbortSignal): Promise<HeartbeatEvent | undefined> {
    const { runtime, state, logger } = this.options;
    // Switched off: nothing runs and nothing is announced, as in the reference.
    if (!state.enabled) return undefined;
    const startedAt = this.options.now();
    const elapsed = () => ({ durationMs: Math.max(0, this.options.now() - startedAt) });
    const config = this.options.config();
    if (!withinActiveHours(plan.activeHours, startedAt, config.agents?.defaults?.userTimezone)) {
      return state.publish({ status: "skipped", reason: "quiet-hours", ...elapsed() });
    }
    if (runtime.busy(plan.sessionKey)) {
      return state.publish({ status: "skipped", reason: "requests-in-flight", ...elapsed() });
    }
    const delivery = this.options.delivery();
    const route = heartbeatRoute(plan, config, delivery);
    if (route === undefined) return state.publish({ status: "skipped", reason: "no-route", ...elapsed() });
    const timeout = timeoutSignal(plan.timeoutMs);
    try {
      const events = await this.options.systemEvents.take(plan.sessionKey);
      const handle = runtime.startTurn({
        sessionKey: plan.sessionKey,
        agentId: plan.agentId,
        messages: [{ role: "user", content: plan.prompt }],
        system: systemEventLines(events).join("\n") || undefined,
        model: plan.model,
        signal: AbortSignal.any([signal, timeout.signal]),
        origin: { kind: "agent", heartbeat: true },
      });
      const event = outcomeEvent(await handle.done, plan, route);
      // Only an alert with a route is delivered; its event says so once the channel took it.
      if (event.status === "sent" && route) await delivery!.send(route.channel, route.to, event.text);
      const { text: _text, ...payload } = event;
      return state.publish({ ...payload, ...elapsed() });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.error("heartbeat failed", { agentId: plan.agentId, error: reason });
      return state.publish({ status: "failed", reason, ...elapsed(), indicatorType: "error" });
    } finally {
      timeout.clear();
    }
  }

  #arm(plan: HeartbeatPlan, dueAt: number): void {
    // Timers take at most 2^31-1 ms (about 24.8 days); a longer wait is covered by waking early and
    // arming again, never by a delay the runtime would cut to 1 ms.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, dueAt - this.options.now()));
    const timer = setTimeout(() => this.#fire(plan.agentId), delay);
    this.#scheduled.set(plan.agentId, { plan, dueAt, timer });
  }

  #fire(agentId: string): void {
    const scheduled = this.#scheduled.get(agentId);
    const signal = this.#signal;
    if (!scheduled || !signal || signal.aborted) return;
    const { plan } = scheduled;
    if (scheduled.dueAt > this.options.now()) return this.#arm(plan, scheduled.dueAt);
    // A late tick (a blocked event loop, a slow turn) moves the next one on instead of firing a burst.
    const next = scheduled.dueAt + plan.everyMs;
    this.#arm(plan, next > this.options.now() ? next : this.options.now() + plan.everyMs);
    const beat = this.#beat(plan, signal).catch((error) =>
      this.options.logger.error("heartbeat failed", { agentId, error: String(error) })
    );
    this.#inFlight.add(beat);
    beat.finally(() => this.#inFlight.delete(beat));
  }
}

/** The event of a finished heartbeat turn, with the alert `text` to deliver when its status is `sent`. */
function outcomeEvent(
  outcome: RunOutcome,
  plan: HeartbeatPlan,
  route: HeartbeatRoute | null,
): Omit<HeartbeatEvent, "ts"> & { text: string } {
  if (outcome.status === "aborted") return { status: "skipped", reason: "agent-runner-cancelled", text: "" };
  if (outcome.status === "error") {
    const failure = preview(outcome.error?.message ?? "");
    return {
      status: "failed",
      reason: "agent-runner-failure",
      ...(failure ? { preview: failure } : {}),
      silent: true,
      indicatorType: "error",
      text: "",
    };
  }
  const reply = classifyHeartbeatReply(outcome.result?.text ?? "", plan.ackMaxChars);
  if (reply.kind !== "alert") {
    return {
      status: reply.kind === "empty" ? "ok-empty" : "ok-token",
      reason: "interval",
      ...(route ? { channel: route.channel } : {}),
      silent: true,
      indicatorType: "ok",
      text: "",
    };
  }
  const alert = { preview: preview(reply.text), hasMedia: false, text: reply.text };
  if (!route) return { status: "skipped", reason: "target-none", ...alert };
  return {
    status: "sent",
    to: route.to,
    channel: route.channel,
    ...alert,
    silent: false,
    indicatorType: "alert",
  };
}

function preview(text: string): string | undefined {
  return text ? text.slice(0, PREVIEW_CHARS) : undefined;
}
