/**
 * The file and exec SecretRef resolvers (they need the file system and child processes, so they live in
 * the runner). The exec protocol is OpenClaw's: a JSON request on stdin, `{ values, errors }` on stdout.
 *
 * @module
 */
import { isAbsolute } from "../cli/paths.ts";
import { envSecretResolver, type SecretSourceResolver } from "../../lib/config/secrets.ts";
import { isPlainObject } from "../../lib/config/source.ts";
import { expandHome } from "../cli/profile-paths.ts";

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/** Resolves `file` refs: a JSON object addressed by pointer, or the whole file in `singleValue` mode. */
export function fileSecretResolver(home: string): SecretSourceResolver {
  return {
    async resolve(provider, config, ids) {
      if (!config.path) throw new Error(`secrets.providers.${provider}.path is not set`);
      const path = expandHome(config.path, home);
      const info = await Deno.stat(path);
      const maxBytes = config.maxBytes ?? DEFAULT_MAX_BYTES;
      if (info.size > maxBytes) throw new Error(`secret file ${path} is larger than ${maxBytes} bytes`);
      const text = await Deno.readTextFile(path);
      const out = new Map<string, string>();
      if (config.mode === "singleValue") {
        if (ids.includes("value")) out.set("value", text.replace(/\r?\n$/, ""));
        return out;
      }
      const doc = JSON.parse(text);
      for (const id of ids) {
        const value = jsonPointer(doc, id);
        if (typeof value === "string") out.set(id, value);
      }
      return out;
    },
  };
}

/** Reads an RFC 6901 pointer (`/a/b~1c`). */
export function jsonPointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  let node = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isPlainObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}

/** Resolves `exec` refs by running the provider's command directly (no shell) with a bounded time budget. */
export function execSecretResolver(env: Readonly<Record<string, string | undefined>>): SecretSourceResolver {
  return {
    async resolve(provider, config, ids) {
      if (!config.command || !isAbsolute(config.command)) {
        throw new Error(`secrets.providers.${provider}.command must be an absolute path`);
      }
      const info = await Deno.lstat(config.command);
      if (!info.isFile) throw new Error(`secrets.providers.${provider}.command is not a regular file`);
      const childEnv: Record<string, string> = { ...config.env };
      for (const name of config.passEnv ?? []) if (env[name] !== undefined) childEnv[name] = env[name]!;
      const child = new Deno.Command(config.command, {
        args: config.args ?? [],
        env: childEnv,
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const timeout = setTimeout(() => child.kill("SIGKILL"), config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      try {
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(JSON.stringify({ protocolVersion: 1, provider, ids })));
        await writer.close();
        const result = await child.output();
        const maxBytes = config.maxOutputBytes ?? DEFAULT_MAX_BYTES;
        if (result.stdout.length > maxBytes) {
          throw new Error(`exec provider "${provider}" printed more than ${maxBytes} bytes`);
        }
        if (!result.success) throw new Error(`exec provider "${provider}" exited with code ${result.code}`);
        return parseExecOutput(
          provider,
          new TextDecoder().decode(result.stdout),
          ids,
          config.jsonOnly ?? true,
        );
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}

function parseExecOutput(
  provider: string,
  stdout: string,
  ids: string[],
  jsonOnly: boolean,
): Map<string, string> {
  const out = new Map<string, string>();
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    if (!jsonOnly && ids.length === 1) return out.set(ids[0], stdout.replace(/\r?\n$/, ""));
    throw new Error(`exec provider "${provider}" did not print the JSON protocol response`);
  }
  const values = isPlainObject(body) && isPlainObject(body.values) ? body.values : {};
  for (const id of ids) if (typeof values[id] === "string") out.set(id, values[id] as string);
  return out;
}

/** The env, file and exec resolvers as a host provides them. */
export function hostSecretResolvers(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): Record<"env" | "file" | "exec", SecretSourceResolver> {
  return { env: envSecretResolver(env), file: fileSecretResolver(home), exec: execSecretResolver(env) };
}
