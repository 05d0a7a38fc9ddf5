// Exec approvals load their methods on the first call; a load that fails is tried again on the next call
// and leaves no bus listener behind.
import assert from "node:assert/strict";
import type { LazyMethod } from "../lib/methods/lazy.ts";
import type { ExecApprovalsHost } from "../lib/methods/exec-approval-methods.ts";
import { execApprovalsModule } from "../lib/methods/exec-approvals.ts";
import type { AnyMethod } from "../lib/methods/descriptor.ts";
import { MemoryExecApprovalStore } from "../lib/state/exec-approvals.ts";

Deno.test("exec approvals: a failed first load retried leaves one bus listener", async () => {
  let reads = 0;
  const store = new MemoryExecApprovalStore();
  const host = {
    now: () => Date.now(),
    newId: () => crypto.randomUUID(),
    approvalClients: () => Promise.resolve(false),
    get store() {
      if (++reads === 1) throw new Error("building failed");
      return store;
    },
  } as ExecApprovalsHost;
  const registered: (AnyMethod | LazyMethod)[] = [];
  let listeners = 0;
  execApprovalsModule(host).setup({
    registerMethod: (method) => registered.push(method),
    declareEvents: () => {},
    bus: {
      publish: () => {},
      subscribe: () => (listeners++, () => listeners--),
    },
    onStop: () => {},
  });
  const list = registered.find((method) => method.name === "exec.approval.list") as LazyMethod;
  await assert.rejects(list.load(), /building failed/);
  assert.equal((await list.load()).name, "exec.approval.list");
  assert.equal(listeners, 1, "the failed load left its bus listener behind");
});
