/**
 * Methods of OpenClaw features this gateway does not have (talk, environments, plugins,
 * tasks, questions, approvals, self-update), answering each one's truthful empty state in the reference's
 * result shape, so OpenClaw's Control UI shows "nothing here" instead of an unknown-method error.
 * Nothing is invented: every list is empty and every capability is off. docs/compatibility.md lists them.
 *
 * @module
 */
import * as z from "zod";
import { type AnyMethod, anyParams, defineMethod, ignoredParams } from "./descriptor.ts";

/** The host facts `system.info` needs. */
export interface HostInfo {
  /** The machine's host name. */
  hostname: string;
  /** The OS family as Node names it (`linux`, `darwin`, `win32`). */
  platform: string;
  /** The OS kernel release. */
  release: string;
  /** The CPU architecture (`x64`, `arm64`). */
  arch: string;
  /** The OS name and release, for people. */
  osLabel: string;
  /** Logical CPUs. */
  cpuCount: number;
  /** The first CPU's model name, when the OS tells it. */
  cpuModel?: string;
  /** The 1, 5 and 15 minute load averages (zeros where the OS has none). */
  loadAverage: [number, number, number];
  /** Physical memory in bytes. */
  memoryTotalBytes: number;
  /** Free physical memory in bytes. */
  memoryFreeBytes: number;
  /** The gateway's process id. */
  pid: number;
  /** The Node-compatible version the runtime reports (Deno reports the Node API level it implements). */
  nodeVersion: string;
  /** Milliseconds since the process started. */
  uptimeMs: number;
}

const none = z.strictObject({});

/**
 * The truthful-empty methods, and `system.info` (a real read of the host) when `hostInfo` can read it;
 * without it there is no `system.info` rather than an invented one.
 */
export function absentFeatureMethods(hostInfo?: () => HostInfo): AnyMethod[] {
  const empty = (name: string, scope: string, result: () => unknown, params = anyParams) =>
    defineMethod({ name, scope, params, handler: result });
  const methods: AnyMethod[] = [
    empty(
      "environments.list",
      "operator.read",
      () => ({ environments: [] }),
      z.strictObject({ includeDesktopSetup: z.boolean().optional() }),
    ),
    empty(
      "plugins.list",
      "operator.read",
      () => ({ plugins: [], diagnostics: [], mutationAllowed: false }),
      none,
    ),
    empty("plugins.catalog.browse", "operator.read", () => ({ items: [] })),
    empty("plugin.approval.list", "operator.approvals", () => []),
    empty("openclaw.approval.list", "operator.approvals", () => []),
    empty("question.list", "operator.questions", () => ({ questions: [] }), none),
    empty(
      "tasks.list",
      "operator.read",
      () => ({ tasks: [] }),
      z.strictObject(ignoredParams("status", "agentId", "sessionKey", "limit", "cursor", "sortBy")),
    ),
    empty("talk.catalog", "operator.read", () => ({
      modes: [],
      transports: [],
      brains: [],
      speech: { ready: false, providers: [] },
      transcription: { ready: false, providers: [] },
      realtime: { ready: false, providers: [] },
    }), none),
    empty(
      "update.status",
      "operator.admin",
      () => ({ sentinel: null, updateAvailable: null }),
      z.strictObject(ignoredParams("refreshCheckout")),
    ),
  ];
  if (!hostInfo) return methods;
  return [
    ...methods,
    defineMethod({
      name: "system.info",
      scope: "operator.read",
      params: none,
      handler: () => {
        const host = hostInfo();
        return { machineName: host.hostname, ...host };
      },
    }),
  ];
}
