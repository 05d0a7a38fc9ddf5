/**
 * The `config.*` methods of a CLI-run gateway: the library's methods over the profile's config file.
 * Writes are validated and atomic (with backups) through the runner's config writer; the file watcher
 * applies them like a hand edit. The methods, their schemas and the writer are imported on the first
 * `config.*` call: an idle gateway never edits its config.
 *
 * @module
 */
import { CONFIG_METHODS } from "../../lib/methods/config-scopes.ts";
import { lazyMethods } from "../../lib/methods/lazy.ts";
import type { GatewayModule } from "../../lib/types.ts";
import { fileConfigSource } from "../config/file-source.ts";

/** Options for {@link configMethodsModule}. */
export interface ConfigMethodsOptions {
  /** The active profile's `openclaw.json`. */
  configPath: string;
  /** Admin writes allowed per method and caller in `windowMs` (OpenClaw: 30 per 60 s). */
  writeLimit?: { max: number; windowMs: number };
}

/** Installs `config.get`, `config.schema`, `config.set`, `config.patch` and `config.apply` over the file. */
export function configMethodsModule(options: ConfigMethodsOptions): GatewayModule {
  const path = options.configPath;
  return {
    name: "config",
    setup(context) {
      const load = async () => {
        const [{ configMethods }, { fileConfigWriter }] = await Promise.all([
          import("../../lib/methods/config.ts"),
          import("./config-file-writer.ts"),
        ]);
        return configMethods({
          writer: fileConfigWriter(path),
          source: (env) => fileConfigSource(path, { env }),
          writeLimit: options.writeLimit,
        }, context);
      };
      for (const method of lazyMethods(CONFIG_METHODS, load)) context.registerMethod(method);
    },
  };
}
