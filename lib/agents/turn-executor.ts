/**
 * The turn executor: runs one turn once its session's lease is held. It opens the session and its
 * transcript, writes the turn's input while the model already works on it, calls the model (and the
 * gateway tools it asks for, step by step), records the reply and the session's row under the lease,
 * and reports every step as a run event. What it reads first travels with the lease attempt
 * (`readAhead`).
 *
 * @module
 */
import type { BusEvent, PublishGuard } from "../bus/types.ts";
import { GatewayError, toErrorShape } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { ReplyAccumulator } from "../providers/accumulate.ts";
import type { ProviderRegistry } from "../providers/registry.ts";
import type { ChatMessage, ChatRequest, ChatResult, ModelProvider, ToolSpec } from "../providers/types.ts";
import { isAbort } from "../providers/upstream-error.ts";
import type { RunOutcome } from "../state/runs.ts";
import type {
  AppendGuard,
  NewTranscriptEntry,
  RunEndState,
  SessionEntry,
  SessionRunUpdate,
  TranscriptEntry,
  TranscriptRef,
} from "../state/sessions.ts";
import type { ResolvedAgent } from "./catalog.ts";
import { leaseLostError, sessionLeaseKey } from "./session-lease.ts";
import { type AgentToolHost, MAX_TOOL_STEPS, type ToolRunContext } from "./tool-host.ts";
import type { AgentStores, RunEvent, RunInfo, TurnInput } from "./turn-types.ts";

/** What a turn starts with once its session's lease is held. */
export interface TurnStart {
  /** The agent that runs the turn. */
  agent: ResolvedAgent;
  /** The `provider/model` the turn asked for (a session's override may replace it). */
  modelRef: string;
  /** Aborts the turn: its caller, its timeout, `chat.abort`, a lost lease. */
  signal: AbortSignal;
  /** Settled once the turn's input is written (or could not be). */
  recorded: PromiseWithResolvers<void>;
  /** Read along with the lease's first attempt, or right after the lease was taken. */
  reads: TurnReads;
  /** The owner the session's lease was taken under: the turn's writes are guarded by it. */
  holder: string;
  /** A turn that waited: its input, moved from the turn queue into the transcript before it started. */
  dequeued?: Dequeued;
}

/** A waiting turn's input once it is in the transcript; see `WaitingTurns.dequeue`. */
export interface Dequeued {
  /** The session it runs in; `created` when the move stored it. */
  opened: { session: SessionEntry; created: boolean };
  /** Its input's lines, and what the move appended. */
  input: { lines: NewTranscriptEntry[]; added: Promise<TranscriptEntry[] | undefined> };
}

/** What a turn reads before it calls the model; see `TurnExecutor.readAhead`. */
export interface TurnReads {
  /** Unset for an ephemeral session, which is never stored. */
  session?: Promise<SessionEntry | undefined>;
  /** The transcript this replica guessed the session uses, and its lines. */
  transcript?: { ref: TranscriptRef; entries: Promise<TranscriptEntry[]> };
  /** The input's lines, appended to that transcript if the attempt got the lease: what was appended, if so. */
  input?: { lines: NewTranscriptEntry[]; added: Promise<TranscriptEntry[] | undefined> };
  /** The new session the input's append stores if the session has none (sent when there was no guess). */
  proposed?: SessionEntry;
  /** The host whose tools the turn is offered, and what its calls are told. */
  tools?: AgentToolHost;
  /** What the host's tool calls are told about the run. */
  toolRun: ToolRunContext;
  /** The specs of the tools the turn is offered. */
  specs: Promise<ToolSpec[]>;
}

/**
 * How many sessions' transcript refs a runtime remembers, to read a transcript along with the lease
 * before the session's entry says which it is. Only a guess (checked on every turn): the entry decides.
 */
const TRANSCRIPT_GUESSES = 1_000;

