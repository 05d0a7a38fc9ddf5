/**
 * The per-connection callbacks (the {@link ConnectionHost} every {@link Connection} calls): authenticate
 * `connect`, build `hello-ok`, dispatch requests, and the bookkeeping when a socket authenticates or
 * closes (admission counts, observers, presence rows, logs).
 *
 * @module
 */
import type { Authenticator, SocketAuthResult } from "../auth/authenticator.ts";
import { toErrorShape } from "../errors.ts";
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_BUFFERED_BYTES,
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
} from "../protocol/constants.ts";
import { GATEWAY_BUILD_ID, GATEWAY_VERSION } from "../version.ts";
import type { ConnectedClient } from "../types.ts";
import type { Connection, ConnectionHost, ConnectionPolicy } from "../ws/connection.ts";
import { HandshakeDeadlines } from "../ws/handshake-deadlines.ts";
import type { AccessLog } from "./access-log.ts";
import type { Admission } from "./admission.ts";
import type { GatewayCore } from "./core.ts";
import type { Dispatcher } from "./dispatch.ts";
import type { PresenceRows } from "./presence.ts";
import type { GatewayOptions } from "./types.ts";

/** The gateway parts the connection callbacks use. */
export interface ConnectionHostParts {
  /** Checks each socket's `connect`. */
  authenticator: Authenticator;
  /** Released when a socket authenticates or closes unauthenticated. */
  admission: Admission;
  /** Gets a row per authenticated client. */
  presenceRows: PresenceRows;
  /** Runs each request frame. */
  dispatch: Dispatcher["dispatch"];
  /** The health snapshot `hello-ok` carries. */
  health: () => Promise<Record<string, unknown>>;
  /** Gets the disconnect line. */
  accessLog: AccessLog;
  /** Advertised in `hello-ok.policy`. */
  tickIntervalMs: number;
}

/** The socket limits: the gateway's options first, then `OPENCLAW_HANDSHAKE_TIMEOUT_MS`, then the defaults. */
function connectionPolicy(
  options: Pick<GatewayOptions, "limits" | "timing">,
  env: GatewayCore["env"],
): ConnectionPolicy {
  return {
    maxPayload: options.limits?.maxPayload ?? MAX_PAYLOAD_BYTES,
    maxBufferedBytes: options.limits?.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
    handshakeTimeoutMs: options.timing?.handshakeTimeoutMs ??
      (Number(env.OPENCLAW_HANDSHAKE_TIMEOUT_MS) || HANDSHAKE_TIMEOUT_MS),
  };
}

/** The `hello-ok` payload for a connection that just authenticated (`token`: its paired device's token for the role). */
async function helloOk(
  { state, now, registry, events, noteVersions, selfId, extensions: { snapshotSections } }: GatewayCore,
  { presenceRows, health, policy, tickIntervalMs, paths }:
    & Pick<ConnectionHostParts, "presenceRows" | "health" | "tickIntervalMs">
    & { policy: ConnectionPolicy; paths: GatewayOptions["paths"] },
  connection: Connection,
  token: SocketAuthResult["deviceToken"],
): Promise<Record<string, unknown>> {
  const caller = connection.caller!;
  const authBlock: Record<string, unknown> = {
    method: caller.authMethod,
    role: caller.role,
    scopes: [...caller.scopes],
  };
  if (token) {
    authBlock.deviceToken = token.token;
    authBlock.issuedAtMs = token.issuedAtMs;
  }
  const [{ rows, versions }, healthSnapshot] = await Promise.all([presenceRows.snapshot(), health()]);
  const snapshot: Record<string, unknown> = {
    presence: rows,
    health: healthSnapshot,
    stateVersion: { ...noteVersions(versions) },
    uptimeMs: Math.max(0, Math.round(now() - state.startedAt)),
    authMode: state.auth.mode,
  };
  if (paths?.configPath) snapshot.configPath = paths.configPath;
  if (paths?.stateDir) snapshot.stateDir = paths.stateDir;
  for (const section of snapshotSections) Object.assign(snapshot, section());
  return {
    type: "hello-ok",
    protocol: PROTOCOL_VERSION,
    server: {
      version: GATEWAY_VERSION,
      buildId: GATEWAY_BUILD_ID,
      bootId: selfId,
      // A same-origin UI whose build differs from the gateway's reloads itself to fetch the gateway's
      // own; a UI served from `controlUi.root` is configured, not the gateway's, so it must not.
      controlUiBuildSource: state.config.gateway?.controlUi?.root ? "configured" : "bundled",
      connId: connection.connId,
    },
    // Capabilities name optional protocol contracts a client may rely on; this gateway claims none of the
    // reference's, so the list is empty rather than absent (clients read it).
    features: { methods: registry.names(), events: [...events], capabilities: [] },
    snapshot,
    auth: authBlock,
    policy: { maxPayload: policy.maxPayload, maxBufferedBytes: policy.maxBufferedBytes, tickIntervalMs },
  };
}

