/**
 * `openclaw setup`: makes the profile runnable. It creates the config (local mode, a generated token;
 * with `--dev` the dev defaults and the built-in model) or stamps `gateway.mode=local` into an existing one.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";
import { defineCommand } from "../cli/define-command.ts";
import { readAuthoredConfig, setPath, writeAuthoredConfig } from "../config/config-writer.ts";
import { ensureDevConfig, generateToken } from "../gateway/dev-profile.ts";

/** `setup`. */
export const setupCommand: RunnerCommand = defineCommand({
  path: ["setup"],
  summary: "Create or repair the profile's config so the gateway can start",
  flags: {},
  async run(_parsed, { paths, output, dev }) {
    if (dev) {
      const setup = await ensureDevConfig(paths);
      if (!setup.created) {
        output.out(`Dev config already exists: ${paths.configPath}`);
        return 0;
      }
      output.out(`Created dev config ${paths.configPath}`);
      output.out(`Gateway token (shown once; it is stored in the config): ${setup.token}`);
      return 0;
    }
    const current = await readAuthoredConfig(paths.configPath);
    if (!current.exists) {
      const token = generateToken();
      await writeAuthoredConfig(current, { gateway: { mode: "local", auth: { mode: "token", token } } });
      output.out(`Created config ${paths.configPath}`);
      output.out(`Gateway token (shown once; it is stored in the config): ${token}`);
      return 0;
    }
    const mode = (current.value.gateway as { mode?: unknown } | undefined)?.mode;
    if (mode === "local") {
      output.out(`No change: gateway.mode is already local in ${paths.configPath}`);
      return 0;
    }
    await writeAuthoredConfig(current, setPath(current.value, "gateway.mode", "local"));
    output.out(`Set gateway.mode=local in ${paths.configPath}`);
    return 0;
  },
});
