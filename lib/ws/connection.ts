/**
 * One WebSocket client: the challenge/connect handshake, request dispatch and ordered event delivery
 * with per-socket `seq`.
 *
 * @module
 */
import { type ErrorShape, GatewayError, toErrorShape } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { SecretRedactor } from "../log/secret-redactor.ts";
import { CloseCode, MAX_PREAUTH_PAYLOAD_BYTES } from "../protocol/constants.ts";
import {
  type ConnectParams,
  ConnectParamsSchema,
  describeIssue,
  errorFrame,
  eventFrame,
  okFrame,
  type PreparedEventFrame,
  RequestFrameSchema,
} from "../protocol/frames.ts";
import type { CallerIdentity } from "../types.ts";
import { ANSWER_WAIT_MS, AnswerFirst } from "./answer-first.ts";
import type { HandshakeDeadline, HandshakeDeadlines } from "./handshake-deadlines.ts";
import type { SocketHandlers, SocketInfo, SocketWire } from "./wire.ts";
import { intern, internedScopes } from "./intern.ts";

/** Limits a connection enforces. */
export interface ConnectionPolicy {
  maxPayload: number;
  maxBufferedBytes: number;
  handshakeTimeoutMs: number;
}

/** What a connection needs from the gateway; kept narrow so connections are testable alone. */
export interface ConnectionHost {
  readonly logger: Logger;
  readonly policy: ConnectionPolicy;
  /**
   * Replaces secret values in every frame a connection sends (frames are JSON documents) and in its close
   * reason; a broadcast's prepared frames come redacted already, once per event rather than per socket.
   */
  readonly secrets: Pick<SecretRedactor, "redactJson" | "redactText">;
  /** Where each socket's handshake deadline (`policy.handshakeTimeoutMs`) is kept. */
  readonly handshakeDeadlines: HandshakeDeadlines;
  now(): number;
  newId(): string;
  /** Authenticates `connect`; resolves to the caller identity or throws a `GatewayError`. */
  authenticate(params: ConnectParams, connection: Connection): Promise<CallerIdentity>;
  /** Builds the `hello-ok` payload for a freshly authenticated connection. */
  hello(connection: Connection): Promise<unknown>;
  dispatch(
    connection: Connection,
    id: string,
    method: string,
    params: unknown,
    signal: AbortSignal,
  ): Promise<unknown>;
  authenticated(connection: Connection): void;
  closed(connection: Connection): void;
  /** A droppable event was skipped for this slow socket. */
  dropped?(event: string): void;
}

/** `greeting`: authenticated, `hello-ok` being built; events wait until it is sent. */
type Phase = "challenged" | "authenticating" | "greeting" | "ready" | "closed";

/**
 * What only the handshake needs, in one object the connection drops once `hello-ok` is sent: fields of
 * their own would stay in every connection (10,000 sockets each keep them) after they are spent.
 */
interface HandshakeState {
  readonly nonce: string;
  readonly info: SocketInfo;
  connectParams?: ConnectParams;
  /** Events that arrived while `hello-ok` was built (its snapshot may predate them). */
  early?: Parameters<Connection["sendEvent"]>[];
}

const decoder = new TextDecoder();

/** A single client socket and its protocol state. */
export class Connection implements SocketHandlers, HandshakeDeadline {
  readonly connId: string;
  readonly challengeTs: number;
  caller?: CallerIdentity;
  /** The capabilities the client declared at `connect`. */
  caps?: readonly string[];
  /** The peer address as the transport saw it (before any trusted-proxy rewriting). */
  readonly remoteAddress: string;
  /** How the socket ended, for the access log: the close code and reason, and which side closed it. */
  closeInfo?: { code?: number; reason?: string; by: "client" | "server" };
  #phase: Phase = "challenged";
  #seq = 0;
  #handshake?: HandshakeState;
  /** This socket's calls starting a run that are not answered yet (made at the first such call). */
  #answerFirst?: AnswerFirst<Parameters<Connection["sendEvent"]>>;
  /** Ends the events' wait for an answer that is slow in coming ({@link ANSWER_WAIT_MS}). */
  #answerWait?: ReturnType<typeof setTimeout>;
  /** Aborts the requests in flight when the socket closes; made on the first request (most sockets that
   * only listen never send one). */
  #inflight?: AbortController;

