/**
 * Builds the gateway's service definition (argv, environment, secrets) from the resolved install
 * inputs, and reads the recorded port back out of an installed one.
 *
 * @module
 */
import { isDefaultProfile } from "./identity.ts";
import type { ServiceSpec } from "./types.ts";

/**
 * The open-file limit a service gets. Every socket holds a descriptor, and the 1,024 many systems
 * default to runs out under a flood of connections; the runtime raises its soft limit only as far as
 * the hard one, so the service definition raises both.
 */
export const SERVICE_OPEN_FILES_LIMIT = 65_536;

/** What `gateway install` resolved before rendering a service. */
export interface GatewayServiceInputs {
  /** How to launch the runner: `[deno, "run", "-A", ".../runner/main.ts"]` or `[compiledExe]`. */
  launcher: string[];
  profile: string;
  port: number;
  stateDir: string;
  configPath: string;
  /** Shared secret to hand the service (kept in the env file, never in the definition). */
  token?: string;
  password?: string;
  /** An executable the service starts through (secrets manager shim, run-as helper). */
  wrapper?: string;
}

/** The service definition for the gateway: `<launcher> [--profile p] gateway run --port <p>`. */
export function buildGatewayServiceSpec(inputs: GatewayServiceInputs): ServiceSpec {
  const named = !isDefaultProfile(inputs.profile);
  const environment: Record<string, string> = {
    OPENCLAW_STATE_DIR: inputs.stateDir,
    OPENCLAW_CONFIG_PATH: inputs.configPath,
    OPENCLAW_GATEWAY_PORT: String(inputs.port),
  };
  if (named) environment.OPENCLAW_PROFILE = inputs.profile;
  if (inputs.wrapper) environment.OPENCLAW_WRAPPER = inputs.wrapper;
  const secrets: Record<string, string> = {};
  if (inputs.token) secrets.OPENCLAW_GATEWAY_TOKEN = inputs.token;
  if (inputs.password) secrets.OPENCLAW_GATEWAY_PASSWORD = inputs.password;
  return {
    description: named ? `OpenClaw Gateway (${inputs.profile})` : "OpenClaw Gateway",
    programArguments: [
      ...(inputs.wrapper ? [inputs.wrapper] : []),
      ...inputs.launcher,
      ...(named ? ["--profile", inputs.profile] : []),
      "gateway",
      "run",
      "--port",
      String(inputs.port),
    ],
    workingDirectory: inputs.stateDir,
    environment,
    secrets,
  };
}

/** The `--port` an installed service starts with, if its argv records one. */
export function recordedPort(programArguments: readonly string[]): number | undefined {
  for (let i = 0; i < programArguments.length; i++) {
    const arg = programArguments[i];
    const value = arg === "--port"
      ? programArguments[i + 1]
      : arg.startsWith("--port=")
      ? arg.slice(7)
      : undefined;
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}
