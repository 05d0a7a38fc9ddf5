/**
 * `openclaw config get|set|unset|file|validate`: reads and owned writes of the profile's config file.
 * Writes go through the validated, atomic writer; the message says whether the running gateway applies
 * the change in place or restarts for it.
 *
 * @module
 */
import { parseJson5 } from "../../lib/config/json5.ts";
import { requiresRestart } from "../../lib/config/reload-plan.ts";
import type { RunnerCommand } from "../command.ts";
import { defineCommand } from "../cli/define-command.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { getPath, readAuthoredConfig, setPath, writeAuthoredConfig } from "../config/config-writer.ts";
import { preflightGatewayConfig } from "../gateway/preflight.ts";
import { maskSecret } from "../log/redact.ts";

const SECRET_KEY = /token|password|secret|api[-_]?key/i;

/** A copy of `value` with credential-looking strings masked, for printing. */
export function redactConfig(value: unknown, key = ""): unknown {
  if (typeof value === "string") return SECRET_KEY.test(key) ? maskSecret(value) : value;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]));
  }
  return value;
}

function applyHint(path: string): string {
  return requiresRestart(path)
    ? "Restart the gateway to apply (a running gateway in hybrid mode restarts itself)."
    : "Change will apply without restarting the gateway.";
}

function requirePath(positionals: string[], usage: string): string {
  const path = positionals[0];
  if (!path || !/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(path)) {
    throw new CliError(`expected a dotted config path. Usage: ${usage}`, EXIT.usage);
  }
  return path;
}

const get = defineCommand({
  path: ["config", "get"],
  summary: "Print a config value (credentials redacted)",
  usage: "<path>",
  flags: { json: { type: "boolean", description: "Print JSON" } },
  async run({ flags, positionals }, { paths, output }) {
    const path = requirePath(positionals, "openclaw config get <path>");
    const value = getPath((await readAuthoredConfig(paths.configPath)).value, path);
    if (value === undefined) {
      if (flags.json) output.out(JSON.stringify({ error: `Config path not found: ${path}` }));
      else output.err(`Config path not found: ${path}`);
      return EXIT.failure;
    }
    const shown = redactConfig(value, path.split(".").at(-1));
    output.out(flags.json || typeof shown !== "string" ? JSON.stringify(shown, null, 2) : shown);
    return EXIT.ok;
  },
});

const set = defineCommand({
  path: ["config", "set"],
  summary: "Set a config value (JSON5 value, else a plain string)",
  usage: "<path> <value>",
  flags: {
    "strict-json": { type: "boolean", description: "The value must be JSON" },
    "dry-run": { type: "boolean", description: "Validate and show the result without writing" },
  },
  async run({ flags, positionals }, { paths, output }) {
    const path = requirePath(positionals, "openclaw config set <path> <value>");
    if (positionals.length !== 2) throw new CliError("usage: openclaw config set <path> <value>", EXIT.usage);
    const value = parseValue(positionals[1], Boolean(flags["strict-json"]));
    const current = await readAuthoredConfig(paths.configPath);
    if (JSON.stringify(getPath(current.value, path)) === JSON.stringify(value)) {
      output.out("No change");
      return EXIT.ok;
    }
    const next = setPath(current.value, path, value);
    if (flags["dry-run"]) {
      output.out(JSON.stringify(redactConfig(next), null, 2));
      return EXIT.ok;
    }
    await writeAuthoredConfig(current, next);
    output.out(`Updated ${path}. ${applyHint(path)}`);
    return EXIT.ok;
  },
});

function parseValue(text: string, strict: boolean): unknown {
  try {
    return strict ? JSON.parse(text) : parseJson5(text);
  } catch (err) {
    if (strict) throw new CliError(`value is not JSON: ${(err as Error).message}`, EXIT.usage);
    return text;
  }
}

const unset = defineCommand({
  path: ["config", "unset"],
  summary: "Remove a config value",
  usage: "<path>",
  flags: {},
  async run({ positionals }, { paths, output }) {
    const path = requirePath(positionals, "openclaw config unset <path>");
    const current = await readAuthoredConfig(paths.configPath);
    if (getPath(current.value, path) === undefined) {
      output.err(`Config path not found: ${path}`);
      return EXIT.failure;
    }
    await writeAuthoredConfig(current, setPath(current.value, path, undefined));
    output.out(`Removed ${path}. ${applyHint(path)}`);
    return EXIT.ok;
  },
});

const file = defineCommand({
  path: ["config", "file"],
  summary: "Print the active config file path",
  flags: {},
  run(_parsed, { paths, output }) {
    output.out(paths.configPath);
    return Promise.resolve(EXIT.ok);
  },
});

const validate = defineCommand({
  path: ["config", "validate"],
  summary: "Check the config as a start would (JSON5, $include, ${ENV}, schema, SecretRefs, auth)",
  flags: { json: { type: "boolean", description: "Print JSON" } },
  async run({ flags }, { paths, output, env }) {
    try {
      // Exactly what a start resolves (env layer, SecretRefs, auth), so "valid" means "would start".
      const { snapshot, warnings } = await preflightGatewayConfig(paths, env);
      if (flags.json) {
        output.out(JSON.stringify({ ok: true, path: paths.configPath, exists: snapshot.exists, warnings }));
      } else {
        for (const warning of warnings) output.err(`warning: ${warning}`);
        output.out(
          snapshot.exists
            ? `Config valid: ${paths.configPath}`
            : `No config at ${paths.configPath} (defaults apply)`,
        );
      }
      return EXIT.ok;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (flags.json) output.out(JSON.stringify({ ok: false, path: paths.configPath, error: message }));
      else output.err(message);
      return EXIT.config;
    }
  },
});

/** The `config` commands. */
export const configCommands: RunnerCommand[] = [get, set, unset, file, validate];
