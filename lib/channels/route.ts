/**
 * The channels' HTTP route, `/channels/<id>/<subPath>`: the channel checks the request head first
 * (`Channel.verifyHttp`, as the route's `auth`), and only then reads and handles the body.
 *
 * @module
 */
import { jsonResponse } from "../http/response.ts";
import type { HttpAuthResult, HttpRoute } from "../types.ts";
import type { RunningChannels } from "./running.ts";
import type { Channel } from "./types.ts";

/** Where channel webhooks are served. */
export const CHANNELS_HTTP_PREFIX = "/channels/";

/** The route serving every running channel's webhook. */
export function channelsRoute(channels: RunningChannels): HttpRoute {
  return {
    path: CHANNELS_HTTP_PREFIX,
    prefix: true,
    auth(request): HttpAuthResult {
      const { id, channel, subPath } = target(channels, request);
      if (!channel?.handleHttp) return { ok: false, response: noWebhook(id) };
      const refusal = channel.verifyHttp?.(request, subPath);
      if (refusal) return { ok: false, response: refusal };
      // A webhook sender holds the channel's secret, nothing of the gateway's: no operator scopes.
      return {
        ok: true,
        caller: { connId: `channel:${id}`, role: "operator", scopes: [], authMethod: "channel" },
      };
    },
    async handler(request) {
      // The check above ran in this same turn, so this finds the channel it checked.
      const { id, channel, subPath } = target(channels, request);
      return channel?.handleHttp ? await channel.handleHttp(request, subPath) : noWebhook(id);
    },
  };
}

function noWebhook(id: string): Response {
  return jsonResponse({ ok: false, error: `no channel webhook for '${id}'` }, 404);
}

function target(
  channels: RunningChannels,
  request: Request,
): { id: string; channel: Channel | undefined; subPath: string } {
  const [id, ...rest] = new URL(request.url).pathname.slice(CHANNELS_HTTP_PREFIX.length).split("/");
  return { id, channel: channels.get(id), subPath: rest.join("/") };
}