/** `promise`, with no unhandled rejection when its reader gives up before awaiting it. */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** A turn once its session is open and its first request built; see `TurnExecutor.#prepare`. */
interface OpenTurn {
  session: SessionEntry;
  ref: TranscriptRef;
  /** The model that serves the turn: the session's override, unless the turn named one. */
  modelRef: string;
  startedAt: number;
  /** The turn's new messages (of a conversation a client resent whole, only its new tail). */
  fresh: ChatMessage[];
  /** Settles once the input is written; rejects when it could not be. */
  inputWritten: Promise<void>;
  /** Aborted when the input could not be written: the model call stops. */
  writeFailed: AbortController;
  /** The request to the model, its messages growing with each tool step. */
  request: ChatRequest;
  provider: ModelProvider;
  /** The names of the tools the turn was offered: a call to another one ends the steps. */
  offered: Set<string>;
  /** What the turn's writes require: its session's lease. */
  guard: AppendGuard;
}

/** What a turn executor needs from its runtime. */
export interface TurnExecutorOptions {
  /** Where sessions and transcripts live, and the bus the turn's events go out on. */
  stores: Pick<AgentStores, "sessions" | "transcripts" | "bus">;
  /** The clock for timestamps, in ms since the epoch. */
  now: () => number;
  /** Where run warnings go. */
  logger: Logger;
  /** Makes session and transcript line ids. */
  newId: () => string;
  /** The providers of the config in force. */
  providers: () => ProviderRegistry;
  /** The host whose tools turns started over WS are offered, if any. */
  tools: () => AgentToolHost | undefined;
  /** Reports one of a turn's events to its listeners; `published`: its bus events went out already. */
  emit: (info: RunInfo, input: TurnInput, event: RunEvent, published?: boolean) => void;
  /** The bus events that run events will publish, rendered ahead (`RunEventRenderer`); none without a publisher. */
  render?: (info: RunInfo, events: readonly RunEvent[]) => BusEvent[] | undefined;
}

/** Runs turns whose lease is held, and sends the reads a turn starts with. */
export class TurnExecutor {
  /** By session key: the transcript each session used last here (see {@link TRANSCRIPT_GUESSES}). */
  readonly #transcripts = new Map<string, TranscriptRef>();
  /** By run: the seq of the last transcript line the turn appended (its reply's is the next, if no one else wrote). */
  readonly #tails = new WeakMap<RunInfo, number>();

  /** Runs turns with what `options` gives. */
  constructor(private readonly options: TurnExecutorOptions) {}

  /**
   * Runs a turn whose session's lease is held (under `start.holder`); settles with how it ended. The
   * turn's start is published before the first await.
   */
  async execute(info: RunInfo, input: TurnInput, start: TurnStart): Promise<RunOutcome> {
    const turn = await this.#prepare(info, input, start);
    const ran = await this.#run(info, input, start, turn);
    const { outcome, published } = await this.#finish(info, input, turn, ran);
    this.options.emit(info, input, { type: "end", outcome }, published);
    // The lease goes back only once the end's events are on the bus.
    await this.#published();
    return outcome;
  }

