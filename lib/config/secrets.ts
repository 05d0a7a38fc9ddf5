/**
 * SecretRefs: `{ source: "env" | "file" | "exec", provider, id }` objects that stand in for credentials in
 * the config. They are resolved once into a copy of the config (never on request paths), and re-resolved
 * on `secrets.reload`. How a source reads its values is injected, so this module stays runtime-free.
 *
 * @module
 */
import { isPlainObject } from "./source.ts";
import type { SecretProviderConfig, SecretSource, SecretsSection } from "./sections/secrets.ts";

/** A reference to a secret held outside the config file. */
export interface SecretRef {
  source: SecretSource;
  /** Provider alias under `secrets.providers`; defaults to `secrets.defaults.<source>` or `default`. */
  provider?: string;
  id: string;
}

/** A SecretRef found in the config, with its dotted path. */
export interface LocatedSecretRef {
  path: string;
  ref: SecretRef;
}

/** Reads values for one source. `ids` are all refs of one provider, batched (exec resolvers take lists). */
export interface SecretSourceResolver {
  resolve(provider: string, config: SecretProviderConfig, ids: string[]): Promise<Map<string, string>>;
}

/** One ref that did not resolve. */
export interface SecretFailure {
  path: string;
  ref: SecretRef;
  message: string;
  /** Whether the last good value is still being served (`stale`) or none is (`cold`). */
  state: "stale" | "cold";
}

/** The outcome of {@link resolveSecrets}. */
export interface SecretResolution {
  /** The config with every resolvable ref replaced by its value (failed ones removed). */
  config: Record<string, unknown>;
  /** Resolved values by path, kept to serve as last known good on the next reload. */
  values: Map<string, { key: string; value: string }>;
  failures: SecretFailure[];
}

const SOURCES: readonly string[] = ["env", "file", "exec"];
const PROVIDER = /^[a-z][a-z0-9_-]{0,63}$/;
const ENV_ID = /^[A-Z][A-Z0-9_]{0,127}$/;
const EXEC_ID = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$/;

/** Whether `value` has the SecretRef shape (a `source` this gateway knows and a string `id`). */
export function isSecretRef(value: unknown): value is SecretRef {
  return isPlainObject(value) && typeof value.source === "string" && SOURCES.includes(value.source) &&
    typeof value.id === "string" &&
    Object.keys(value).every((k) => k === "source" || k === "provider" || k === "id");
}

/** Why a ref is malformed, or `undefined` when it is well formed. */
export function secretRefProblem(ref: SecretRef): string | undefined {
  if (ref.provider !== undefined && !PROVIDER.test(ref.provider)) {
    return `provider "${ref.provider}" must match ${PROVIDER.source}`;
  }
  if (ref.source === "env" && !ENV_ID.test(ref.id)) return `env id "${ref.id}" must match ${ENV_ID.source}`;
  if (ref.source === "file" && ref.id !== "value" && !ref.id.startsWith("/")) {
    return `file id "${ref.id}" must be an absolute JSON pointer ("/a/b") or "value"`;
  }
  if (
    ref.source === "exec" && (!EXEC_ID.test(ref.id) || ref.id.split("/").some((s) => s === "." || s === ".."))
  ) {
    return `exec id "${ref.id}" must match ${EXEC_ID.source} without "." or ".." segments`;
  }
  return undefined;
}

/** Every SecretRef in `config` (the `secrets` section itself is not searched). */
export function findSecretRefs(config: Record<string, unknown>): LocatedSecretRef[] {
  const found: LocatedSecretRef[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (isSecretRef(node)) found.push({ path: path.join("."), ref: node });
    else if (Array.isArray(node)) node.forEach((item, i) => walk(item, [...path, String(i)]));
    else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node)) {
        if (path.length || key !== "secrets") walk(child, [...path, key]);
      }
    }
  };
  walk(config, []);
  return found;
}

/** The provider alias a ref uses, after `secrets.defaults`. */
export function providerAlias(ref: SecretRef, section: SecretsSection | undefined): string {
  return ref.provider ?? section?.defaults?.[ref.source] ?? "default";
}

