/**
 * The in-process tool registry.
 *
 * @module
 */
import type { ToolDefinition, ToolRegistry } from "./types.ts";

const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Tools held in a map in this process. */
export class InProcessToolRegistry implements ToolRegistry {
  readonly #tools = new Map<string, ToolDefinition>();

  /** Makes a registry holding `tools`; throws on an unusable or duplicate name, as `register` does. */
  constructor(tools: readonly ToolDefinition[] = []) {
    for (const tool of tools) this.register(tool);
  }

  register(tool: ToolDefinition): () => void {
    if (!TOOL_NAME.test(tool.name)) {
      throw new Error(
        `tool name '${tool.name}' is not usable: start with a letter, then letters, digits, '_' or '-' (max 64)`,
      );
    }
    if (this.#tools.has(tool.name)) throw new Error(`a tool named '${tool.name}' is already registered`);
    this.#tools.set(tool.name, tool);
    return () => {
      if (this.#tools.get(tool.name) === tool) this.#tools.delete(tool.name);
    };
  }

  /** Returns the tool named `name`, or `undefined`. */
  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  list(): ToolDefinition[] {
    return [...this.#tools.values()];
  }
}
