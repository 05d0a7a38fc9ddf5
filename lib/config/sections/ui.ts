/**
 * The `ui` section of `openclaw.json`: how the Control UI presents the assistant. Where the UI is served
 * and who may open it live in `gateway.controlUi`.
 *
 * @module
 */
import * as z from "zod";

/** The whole `ui` section. */
export interface UiSection {
  /** Accent colour (CSS hex) for the Control UI. */
  seamColor?: string;
  /** How the assistant is presented; `name` is its display name in the Control UI (default `OpenClaw`). */
  assistant?: { name?: string; [key: string]: unknown };
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** Validates the `ui` section. */
export const UiSectionSchema: z.ZodType<UiSection> = z.looseObject({
  seamColor: z.string().regex(/^#[0-9a-fA-F]{3,8}$/, "ui.seamColor must be a CSS hex colour like #ff5a36")
    .optional(),
  assistant: z.looseObject({ name: z.string().min(1).max(64).optional() }).optional(),
});
