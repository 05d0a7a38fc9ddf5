// Validates what the gateway sends against the reference package's protocol.schema.json.
import assert from "node:assert/strict";
import Ajv from "ajv";
import { createRequire } from "node:module";
import type { Frame } from "../mod.ts";

const require = createRequire(import.meta.url);
const schemaPath = require.resolve("@openclaw/gateway-protocol").replace(
  /dist\/index\.mjs$/,
  "protocol.schema.json",
);
const schema = JSON.parse(await Deno.readTextFile(schemaPath));

// deno-lint-ignore no-explicit-any
const ajv = new (Ajv as any)({ strict: false, allErrors: true });
ajv.addSchema(schema, "protocol");

/**
 * The reference gateway (2026.9.6, captures/ws-session.json) sends `hello-ok.auth.method`, which the
 * newest published schema (2026.9.1) does not list yet. We send it too; it is checked here and taken out
 * before validation so every other field is still held to the schema.
 */
function withoutKnownAdditions(name: string, value: unknown): unknown {
  if (name !== "HelloOk" || typeof value !== "object" || value === null) return value;
  const hello = value as { auth?: Record<string, unknown> };
  if (!hello.auth || typeof hello.auth.method !== "string") {
    throw new Error("hello-ok.auth.method must be a string, as the reference gateway sends it");
  }
  const { method: _method, ...auth } = hello.auth;
  return { ...hello, auth };
}

/** Throws with ajv's errors when `value` does not match `#/definitions/<name>`. */
export function assertMatchesSchema(name: string, input: unknown): void {
  const value = withoutKnownAdditions(name, input);
  const validate = ajv.getSchema(`protocol#/definitions/${name}`);
  if (!validate) throw new Error(`no definition ${name} in protocol.schema.json`);
  if (!validate(value)) {
    throw new Error(
      `${name} does not match protocol.schema.json: ${JSON.stringify(validate.errors, null, 1)}`,
    );
  }
}

/** The scope protocol.schema.json assigns to `method`. */
export function schemaScope(method: string): string | undefined {
  return schema.methods?.[method]?.scope;
}

/**
 * Asserts that protocol.schema.json gives each of `methods` the scope `scope`, and that `caller` (a client
 * without it) is refused each one for that missing scope.
 */
export async function assertScopedMethods(
  caller: { request(method: string, params?: Record<string, unknown>): Promise<Frame> },
  scope: string,
  methods: string[],
): Promise<void> {
  for (const method of methods) {
    assert.equal(schemaScope(method), scope, method);
    const refused = await caller.request(method, {});
    assert.equal((refused.error as { details?: { missingScope?: string } }).details?.missingScope, scope);
  }
}
