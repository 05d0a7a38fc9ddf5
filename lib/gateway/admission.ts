/**
 * Which upgrades and sockets get in: none unless the gateway is running, a cap on unauthenticated
 * sockets overall and per client address bucket (counted until a socket authenticates or closes), the
 * sockets guards modules add.
 *
 * @module
 */
import { proxyAttributionRefusal } from "../auth/authenticator.ts";
import { addressBucket } from "../net/address-bucket.ts";
import { DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS } from "../config/sections/gateway.ts";
import { textResponse } from "../http/response.ts";
import { CloseCode, MAX_UNAUTHENTICATED_SOCKETS } from "../protocol/constants.ts";
import { throttledWarning } from "../transports/types.ts";
import { Connection, type ConnectionHost } from "../ws/connection.ts";
import type { GatewayServerHandler, SocketHandlers, SocketInfo, SocketWire } from "../ws/wire.ts";
import type { Authentication } from "./authentication.ts";
import type { GatewayCore } from "./core.ts";
import type { GatewayOptions } from "./types.ts";

/** Admission of upgrades and sockets; see the module doc. */
export interface Admission {
  /** Refuses an upgrade (503) while not running or over a cap; `null` lets it through. */
  admitUpgrade: GatewayServerHandler["admitUpgrade"];
  /** Opens a {@link Connection} for an accepted socket, counted as unauthenticated. */
  acceptSocket(host: ConnectionHost, wire: SocketWire, info: SocketInfo): SocketHandlers;
  /** Stops counting a socket as unauthenticated (it authenticated, or closed before it did). */
  release(connection: Connection): void;
}

/** Creates admission over the connections; `options.limits` may lower the overall cap. */
export function createAdmission(
  { state, now, logger, connections, observers: { notify }, extensions: { socketGuards } }: Pick<
    GatewayCore,
    "state" | "now" | "logger" | "connections" | "observers" | "extensions"
  >,
  { attribute, clientAddress }: Pick<Authentication, "attribute" | "clientAddress">,
  options: Pick<GatewayOptions, "limits">,
): Admission {
  const maxUnauthenticated = options.limits?.maxUnauthenticatedSockets ?? MAX_UNAUTHENTICATED_SOCKETS;
  let unauthenticated = 0;
  /**
   * Unauthenticated sockets per client address bucket, and each such socket's bucket. These caps count
   * this process's own sockets, so they stay process-local rather than in the shared stores.
   */
  const unauthenticatedFrom = new Map<string, number>();
  const bucketOf = new Map<Connection, string>();

  const releaseBucket = (connection: Connection) => {
    const bucket = bucketOf.get(connection);
    if (bucket === undefined) return;
    bucketOf.delete(connection);
    const left = (unauthenticatedFrom.get(bucket) ?? 1) - 1;
    if (left > 0) unauthenticatedFrom.set(bucket, left);
    else unauthenticatedFrom.delete(bucket);
  };

  const refusedGlobally = throttledWarning(
    logger,
    "rejecting upgrades: too many unauthenticated sockets",
    10_000,
    now,
  );
  const refusedPerAddress = throttledWarning(
    logger,
    "rejecting upgrades: too many unauthenticated sockets from one address",
    10_000,
    now,
  );

  return {
    admitUpgrade(request, info) {
      if (state.phase !== "running") {
        return textResponse(state.phase === "stopping" ? "Gateway stopping" : "Gateway starting", 503, {
          "Retry-After": "1",
        });
      }
      const who = attribute(info.remoteAddress, request.headers);
      if (who.unattributable) return proxyAttributionRefusal();
      if (unauthenticated >= maxUnauthenticated) {
        refusedGlobally({ limit: maxUnauthenticated });
        return textResponse("Too many unauthenticated sockets", 503, { "Retry-After": "1" });
      }
      const bucket = addressBucket(who.address);
      const perAddress = state.config.gateway?.limits?.maxUnauthenticatedPerAddress ??
        DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS;
      if ((unauthenticatedFrom.get(bucket) ?? 0) >= perAddress) {
        refusedPerAddress({ address: bucket, limit: perAddress });
        return textResponse(
          `Too many unauthenticated sockets from your address (limit ${perAddress}); complete the connect handshake on the open ones or retry later`,
          503,
          { "Retry-After": "1" },
        );
      }
      return null;
    },
    acceptSocket(host: ConnectionHost, wire: SocketWire, info: SocketInfo): SocketHandlers {
      unauthenticated++;
      const connection = new Connection(host, wire, info);
      connections.add(connection);
      const bucket = addressBucket(clientAddress(info.remoteAddress, info.headers));
      bucketOf.set(connection, bucket);
      unauthenticatedFrom.set(bucket, (unauthenticatedFrom.get(bucket) ?? 0) + 1);
      notify((o) => o.connection?.("open"));
      if (state.phase !== "running") connection.close(CloseCode.tryAgainLater, "gateway starting");
      const refusal = socketGuards.map((guard) => guard(info)).find(Boolean);
      if (refusal) connection.close(CloseCode.policyViolation, refusal);
      return connection;
    },
    release(connection) {
      unauthenticated--;
      releaseBucket(connection);
    },
  };
}
