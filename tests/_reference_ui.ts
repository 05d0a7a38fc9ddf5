// OpenClaw's own Control UI build (from the reference npm package) served by this gateway for the browser
// tests: installed once into a cache directory, then served same-origin by a gateway with the runner's
// modules on a real port.
import { join } from "node:path";
import { denoTransport } from "../deno.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { jsonDocsOnFiles } from "../lib/state/json-docs.ts";
import { denoStoreFiles } from "../runner/gateway/deno-store-files.ts";
import { gatewayModules } from "../runner/gateway/modules.ts";
import { haveChromium } from "./_browser.ts";
import { TOKEN } from "./_helpers.ts";

const REFERENCE = "openclaw@2026.9.6";

/**
 * The reference package's Control UI build, installed once into a cache directory with npm; undefined
 * (with the reason) when npm cannot install it here.
 */
export async function referenceControlUi(): Promise<{ root?: string; reason?: string }> {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const dir = join(tmp, "openclaw-gateway-ts-reference", REFERENCE.split("@")[1]);
  const root = join(dir, "node_modules", "openclaw", "dist", "control-ui");
  const built = () => Deno.stat(join(root, "index.html")).then(() => true, () => false);
  if (await built()) return { root };
  await Deno.mkdir(dir, { recursive: true });
  const args = [
    "i",
    "--no-save",
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
    "--omit=optional",
    REFERENCE,
  ];
  const npm = await new Deno.Command("npm", { args, cwd: dir, stdout: "null", stderr: "piped" }).output()
    .catch((error) => ({ success: false, stderr: new TextEncoder().encode(String(error)) }));
  if (npm.success && await built()) return { root };
  const why = new TextDecoder().decode(npm.stderr).trim().split("\n").at(-1);
  return { reason: `npm could not install ${REFERENCE} (${why ?? "no output"})` };
}

/**
 * The reference UI where a browser test can use it: installed when Chromium is here or under CI (which
 * installs Chromium, so a missing browser fails there instead of skipping).
 */
export const referenceUi: { root?: string; reason?: string } = haveChromium || Deno.env.get("CI")
  ? await referenceControlUi()
  : { reason: "Chromium is not installed (apt-get install chromium)" };

/** Whether the browser tests over the reference UI are skipped here. */
export const referenceUiMissing: boolean = (!haveChromium && !Deno.env.get("CI")) ||
  referenceUi.reason !== undefined;

/** A gateway with the runner's modules serving the reference UI at `root`, state under `dir`, on a free port. */
export async function referenceUiGateway(
  root: string,
  dir: string,
): Promise<{ gateway: Gateway; port: number }> {
  const configPath = join(dir, "openclaw.json");
  const config: GatewayConfig = {
    gateway: { mode: "local", auth: { mode: "token", token: TOKEN }, controlUi: { root } },
  };
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
  const gateway = createGateway({
    config,
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    // The documents (cron jobs) under the state dir, as the runner keeps them without a cluster.
    stores: { docs: jsonDocsOnFiles(dir, denoStoreFiles) },
    modules: gatewayModules({ configPath }),
  });
  const { port } = (await gateway.start())!;
  return { gateway, port };
}
