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
import { SecretRedactor } from "../../lib/log/secret-redactor.ts";

const SECRET_KEY = /token|password|secret|api[-_]?key|authorization|cookie/i;
const DEFAULT_PATTERNS = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g];

/** Masks one secret value. */
export function maskSecret(value: string): string {
  return value.length >= 18 ? `${value.slice(0, 6)}…${value.slice(-4)}` : "***";
}

/** Redacts records; `secrets` can be updated as SecretRefs are re-resolved. */
export class Redactor {
  /** Known values go through the gateway's own redactor: one rule for what counts as a secret value. */
  readonly #secrets = new SecretRedactor();
  #patterns: RegExp[];

  constructor(patterns?: string[]) {
    this.#patterns = patterns ? patterns.map((p) => new RegExp(p, "g")) : DEFAULT_PATTERNS;
  }

  /** Replaces the set of exact values to hide. */
  setSecrets(values: Iterable<string>): void {
    this.#secrets.update(values);
  }

  /** Replaces the patterns (`logging.redactPatterns`); `undefined` restores the defaults. */
  setPatterns(patterns: string[] | undefined): void {
    this.#patterns = patterns ? patterns.map((p) => new RegExp(p, "g")) : DEFAULT_PATTERNS;
  }

  redactText(text: string): string {
    let out = this.#secrets.redactText(text);
    for (const pattern of this.#patterns) out = out.replace(pattern, (m) => maskSecret(m));
    return out;
  }

  redact(record: LogRecord): LogRecord {
    return this.#walk(record, "") as LogRecord;
  }

  // Every record passes here (one per HTTP request with the access log on): nothing is allocated until a
  // value actually changes.
  #walk(value: unknown, key: string): unknown {
    if (typeof value === "string") return SECRET_KEY.test(key) ? maskSecret(value) : this.redactText(value);
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const next = this.#walk(value[i], key);
        if (next !== value[i]) (out ??= [...value])[i] = next;
      }
      return out ?? value;
    }
    if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      let out: Record<string, unknown> | undefined;
      for (const k in record) {
        if (!Object.hasOwn(record, k)) continue;
        const next = this.#walk(record[k], k);
        if (next !== record[k]) (out ??= { ...record })[k] = next;
      }
      return out ?? value;
    }
    return value;
  }
}
