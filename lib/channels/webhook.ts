/**
 * The generic webhook channel: systems POST messages to `/channels/webhook/inbound` and receive replies
 * as POSTs to `channels.webhook.outboundUrl`; both directions are signed with HMAC-SHA256.
 *
 * Inbound body: `{ from, text, conversationId?, messageId?, name? }` → `202 {ok:true}` once the message is
 * taken (its turn's input is durable, or the sender policy turned it down). Refusals: 401 (bad or stale
 * signature headers, before the body is read), 413 (over 64 KiB), 408 (body too slow), 409 (a signature
 * already accepted: a replay), 400 (not the expected JSON), 503 with `Retry-After` (its input could not be
 * saved: send the same request again; its signature is not used up).
 * Outbound body: `{ to, text, inReplyTo?, ts }`.
 *
 * @module
 */
import * as z from "zod";
import { BodyError, bodyRefusalResponse, readBodyText } from "../http/read-body.ts";
import { jsonResponse } from "../http/response.ts";
import {
  checkSignatureHeaders,
  sign,
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_MS,
  type SignatureClaim,
  TIMESTAMP_HEADER,
  verifySignature,
} from "./hmac.ts";
import { ReplayGuard } from "./replay.ts";
import { ChannelStatusTracker, secretString, timedProbe } from "./status.ts";
import type {
  Channel,
  ChannelAccountStatus,
  ChannelFactory,
  ChannelHost,
  ChannelProbe,
  OutboundMessage,
} from "./types.ts";

/** Largest inbound body accepted. */
const MAX_INBOUND_BYTES = 64 * 1024;
/** Seconds a sender is asked to wait before sending a message the gateway could not save. */
const RETRY_AFTER_S = 5;

const InboundSchema = z.object({
  from: z.union([z.string().min(1), z.number()]).transform(String),
  text: z.string().min(1),
  conversationId: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  messageId: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  name: z.string().optional(),
});

/** A request whose signature headers checked out, with what verifying its body needs. */
interface Head {
  claim: SignatureClaim;
  host: ChannelHost;
  secret: string;
}

/** Builds the webhook channel from `channels.webhook`. */
export const webhookChannel: ChannelFactory = (config): Channel => new WebhookChannel(settings(config));

/** What `channels.webhook` configures, and what keeps the channel from working. */
function settings(config: Record<string, unknown>) {
  const secret = secretString(config.secret);
  const outboundUrl = typeof config.outboundUrl === "string" ? config.outboundUrl : undefined;
  const problem = !secret
    ? "channels.webhook.secret is not set"
    : !outboundUrl
    ? "channels.webhook.outboundUrl is not set"
    : undefined;
  return { secret, outboundUrl, problem };
}

/** What `channels.webhook` configures; see {@link settings}. */
type WebhookSettings = ReturnType<typeof settings>;

/** One signed webhook endpoint and the outbound URL its replies go to. */
class WebhookChannel implements Channel {
  readonly id = "webhook";
  readonly label = "Webhook";
  readonly detailLabel = "Signed HTTP webhook";
  #host: ChannelHost | undefined;
  #replays: ReplayGuard | undefined;
  #tracker: ChannelStatusTracker | undefined;
  /** The heads `verifyHttp` admitted, for `handleHttp` to verify their bodies against. */
  readonly #claims = new WeakMap<Request, Head>();

  constructor(private readonly settings: WebhookSettings) {}

