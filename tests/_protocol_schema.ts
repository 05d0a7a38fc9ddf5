// Validates what the gateway sends against the reference package's protocol.schema.json.
import Ajv from "ajv";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const schemaPath = require.resolve("@openclaw/gateway-protocol").replace(
  /dist\/index\.mjs$/,
  "protocol.schema.json",
);
const schema = JSON.parse(await Deno.readTextFile(schemaPath));

// deno-lint-ignore no-explicit-any
const ajv = new (Ajv as any)({ strict: false, allErrors: true });
ajv.addSchema(schema, "protocol");

/** Throws with ajv's errors when `value` does not match `#/definitions/<name>`. */
export function assertMatchesSchema(name: string, value: unknown): void {
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
