/**
 * The `config.*` method table, free of zod and of the methods' code, so a host that registers the
 * methods lazily (the runner) lists the same names and scopes the library builds.
 *
 * @module
 */

/** The `config.*` methods and their scope (protocol.md: all admin), in the order the library builds them. */
export const CONFIG_METHODS = {
  "config.get": "operator.admin",
  "config.schema": "operator.admin",
  "config.set": "operator.admin",
  "config.apply": "operator.admin",
  "config.patch": "operator.admin",
} as const;
