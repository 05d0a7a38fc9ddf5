/** The gateway's own release version, reported in `hello-ok.server.version` and `status`. */
export const GATEWAY_VERSION = "0.1.0";
