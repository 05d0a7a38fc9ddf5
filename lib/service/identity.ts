/**
 * The native names the gateway service goes by, per profile: one service per profile so profiles can
 * run side by side.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { ServiceKind } from "./types.ts";

/** Whether `profile` is the unnamed default profile. */
export function isDefaultProfile(profile: string): boolean {
  return profile === "" || profile === "default";
}

const OVERRIDE_ENV: Record<ServiceKind, string> = {
  systemd: "OPENCLAW_SYSTEMD_UNIT",
  launchd: "OPENCLAW_LAUNCHD_LABEL",
  schtasks: "OPENCLAW_WINDOWS_TASK_NAME",
};

function defaultName(kind: ServiceKind, profile: string): string {
  const named = !isDefaultProfile(profile);
  switch (kind) {
    case "systemd":
      return named ? `openclaw-gateway-${profile}.service` : "openclaw-gateway.service";
    case "launchd":
      return named ? `ai.openclaw.${profile}` : "ai.openclaw.gateway";
    case "schtasks":
      return named ? `OpenClaw Gateway (${profile})` : "OpenClaw Gateway";
  }
}

/**
 * The unit name, launchd label or task name. The `OPENCLAW_*` override applies to the default profile
 * only; named profiles must keep their derived identity so two profiles never share one service.
 */
export function serviceName(
  kind: ServiceKind,
  profile: string,
  env: Record<string, string | undefined>,
): string {
  const override = env[OVERRIDE_ENV[kind]]?.trim();
  if (override && !isDefaultProfile(profile)) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `${OVERRIDE_ENV[kind]} is set, but profile "${profile}" has its own service identity; unset it first.`,
    );
  }
  if (kind !== "systemd" && !isDefaultProfile(profile) && profile !== profile.toLowerCase()) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `profile "${profile}" cannot own a native service here: service-managed profile names must be lowercase.`,
    );
  }
  if (kind === "launchd" && (profile === "gateway" || profile === "node")) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `profile "${profile}" cannot own a LaunchAgent: its label would collide with a built-in OpenClaw service.`,
    );
  }
  if (override) {
    return kind === "systemd" && !override.endsWith(".service") ? `${override}.service` : override;
  }
  return defaultName(kind, profile);
}
