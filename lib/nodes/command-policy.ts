/**
 * Which commands a node may be invoked with: what it declared at `connect` and its approved node surface
 * holds (node pairing), cut to the allowlist of its platform (the reference's defaults), plus
 * `gateway.nodes.commands.allow`, minus `gateway.nodes.commands.deny`. Dangerous and privacy-heavy commands
 * need an explicit `allow`, and so do desktop host commands (`system.run`, `browser.proxy`, `fs.listDir`,
 * ...): the reference also admits those on a desktop node whose approved surface holds them, behind a
 * gateway-side check of `system.run` params (exec approvals) that this gateway does not have.
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";

/** Commands a direct `node.invoke` may relay only for `operator.admin` callers. */
export const ADMIN_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  "browser.proxy",
  "browser.proxy.upload.v1",
  "fs.listDir",
  "terminal.upload",
]);

/** Allowed only when `gateway.nodes.commands.allow` names them. */
const DANGEROUS = new Set([
  "camera.snap",
  "camera.clip",
  "camera.ptz.control",
  "screen.record",
  "contacts.add",
  "calendar.add",
  "reminders.add",
  "sms.send",
  "sms.search",
  "health.summary",
]);

const DEVICE = ["device.info", "device.status"];
const PERSONAL = ["contacts.search", "calendar.events", "reminders.list", "photos.latest"];
const MOTION = ["motion.activity", "motion.pedometer"];
const DESKTOP = ["system.notify", "computer.act"];

/** The reference's default allowlist per platform, before `allow`/`deny`. */
const PLATFORM_DEFAULTS: Record<string, readonly string[]> = {
  ios: ["camera.list", "location.get", ...DEVICE, ...PERSONAL, ...MOTION, "system.notify"],
  watchos: [...DEVICE, "system.notify"],
  android: [
    "camera.list",
    "location.get",
    "notifications.list",
    "notifications.actions",
    "system.notify",
    ...DEVICE,
    "device.permissions",
    "device.health",
    "device.apps",
    ...PERSONAL,
    "callLog.search",
    ...MOTION,
    "mobile.ui.observe",
    "mobile.ui.act",
  ],
  macos: [
    "camera.list",
    "camera.ptz.status",
    "location.get",
    ...DEVICE,
    "device.apps",
    ...PERSONAL,
    ...MOTION,
    ...DESKTOP,
  ],
  windows: ["camera.list", "location.get", ...DEVICE, ...DESKTOP],
  linux: DESKTOP,
  unknown: ["camera.list", "location.get", "system.notify"],
};

const TALK = ["talk.ptt.start", "talk.ptt.stop", "talk.ptt.cancel", "talk.ptt.once"];

/** What the policy reads of a node. */
export interface NodeDeclaration {
  /** The platform label it connected with (`iOS 18.1`, `macos`). */
  platform?: string;
  /** Its device family (`iPhone`, `Mac`), the fallback when the label says nothing. */
  deviceFamily?: string;
  /** The capability categories it declared (`talk` admits the push-to-talk commands). */
  caps: readonly string[];
  /** The commands it declared at `connect`. */
  declaredCommands: readonly string[];
}

/**
 * The platform the defaults are looked up by: an exact id (`ios`, `macos`, ...) or a native label
 * (`iOS 18.1`, `macOS 15.2`, `Android 15`), else the device family, else `unknown`.
 */
export function platformId(platform = "", deviceFamily = ""): string {
  const label = platform.trim().toLowerCase();
  const family = deviceFamily.trim().toLowerCase();
  if (label in PLATFORM_DEFAULTS) return label;
  const native = /^(ios|ipados|watchos|macos|android) \d/.exec(label)?.[1];
  if (native) return native === "ipados" ? "ios" : native;
  if (label) return "unknown";
  if (/iphone|ipad|ios/.test(family)) return "ios";
  if (/watch/.test(family)) return "watchos";
  if (/android/.test(family)) return "android";
  if (/mac/.test(family)) return "macos";
  if (/windows/.test(family)) return "windows";
  if (/linux/.test(family)) return "linux";
  return "unknown";
}

/** Every command `node` may be invoked with under `config`. */
export function commandAllowlist(config: GatewayConfig, node: NodeDeclaration): Set<string> {
  const commands = config.gateway?.nodes?.commands;
  const talks = node.caps.includes("talk") || node.declaredCommands.some((c) => c.startsWith("talk."));
  const allowed = new Set(
    [...PLATFORM_DEFAULTS[platformId(node.platform, node.deviceFamily)]!, ...(talks ? TALK : [])]
      .filter((command) => !DANGEROUS.has(command)),
  );
  for (const command of commands?.allow ?? []) if (command.trim()) allowed.add(command.trim());
  for (const command of commands?.deny ?? []) allowed.delete(command.trim());
  return allowed;
}

/**
 * The commands `node` declared that its approved node surface (`approved`, none before an operator
 * approves) holds and `config` lets it be invoked with, in its order, once each.
 */
export function effectiveCommands(
  config: GatewayConfig,
  node: NodeDeclaration,
  approved: ReadonlySet<string>,
): string[] {
  const allowed = commandAllowlist(config, node);
  return [...new Set(node.declaredCommands.map((c) => c.trim()))].filter((c) =>
    allowed.has(c) && approved.has(c)
  );
}

/**
 * Why `command` may not be invoked on `node` (the reference's hint text), or `undefined` when it may.
 * `node.commands` is its {@link effectiveCommands}.
 */
export function commandRefusal(
  config: GatewayConfig,
  node: NodeDeclaration & { commands: readonly string[] },
  command: string,
): { reason: string; message: string } | undefined {
  const platform = node.platform ?? "unknown";
  if (!commandAllowlist(config, node).has(command)) {
    const denied = config.gateway?.nodes?.commands?.deny?.some((entry) => entry.trim() === command);
    const message = denied
      ? `node command not allowed: "${command}" is blocked by gateway.nodes.commands.deny`
      : DANGEROUS.has(command)
      ? `node command not allowed: "${command}" requires explicit gateway.nodes.commands.allow opt-in`
      : `node command not allowed: "${command}" is not in the allowlist for platform "${platform}"`;
    return { reason: "command not allowlisted", message };
  }
  if (!node.commands.length) {
    // The reference gives the pairing hint only while nothing of the node is approved; once some is,
    // a command still waiting reads as one the node does not support.
    const message = node.declaredCommands.includes(command)
      ? "node command not allowed: the node's declared command surface is pending approval; run `openclaw nodes pending`, then `openclaw nodes approve <requestId>`"
      : "node command not allowed: the node did not declare any supported commands";
    return { reason: "node did not declare commands", message };
  }
  if (!node.commands.includes(command)) {
    return {
      reason: "command not declared by node",
      message: `node command not allowed: the node (platform: ${platform}) does not support "${command}"`,
    };
  }
  return undefined;
}
