/**
 * The profile's config file as the `config.*` methods' writer: size-capped reads, and validated atomic
 * writes with backups through the runner's config writer. Imported on the first `config.*` call.
 *
 * @module
 */
import { ConfigWriteError, type ConfigWriter, sha256Hex } from "../../lib/config/writer.ts";
import { CliError } from "../cli/errors.ts";
import { FileWriteError } from "../config/atomic-write.ts";
import { writeAuthoredConfig } from "../config/config-writer.ts";
import { readConfigText } from "../config/json5-file.ts";

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
