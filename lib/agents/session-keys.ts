/**
 * Session keys as OpenClaw writes them: `agent:<agentId>:<rest>`, with `agent:<agentId>:main` as the
 * agent's main session. Short forms (`main`, `my-thread`) are scoped to the agent they are sent to.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";

/** Namespaces only the gateway itself may create sessions in. */
export const RESERVED_SESSION_PREFIXES: readonly string[] = ["subagent:", "cron:", "acp:"];

/** A session key split into the agent it belongs to and the full key. */
export interface SessionTarget {
  agentId: string;
  key: string;
}

/** The longest full key accepted (the reference bounds agent-qualified keys the same way). */
export const MAX_SESSION_KEY_LENGTH = 512;

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** A `.` or `..` segment between `/`, `\\` or `:` separators (or the ends). */
const DOT_SEGMENT = /(?:^|[/\\:])\.{1,2}(?:[/\\:]|$)/;

function invalidKey(raw: string, reason: string): GatewayError {
  const shown = raw.length > 64 ? `${raw.slice(0, 64)}…` : raw;
  return new GatewayError("INVALID_REQUEST", `invalid session key ${JSON.stringify(shown)}: ${reason}`, {
    details: { reason: "invalid-session-key" },
  });
}

/**
 * The one gate every session key passes, whoever sends it (WS methods, `/v1` headers and `user`, hooks,
 * channels, tools). Keys are folded to lower case as the reference stores them, so `SUBAGENT:x` and
 * `subagent:x` are the same key; control characters and `.`/`..` segments are refused. A full key
 * (`agent:<id>:<rest>`) names its own agent; a short one belongs to `agentId`.
 */
export function canonicalSessionKey(raw: string, agentId: string): SessionTarget {
  const folded = raw.trim().toLowerCase();
  if (!folded) throw invalidKey(raw, "it is empty");
  const control = CONTROL_CHARACTER.exec(folded);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw invalidKey(raw, `it contains a control character (U+${code})`);
  }
  if (DOT_SEGMENT.test(folded)) throw invalidKey(raw, "it contains a '.' or '..' segment");
  let target: SessionTarget;
  if (folded.startsWith("agent:")) {
    const match = /^agent:([^:]+):(.+)$/.exec(folded);
    if (!match || !match[1].trim() || match[2].startsWith(":")) {
      throw invalidKey(raw, "expected agent:<agentId>:<rest>");
    }
    target = { agentId: match[1], key: folded };
  } else {
    target = { agentId: agentId.toLowerCase(), key: `agent:${agentId.toLowerCase()}:${folded}` };
  }
  if (target.key.length > MAX_SESSION_KEY_LENGTH) {
    throw invalidKey(raw, `it is longer than ${MAX_SESSION_KEY_LENGTH} characters`);
  }
  return target;
}

/** The agent's main session. */
export function mainSessionKey(agentId: string): string {
  return `agent:${agentId.toLowerCase()}:main`;
}

/** Refuses caller-supplied keys in a reserved namespace, naming the rule. */
export function assertCallerSessionKey(target: SessionTarget): void {
  const rest = target.key.slice(`agent:${target.agentId}:`.length);
  const reserved = RESERVED_SESSION_PREFIXES.find((prefix) => rest.startsWith(prefix));
  if (reserved) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `session key '${target.key}' uses the reserved namespace '${reserved}'; choose a key without it`,
    );
  }
}

/** The stable session of an OpenAI `user` string; a `user` that makes an invalid key is refused. */
export function userSessionKey(agentId: string, user: string): string {
  return canonicalSessionKey(`openai-user:${user.trim()}`, agentId).key;
}
