/**
 * Exec approvals: `exec.approval.request` records a request, announces `exec.approval.requested` to
 * `operator.approvals` clients and answers once an operator decided (`exec.approval.resolve`, first
 * answer wins, announced as `exec.approval.resolved`) or the request expired (decision `null`);
 * `exec.approval.list` and `exec.approval.get` show what waits. Requests and answers live in
 * `stores.execApprovals`, so any replica can list or answer a request another replica waits on; the
 * waiting replica hears the answer on the event bus.
 *
 * The methods and their schemas are in `exec-approval-methods.ts`, imported on the first call.
 *
 * @module
 */
import type { ApprovalDecision } from "../state/exec-approvals.ts";
import type { ExecApprovalsHost } from "./exec-approval-methods.ts";
import { lazyMethods } from "./lazy.ts";
import type { BuiltInModuleHost } from "./module-host.ts";

/** The exec approval events, for `hello-ok.features.events`. */
export const EXEC_APPROVAL_EVENTS = ["exec.approval.requested", "exec.approval.resolved"] as const;

/** The exec approval methods and their scope, known before their schemas load. */
export const EXEC_APPROVAL_METHODS = {
  "exec.approval.request": "operator.approvals",
  "exec.approval.resolve": "operator.approvals",
  "exec.approval.list": "operator.approvals",
  "exec.approval.get": "operator.approvals",
} as const;

/**
 * The built-in module of exec approvals. Its methods load on the first call to one of them; until then no
 * caller of this process waits on a decision, so the bus is listened to only from then on.
 */
export function execApprovalsModule(
  host: ExecApprovalsHost,
): { name: string; setup(context: BuiltInModuleHost): void } {
  return {
    name: "exec-approvals",
    setup(context) {
      let unsubscribe: (() => void) | undefined;
      const load = async () => {
        const { DecisionWaiters, execApprovalMethods } = await import("./exec-approval-methods.ts");
        const waiters = new DecisionWaiters();
        const methods = execApprovalMethods(host, context.bus, waiters);
        // Last, so a load that fails before it leaves no listener behind when the next call loads again.
        unsubscribe = context.bus.subscribe((event) => {
          if (event.internal || event.event !== "exec.approval.resolved") return;
          const { id, decision } = event.payload as { id: string; decision: ApprovalDecision | null };
          waiters.heard(id, decision);
        });
        return methods;
      };
      for (const method of lazyMethods(EXEC_APPROVAL_METHODS, load)) context.registerMethod(method);
      context.declareEvents(EXEC_APPROVAL_EVENTS);
      context.onStop(() => unsubscribe?.());
    },
  };
}
