/**
 * What a hook request may ask for: the `/wake` and `/agent` bodies, and the actions every hook request
 * (direct or mapped) comes down to.
 *
 * @module
 */
import * as z from "zod";
import { BodyError, readJsonBody } from "../http/read-body.ts";
import { HookRefusal } from "./policy.ts";

/** The body of `POST <hooks.path>/wake`. */
export const WakeBody = z.looseObject({
  text: z.string().min(1),
  mode: z.enum(["now", "next-heartbeat"]).optional(),
  agentId: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
});

/** The body of `POST <hooks.path>/agent`. */
export const AgentBody = z.looseObject({
  message: z.string().min(1),
  name: z.string().optional(),
  agentId: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  sessionMode: z.enum(["isolated", "persistent"]).optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
  wakeMode: z.enum(["now", "next-heartbeat"]).optional(),
  deliver: z.boolean().optional(),
  channel: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  accountId: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  thinking: z.string().optional(),
  timeoutSeconds: z.number().positive().optional(),
});

/** What a hook asks for once payloads and mappings are resolved. */
export interface AgentAction {
  message: string;
  name?: string;
  agentId?: string;
  sessionKey?: string;
  /** Whether the key came from the caller or a template (then the opt-in and prefixes apply). */
  callerKey: boolean;
  /** Direct requests must name a configured agent; mappings fall back to the default agent. */
  strictAgent: boolean;
  /** Whether `channel`/`to` came from the request (then `hooks.allowedTargets` applies) or the config. */
  callerTarget: boolean;
  sessionMode: "isolated" | "persistent";
  deliver?: boolean;
  channel?: string;
  to?: string;
  accountId?: string;
  model?: string;
}

/** A system event for an agent's session: now, or with the session's next hook-started turn. */
export interface WakeAction {
  text: string;
  mode: "now" | "next-heartbeat";
  agentId?: string;
  sessionKey?: string;
  callerKey: boolean;
  strictAgent: boolean;
}

/** `payload` checked against `schema`; the first issue becomes the 400's message. */
export function parseHookBody<T>(schema: z.ZodType<T>, payload: unknown): T {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new HookRefusal(400, `invalid body: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
}

/** Reads a JSON object body, refusing more than `maxBytes` without buffering past it. */
export async function readHookPayload(
  request: Request,
  maxBytes: number,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const parsed = await readJsonBody(request, {
    maxBytes,
    timeoutMs,
    words: {
      tooLarge: `body larger than ${maxBytes} bytes (hooks.maxBodyBytes)`,
      tooSlow: `body did not arrive within ${timeoutMs} ms (gateway.limits.bodyTimeoutMs)`,
      notJson: "body must be JSON",
    },
  });
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BodyError(400, "body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}