/** Creates the connection callbacks; `options` carries the limits, the timing and the paths `hello-ok` shows. */
export function createConnectionHost(
  core: GatewayCore,
  parts: ConnectionHostParts,
  options: Pick<GatewayOptions, "limits" | "timing" | "paths">,
): ConnectionHost {
  const { now, newId, logger, connections } = core;
  const { notify, observed } = core.observers;
  const { authenticator, admission, presenceRows, dispatch, accessLog } = parts;
  const policy = connectionPolicy(options, core.env);
  const deviceTokens = new WeakMap<Connection, SocketAuthResult["deviceToken"]>();
  const hello = { ...parts, policy, paths: options.paths };
  const { clientListeners } = core.extensions;
  // The sockets client listeners were told about: a socket that closes while its hello-ok is being
  // built loses its caller, yet its listeners still hear it leave.
  const announced = new WeakMap<Connection, ConnectedClient>();

  return {
    logger: logger.child("ws"),
    policy,
    secrets: core.secrets,
    handshakeDeadlines: new HandshakeDeadlines(policy.handshakeTimeoutMs),
    now,
    newId,
    async authenticate(params, connection) {
      const info = connection.info!;
      const result = await authenticator.authenticateSocket(params, {
        connId: connection.connId,
        remoteAddress: info.remoteAddress,
        headers: info.headers,
        url: info.url,
        nonce: connection.nonce!,
      }).catch((error) => {
        const code = toErrorShape(error).details?.code;
        notify((o) => o.authFailure?.("ws", typeof code === "string" ? code : "CONNECT_FAILED"));
        throw error;
      });
      deviceTokens.set(connection, result.deviceToken);
      return result.caller;
    },
    async hello(connection) {
      if (clientListeners.size && connection.connectParams) {
        const client = { caller: connection.caller!, connect: connection.connectParams };
        announced.set(connection, client);
        await Promise.all([...clientListeners].map((listener) => listener.connected?.(client)));
      }
      return await helloOk(core, hello, connection, deviceTokens.get(connection));
    },
    dispatch(connection, id, method, params, signal) {
      return observed(method, () =>
        dispatch(connection.caller!, id, method, params, signal, {
          ack: (payload) => connection.ack(id, payload),
          sendEvent: (event, payload) => connection.sendEvent(event, payload),
        }));
    },
    authenticated(connection) {
      admission.release(connection);
      notify((o) => o.connection?.("authenticated"));
      deviceTokens.delete(connection);
      const caller = connection.caller!;
      logger.info("client connected", {
        connId: connection.connId,
        remote: caller.remoteAddress,
        client: caller.client?.id,
        mode: caller.client?.mode,
        auth: caller.authMethod,
      });
      presenceRows.connected(connection);
    },
    closed(connection) {
      if (!connections.delete(connection)) return;
      const client = announced.get(connection);
      for (const listener of client ? clientListeners : []) {
        try {
          listener.disconnected?.(client!);
        } catch (error) {
          logger.error("client listener failed", { connId: connection.connId, error: String(error) });
        }
      }
      notify((o) => o.connection?.("close"));
      if (accessLog.on()) accessLog.disconnected(connection);
      if (!connection.caller) {
        admission.release(connection);
      } else {
        presenceRows.disconnected(connection);
      }
    },
    dropped: (event) => notify((o) => o.eventDropped?.(event)),
  };
}
