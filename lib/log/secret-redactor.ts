/**
 * Redaction by value. Key names miss secrets that sit where no key says "token": the password in a
 * provider `baseUrl`'s userinfo, a custom header, `env.vars`, a SecretRef used anywhere, an API key an
 * upstream echoes in its 401 text. So the gateway collects every resolved secret value from its config
 * and replaces each occurrence with {@link REDACTED} in whatever leaves the process (frames, HTTP
 * bodies, log records, `config.get`). The set is rebuilt on every config change.
 *
 * @module
 */

/** What OpenClaw puts in place of a redacted value; reserved, so never accepted as a literal value. */
export const REDACTED = "__OPENCLAW_REDACTED__";

/** Keys whose string values are credentials, wherever they appear. */
export const SECRET_KEY =
  /token|password|passphrase|secret|api[-_]?key|authorization|cookie|private[-_]?key/i;

/**
 * Shorter values are not redacted by value: replacing them everywhere would mangle ordinary text and
 * protocol strings (a password "admin" inside "operator.admin"). Key-based redaction has no minimum.
 */
export const MIN_SECRET_LENGTH = 8;

/** `scheme://userinfo@` at the start of a string: a URL's credentials. */
export const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]+)@/i;

/**
 * Whether a URL's userinfo is a credential: any `user:password`, or a user part long enough to be a
 * token rather than a name (`https://<token>@host`).
 */
export function isCredentialUserinfo(userinfo: string): boolean {
  return userinfo.includes(":") || userinfo.length >= 16;
}

const ENV_PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The credential parts of a URL's userinfo (`https://user:pass@host`), as written and decoded. */
function userinfoSecrets(text: string): string[] {
  const match = URL_USERINFO.exec(text.trim());
  if (!match || !isCredentialUserinfo(match[2])) return [];
  const userinfo = match[2];
  const colon = userinfo.indexOf(":");
  // With a password, the password alone is a secret too (it may be echoed without the user).
  const parts = colon !== -1 ? [userinfo, userinfo.slice(colon + 1)] : [userinfo];
  const out: string[] = [];
  for (const part of parts) {
    out.push(part);
    try {
      out.push(decodeURIComponent(part));
    } catch {
      // Not percent-encoded validly: the raw form is all there is.
    }
  }
  return out;
}

/**
 * Every secret value in a resolved config: strings under credential-named keys, all header values, all
 * `env` values, URL userinfo anywhere, and `${VAR}` / env SecretRef values the core resolves itself.
 */
export function collectSecretValues(
  config: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
): Set<string> {
  const found = new Set<string>();
  const add = (value: string) => {
    const expanded = value.replace(ENV_PLACEHOLDER, (_, name: string) => env[name] ?? "");
    if (expanded.length >= MIN_SECRET_LENGTH && expanded !== REDACTED) found.add(expanded);
  };
  const walk = (node: unknown, secret: boolean, path: readonly string[]) => {
    if (typeof node === "string") {
      if (secret) add(node);
      for (const part of userinfoSecrets(node)) add(part);
      return;
    }
    if (Array.isArray(node)) return node.forEach((item) => walk(item, secret, path));
    if (!isPlainRecord(node)) return;
    // A SecretRef names where a secret lives (not secret itself); only env refs resolve here, the
    // host hands over the others' values (`secretValues`).
    if (typeof node.source === "string" && typeof node.id === "string") {
      const value = node.source === "env" ? env[node.id] : undefined;
      if (value) add(value);
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      // `secrets.*` configures the providers that resolve refs: commands and paths, no values.
      if (path.length === 0 && key === "secrets") continue;
      const parent = path.at(-1);
      // `env.vars.*` and inline `env.*` values are environment variables (API keys, mostly);
      // `env.shellEnv` only says how to import the login shell's.
      const under = secret || SECRET_KEY.test(key) || parent === "headers" ||
        (path.length === 1 && path[0] === "env" && key !== "shellEnv");
      walk(child, under, [...path, key]);
    }
  };
  walk(config, false, []);
  return found;
}

