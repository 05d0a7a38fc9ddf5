/**
 * The `openclaw` CLI entry (`deno task openclaw`). It only adapts the Deno process: argv, env, stdio,
 * signals and the exit code. Everything else lives in `runner/cli` and the commands, which are imported
 * only when they run (start time is mostly module loading).
 *
 * @module
 */
import { runCli } from "./cli/dispatch.ts";
import { commandCatalog } from "./cli/command-table.ts";
import { homeDir } from "./cli/home-dir.ts";
import { invokedAs } from "./cli/invocation.ts";
import { watchLaunchers } from "./cli/launcher-watch.ts";
import { GATEWAY_VERSION } from "../lib/version.ts";

const encoder = new TextEncoder();

function writeLine(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(`${text}\n`);
  for (let written = 0; written < bytes.length;) written += stream.writeSync(bytes.subarray(written));
}
const shutdown = new AbortController();
const stopSignals: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];
for (const signal of stopSignals) {
  Deno.addSignalListener(signal, () => {
    // A second signal while stopping means "now".
    if (shutdown.signal.aborted) Deno.exit(130);
    shutdown.abort(`received ${signal}`);
  });
}

if (Deno.build.os === "linux") watchLaunchers((reason) => shutdown.abort(reason));

const code = await runCli(Deno.args, {
  output: {
    out: (text) => writeLine(Deno.stdout, text),
    err: (text) => writeLine(Deno.stderr, text),
  },
  env: Deno.env.toObject(),
  osHome: homeDir(),
  shutdownSignal: shutdown.signal,
  commands: commandCatalog({
    isTerminal: Deno.stdout.isTerminal(),
    onRestartSignal: Deno.build.os === "windows" ? undefined : (listener) => {
      Deno.addSignalListener("SIGUSR1", listener);
      return () => Deno.removeSignalListener("SIGUSR1", listener);
    },
  }),
  version: GATEWAY_VERSION,
  invokedAs: () =>
    invokedAs({
      env: Deno.env.toObject(),
      denoVersion: Deno.version.deno,
      isExecutable: (path) => {
        try {
          return Deno.statSync(path).isFile;
        } catch {
          return false;
        }
      },
    }),
});
Deno.exit(code);
