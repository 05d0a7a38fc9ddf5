/**
 * Commands loaded on demand: the CLI knows each command module's paths up front and imports a module
 * only when its command runs, so `openclaw --version` or `openclaw gateway status` do not pay for
 * loading the gateway, the agents or the service installers.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";

/** One module's commands: the paths it serves, and how to import and build them. */
export interface LazyCommandModule {
  paths: readonly (readonly string[])[];
  load(): Promise<RunnerCommand[]>;
}

/** Every command module, loaded no earlier than needed. */
export class CommandCatalog {
  readonly #modules: readonly LazyCommandModule[];
  readonly #loaded = new Map<LazyCommandModule, Promise<RunnerCommand[]>>();

  constructor(modules: readonly LazyCommandModule[]) {
    this.#modules = modules;
  }

  /**
   * The commands needed to dispatch `words`: only the module owning the longest path that prefixes them
   * (the command `findCommand` will pick), or every module when help is wanted or no path matches (the
   * root and group help list them all, and an unknown word needs the full list for its message).
   */
  async commandsFor(words: readonly string[], help: boolean): Promise<RunnerCommand[]> {
    let owner: LazyCommandModule | undefined;
    let longest = 0;
    if (!help) {
      for (const module of this.#modules) {
        for (const path of module.paths) {
          if (path.length > longest && path.every((part, i) => words[i] === part)) {
            owner = module;
            longest = path.length;
          }
        }
      }
    }
    const modules = owner ? [owner] : this.#modules;
    return (await Promise.all(modules.map((m) => this.#load(m)))).flat();
  }

  /** Every command (root help, tests). */
  all(): Promise<RunnerCommand[]> {
    return this.commandsFor([], true);
  }

  #load(module: LazyCommandModule): Promise<RunnerCommand[]> {
    let loaded = this.#loaded.get(module);
    if (!loaded) {
      loaded = module.load();
      this.#loaded.set(module, loaded);
    }
    return loaded;
  }
}