/** Longest text whose {@link SecretRedactor.hits} answer is remembered (a longer one is not kept alive). */
const MEMO_MAX_LENGTH = 4096;

/** Replaces known secret values in strings, objects and frames. Cheap when nothing matches. */
export class SecretRedactor {
  #values: string[] = [];
  /** Values whose JSON string form differs (quotes, backslashes, control characters), in that form. */
  #escaped: string[] = [];
  /** The shortest value's length (escaped forms are never shorter): no shorter text can contain one. */
  #shortest = Infinity;
  /**
   * The last text {@link SecretRedactor.hits} scanned and its answer: a prepared response (the model
   * list) is checked with the same body string on every request. Only short texts are kept.
   */
  #lastText: string | undefined;
  #lastHit = false;

  /** Starts with `values` hidden (more can be set with {@link SecretRedactor.update}). */
  constructor(values: Iterable<string> = []) {
    this.update(values);
  }

  /** Replaces the set of values to hide; longest first, so a secret containing another goes whole. */
  update(values: Iterable<string>): void {
    this.#values = [...new Set(values)].filter((v) => v.length >= MIN_SECRET_LENGTH && v !== REDACTED)
      .sort((a, b) => b.length - a.length);
    this.#escaped = this.#values.map((v) => JSON.stringify(v).slice(1, -1)).filter((e) =>
      !this.#values.includes(e)
    );
    this.#shortest = this.#values.at(-1)?.length ?? Infinity;
    this.#lastText = undefined;
  }

  /** The values currently hidden. */
  values(): readonly string[] {
    return this.#values;
  }

  /** Whether `text` (plain or JSON) contains any secret. */
  hits(text: string): boolean {
    if (text.length < this.#shortest) return false;
    if (text === this.#lastText) return this.#lastHit;
    const hit = this.#scan(text);
    if (text.length <= MEMO_MAX_LENGTH) {
      this.#lastText = text;
      this.#lastHit = hit;
    }
    return hit;
  }

  #scan(text: string): boolean {
    for (const value of this.#values) if (text.includes(value)) return true;
    for (const value of this.#escaped) if (text.includes(value)) return true;
    return false;
  }

  /** `text` with every secret value replaced by the marker. */
  redactText(text: string): string {
    if (!this.hits(text)) return text;
    let out = text;
    for (const value of this.#values) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  }

  /** A copy of `value` with secrets replaced inside every string; the same object when none matched. */
  redact<T>(value: T): T {
    if (!this.#values.length) return value;
    return this.#walk(value) as T;
  }

  /**
   * Every log record and frame passes here and almost none holds a secret: nothing is allocated until a
   * value actually changes (not even a closure per call), and only the containers on the way to it are
   * copied.
   */
  #walk(node: unknown): unknown {
    if (typeof node === "string") return this.redactText(node);
    if (Array.isArray(node)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        const next = this.#walk(node[i]);
        if (next !== node[i]) (out ??= [...node])[i] = next;
      }
      return out ?? node;
    }
    if (isPlainRecord(node)) {
      let out: Record<string, unknown> | undefined;
      for (const key in node) {
        if (!Object.hasOwn(node, key)) continue;
        const child = node[key];
        // Strings shorter than every secret cannot hold one (levels, methods, short ids).
        if (typeof child === "string" ? child.length < this.#shortest : typeof child !== "object" || !child) {
          continue;
        }
        const next = this.#walk(child);
        if (next !== child) (out ??= { ...node })[key] = next;
      }
      return out ?? node;
    }
    return node;
  }

  /** Redacts a JSON document given as text (a WS frame, an HTTP body) without breaking its syntax. */
  redactJson(text: string): string {
    if (!this.hits(text)) return text;
    try {
      return JSON.stringify(this.redact(JSON.parse(text)));
    } catch {
      return this.redactText(text);
    }
  }
}
