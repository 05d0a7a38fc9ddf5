/**
 * {@link JsonDocs} as files under the state dir (node:fs adapter). Writes go to a temp file that is
 * fsynced and renamed over the target with mode 0600 in 0700 folders, so the gateway and the CLI can
 * both write the same store without either reading a torn file.
 *
 * @module
 */
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { checkDocPath, type JsonDocs } from "./json-docs.ts";

/** Documents under `root` (the profile's state dir). */
export function fileJsonDocs(root: string): JsonDocs {
  return {
    async read(path) {
      let text: string;
      try {
        text = await readFile(join(root, checkDocPath(path)), "utf8");
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        return JSON.parse(text);
      } catch {
        // A hand-edited file that no longer parses counts as empty rather than stopping the channel.
        return undefined;
      }
    },
    async write(path, value) {
      const target = join(root, checkDocPath(path));
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const temp = `${target}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      const file = await open(temp, "wx", 0o600);
      try {
        await file.writeFile(`${JSON.stringify(value, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      try {
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
  };
}
