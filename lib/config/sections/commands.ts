/**
 * The `commands` section of `openclaw.json`, as far as this gateway uses it: `ownerAllowFrom`, the
 * operator's own identities on channels, where heartbeat alerts go by default (`target: "owner"`).
 *
 * @module
 */
import * as z from "zod";

/** The whole `commands` section. */
export interface CommandsSection {
  /** The owner's senders as `<channel>:<id>` (`telegram:123456789`); the first one a channel can reach is used. */
  ownerAllowFrom?: (string | number)[];
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** Validates the `commands` section. */
export const CommandsSectionSchema: z.ZodType<CommandsSection> = z.looseObject({
  ownerAllowFrom: z.array(z.union([z.string().min(1), z.number()])).optional(),
});
