/**
 * The providers a config names (`models.providers.<id>`) plus the built-in local model, and the rule
 * that turns a model ref (`provider/model`, or a bare model id) into a provider and its model id.
 *
 * @module
 */
import {
  type ModelsSection,
  ModelsSectionSchema,
  type ProviderModelConfig,
} from "../config/sections/models.ts";
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { lazyProvider } from "./lazy-provider.ts";
import { LOCAL_PROVIDER_ID, LocalProvider } from "./local.ts";
import { resolveSecret } from "./secrets.ts";
import type { FetchLike, ModelProvider, ProviderModel } from "./types.ts";

/** A model ref resolved to the provider that serves it. */
export interface ResolvedModel {
  /** The provider that serves the model. */
  provider: ModelProvider;
  /** The provider's own model id. */
  model: string;
  /** `provider/model`. */
  ref: string;
}

/** One row of the configured catalog. */
export interface CatalogModel extends ProviderModel {
  /** Id of the provider that serves this model. */
  provider: string;
}

/** What the registry needs from its surroundings. */
export interface ProviderRegistryOptions {
  /** The `fetch` handed to every provider built from config. */
  fetch: FetchLike;
  /** Environment used to resolve `${ENV}` API keys. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where the registry reports providers it skips. */
  logger: Logger;
  /** Providers supplied in code; they win over config entries with the same id. */
  providers?: Record<string, ModelProvider>;
}

/** The providers of one config snapshot. */
export class ProviderRegistry {
  readonly #providers = new Map<string, ModelProvider>();
  readonly #catalog: CatalogModel[] = [];
  readonly #missingKey = new Set<string>();

  /**
   * Builds providers from a `models` config section (invalid sections are logged and ignored) plus the local
   * one.
   */
  constructor(modelsSection: unknown, options: ProviderRegistryOptions) {
    const parsed = ModelsSectionSchema.safeParse(modelsSection ?? {});
    const section: ModelsSection = parsed.success ? parsed.data : {};
    if (!parsed.success) {
      options.logger.warn("ignoring invalid models section", { issue: parsed.error.message });
    }
    const local = new LocalProvider();
    this.#providers.set(LOCAL_PROVIDER_ID, local);
    for (const [id, config] of Object.entries(section.providers ?? {})) {
      const models = (config.models ?? []).map(toProviderModel);
      const common = {
        id,
        apiKey: resolveSecret(config.apiKey, options.env),
        headers: config.headers,
        timeoutMs: config.timeoutSeconds ? config.timeoutSeconds * 1000 : undefined,
        maxResponseBytes: config.maxResponseBytes,
        models,
        fetch: options.fetch,
      };
      const api = config.api ?? "openai-completions";
      if (api === "anthropic-messages") {
        // OpenAI-compatible servers may need no key (local ones); Anthropic always does.
        if (!common.apiKey) this.#missingKey.add(id);
        const settings = { ...common, baseUrl: config.baseUrl, maxTokens: config.maxTokens };
        this.#providers.set(
          id,
          lazyProvider(id, api, async () => new (await import("./anthropic.ts")).AnthropicProvider(settings)),
        );
      } else if (api === "openai-completions" || api === "openai-responses") {
        if (!config.baseUrl) {
          options.logger.warn("model provider has no baseUrl; skipping it", { provider: id });
          continue;
        }
        // Responses-only backends are rare; every server that offers /v1/responses also offers chat completions.
        const settings = { ...common, baseUrl: config.baseUrl };
        this.#providers.set(
          id,
          lazyProvider(
            id,
            "openai-completions",
            async () => new (await import("./openai-compatible.ts")).OpenAiCompatibleProvider(settings),
          ),
        );
      } else {
        options.logger.warn("model provider api is not supported by this gateway; skipping it", {
          provider: id,
          api,
        });
        continue;
      }
      for (const model of models) this.#catalog.push({ ...model, provider: id });
    }
    for (const [id, provider] of Object.entries(options.providers ?? {})) {
      this.#providers.set(id, provider);
      this.#missingKey.delete(id);
    }
  }

  /** Returns the provider with this id, or `undefined`. */
  get(id: string): ModelProvider | undefined {
    return this.#providers.get(id);
  }

  /** Whether provider `id` needs an API key and none resolved (its models cannot answer). */
  missingKey(id: string): boolean {
    return this.#missingKey.has(id);
  }

  /** Provider ids, the built-in local one included. */
  ids(): string[] {
    return [...this.#providers.keys()];
  }

  /** Models declared in config (the local model's list comes from the provider itself). */
  configuredModels(): readonly CatalogModel[] {
    return this.#catalog;
  }

  /**
   * `provider/model` picks that provider; a bare id picks the one configured provider that lists it.
   * Anything else is a `NOT_FOUND` that names the ref.
   */
  resolve(ref: string): ResolvedModel {
    const slash = ref.indexOf("/");
    if (slash > 0) {
      const provider = this.#providers.get(ref.slice(0, slash));
      if (provider) return { provider, model: ref.slice(slash + 1), ref };
    }
    const matches = this.#catalog.filter((m) => m.id === ref);
    if (matches.length === 1) {
      const provider = this.#providers.get(matches[0].provider)!;
      return { provider, model: ref, ref: `${matches[0].provider}/${ref}` };
    }
    const known = this.ids().join(", ");
    throw new GatewayError(
      "NOT_FOUND",
      matches.length > 1
        ? `model '${ref}' is offered by several providers; write it as provider/model`
        : `unknown model '${ref}': use provider/model with a configured provider (${known})`,
      { details: { model: ref } },
    );
  }
}

function toProviderModel(config: ProviderModelConfig): ProviderModel {
  const model: ProviderModel = { id: config.id };
  if (config.name) model.name = config.name;
  if (config.contextWindow) model.contextWindow = config.contextWindow;
  if (config.maxTokens) model.maxTokens = config.maxTokens;
  if (config.reasoning !== undefined) model.reasoning = config.reasoning;
  if (config.input) model.input = config.input;
  return model;
}
