/** The gateway's own release version, reported in `hello-ok.server.version` and `status`. */
export const GATEWAY_VERSION = "0.1.0";

/** Which build answers (`hello-ok.server.buildId`): this implementation at its version. */
export const GATEWAY_BUILD_ID = `${GATEWAY_VERSION}-openclaw-gateway-ts`;
