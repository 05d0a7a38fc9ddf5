/**
 * Operator scopes and the rule that decides whether a granted set satisfies a required one.
 *
 * @module
 */

/** Every operator scope protocol v4 names. */
export const OPERATOR_SCOPES = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.approvals",
  "operator.pairing",
  "operator.talk",
  "operator.talk.secrets",
  "operator.questions",
] as const;

/** One operator scope (unknown future scopes are plain strings). */
export type Scope = typeof OPERATOR_SCOPES[number] | (string & Record<never, never>);

/**
 * The scope a method needs: a scope name, `"none"` for liveness methods anyone connected may call, or
 * {@link NODE_ROLE_SCOPE} for methods only `role: "node"` clients call.
 */
export type MethodScope = Scope | "none";

/** The scope of the methods a node calls (`node.invoke.result`, `node.event`); operators may not call them. */
export const NODE_ROLE_SCOPE = "node";

/** The set HTTP shared-secret callers get (they are the owner). */
export const DEFAULT_OPERATOR_SCOPES: readonly string[] = [
  "operator.admin",
  "operator.approvals",
  "operator.pairing",
  "operator.read",
  "operator.talk.secrets",
  "operator.write",
];

/**
 * Whether `granted` satisfies `required`: admin satisfies every `operator.*` scope, write satisfies
 * read and talk, and everything else needs an exact match.
 *
 * @example
 * ```ts
 * import { scopeSatisfied } from "@openclaw-ts/gateway";
 *
 * if (!scopeSatisfied(["operator.write"], "operator.read")) throw new Error("write covers read");
 * if (scopeSatisfied(["operator.read"], "operator.write")) throw new Error("read does not cover write");
 * ```
 */
export function scopeSatisfied(granted: readonly string[], required: MethodScope): boolean {
  if (required === "none") return true;
  if (granted.includes(required)) return true;
  if (required.startsWith("operator.") && granted.includes("operator.admin")) return true;
  if ((required === "operator.read" || required === "operator.talk") && granted.includes("operator.write")) {
    return true;
  }
  return false;
}
