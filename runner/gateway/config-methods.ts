/**
 * The `config.*` methods of a CLI-run gateway: the library's methods over the profile's config file.
 * Writes are validated and atomic (with backups) through the runner's config writer; the file watcher
 * applies them like a hand edit.
 *
 * @module
 */
import { ConfigWriteError, type ConfigWriter, sha256Hex } from "../../lib/config/writer.ts";
import { configModule } from "../../lib/methods/config.ts";
import type { GatewayModule } from "../../lib/types.ts";
import { CliError } from "../cli/errors.ts";
import { FileWriteError } from "../config/atomic-write.ts";
import { writeAuthoredConfig } from "../config/config-writer.ts";
import { fileConfigSource } from "../config/file-source.ts";
import { readConfigText } from "../config/json5-file.ts";

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
  return configModule({
    writer: fileConfigWriter(path),
    source: (env) => fileConfigSource(path, { env }),
    writeLimit: options.writeLimit,
  });
}

/** The config file as a {@link ConfigWriter}: size-capped reads, atomic writes with backups. */
export function fileConfigWriter(path: string): ConfigWriter {
  return {
    location: path,
    read: () => readConfigText(path),
    hash: sha256Hex,
    write: (value, base) =>
      writeAuthoredConfig({ path, exists: base.exists, value: base.value ?? {}, hash: base.hash }, value, {
        baseHash: base.hash,
      }).catch((error) => {
        throw writeRefusal(error);
      }),
  };
}

/** The runner writer's errors in the seam's terms; anything else is a bug and stays as it is. */
function writeRefusal(error: unknown): unknown {
  if (error instanceof FileWriteError) return new ConfigWriteError("unavailable", error.message);
  if (!(error instanceof CliError)) return error;
  if (/baseHash mismatch/.test(error.message)) return new ConfigWriteError("conflict", error.message);
  return new ConfigWriteError("rejected", error.message);
}
