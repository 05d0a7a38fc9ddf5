/**
 * What a heartbeat reply means, by OpenClaw's tokens: `NO_REPLY` (the silent reply) and a reply that is
 * `HEARTBEAT_OK` at its start or end with at most `ackMaxChars` left over are acknowledgements, swallowed
 * rather than delivered; anything else is an alert.
 *
 * @module
 */

/** The reply that asks for nothing to be shown. */
export const SILENT_REPLY_TOKEN = "NO_REPLY";
/** The legacy heartbeat acknowledgement. */
export const HEARTBEAT_TOKEN = "HEARTBEAT_OK";

/** How a heartbeat turn answered. */
export type HeartbeatReply =
  | { kind: "empty" }
  | { kind: "ack" }
  | { kind: "alert"; text: string };

const SILENT = new RegExp(`^${SILENT_REPLY_TOKEN}(?:\\s+${SILENT_REPLY_TOKEN})*$`, "i");
/** The token at the end, allowing a little trailing punctuation (`HEARTBEAT_OK.`). */
const TRAILING_TOKEN = new RegExp(`${HEARTBEAT_TOKEN}[^\\w]{0,4}$`);

/** Sorts a heartbeat turn's reply text into empty, acknowledgement, or alert (with the text to deliver). */
export function classifyHeartbeatReply(text: string, ackMaxChars: number): HeartbeatReply {
  const trimmed = text.trim();
  if (!trimmed) return { kind: "empty" };
  if (isSilentReply(trimmed)) return { kind: "ack" };
  if (!trimmed.includes(HEARTBEAT_TOKEN)) return { kind: "alert", text: trimmed };
  // Models wrap the token in markup (`**HEARTBEAT_OK**`, `<b>…</b>`); the bare text is tried second.
  const plain = trimmed.replace(/<[^>]*>/g, " ").replace(/&nbsp;/gi, " ").replace(/^[*`~_]+|[*`~_]+$/g, "");
  const original = stripEdgeTokens(trimmed);
  const stripped = original.stripped && original.rest ? original : stripEdgeTokens(plain);
  if (!stripped.stripped) return { kind: "alert", text: trimmed };
  if (stripped.rest.length <= ackMaxChars) return { kind: "ack" };
  return { kind: "alert", text: stripped.rest };
}

/** Whether `text` is the silent reply alone (repeated, or with punctuation around it). */
export function isSilentReply(text: string): boolean {
  const trimmed = text.trim();
  return SILENT.test(trimmed) || SILENT.test(trimmed.replace(/^\p{P}+|\p{P}+$/gu, ""));
}

/** Removes the token from the start and end of `text` as often as it appears there. */
function stripEdgeTokens(text: string): { stripped: boolean; rest: string } {
  let rest = text.trim();
  let stripped = false;
  for (;;) {
    if (rest.startsWith(HEARTBEAT_TOKEN)) {
      rest = rest.slice(HEARTBEAT_TOKEN.length).trim();
    } else if (TRAILING_TOKEN.test(rest)) {
      const at = rest.lastIndexOf(HEARTBEAT_TOKEN);
      rest = `${rest.slice(0, at).trimEnd()}${rest.slice(at + HEARTBEAT_TOKEN.length).trimStart()}`.trim();
    } else {
      break;
    }
    stripped = true;
  }
  return { stripped, rest: rest.replace(/\s+/g, " ").trim() };
}
