/**
 * `openclaw gateway probe`: connect to every target (explicit URL, configured remote, local loopback),
 * report reachability and capability per target, and warn when several distinct gateways answer.
 *
 * @module
 */
import { type Capability, capabilityLabel, capabilityRank } from "../../../lib/client/capability.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { EXIT } from "../../cli/errors.ts";
import type { RunnerCommand } from "../../command.ts";
import { type ProbeOutcome, probeTarget, readProbeLabel } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import { CONNECTION_FLAGS, PORT_FLAG, printJson, querySetup } from "./shared.ts";

/** One warning record of `gateway probe --json`. */
export interface ProbeWarning {
  code: "multiple_gateways" | "probe_scope_limited" | "auth_secretref_unresolved";
  message: string;
  targetIds?: string[];
}

/** Warnings derived from a set of probe outcomes. */
export function probeWarnings(outcomes: ProbeOutcome[], authWarning?: string): ProbeWarning[] {
  const warnings: ProbeWarning[] = [];
  const reachable = outcomes.filter((o) => o.ok);
  const identities = new Set(
    reachable.map((o) => String(o.hello?.server.bootId ?? `unknown:${o.target.id}`)),
  );
  if (reachable.length > 1 && identities.size > 1) {
    warnings.push({
      code: "multiple_gateways",
      message: "multiple reachable gateway identities detected; most installs run one gateway per machine. " +
        "If this is on purpose, give each its own port, config and state dir.",
      targetIds: reachable.map((o) => o.target.id),
    });
  }
  const limited = reachable.filter((o) => o.scopeLimited);
  if (limited.length) {
    warnings.push({
      code: "probe_scope_limited",
      // The reference's wording: a probe without a paired device identity is granted no scopes.
      message:
        "Read-probe diagnostics are limited by gateway scopes (missing operator.read). Connection succeeded, but read-only status calls are incomplete. Hint: pair device identity or use credentials with operator.read.",
      targetIds: limited.map((o) => o.target.id),
    });
  }
  const failed = outcomes.filter((o) => !o.ok);
  if (authWarning && failed.length) {
    warnings.push({
      code: "auth_secretref_unresolved",
      message: authWarning,
      targetIds: failed.map((o) => o.target.id),
    });
  }
  return warnings;
}

/** A target's capability as the reference prints it on the target's line (the summary spells it out). */
function targetCapabilityLabel(capability: Capability): string {
  if (capability === "connected_no_operator_scope") return "connect-only";
  if (capability === "pairing_pending") return "pairing pending";
  return capabilityLabel(capability);
}

function targetJson(outcome: ProbeOutcome): Record<string, unknown> {
  return {
    id: outcome.target.id,
    label: outcome.target.label,
    url: outcome.target.url,
    connect: {
      ok: outcome.ok,
      rpcOk: outcome.rpcOk,
      scopeLimited: outcome.scopeLimited,
      ...(outcome.connectMs !== undefined ? { latencyMs: outcome.connectMs } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.readError ? { readError: outcome.readError } : {}),
    },
    ...(outcome.hello
      ? {
        auth: {
          role: outcome.hello.auth.role,
          scopes: outcome.hello.auth.scopes,
          capability: outcome.capability,
        },
        server: outcome.hello.server,
      }
      : {}),
  };
}

/** Builds `gateway probe`. */
export function gatewayProbeCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["gateway", "probe"],
    summary: "Probe every gateway target (explicit URL, configured remote, local loopback)",
    flags: { ...CONNECTION_FLAGS, ...PORT_FLAG },
    async run({ flags }, ctx) {
      const setup = await querySetup(flags, ctx, { probeAll: true, defaultTimeoutMs: 3000 });
      const outcomes = await Promise.all(
        setup.gateway.targets.map((target) =>
          probeTarget(host, target, { timeoutMs: setup.timeoutMs, read: true, mode: "probe" })
        ),
      );
      const reachable = outcomes.filter((o) => o.ok);
      const best = reachable.reduce<Capability>(
        (acc, o) => (capabilityRank(o.capability) > capabilityRank(acc) ? o.capability : acc),
        "unknown",
      );
      const warnings = probeWarnings(outcomes, setup.gateway.authWarning);
      const ok = reachable.length > 0;
      if (setup.json) {
        printJson(ctx, {
          ok,
          degraded: reachable.some((o) => !o.rpcOk),
          capability: best,
          primaryTargetId: (reachable[0] ?? outcomes[0])?.target.id ?? null,
          warnings,
          targets: outcomes.map(targetJson),
        });
        return ok ? EXIT.ok : EXIT.failure;
      }
      const lines = [
        "Gateway Status",
        `Reachable: ${ok ? "yes" : "no"}`,
        ...(ok ? [`Capability: ${capabilityLabel(best)}`] : []),
        `Probe budget: ${setup.timeoutMs}ms`,
      ];
      if (warnings.length) lines.push("", "Warning:", ...warnings.map((w) => `- ${w.message}`));
      lines.push("", "Targets");
      for (const o of outcomes) {
        lines.push(`${o.target.label} ${o.target.url}`);
        lines.push(
          o.ok
            ? `  Connect: ok (${o.connectMs}ms) · Capability: ${
              targetCapabilityLabel(o.capability)
            } · Read probe: ${readProbeLabel(o)}`
            : `  Connect: failed - ${o.error?.message}`,
        );
      }
      if (!ok) {
        lines.push(
          "",
          "No gateway answered. Start one with `openclaw gateway run` or `openclaw gateway start`.",
        );
      }
      ctx.output.out(lines.join("\n"));
      return ok ? EXIT.ok : EXIT.failure;
    },
  });
}
