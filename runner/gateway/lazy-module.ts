/**
 * A feature module that is imported only once its config section turns it on, so a gateway that does
 * not use a feature never loads (or pays memory for) its code.
 *
 * @module
 */
import type { GatewayConfig } from "../../lib/config/schema.ts";
import type { GatewayContext, GatewayModule } from "../../lib/types.ts";

/**
 * Wraps `load` (a dynamic `import()` of the module) so it runs at setup when `isOn(config)` holds, or at
 * the first hot reload that makes it hold. Only for modules that add nothing to the wire while off (no
 * method, health section or route that answers differently from an unknown path). Once loaded the
 * module stays set up; turning the feature off again is the module's own job, as it is when loaded at
 * start. Until a reload-triggered load finishes (milliseconds) the feature answers as it did while off.
 */
export function lazyModule(
  name: string,
  isOn: (config: GatewayConfig) => boolean,
  load: () => Promise<GatewayModule>,
): GatewayModule {
  return {
    name,
    async setup(context: GatewayContext) {
      let loading: Promise<void> | undefined;
      const ensure = () => loading ??= load().then((module) => module.setup(context));
      if (isOn(context.config())) return await ensure();
      const unsubscribe = context.onConfigChange((next) => {
        if (!isOn(next)) return;
        unsubscribe();
        ensure().catch((error) => context.logger.error(`${name} failed to load`, { error: String(error) }));
      });
    },
  };
}