  /**
   * Announces the turn's start, opens its session and transcript, sends its input (unless it went
   * ahead), and builds its first request to the model.
   */
  async #prepare(info: RunInfo, input: TurnInput, start: TurnStart): Promise<OpenTurn> {
    const { agent, recorded, reads } = start;
    const startedAt = this.options.now();
    // Start is announced before anything is written, so a write failure still ends in a lifecycle end.
    this.options.emit(info, input, { type: "start", startedAt });
    const { session, created } = start.dequeued?.opened ?? await this.openSession(info, startedAt, reads);
    // A model chosen for the session (`sessions.patch`) serves its turns unless the turn names one.
    const modelRef = input.model === undefined && session.modelOverride
      ? this.options.providers().resolve(session.modelOverride).ref
      : start.modelRef;
    const ref = { agentId: session.agentId, sessionId: session.sessionId };
    const { fresh, prior, inputWritten } = this.#openTranscript(info, input, reads, {
      session,
      created,
    }, start.dequeued?.input);
    // Told only once the turn's first events are on the bus: the caller then writes (an idempotent call
    // stores its outcome), and a write in their batch would hold their delivery until it is durable.
    inputWritten.then(() => this.#published()).then(
      () => recorded.resolve(),
      (error) => recorded.reject(error),
    );
    const writeFailed = new AbortController();
    inputWritten.catch((error) => writeFailed.abort(error));
    const system = [agent.systemPrompt, input.system].filter(Boolean).join("\n\n");
    const messages: ChatMessage[] = [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      ...(await prior).map(toMessage),
      ...input.messages,
    ];
    const { provider, model } = this.options.providers().resolve(modelRef);
    const request: ChatRequest = { ...input.params, model, messages };
    const specs = await reads.specs;
    if (specs.length) request.tools = specs;
    const offered = new Set(specs.map((spec) => spec.name));
    const guard = this.leaseGuard(info, start.holder);
    return {
      session,
      ref,
      modelRef,
      startedAt,
      fresh,
      inputWritten,
      writeFailed,
      request,
      provider,
      offered,
      guard,
    };
  }

  /**
   * Calls the model, and the gateway tools it asks for (each step's lines recorded under the lease),
   * until it answers without a tool call; a failure or an abort ends the turn with what it said so far.
   */
  async #run(info: RunInfo, input: TurnInput, start: TurnStart, turn: OpenTurn): Promise<RunOutcome> {
    const { tools, toolRun } = start.reads;
    const { request, offered } = turn;
    const modelSignal = AbortSignal.any([start.signal, turn.writeFailed.signal]);
    let acc = new ReplyAccumulator();
    try {
      let result: ChatResult;
      for (let step = 1;; step++) {
        acc = new ReplyAccumulator();
        result = await this.#callModel(turn.provider, request, info, input, acc, modelSignal);
        const calls = result.toolCalls;
        if (!tools || step >= MAX_TOOL_STEPS || !calls.length || !calls.every((c) => offered.has(c.name))) {
          break;
        }
        await turn.inputWritten;
        const said = await this.#runTools(tools, toolRun, info, input, result, start.signal);
        const facts = replyFacts(turn.modelRef, result, "ok");
        const stepLines = said.map((m, i) => this.line(info, m, i === 0 ? facts : {}));
        if (!await this.#record(info, input, turn.ref, stepLines, turn.guard)) {
          throw leaseLostError(info.sessionKey);
        }
        request.messages = [...request.messages, ...said];
      }
      return this.#outcome(info, turn.session, turn.startedAt, turn.modelRef, "ok", { result });
    } catch (error) {
      // The input could not be written: the turn fails as if it never reached the model.
      if (turn.writeFailed.signal.aborted) throw turn.writeFailed.signal.reason;
      return this.#failed(info, start, turn, error, acc);
    }
  }

  /** How a turn that threw ended: aborted, timed out, or failed, with the part of the reply it got. */
  #failed(
    info: RunInfo,
    start: TurnStart,
    turn: OpenTurn,
    error: unknown,
    acc: ReplyAccumulator,
  ): RunOutcome {
    const { agent, signal } = start;
    const aborted = signal.aborted &&
      !(signal.reason instanceof DOMException && signal.reason.name === "TimeoutError");
    const cause = signal.aborted && !aborted
      ? new GatewayError(
        "AGENT_TIMEOUT",
        `agent '${agent.id}' did not finish within ${agent.timeoutMs / 1000} s`,
      )
      : error;
    if (!aborted && !isAbort(cause)) {
      this.options.logger.warn("agent run failed", { runId: info.runId, error: String(error) });
    }
    return this.#outcome(info, turn.session, turn.startedAt, turn.modelRef, aborted ? "aborted" : "error", {
      result: acc.text ? acc.result() : undefined,
      cause,
    });
  }

  /**
   * Records the turn's reply and its session's row under the lease, once its input is written; a lease
   * lost meanwhile turns the outcome into that error. On a bus that can check a guard, the end's events
   * (the reply's line, the outcome) go in the same batch, published only if the lease still holds and the
   * reply's line landed where the turn expects it (`published`); else they are published once the writes
   * are answered, as the outcome then is.
   */
  async #finish(
    info: RunInfo,
    input: TurnInput,
    turn: OpenTurn,
    outcome: RunOutcome,
  ): Promise<{ outcome: RunOutcome; published: boolean }> {
    await turn.inputWritten;
    if (info.ephemeral) return { outcome, published: false };
    const reply = outcome.result;
    const lines: NewTranscriptEntry[] = [];
    if (reply && (reply.text || reply.toolCalls.length)) {
      const message: ChatMessage = { role: "assistant", content: reply.text };
      if (reply.toolCalls.length) message.toolCalls = reply.toolCalls;
      lines.push(this.line(info, message, replyFacts(turn.modelRef, reply, outcome.status)));
    }
    // Not with events still in flight (a model that answered at once): they would wait for the fsync.
    await this.#published();
    const ahead = this.#endAhead(info, turn, lines, outcome);
    const { bus } = this.options.stores;
    // Sent together (one round trip, one fsync on Redis): the row's counts never wait for the reply's line,
    // and the end's events, behind both, reach their sockets after that fsync.
    const [added, recorded, published] = await Promise.all([
      this.#append(turn.ref, lines, turn.guard),
      this.#recordRun(turn.session, outcome, turn.fresh, turn.guard),
      ahead ? bus.publishIfHeld!(ahead.events, ahead.guard) : false,
    ]);
    // The lease ran out unnoticed (a stalled event loop): another replica may write the session now. The
    // row's guard says so when there was no reply line to refuse (the guarded publish cannot tell a lost
    // lease from a late run).
    if (!added || !recorded) {
      const cause = leaseLostError(info.sessionKey);
      return {
        outcome: this.#outcome(info, turn.session, turn.startedAt, turn.modelRef, "error", { cause }),
        published: false,
      };
    }
    this.#announce(info, input, added, published);
    return { outcome, published };
  }

  /**
   * The end's bus events as they go out if the reply's line lands next in the transcript (after the last
   * line the turn appended) and the lease holds, and that guard; none where the bus cannot check it.
   */
  #endAhead(
    info: RunInfo,
    turn: OpenTurn,
    lines: NewTranscriptEntry[],
    outcome: RunOutcome,
  ): { events: BusEvent[]; guard: PublishGuard } | undefined {
    if (!this.options.stores.bus.publishIfHeld || !this.options.stores.transcripts.appendIfHeld) return;
    const tail = this.#tails.get(info);
    const [reply] = lines;
    if (reply && tail === undefined) return;
    const entry = reply && { ...reply, seq: tail! + 1 };
    const ending: RunEvent[] = entry ? [{ type: "message", entry }] : [];
    const events = this.options.render?.(info, [...ending, { type: "end", outcome }]);
    if (!events) return;
    const guard: PublishGuard = { lease: turn.guard.lease, owner: turn.guard.owner };
    if (entry) guard.line = { ...turn.ref, seq: entry.seq, id: entry.id };
    return { events, guard };
  }

  /**
   * Settles once the events published so far are on the bus. A store write sent in their batch would
   * hold their delivery until it is durable (Redis answers a batch, and sends its pub/sub messages,
   * only after the batch's fsync), so a turn's writes wait for its events in flight.
   */
  async #published(): Promise<void> {
    await this.options.stores.bus.flush?.();
  }

  /**
   * Reads what the session said before this turn and writes the turn's input (unless it went with the
   * lease attempt). The input becomes durable while the model already works on it, which keeps the disk
   * off the time to first token: a crash still loses at most this turn, and the reply is written after it.
   */
  #openTranscript(
    info: RunInfo,
    input: TurnInput,
    reads: TurnReads,
    { session, created }: { session: SessionEntry; created: boolean },
    moved?: TurnReads["input"],
  ): { fresh: ChatMessage[]; prior: Promise<TranscriptEntry[]>; inputWritten: Promise<void> } {
    const ref = { agentId: session.agentId, sessionId: session.sessionId };
    if (!info.ephemeral) this.#transcriptSeen(info.sessionKey, ref);
    const context = input.context ?? "session";
    const guessed = reads.transcript?.ref.agentId === ref.agentId &&
        reads.transcript.ref.sessionId === ref.sessionId
      ? reads.transcript
      : undefined;
    // Unless read with the lease attempt, sent before the input's append: one round trip carries both.
    const prior = context === "session" && !info.ephemeral && !created
      ? guessed?.entries ?? this.options.stores.transcripts.read(ref)
      : Promise.resolve([]);
    const fresh = context === "request" ? newTail(input.messages) : input.messages;
    const early = moved ?? (guessed && reads.input);
    const inputLines = early ? early.lines : fresh.map((m) => this.line(info, m));
    const inputWritten = (async () => {
      const added = early && await early.added;
      if (added) return this.#announce(info, input, added);
      // A new session's entry goes first: a crash must not orphan lines under an id no one knows.
      if (created && !info.ephemeral) await this.options.stores.sessions.put(session);
      await this.#record(info, input, ref, inputLines, undefined, info.runId);
    })();
    // A store that serves the read after the append starts would list this turn's lines too, and a
    // retried call's (same run id) input saved before its first replica died is `fresh` already.
    const others = (lines: TranscriptEntry[]) => lines.filter((line) => line.runId !== info.runId);
    return { fresh, prior: quiet(prior.then(others)), inputWritten };
  }

  /**
   * Sends the reads a turn starts with, to travel with an attempt at its session's lease: the session's
   * entry, the transcript this replica last saw it use (on the guess that it is still current; the turn
   * checks it against the entry), and the specs of the host's tools it is offered (none for HTTP
   * clients and turns that bring their own).
   */
  readAhead(info: RunInfo, input: TurnInput, holder: string, early: boolean): TurnReads {
    const toolRun: ToolRunContext = {
      runId: info.runId,
      sessionKey: info.sessionKey,
      agentId: info.agentId,
      ...(input.origin.external ? { external: true } : {}),
    };
    const tools = input.origin.kind !== "http" && !input.params?.tools?.length
      ? this.options.tools()
      : undefined;
    const reads: TurnReads = {
      tools,
      toolRun,
      specs: quiet((async () => (await tools?.specs(toolRun)) ?? [])()),
    };
    if (info.ephemeral) return reads;
    reads.session = quiet(this.options.stores.sessions.get(info.sessionKey));
    if ((input.context ?? "session") !== "session") return reads;
    const { transcripts } = this.options.stores;
    const guess = this.#transcripts.get(info.sessionKey);
    const appendIfHeld = early ? transcripts.appendIfHeld?.bind(transcripts) : undefined;
    if (!guess && !appendIfHeld) return reads;
    // No guess (a session new to this replica): the turn proposes a new session, stored with its input
    // in the same step if the session has no entry yet. If it has, the turn reads it after all.
    const proposed = guess ? undefined : this.#newSession(info, this.options.now());
    const ref = guess ?? { agentId: proposed!.agentId, sessionId: proposed!.sessionId };
    reads.transcript = { ref, entries: guess ? quiet(transcripts.read(ref)) : Promise.resolve([]) };
    if (appendIfHeld) {
      // Written only if this attempt gets the lease and the guess is right, checked in the same step.
      const lines = input.messages.map((message) => this.line(info, message));
      const guard: AppendGuard = {
        ...this.leaseGuard(info, holder),
        sessionKey: info.sessionKey,
        inputOf: info.runId,
      };
      // Sent before the claim is answered: lands only if the turn is not a duplicate.
      if (input.claim?.guard) guard.claim = input.claim.guard;
      if (proposed) guard.create = reads.proposed = proposed;
      reads.input = { lines, added: quiet(appendIfHeld(ref, lines, guard)) };
    }
    return reads;
  }

  /** A transcript line of this run; the store numbers it as it appends it. */
  line(info: RunInfo, message: ChatMessage, extra: Partial<NewTranscriptEntry> = {}): NewTranscriptEntry {
    return {
      id: this.options.newId(),
      ts: this.options.now(),
      runId: info.runId,
      ...fromMessage(message),
      ...extra,
    };
  }

  /** Remembers the transcript a session uses, most recent last, forgetting the oldest past the cap. */
  #transcriptSeen(sessionKey: string, ref: TranscriptRef): void {
    this.#transcripts.delete(sessionKey);
    this.#transcripts.set(sessionKey, ref);
    if (this.#transcripts.size > TRANSCRIPT_GUESSES) {
      this.#transcripts.delete(this.#transcripts.keys().next().value!);
    }
  }

  /** One model step: streamed (emitting output events) unless the turn asked for a whole reply. */
  async #callModel(
    provider: ModelProvider,
    request: ChatRequest,
    info: RunInfo,
    input: TurnInput,
    acc: ReplyAccumulator,
    signal: AbortSignal,
  ): Promise<ChatResult> {
    if (input.stream === false) return await provider.completeChat(request, signal);
    for await (const event of provider.streamChat(request, signal)) {
      acc.add(event);
      this.options.emit(info, input, { type: "output", event, text: acc.text });
    }
    return acc.result();
  }

  /** Executes the tool calls of one model step; returns the assistant message and one result per call. */
  async #runTools(
    tools: AgentToolHost,
    run: ToolRunContext,
    info: RunInfo,
    input: TurnInput,
    step: ChatResult,
    signal: AbortSignal,
  ): Promise<ChatMessage[]> {
    const turn: ChatMessage[] = [{ role: "assistant", content: step.text, toolCalls: step.toolCalls }];
    for (const call of step.toolCalls) {
      signal.throwIfAborted();
      this.options.emit(info, input, { type: "tool", phase: "start", call });
      const { output, isError } = await tools.execute(call, run, signal);
      this.options.emit(info, input, { type: "tool", phase: "result", call, output, isError });
      turn.push({ role: "tool", content: output, toolCallId: call.id, name: call.name });
    }
    return turn;
  }

  /**
   * Appends lines to a durable session's transcript and reports each one; with `guard`, only while the
   * turn's lease holds (when the store can check it). False when the guard refused them. With
   * `inputOf`, the lines are that run's input (`AppendOptions`).
   */
  async #record(
    info: RunInfo,
    input: TurnInput,
    ref: TranscriptRef,
    lines: NewTranscriptEntry[],
    guard?: AppendGuard,
    inputOf?: string,
  ): Promise<boolean> {
    if (info.ephemeral) return true;
    const added = await this.#append(ref, lines, guard, inputOf);
    if (added) this.#announce(info, input, added);
    return added !== undefined;
  }

  /** Appends lines (see {@link TurnExecutor.#record}); undefined when the guard refused them. */
  async #append(
    ref: TranscriptRef,
    lines: NewTranscriptEntry[],
    guard?: AppendGuard,
    inputOf?: string,
  ): Promise<TranscriptEntry[] | undefined> {
    if (!lines.length) return [];
    const { transcripts } = this.options.stores;
    return guard && transcripts.appendIfHeld
      ? await transcripts.appendIfHeld(ref, lines, guard)
      : await transcripts.append(ref, lines, inputOf === undefined ? undefined : { inputOf });
  }

  /** What a write of the turn requires: its session's lease, held under `holder`. */
  leaseGuard(info: RunInfo, holder: string): AppendGuard {
    return { lease: sessionLeaseKey(info.sessionKey), owner: holder };
  }

  /** Reports lines the store appended (`published`: their bus events went out already). */
  #announce(info: RunInfo, input: TurnInput, added: readonly TranscriptEntry[], published = false): void {
    if (added.length) this.#tails.set(info, added.at(-1)!.seq);
    for (const entry of added) this.options.emit(info, input, { type: "message", entry }, published);
  }

  #outcome(
    info: RunInfo,
    session: SessionEntry,
    startedAt: number,
    model: string,
    status: RunOutcome["status"],
    extra: { result?: ChatResult; cause?: unknown },
  ): RunOutcome {
    const outcome: RunOutcome = {
      runId: info.runId,
      sessionKey: info.sessionKey,
      sessionId: session.sessionId,
      agentId: session.agentId,
      status,
      startedAt,
      endedAt: this.options.now(),
      model,
    };
    if (extra.result) outcome.result = extra.result;
    if (status === "aborted") outcome.error = { code: "INVALID_REQUEST", message: "run aborted" };
    else if (extra.cause !== undefined) outcome.error = toErrorShape(extra.cause);
    if (extra.cause !== undefined) outcome.cause = extra.cause;
    return outcome;
  }

  /**
   * The run's session entry (its read sent with the lease's attempt, if any); a `created` one is the
   * proposed one, if any, and written with the run's input.
   */
  async openSession(
    info: RunInfo,
    now: number,
    reads: TurnReads,
  ): Promise<{ session: SessionEntry; created: boolean }> {
    const existing = info.ephemeral
      ? undefined
      : await (reads.session ?? this.options.stores.sessions.get(info.sessionKey));
    if (existing) return { session: existing, created: false };
    return { session: reads.proposed ?? this.#newSession(info, now), created: true };
  }

  /** A new session entry under the run's key, with a transcript of its own. */
  #newSession(info: RunInfo, now: number): SessionEntry {
    return {
      key: info.sessionKey,
      agentId: info.agentId,
      sessionId: this.options.newId(),
      createdAt: now,
      updatedAt: now,
      inputTokens: 0,
      outputTokens: 0,
    };
  }

  /**
   * Applies the finished run to its session's row; with `guard`, only while the turn's lease holds (when
   * the store can check it). False when the guard refused it.
   */
  async #recordRun(
    session: SessionEntry,
    outcome: RunOutcome,
    fresh: ChatMessage[],
    guard?: AppendGuard,
  ): Promise<boolean> {
    const usage = outcome.result?.usage;
    const preview = outcome.result?.text || fresh.at(-1)?.content;
    const { sessions } = this.options.stores;
    const update: SessionRunUpdate = {
      sessionId: session.sessionId,
      updatedAt: outcome.endedAt,
      model: outcome.model,
      lastRunId: outcome.runId,
      lastRunState: endState(outcome),
      lastActivityAt: outcome.endedAt,
      ...(preview ? { lastMessagePreview: preview.slice(0, 200) } : {}),
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
    };
    if (guard && sessions.recordRunIfHeld) {
      return await sessions.recordRunIfHeld(session.key, update, guard) !== false;
    }
    await sessions.recordRun(session.key, update);
    return true;
  }
}