  constructor(
    private readonly host: ConnectionHost,
    private readonly wire: SocketWire,
    info: SocketInfo,
  ) {
    const nonce = host.newId();
    this.#handshake = { nonce, info };
    this.remoteAddress = intern(info.remoteAddress);
    this.connId = host.newId();
    this.challengeTs = host.now();
    this.#write(eventFrame("connect.challenge", { nonce, ts: this.challengeTs, capabilities: [] }));
    host.handshakeDeadlines.add(this);
  }

  /** The challenge's nonce, until `hello-ok` is sent (the device signature at `connect` signs it). */
  get nonce(): string | undefined {
    return this.#handshake?.nonce;
  }

  /** The `connect` params, until `hello-ok` is sent (a socket keeps only `caps` of them after that). */
  get connectParams(): ConnectParams | undefined {
    return this.#handshake?.connectParams;
  }

  /** The upgrade request's facts, until `hello-ok` is sent: nothing after the handshake reads them. */
  get info(): SocketInfo | undefined {
    return this.#handshake?.info;
  }

  /** Until the handshake ends (hello-ok sent, or closed), its deadline counts this socket as pending. */
  get #handshakePending(): boolean {
    return this.#phase !== "ready" && this.#phase !== "closed";
  }

  handshakeExpired(): void {
    if (this.#handshakePending) this.close(CloseCode.policyViolation, "handshake timeout");
  }

  /** Whether events are for this socket: from the moment it authenticated (sent after `hello-ok`). */
  get ready(): boolean {
    return this.#phase === "ready" || this.#phase === "greeting";
  }

  get isClosed(): boolean {
    return this.#phase === "closed";
  }

  messageLimit(): number {
    return this.#phase === "ready" ? this.host.policy.maxPayload : MAX_PREAUTH_PAYLOAD_BYTES;
  }

  message(data: string | Uint8Array): void {
    if (this.#phase === "closed") return;
    const size = typeof data === "string" ? utf8Length(data) : data.byteLength;
    // A backstop: transports that can refuse oversized frames while reading already did.
    const limit = this.messageLimit();
    if (size > limit) {
      this.close(CloseCode.tooLarge, `frame of ${size} bytes exceeds the ${limit}-byte limit`);
      return;
    }
    const text = typeof data === "string" ? data : decoder.decode(data);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.close(CloseCode.policyViolation, "invalid frame: not JSON");
      return;
    }
    const parsed = RequestFrameSchema.safeParse(raw);
    const id = typeof (raw as { id?: unknown })?.id === "string" ? (raw as { id: string }).id : undefined;
    if (this.#phase !== "ready") {
      this.#handshakeFrame(parsed.success ? parsed.data : undefined, id);
      return;
    }
    if (!parsed.success) {
      if (id) this.#write(errorFrame(id, invalidFrame(describeIssue(parsed.error))));
      else this.close(CloseCode.policyViolation, 'invalid frame: expected {type:"req", id, method}');
      return;
    }
    const frame = parsed.data;
    if (frame.method === "connect") {
      this.#send(errorFrame(frame.id, new GatewayError("INVALID_REQUEST", "already connected").toShape()));
      return;
    }
    this.#runRequest(frame.id, frame.method, frame.params);
  }

  closed(code?: number, reason?: string): void {
    if (this.#phase === "closed") return;
    this.closeInfo = { code, reason, by: "client" };
    this.#finish();
    this.host.logger.debug("socket closed", { connId: this.connId, code, reason });
  }

  /**
   * Sends an event with this socket's next `seq`. Droppable events are skipped for slow consumers.
   * `frame`, when given, is the event's frame already redacted (see `preparedEventFrame`).
   */
  sendEvent(
    event: string,
    payload: unknown,
    stateVersion?: Record<string, number>,
    dropIfSlow = false,
    frame?: PreparedEventFrame,
  ): void {
    if (this.#phase === "greeting") {
      return void (this.#handshake!.early ??= []).push([event, payload, stateVersion, dropIfSlow, frame]);
    }
    if (this.#phase !== "ready") return;
    if (this.#answerFirst?.holding) {
      this.#answerFirst.hold([event, payload, stateVersion, dropIfSlow, frame]);
      this.#answerWait ??= setTimeout(() => this.#sendHeld(this.#answerFirst!.expire()), ANSWER_WAIT_MS);
      return;
    }
    const seq = ++this.#seq;
    // The seq still advances for a dropped event so the client sees the gap and refetches.
    if (this.#overloaded()) {
      if (dropIfSlow) return void this.host.dropped?.(event);
      this.close(CloseCode.policyViolation, "slow consumer: outbound buffer full");
      return;
    }
    if (!frame) this.#write(eventFrame(event, payload, seq, stateVersion));
    else if (this.wire.sendPrepared) this.wire.sendPrepared(frame, seq);
    else this.wire.send(frame(seq));
  }

  /** Closes the socket with a valid close code (never 1005/1006, which `ws` clients reject). */
  close(code: number, reason: string): void {
    if (this.#phase === "closed") return;
    this.closeInfo = { code, reason, by: "server" };
    this.#finish();
    try {
      this.wire.close(code, this.host.secrets.redactText(reason.slice(0, 120)));
    } catch (error) {
      this.host.logger.debug("close failed", { connId: this.connId, error: String(error) });
    }
  }

  #finish(): void {
    // A socket closing before its hello-ok went out never became authenticated as far as the host knows.
    if (this.#phase === "greeting") this.caller = undefined;
    if (this.#handshakePending) this.host.handshakeDeadlines.settled();
    this.#phase = "closed";
    clearTimeout(this.#answerWait);
    this.#inflight?.abort();
    this.host.closed(this);
  }

  #overloaded(): boolean {
    return this.wire.bufferedAmount() > this.host.policy.maxBufferedBytes;
  }

  #send(text: string): void {
    if (this.#phase === "closed") return;
    if (this.#overloaded()) {
      this.close(CloseCode.policyViolation, "slow consumer: outbound buffer full");
      return;
    }
    this.#write(text);
  }

  /** Sends `text` with its secret values replaced: no wrapper object per socket does it for us. */
  #write(text: string): void {
    this.wire.send(this.host.secrets.redactJson(text));
  }

  #handshakeFrame(frame: { id: string; method: string; params?: unknown } | undefined, id?: string) {
    if (this.#phase === "authenticating" || this.#phase === "greeting") {
      if (id) {
        this.#write(errorFrame(id, invalidFrame("wait for the connect response before sending requests")));
      }
      return;
    }
    if (!frame || frame.method !== "connect") {
      const message = frame
        ? `first request must be connect, got ${frame.method}`
        : `invalid connect frame: expected {type:"req", id, method:"connect", params}`;
      if (id) this.#write(errorFrame(id, invalidFrame(message)));
      this.close(CloseCode.policyViolation, message);
      return;
    }
    const params = ConnectParamsSchema.safeParse(frame.params ?? {});
    if (!params.success) {
      const message = `invalid connect params: ${describeIssue(params.error)}`;
      this.#write(errorFrame(frame.id, invalidFrame(message)));
      this.close(CloseCode.policyViolation, message);
      return;
    }
    this.#phase = "authenticating";
    this.#handshake!.connectParams = params.data;
    this.caps = params.data.caps;
    void this.#connect(frame.id, params.data);
  }

  /** Authenticates, builds `hello-ok` and sends it, then whatever events arrived meanwhile. */
  async #connect(id: string, params: ConnectParams): Promise<void> {
    let hello: unknown;
    try {
      const caller = await this.host.authenticate(params, this);
      if (this.#phase === "closed") return;
      this.caller = ownShaped(caller);
      this.#phase = "greeting";
      hello = await this.host.hello(this);
    } catch (error) {
      if (this.isClosed) return;
      if (!(error instanceof GatewayError)) {
        this.host.logger.error("connect failed unexpectedly", { connId: this.connId, error: String(error) });
      }
      const shape = toErrorShape(error);
      this.#write(errorFrame(id, shape));
      // The reference closes a protocol range it cannot speak as a protocol error (1002); every other
      // refused connect as a policy violation (1008).
      const mismatch = shape.details?.code === "PROTOCOL_MISMATCH";
      this.close(
        mismatch ? CloseCode.protocolError : CloseCode.policyViolation,
        mismatch ? "protocol mismatch" : closeReasonFor(shape),
      );
      return;
    }
    if (this.isClosed) return;
    this.host.handshakeDeadlines.settled();
    this.#phase = "ready";
    this.#write(okFrame(id, hello));
    const early = this.#handshake!.early;
    this.#handshake!.early = undefined;
    for (const args of early ?? []) this.sendEvent(...args);
    this.host.authenticated(this);
    this.#handshake = undefined;
  }

  #runRequest(id: string, method: string, params: unknown): void {
    const signal = (this.#inflight ??= new AbortController()).signal;
    if (AnswerFirst.startsRun(method, params)) (this.#answerFirst ??= new AnswerFirst()).expect(id);
    this.host.dispatch(this, id, method, params, signal).then(
      (payload) => this.#answer(id, okFrame(id, payload ?? {})),
      (error) => {
        if (!(error instanceof GatewayError)) {
          this.host.logger.error("method failed", { method, connId: this.connId, error: String(error) });
        }
        this.#answer(id, errorFrame(id, toErrorShape(error)));
      },
    );
  }

  /** Sends an early `res` for a two-stage call. */
  ack(id: string, payload: unknown): void {
    this.#answer(id, okFrame(id, payload));
  }

  /** Sends the answer `text` of call `id`, then the events that waited for it. */
  #answer(id: string, text: string): void {
    this.#send(text);
    if (this.#answerFirst) this.#sendHeld(this.#answerFirst.answered(id));
  }

  /** Sends events that waited for an answer, once it came or the wait ran out. */
  #sendHeld(held: Parameters<Connection["sendEvent"]>[]): void {
    if (held.length === 0) return;
    clearTimeout(this.#answerWait);
    this.#answerWait = undefined;
    for (const args of held) this.sendEvent(...args);
  }
}

/**
 * A copy of `caller` with the same keys, built one property at a time. Node 20's V8 gives every object
 * made by spreading (`{ ...base, scopes }`, as callers are built) a hidden class of its own, about half a
 * KiB that each socket would keep for its lifetime; objects grown key by key share theirs. Its scopes,
 * address and client fields are interned, and its scopes a shared frozen list: each socket's `connect`
 * parsed its own copies.
 */
function ownShaped(caller: CallerIdentity): CallerIdentity {
  // The connection id is unique to its socket: interned, it would only fill the table.
  const copy = internedCopy(caller, "connId") as unknown as CallerIdentity;
  copy.scopes = internedScopes(caller.scopes);
  if (caller.client) copy.client = internedCopy(caller.client) as unknown as CallerIdentity["client"];
  return copy;
}

/** `object`'s own keys in order, its string values interned (but `unique`'s). */
function internedCopy<T extends object>(object: T, unique?: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in object) {
    const value: unknown = object[key];
    copy[key] = typeof value === "string" && key !== unique ? intern(value) : value;
  }
  return copy;
}

function invalidFrame(message: string) {
  return new GatewayError("INVALID_REQUEST", message).toShape();
}

function closeReasonFor(shape: ErrorShape): string {
  const detailCode = shape.details?.code;
  // As the reference closes it: the refusal's message and the request an operator must approve.
  if (detailCode === "PAIRING_REQUIRED") {
    const requestId = shape.details?.requestId;
    return typeof requestId === "string" ? `${shape.message} (requestId: ${requestId})` : shape.message;
  }
  if (typeof detailCode === "string" && detailCode.startsWith("AUTH_")) return "unauthorized";
  if (typeof detailCode === "string" && detailCode.startsWith("DEVICE_AUTH_")) return "device auth failed";
  return "connect failed";
}

function utf8Length(text: string): number {
  // Cheap upper bound first: most frames are far below the limit.
  if (text.length * 3 <= MAX_PREAUTH_PAYLOAD_BYTES) return text.length;
  return new TextEncoder().encode(text).byteLength;
}
