/**
 * Redaction applied to every log record before it reaches a sink: values of credential-looking fields,
 * known secret values (every value the config resolves to, as the gateway collects them) and user
 * patterns (`logging.redactPatterns`). Known values become the `__OPENCLAW_REDACTED__` marker, as
 * everywhere else; fields and pattern matches keep their first 6 and last 4 characters when long, so
 * two credentials the config does not know can still be told apart.
 *
 * @module
 */
import type { LogRecord } from "../../lib/log/logger.ts";
import { REDACTED } from "../../lib/log/secret-redactor.ts";

const SECRET_KEY = /token|password|secret|api[-_]?key|authorization|cookie/i;
const DEFAULT_PATTERNS = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g];

/** Masks one secret value. */
export function maskSecret(value: string): string {
  return value.length >= 18 ? `${value.slice(0, 6)}…${value.slice(-4)}` : "***";
}

/** Redacts records; `secrets` can be updated as SecretRefs are re-resolved. */
export class Redactor {
  #secrets = new Set<string>();
  #patterns: RegExp[];

  constructor(patterns?: string[]) {
    this.#patterns = patterns ? patterns.map((p) => new RegExp(p, "g")) : DEFAULT_PATTERNS;
  }

  /** Replaces the set of exact values to hide. */
  setSecrets(values: Iterable<string>): void {
    // Longest first, so a secret that contains another is replaced whole.
    this.#secrets = new Set([...values].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length));
  }

  /** Replaces the patterns (`logging.redactPatterns`); `undefined` restores the defaults. */
  setPatterns(patterns: string[] | undefined): void {
    this.#patterns = patterns ? patterns.map((p) => new RegExp(p, "g")) : DEFAULT_PATTERNS;
  }

  redactText(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const pattern of this.#patterns) out = out.replace(pattern, (m) => maskSecret(m));
    return out;
  }

  redact(record: LogRecord): LogRecord {
    return this.#walk(record, "") as LogRecord;
  }

  #walk(value: unknown, key: string): unknown {
    if (typeof value === "string") return SECRET_KEY.test(key) ? maskSecret(value) : this.redactText(value);
    if (Array.isArray(value)) return value.map((v) => this.#walk(v, key));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.#walk(v, k)]));
    }
    return value;
  }
}
