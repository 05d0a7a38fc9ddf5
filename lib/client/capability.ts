/**
 * What an authenticated connection may do, named the way OpenClaw's status and probe report it.
 *
 * @module
 */
import { scopeSatisfied } from "../protocol/scopes.ts";

/** The best authority proven at handshake time. */
export type Capability =
  | "admin_capable"
  | "write_capable"
  | "read_only"
  | "pairing_pending"
  | "connected_no_operator_scope"
  | "unknown";

/** Classifies the scopes granted in `hello-ok.auth.scopes`. */
export function capabilityOf(scopes: readonly string[]): Capability {
  if (scopeSatisfied(scopes, "operator.admin")) return "admin_capable";
  if (scopes.includes("operator.write")) return "write_capable";
  if (scopes.includes("operator.read")) return "read_only";
  return "connected_no_operator_scope";
}

/** Orders capabilities so the best one across several targets can be picked. */
export function capabilityRank(capability: Capability): number {
  return [
    "unknown",
    "pairing_pending",
    "connected_no_operator_scope",
    "read_only",
    "write_capable",
    "admin_capable",
  ]
    .indexOf(capability);
}

/** The human spelling used in text output (`read_only` → `read-only`). */
export function capabilityLabel(capability: Capability): string {
  return capability.replaceAll("_", "-");
}
