/**
 * What chat history shows of heartbeats, as OpenClaw's history view does: the heartbeat prompts are hidden,
 * and so is every assistant line that is only an acknowledgement (`NO_REPLY`, `HEARTBEAT_OK`); alerts stay.
 * The transcript itself keeps every line.
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";
import type { TranscriptEntry } from "../state/sessions.ts";
import { DEFAULT_ACK_MAX_CHARS, HEARTBEAT_PROMPT } from "./heartbeat-config.ts";
import { classifyHeartbeatReply } from "./heartbeat-reply.ts";

/** The lines of `agentId`'s transcript a chat view shows. */
export function visibleHistory(
  lines: readonly TranscriptEntry[],
  config: GatewayConfig,
  agentId: string,
): TranscriptEntry[] {
  const agents = config.agents;
  const prompts = new Set(
    [HEARTBEAT_PROMPT, agents?.defaults?.heartbeat?.prompt, agents?.entries?.[agentId]?.heartbeat?.prompt]
      .map((prompt) => prompt?.trim())
      .filter(Boolean),
  );
  return lines.filter((line) => {
    if (line.role === "user") return !prompts.has(line.content.trim());
    if (line.role !== "assistant" || line.toolCalls?.length || !line.content.trim()) return true;
    // The reference's fixed budget: what counts as an acknowledgement here does not depend on config.
    return classifyHeartbeatReply(line.content, DEFAULT_ACK_MAX_CHARS).kind !== "ack";
  });
}
