/**
 * The dev profile's starting config: local mode on loopback, a generated token (printed once, when it is
 * created), the OpenAI chat endpoint on, and the built-in local model as the default so a chat works on a
 * fresh machine without any API key.
 *
 * @module
 */
import { join } from "../cli/paths.ts";
import type { ProfilePaths } from "../command.ts";
import { DEV_PORT } from "../cli/profile-paths.ts";
import { writeFileAtomic } from "../config/atomic-write.ts";
import { renderConfig } from "../config/config-writer.ts";
import { type DetectedModelServer, detectLocalModelServer } from "../../lib/providers/local-servers.ts";

/** The built-in model (`lib/providers/local.ts`), as a `provider/model` ref. */
export const DEV_MODEL = "local/scripted-1";

/** What {@link ensureDevConfig} did. */
export interface DevSetup {
  created: boolean;
  /** The generated token, only when the config was created now. */
  token?: string;
  /** A local model server (Ollama, LM Studio) found at creation and made the default. */
  detected?: DetectedModelServer;
}

/** A 48-hex-digit random token. */
export function generateToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/**
 * The config `openclaw --dev setup` writes. With a detected local model server, that server becomes the
 * default model; the built-in one stays available as `local/scripted-1`.
 */
export function devConfig(
  token: string,
  port?: number,
  detected?: DetectedModelServer,
): Record<string, unknown> {
  return {
    gateway: {
      mode: "local",
      ...(port === undefined ? {} : { port }),
      bind: "loopback",
      auth: { mode: "token", token },
      http: { endpoints: { chatCompletions: { enabled: true } } },
      reload: { mode: "hybrid" },
    },
    ...(detected ? { models: { providers: { [detected.providerId]: detected.config } } } : {}),
    agents: { defaults: { model: { primary: detected?.defaultModel ?? DEV_MODEL } } },
  };
}

/** Creates the dev config (and workspace) unless it exists; `reset` wipes them first. */
export async function ensureDevConfig(
  paths: ProfilePaths,
  options: { reset?: boolean; detect?: () => Promise<DetectedModelServer | undefined> } = {},
): Promise<DevSetup> {
  if (options.reset) {
    for (
      const entry of [
        paths.configPath,
        ...["credentials", "sessions", "workspace"].map((d) => join(paths.stateDir, d)),
      ]
    ) {
      await Deno.remove(entry, { recursive: true }).catch(() => {});
    }
  }
  try {
    await Deno.stat(paths.configPath);
    return { created: false };
  } catch {
    // Missing: create it below.
  }
  const token = generateToken();
  const port = paths.profile === "dev" ? DEV_PORT : undefined;
  await Deno.mkdir(join(paths.stateDir, "workspace"), { recursive: true, mode: 0o700 });
  // A real model beats canned replies when one is already running here (refused connections on
  // loopback answer at once, so a machine without one pays nothing).
  const detected = await (options.detect ?? (() => detectLocalModelServer(fetch)))();
  await writeFileAtomic(paths.configPath, renderConfig(devConfig(token, port, detected)));
  return { created: true, token, detected };
}
