#!/usr/bin/env node
// `openclaw` for Node users (`npm install -g .` or `npm link`): runs the Deno CLI in runner/, with Deno from
// $DENO_BIN, the PATH, or npm (`npx deno@2.9.6`). Stop signals are passed on, and the exit code comes back.
import { spawn, spawnSync } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const DENO_VERSION = "2.9.6";
const main = fileURLToPath(new URL("../runner/main.ts", import.meta.url));
const config = fileURLToPath(new URL("../deno.json", import.meta.url));
const args = ["run", "-A", "--config", config, main, ...process.argv.slice(2)];

function denoCommand() {
  if (process.env.DENO_BIN) return [process.env.DENO_BIN, args];
  const probe = spawnSync("deno", ["--version"], { stdio: "ignore" });
  if (probe.status === 0) return ["deno", args];
  return ["npx", ["--yes", `deno@${DENO_VERSION}`, ...args]];
}

const [command, commandArgs] = denoCommand();
const child = spawn(command, commandArgs, {
  stdio: "inherit",
  env: { ...process.env, OPENCLAW_CLI_NAME: process.env.OPENCLAW_CLI_NAME ?? "openclaw" },
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
