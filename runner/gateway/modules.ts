/**
 * The feature modules a CLI-run gateway installs on top of the core's built-in methods.
 *
 * @module
 */
import type { GatewayModule } from "../../lib/types.ts";

/** Modules for `gateway run`. The core's own methods (health, status, logs.tail, ...) are always there. */
export function gatewayModules(): GatewayModule[] {
  return [];
}
