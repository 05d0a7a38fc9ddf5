// A loopback server that speaks the slice of the Telegram Bot API the channel uses.
import type { Gateway } from "../mod.ts";

export interface FakeTelegram {
  url: string;
  calls: { method: string; body: Record<string, unknown> }[];
  /** Queues a text message from `fromId` in chat `chatId` for the next getUpdates. */
  push(text: string, fromId?: number, chatId?: number): void;
  /** Resolves with the next sendMessage body. */
  nextSent(): Promise<Record<string, unknown>>;
  /** Queues an update as given (a repeated `update_id`, a group chat); returns its id. */
  pushUpdate(update: Record<string, unknown>): number;
  /** Queues a text message in group `chatId` (a negative id) from `fromId`. */
  pushGroup(text: string, fromId: number, chatId: number, extra?: Record<string, unknown>): number;
  close(): Promise<void>;
}

export const BOT_TOKEN = "123456:TEST-token";

export function startFakeTelegram(token = BOT_TOKEN): FakeTelegram {
  const calls: FakeTelegram["calls"] = [];
  const updates: Record<string, unknown>[] = [];
  let updateId = 100;
  let wake: (() => void) | undefined;
  const sent: Record<string, unknown>[] = [];
  const sentWaiters: ((body: Record<string, unknown>) => void)[] = [];
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (req) => {
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url).pathname);
      if (!match) {
        return Response.json({ ok: false, error_code: 404, description: "Not Found" }, {
          status: 404,
        });
      }
      if (match[1] !== token) {
        return Response.json({ ok: false, error_code: 401, description: "Unauthorized" }, { status: 401 });
      }
      const method = match[2];
      const body = await req.json().catch(() => ({})) as Record<string, unknown>;
      calls.push({ method, body });
      const ok = (result: unknown) => Response.json({ ok: true, result });
      switch (method) {
        case "getMe":
          return ok({ id: 42, is_bot: true, first_name: "Test", username: "test_bot" });
        case "deleteWebhook":
        case "setWebhook":
          return ok(true);
        case "getUpdates": {
          const offset = Number(body.offset ?? 0);
          const pending = () => updates.filter((u) => (u.update_id as number) >= offset);
          if (!pending().length) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Math.min(Number(body.timeout ?? 0), 1) * 1000);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
              req.signal.addEventListener("abort", () => wake?.());
            });
          }
          return ok(pending());
        }
        case "sendMessage": {
          sent.push(body);
          sentWaiters.shift()?.(body);
          return ok({ message_id: sent.length, chat: { id: body.chat_id }, text: body.text });
        }
        default:
          return Response.json({ ok: false, error_code: 400, description: `unknown method ${method}` }, {
            status: 400,
          });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    calls,
    push(text, fromId = 7, chatId = fromId) {
      updates.push({
        update_id: ++updateId,
        message: {
          message_id: updateId,
          text,
          chat: { id: chatId, type: "private" },
          from: { id: fromId, first_name: "Ada" },
        },
      });
      wake?.();
    },
    pushUpdate(update) {
      const id = typeof update.update_id === "number" ? update.update_id : ++updateId;
      updates.push({ ...update, update_id: id });
      wake?.();
      return id;
    },
    pushGroup(text, fromId, chatId, extra = {}) {
      return this.pushUpdate({
        message: {
          message_id: ++updateId,
          text,
          chat: { id: chatId, type: "supergroup", title: "Test group" },
          from: { id: fromId, first_name: "Member" },
          ...extra,
        },
      });
    },
    nextSent() {
      const ready = sent.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => sentWaiters.push((body) => (sent.shift(), resolve(body))));
    },
    async close() {
      wake?.();
      controller.abort();
      await server.finished;
    },
  };
}

/** A `channels.telegram` config for the bot on `apiRoot` that polls with a 1 s timeout, `settings` on top. */
export function pollingTelegram(
  apiRoot: string,
  settings: Record<string, unknown> = {},
): Record<string, unknown> {
  return { botToken: BOT_TOKEN, apiRoot, pollTimeoutSeconds: 1, ...settings };
}

/**
 * Reloads `gateway`'s config with `telegram` as its channels section, and gives the restarted channel
 * 100 ms to start polling; answers what `updateConfig` answered.
 */
export async function reloadTelegram(
  gateway: Gateway,
  telegram: Record<string, unknown>,
): Promise<ReturnType<Gateway["updateConfig"]>> {
  const answer = gateway.updateConfig({ ...gateway.config(), channels: { telegram } });
  await new Promise((r) => setTimeout(r, 100));
  return answer;
}