function endState(outcome: RunOutcome): RunEndState {
  if (outcome.status === "ok") return "done";
  if (outcome.status === "aborted") return "killed";
  return outcome.error?.code === "AGENT_TIMEOUT" ? "timeout" : "failed";
}

/** The messages after the last assistant message: what a client-managed conversation adds this turn. */
function newTail(messages: ChatMessage[]): ChatMessage[] {
  const lastAssistant = messages.findLastIndex((m) => m.role === "assistant");
  return messages.slice(lastAssistant + 1).filter((m) => m.role !== "system");
}

function fromMessage(
  message: ChatMessage,
): Pick<TranscriptEntry, "role" | "content" | "toolCalls" | "toolCallId"> {
  const entry: Pick<TranscriptEntry, "role" | "content" | "toolCalls" | "toolCallId"> = {
    role: message.role,
    content: message.content,
  };
  if (message.toolCalls?.length) entry.toolCalls = message.toolCalls;
  if (message.toolCallId) entry.toolCallId = message.toolCallId;
  return entry;
}

function toMessage(entry: TranscriptEntry): ChatMessage {
  const message: ChatMessage = { role: entry.role, content: entry.content };
  if (entry.toolCalls?.length) message.toolCalls = entry.toolCalls;
  if (entry.toolCallId) message.toolCallId = entry.toolCallId;
  return message;
}

/** The reference's stop reasons for a model's finish reason (its OpenAI mapping). */
const STOP_REASONS: Record<ChatResult["finishReason"], string> = {
  stop: "stop",
  length: "length",
  tool_calls: "toolUse",
  content_filter: "error",
};

/**
 * What an assistant line records about the reply: the model that wrote it, its token counts when the
 * provider reported them, and why it stopped (a turn that did not finish normally says so instead).
 */
function replyFacts(
  modelRef: string,
  reply: ChatResult,
  status: RunOutcome["status"],
): Partial<NewTranscriptEntry> {
  const facts: Partial<NewTranscriptEntry> = {
    model: modelRef,
    stopReason: status === "ok" ? STOP_REASONS[reply.finishReason] ?? "stop" : status,
  };
  if (reply.usage) facts.usage = reply.usage;
  return facts;
}
