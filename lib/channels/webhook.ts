/**
 * The generic webhook channel: systems POST messages to `/channels/webhook/inbound` and receive replies
 * as POSTs to `channels.webhook.outboundUrl`; both directions are signed with HMAC-SHA256.
 *
 * Inbound body: `{ from, text, conversationId?, messageId?, name? }` → `202 {ok:true}`.
 * Outbound body: `{ to, text, inReplyTo?, ts }`.
 *
 * @module
 */
import { z } from "zod";
import { jsonResponse } from "../http/security-headers.ts";
import { sign, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify } from "./hmac.ts";
import { ChannelStatusTracker, secretString, timedProbe } from "./status.ts";
import type { Channel, ChannelFactory, ChannelHost, OutboundMessage } from "./types.ts";

/** Largest inbound body accepted. */
const MAX_INBOUND_BYTES = 64 * 1024;

const InboundSchema = z.object({
  from: z.union([z.string().min(1), z.number()]).transform(String),
  text: z.string().min(1),
  conversationId: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  messageId: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  name: z.string().optional(),
});

/** Builds the webhook channel from `channels.webhook`. */
export const webhookChannel: ChannelFactory = (config) => {
  const secret = secretString(config.secret);
  const outboundUrl = typeof config.outboundUrl === "string" ? config.outboundUrl : undefined;
  let host: ChannelHost | undefined;
  let tracker: ChannelStatusTracker | undefined;
  const configured = Boolean(secret && outboundUrl);
  const problem = !secret
    ? "channels.webhook.secret is not set"
    : !outboundUrl
    ? "channels.webhook.outboundUrl is not set"
    : undefined;

  const status = () =>
    tracker ?? new ChannelStatusTracker(() => 0, { configured, lastError: problem ?? null });

  const channel: Channel = {
    id: "webhook",
    label: "Webhook",
    detailLabel: "Signed HTTP webhook",
    start(h) {
      host = h;
      tracker = new ChannelStatusTracker(h.now, {
        configured,
        mode: "webhook",
        webhookPath: "/channels/webhook/inbound",
        ...(outboundUrl ? { baseUrl: outboundUrl } : {}),
      });
      if (problem) tracker.failed(problem);
      else tracker.started();
      return Promise.resolve();
    },
    stop() {
      tracker?.stopped();
      host = undefined;
      return Promise.resolve();
    },
    async send(message: OutboundMessage) {
      if (!secret || !outboundUrl || !host) throw new Error(problem ?? "webhook channel is not running");
      const ts = host.now();
      const body = JSON.stringify({
        to: message.to,
        text: message.text,
        ...(message.replyToId ? { inReplyTo: message.replyToId } : {}),
        ts,
      });
      const response = await host.fetch(outboundUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          [SIGNATURE_HEADER]: await sign(secret, ts, body),
          [TIMESTAMP_HEADER]: String(ts),
        },
        body,
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`outbound webhook answered ${response.status}`);
      tracker?.outbound();
      return {};
    },
    status: () => status().snapshot(),
    async probe(signal) {
      const probe = await timedProbe(() => host?.now() ?? 0, async () => {
        if (problem || !host || !outboundUrl) throw new Error(problem ?? "webhook channel is not running");
        const response = await host.fetch(outboundUrl, { method: "HEAD", signal });
        await response.body?.cancel();
        if (response.status >= 500) throw new Error(`outbound URL answered ${response.status}`);
        return { status: response.status };
      });
      tracker?.probed(probe);
      return probe;
    },
    async handleHttp(request, subPath) {
      if (subPath !== "inbound") return jsonResponse({ ok: false, error: "not found" }, 404);
      if (request.method !== "POST") {
        return jsonResponse({ ok: false, error: "use POST" }, 405, { Allow: "POST" });
      }
      if (!host || !secret) return jsonResponse({ ok: false, error: problem ?? "channel stopped" }, 503);
      const declared = Number(request.headers.get("content-length") ?? 0);
      if (declared > MAX_INBOUND_BYTES) return jsonResponse({ ok: false, error: "body too large" }, 413);
      const body = await request.text();
      if (new TextEncoder().encode(body).byteLength > MAX_INBOUND_BYTES) {
        return jsonResponse({ ok: false, error: "body too large" }, 413);
      }
      const refused = await verify(secret, request.headers, body, host.now());
      if (refused) return jsonResponse({ ok: false, error: refused }, 401);
      let parsed;
      try {
        parsed = InboundSchema.safeParse(JSON.parse(body));
      } catch {
        return jsonResponse({ ok: false, error: "body is not JSON" }, 400);
      }
      if (!parsed.success) {
        return jsonResponse({ ok: false, error: "expected {from, text, conversationId?, messageId?}" }, 400);
      }
      const inbound = parsed.data;
      tracker?.inbound();
      host.receive({
        senderId: inbound.from,
        chatId: inbound.conversationId ?? inbound.from,
        text: inbound.text,
        ...(inbound.messageId ? { messageId: inbound.messageId } : {}),
        ...(inbound.name ? { senderName: inbound.name } : {}),
      });
      return jsonResponse({ ok: true }, 202);
    },
  };
  return channel;
};