function providerConfig(
  ref: SecretRef,
  alias: string,
  section: SecretsSection | undefined,
): SecretProviderConfig {
  const entry = section?.providers?.[alias];
  if (entry && entry.source === ref.source) return entry;
  // Only env has a built-in provider; file and exec need their settings spelled out.
  if (ref.source === "env") return { source: "env" };
  throw new Error(`no secrets.providers.${alias} entry with source "${ref.source}"`);
}

function refKey(ref: SecretRef, alias: string): string {
  return `${ref.source}:${alias}:${ref.id}`;
}

/** Options for {@link resolveSecrets}. */
export interface ResolveSecretsOptions {
  resolvers: Partial<Record<SecretSource, SecretSourceResolver>>;
  /** Values from the previous resolution; a ref that fails now but resolved before stays `stale`. */
  previous?: Map<string, { key: string; value: string }>;
}

/** Resolves every ref in `config` into a copy of it. Failures are reported, never thrown. */
export async function resolveSecrets(
  config: Record<string, unknown>,
  options: ResolveSecretsOptions,
): Promise<SecretResolution> {
  const section = isPlainObject(config.secrets) ? config.secrets as SecretsSection : undefined;
  const located = findSecretRefs(config);
  const resolved = structuredClone(config);
  const values = new Map<string, { key: string; value: string }>();
  const failures: SecretFailure[] = [];
  const groups = new Map<string, { alias: string; source: SecretSource; items: LocatedSecretRef[] }>();
  const fail = (item: LocatedSecretRef, key: string, message: string) => {
    const last = options.previous?.get(item.path);
    if (last && last.key === key) {
      values.set(item.path, last);
      setPath(resolved, item.path, last.value);
      failures.push({ ...item, message, state: "stale" });
    } else {
      setPath(resolved, item.path, undefined);
      failures.push({ ...item, message, state: "cold" });
    }
  };
  for (const item of located) {
    const alias = providerAlias(item.ref, section);
    const problem = secretRefProblem(item.ref);
    if (problem) {
      fail(item, refKey(item.ref, alias), problem);
      continue;
    }
    const group = `${item.ref.source}:${alias}`;
    if (!groups.has(group)) groups.set(group, { alias, source: item.ref.source, items: [] });
    groups.get(group)!.items.push(item);
  }
  for (const { alias, source, items } of groups.values()) {
    let got: Map<string, string> | undefined;
    let error = "";
    try {
      const resolver = options.resolvers[source];
      if (!resolver) throw new Error(`SecretRef source "${source}" is not available here`);
      const ids = [...new Set(items.map((i) => i.ref.id))];
      got = await resolver.resolve(alias, providerConfig(items[0].ref, alias, section), ids);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    for (const item of items) {
      const key = refKey(item.ref, alias);
      const value = got?.get(item.ref.id);
      if (value === undefined || value === "") {
        fail(item, key, error || `${source} provider "${alias}" has no value for "${item.ref.id}"`);
        continue;
      }
      values.set(item.path, { key, value });
      setPath(resolved, item.path, value);
    }
  }
  return { config: resolved, values, failures };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node: Record<string, unknown> | unknown[] = target;
  for (const part of parts.slice(0, -1)) {
    node = (node as Record<string, unknown>)[part] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (value === undefined && !Array.isArray(node)) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

/** The built-in env resolver: reads the variables it is given, honouring a provider's `allowlist`. */
export function envSecretResolver(env: Readonly<Record<string, string | undefined>>): SecretSourceResolver {
  return {
    resolve(provider, config, ids) {
      const out = new Map<string, string>();
      for (const id of ids) {
        if (config.allowlist && !config.allowlist.includes(id)) {
          throw new Error(`env provider "${provider}" does not allow "${id}" (see its allowlist)`);
        }
        const value = env[id];
        if (value) out.set(id, value);
      }
      return Promise.resolve(out);
    },
  };
}

/** Whether a dotted path is part of the gateway's own ingress auth, whose refs must always resolve. */
export function isGatewayAuthPath(path: string): boolean {
  return path === "gateway.auth.token" || path === "gateway.auth.password";
}
