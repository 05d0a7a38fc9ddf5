/**
 * Methods of OpenClaw features this gateway does not have (cron, talk, environments, nodes, tasks,
 * questions, approvals, self-update), answering each one's truthful empty state in the reference's
 * result shape, so OpenClaw's Control UI shows "nothing here" instead of an unknown-method error.
 * Nothing is invented: every list is empty and every capability is off. docs/compatibility.md lists them.
 *
 * @module
 */
import { z } from "zod";
import { type AnyMethod, anyParams, defineMethod } from "./descriptor.ts";
import { readHostInfo } from "./host-info.ts";

const none = z.strictObject({});

/** The truthful-empty methods, and `system.info` (a real read of the host). */
export function absentFeatureMethods(now: () => number): AnyMethod[] {
  const empty = (name: string, scope: string, result: () => unknown, params = anyParams) =>
    defineMethod({ name, scope, params, handler: result });
  return [
    empty(
      "cron.status",
      "operator.read",
      () => ({ enabled: false, triggersEnabled: false, jobs: 0, nextWakeAtMs: null }),
      none,
    ),
    empty(
      "cron.list",
      "operator.read",
      () => ({ jobs: [], total: 0, offset: 0, limit: 0, hasMore: false, nextOffset: null }),
    ),
    empty(
      "cron.runs",
      "operator.read",
      () => ({ entries: [], total: 0, offset: 0, limit: 0, hasMore: false, nextOffset: null }),
    ),
    empty("environments.list", "operator.read", () => ({ environments: [] }), none),
    empty("node.list", "operator.read", () => ({ ts: now(), nodes: [] }), none),
    empty("exec.approval.list", "operator.approvals", () => []),
    empty("plugin.approval.list", "operator.approvals", () => []),
    empty("openclaw.approval.list", "operator.approvals", () => []),
    empty("question.list", "operator.questions", () => ({ questions: [] }), none),
    empty("tasks.list", "operator.read", () => ({ tasks: [] })),
    empty("talk.catalog", "operator.read", () => ({
      modes: [],
      transports: [],
      brains: [],
      speech: { ready: false, providers: [] },
      transcription: { ready: false, providers: [] },
      realtime: { ready: false, providers: [] },
    }), none),
    empty("update.status", "operator.admin", () => ({ sentinel: null, updateAvailable: null })),
    defineMethod({
      name: "system.info",
      scope: "operator.read",
      params: none,
      handler: () => {
        const host = readHostInfo();
        return { machineName: host.hostname, ...host };
      },
    }),
  ];
}
