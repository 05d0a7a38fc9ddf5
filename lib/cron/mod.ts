/**
 * Cron (the reference's Automations): jobs on a schedule (`at`, `every`, a cron expression) that run agent
 * turns, managed with the `cron.*` methods and announced with the `cron` event.
 *
 * @example Next run of a cron expression in a time zone
 * ```ts
 * import { nextCronTime, parseCronExpression } from "@openclaw-ts/gateway";
 *
 * const weekdays = parseCronExpression("30 9 * * mon-fri");
 * const next = nextCronTime(weekdays, Date.UTC(2026, 0, 2, 12), "Europe/Vienna"); // a Friday
 * if (new Date(next!).toISOString() !== "2026-01-05T08:30:00.000Z") throw new Error(String(next));
 * ```
 *
 * @module
 */
export { cronModule, type CronModuleOptions, cronSettings } from "./cron-module.ts";
export {
  checkTimeZone,
  type CronExpression,
  CronExpressionError,
  hostTimeZone,
  nextCronTime,
  parseCronExpression,
} from "./cron-expr.ts";
