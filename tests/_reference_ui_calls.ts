// The methods the reference Control UI (openclaw@2026.9.6) calls on its main pages, with the params it
// sends, as recorded by driving it in Chromium (tests/dropin_control_ui_test.ts). bench/coverage.ts reads
// the same list.

/** Every method the reference Control UI calls on its main pages; `method#variant` keys repeat a method. */
export const REFERENCE_UI_CALLS: Record<string, Record<string, unknown>> = {
  "agent.identity.get": { agentId: "main" },
  "agents.list": {},
  "chat.metadata": { agentId: "main" },
  "chat.startup": { agentId: "main", limit: 50 },
  "cron.list": { includeDisabled: true, limit: 50, offset: 0 },
  "cron.runs": { scope: "all", limit: 50 },
  "cron.status": {},
  "environments.list": {},
  "exec.approval.list": {},
  "models.authStatus": {},
  "node.list": {},
  "openclaw.approval.list": {},
  "plugin.approval.list": {},
  "progressCard.get": { sessionKey: "agent:main:main" },
  "question.list": {},
  "sessions.branches.list": { sessionKey: "agent:main:main" },
  "sessions.companion.state": { sessionKey: "agent:main:main" },
  "sessions.describe": { key: "agent:main:main" },
  "sessions.observer.visibility": { visible: true },
  "system.info": {},
  "talk.catalog": {},
  "tasks.list": { limit: 50 },
  "update.status": {},
  "environments.list#desktop": { includeDesktopSetup: true },
  "plugins.list": {},
  "plugins.catalog.browse": { intent: "all" },
};

/** The method of a `method#variant` key. */
export const methodOfCall = (key: string): string => key.split("#")[0];
