/**
 * What every `/v1/*` handler gets once the request passed the enable flag and auth.
 *
 * @module
 */
import type { AgentRuntime } from "../../agents/runtime.ts";
import type { HttpTarget } from "./target.ts";

/** Per-request services for the OpenAI-compatible handlers. */
export interface OpenAiRouteContext {
  runtime: AgentRuntime;
  now(): number;
  newId(): string;
  /** `gateway.limits.bodyTimeoutMs` at the time of the request. */
  bodyTimeoutMs: number;
  /** The agent, session and model override of this request (throws 400/403 problems). */
  target(model: string | undefined, user: string | undefined): HttpTarget;
}