  start(host: ChannelHost): Promise<void> {
    this.#host = host;
    this.#replays = host.lasting("replays", () => new ReplayGuard(SIGNATURE_TOLERANCE_MS));
    this.#tracker = new ChannelStatusTracker(host.now, {
      configured: !this.settings.problem,
      mode: "webhook",
      webhookPath: "/channels/webhook/inbound",
      ...(this.settings.outboundUrl ? { baseUrl: this.settings.outboundUrl } : {}),
    });
    if (this.settings.problem) this.#tracker.failed(this.settings.problem);
    else this.#tracker.started();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#tracker?.stopped();
    this.#host = undefined;
    return Promise.resolve();
  }

  async send(message: OutboundMessage): Promise<{ messageId?: string }> {
    const { secret, outboundUrl, problem } = this.settings;
    const host = this.#host;
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
    if (!response.ok) {
      throw Object.assign(new Error(`outbound webhook answered ${response.status}`), {
        status: response.status,
      });
    }
    this.#tracker?.outbound();
    return {};
  }

  status(): ChannelAccountStatus {
    return (this.#tracker ??
      new ChannelStatusTracker(() => 0, {
        configured: !this.settings.problem,
        lastError: this.settings.problem ?? null,
      }))
      .snapshot();
  }

  async probe(signal: AbortSignal): Promise<ChannelProbe> {
    const probe = await timedProbe(() => this.#host?.now() ?? 0, async () => {
      const { outboundUrl, problem } = this.settings;
      const host = this.#host;
      if (problem || !host || !outboundUrl) throw new Error(problem ?? "webhook channel is not running");
      const response = await host.fetch(outboundUrl, { method: "HEAD", signal });
      await response.body?.cancel();
      if (response.status >= 500) throw new Error(`outbound URL answered ${response.status}`);
      return { status: response.status };
    });
    this.#tracker?.probed(probe);
    return probe;
  }

  verifyHttp(request: Request, subPath: string): Response | undefined {
    const head = this.#checkHead(request, subPath);
    if (head instanceof Response) return head;
    this.#claims.set(request, head);
    return undefined;
  }

  async handleHttp(request: Request, subPath: string): Promise<Response> {
    const head = this.#claims.get(request) ?? this.#checkHead(request, subPath);
    if (head instanceof Response) return head;
    let body: string;
    try {
      body = await readBodyText(request, {
        maxBytes: MAX_INBOUND_BYTES,
        timeoutMs: head.host.bodyTimeoutMs(),
        words: {
          tooLarge: `body larger than ${MAX_INBOUND_BYTES} bytes`,
          tooSlow: "body did not arrive in time (gateway.limits.bodyTimeoutMs)",
        },
      });
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return bodyRefusalResponse(error);
    }
    const refusal = await this.#signedRefusal(head, body);
    if (refusal) return refusal;
    return this.#receive(head, body);
  }

  /** Headers first: a request that cannot be signed right is refused before a byte of its body is read. */
  #checkHead(request: Request, subPath: string): Head | Response {
    if (subPath !== "inbound") return jsonResponse({ ok: false, error: "not found" }, 404);
    if (request.method !== "POST") {
      return jsonResponse({ ok: false, error: "use POST" }, 405, { Allow: "POST" });
    }
    const { secret, problem } = this.settings;
    const host = this.#host;
    if (!host || !secret) return jsonResponse({ ok: false, error: problem ?? "channel stopped" }, 503);
    const claim = checkSignatureHeaders(request.headers, host.now());
    if (typeof claim === "string") return jsonResponse({ ok: false, error: claim }, 401);
    return { claim, host, secret };
  }

  /** Why a body does not carry its claimed signature, or is one already accepted. */
  async #signedRefusal({ claim, host, secret }: Head, body: string): Promise<Response | undefined> {
    if (!await verifySignature(secret, claim, body)) {
      return jsonResponse({ ok: false, error: "signature mismatch" }, 401);
    }
    const verdict = this.#replays!.admit(claim.hex, claim.at, host.now());
    if (verdict === "replayed") {
      return jsonResponse({ ok: false, error: "replayed request: this signature was already accepted" }, 409);
    }
    if (verdict === "full") {
      const error = "too many signed requests within the signature window; retry later";
      return jsonResponse({ ok: false, error }, 429, { "Retry-After": "60" });
    }
    return undefined;
  }

  /** Hands a signed body to the gateway as a message; answers once the gateway has taken it. */
  async #receive({ host, claim }: Head, body: string): Promise<Response> {
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
    this.#tracker?.inbound();
    const outcome = await host.receive({
      senderId: inbound.from,
      chatId: inbound.conversationId ?? inbound.from,
      text: inbound.text,
      ...(inbound.messageId ? { messageId: inbound.messageId } : {}),
      ...(inbound.name ? { senderName: inbound.name } : {}),
      // The signature names the request: a copy replayed to another replica (whose replay guard never saw
      // it) meets this delivery's cluster-wide claim and starts nothing.
      deliveryId: claim.hex,
    });
    if (outcome === "retry") {
      // The sender must be able to send the very same signed request again.
      this.#replays!.forget(claim.hex);
      const error = "the message could not be saved; send it again later";
      return jsonResponse({ ok: false, error }, 503, { "Retry-After": String(RETRY_AFTER_S) });
    }
    return jsonResponse({ ok: true }, 202);
  }
}
