// The name → scope tables that lazily loaded features register before they load (so the registry lists
// their methods and refuses callers without the scope) say exactly what the loaded descriptors declare.
import assert from "node:assert/strict";
import { CRON_METHODS } from "../lib/cron/cron-module.ts";
import { cronMethods, type CronMethodsHost } from "../lib/cron/methods.ts";
import type { AnyMethod } from "../lib/methods/descriptor.ts";
import {
  DecisionWaiters,
  execApprovalMethods,
  type ExecApprovalsHost,
} from "../lib/methods/exec-approval-methods.ts";
import { EXEC_APPROVAL_METHODS } from "../lib/methods/exec-approvals.ts";
import { nodeMethods, type NodeMethodsDeps } from "../lib/nodes/methods.ts";
import { NODE_METHODS } from "../lib/nodes/nodes-module.ts";

/** Name → scope of built descriptors; building reads none of the hosts they are given. */
const declared = (methods: readonly AnyMethod[]) =>
  Object.fromEntries(methods.map((method) => [method.name, method.scope]));

Deno.test("lazy method tables match their descriptors: cron, nodes, exec approvals", () => {
  assert.deepEqual(declared(cronMethods({} as CronMethodsHost)), CRON_METHODS);
  assert.deepEqual(declared(nodeMethods({} as NodeMethodsDeps)), NODE_METHODS);
  assert.deepEqual(
    declared(execApprovalMethods({} as ExecApprovalsHost, { publish() {} }, new DecisionWaiters())),
    EXEC_APPROVAL_METHODS,
  );
});
