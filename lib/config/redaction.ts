/**
 * Credentials never leave the gateway through the config methods: `config.get` (and every write's
 * result) replaces credential-looking strings (by key) and every known secret value (by value: URL
 * userinfo, header values, `env.vars`, SecretRef results) with a sentinel, and writes put the on-disk
 * value back wherever a client sends the sentinel unchanged, so a get → edit → set round trip keeps the
 * secrets. SecretRef objects and `${VAR}` placeholders are not secret material and stay visible.
 *
 * @module
 */
import { parseJson5 } from "./json5.ts";
import { isPlainObject } from "./source.ts";
import {
  isCredentialUserinfo,
  REDACTED,
  SECRET_KEY,
  type SecretRedactor,
  URL_USERINFO,
} from "../log/secret-redactor.ts";

/** What OpenClaw puts in place of a redacted value; reserved, so never accepted as a literal value. */
export const REDACTED_SENTINEL = REDACTED;

const ENV_PLACEHOLDER = /^\$\{[^}]*\}$/;

/** Whether a key names a credential (`gateway.auth.token`, `env.vars.OPENAI_API_KEY`, ...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A redacted copy of a config value and the secret strings it hid. */
export interface Redacted<T> {
  value: T;
  secrets: string[];
}

/**
 * A non-credential config string as a client sees it: URL credentials (a password of any length, or a
 * token-long user part) hidden structurally, then every value `byValue` knows. `hidden` collects what
 * was taken out, so the raw text can be redacted alike.
 */
function shownString(text: string, byValue?: SecretRedactor, hidden: string[] = []): string {
  const withoutUserinfo = text.replace(URL_USERINFO, (whole, scheme: string, userinfo: string) => {
    if (!isCredentialUserinfo(userinfo)) return whole;
    hidden.push(userinfo);
    return `${scheme}${REDACTED_SENTINEL}@`;
  });
  return byValue ? byValue.redactText(withoutUserinfo) : withoutUserinfo;
}

/**
 * Replaces credential strings (by key) with {@link REDACTED_SENTINEL}, then URL credentials and every
 * value `byValue` knows wherever they appear (a password inside a URL, a header value).
 */
export function redactConfigValue<T>(value: T, byValue?: SecretRedactor): Redacted<T> {
  const secrets: string[] = [...(byValue?.values() ?? [])];
  const walk = (node: unknown, key: string): unknown => {
    if (typeof node === "string") {
      if (!isSecretKey(key) || ENV_PLACEHOLDER.test(node.trim())) return shownString(node, byValue, secrets);
      secrets.push(node);
      return REDACTED_SENTINEL;
    }
    if (Array.isArray(node)) return node.map((item) => walk(item, key));
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, k)]));
    return node;
  };
  return { value: walk(value, "") as T, secrets };
}

/**
 * Redacts the authored JSON5 text, keeping its comments and layout where it can: each secret is replaced
 * in place. When a secret is not found verbatim (written with escapes, say), the text is replaced by
 * the redacted object rendered as JSON5, because a partly redacted text would leak.
 */
export function redactRawText(raw: string, parsed: unknown, byValue?: SecretRedactor): string {
  const { value, secrets } = redactConfigValue(parsed, byValue);
  let text = raw;
  for (const secret of [...new Set(secrets)].sort((a, b) => b.length - a.length)) {
    if (secret) text = text.split(secret).join(REDACTED_SENTINEL);
  }
  return leaksAny(text, secrets) ? JSON.stringify(value, null, 2) : text;
}

function leaksAny(text: string, secrets: string[]): boolean {
  let reparsed: unknown;
  try {
    reparsed = parseJson5(text);
  } catch {
    return true;
  }
  const remaining = [...new Set(secrets.filter(Boolean))];
  const found = (node: unknown): boolean => {
    if (typeof node === "string") return remaining.some((secret) => node.includes(secret));
    if (Array.isArray(node)) return node.some(found);
    if (isPlainObject(node)) return Object.values(node).some(found);
    return false;
  };
  return found(reparsed);
}

/** A sentinel a write could not resolve, by dotted path. */
export interface UnrestoredSentinel {
  path: string;
  message: string;
}

/**
 * Puts the current value back wherever `next` holds the sentinel at the same path: a whole redacted
 * value, or a string that is exactly what `config.get` showed for the current one (a URL with its
 * password redacted). Other sentinels (no current string, or an edited string around one) are
 * reported rather than written.
 */
export function restoreRedacted(
  next: Record<string, unknown>,
  current: Record<string, unknown>,
  byValue?: SecretRedactor,
): { value: Record<string, unknown>; problems: UnrestoredSentinel[] } {
  const problems: UnrestoredSentinel[] = [];
  const walk = (node: unknown, before: unknown, path: string): unknown => {
    if (typeof node === "string") {
      if (
        typeof before === "string" && node.includes(REDACTED_SENTINEL) &&
        shownString(before, byValue) === node
      ) {
        return before;
      }
      if (node === REDACTED_SENTINEL) {
        if (typeof before === "string") return before;
        problems.push({
          path,
          message: "holds the redaction placeholder but there is no value to keep; send the real value",
        });
      } else if (node.includes(REDACTED_SENTINEL)) {
        problems.push({ path, message: `contains the reserved ${REDACTED_SENTINEL} placeholder` });
      }
      return node;
    }
    if (Array.isArray(node)) {
      return node.map((item, i) => walk(item, Array.isArray(before) ? before[i] : undefined, join(path, i)));
    }
    if (isPlainObject(node)) {
      const previous = isPlainObject(before) ? before : {};
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [k, walk(v, previous[k], join(path, k))]),
      );
    }
    return node;
  };
  return { value: walk(next, current, "") as Record<string, unknown>, problems };
}

function join(prefix: string, key: string | number): string {
  return prefix ? `${prefix}.${key}` : String(key);
}
