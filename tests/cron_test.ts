// Cron (the Automations page): jobs managed with cron.*, run on schedule as agent turns, kept across restarts,
// run once per cluster, and checked against protocol.schema.json.
import assert from "node:assert/strict";
import { launchChromium } from "./_browser.ts";
import { referenceUi, referenceUiGateway, referenceUiMissing } from "./_reference_ui.ts";
import { join } from "node:path";
import {
  agentsModule,
  cronModule,
  type Gateway,
  type GatewayOptions,
  MemoryJsonDocs,
  memoryStores,
} from "../mod.ts";
import type { Frame, GatewayConfig, GatewayError, JsonDocs, LogRecord, MemorySocket } from "../mod.ts";
import { createGateway } from "../mod.ts";
import { nodeTransport } from "../node.ts";
import { fileJsonDocs } from "../stores/jsonl.ts";
import { denoOpsHost } from "../runner/commands/ops/host.ts";
import { OPS_TOKEN, runOps, withTempDir, writeConfig } from "./_ops_fakes.ts";
import { client, connectParams, startGateway, tempDir, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema, schemaScope } from "./_protocol_schema.ts";

type Job =
  & { id: string; state: { nextRunAtMs?: number; lastRunAtMs?: number; runningAtMs?: number } }
  & Record<string, unknown>;
type RunsPage = { entries: Record<string, unknown>[]; total: number };

/** The error of a `res` frame. */
const errorOf = (frame: object) =>
  ((frame as { error?: unknown }).error ?? {}) as {
    code?: string;
    message: string;
    details?: Record<string, unknown>;
  };

/** The `cron` event with `action`, whether it came before or after the answer to the call that caused it. */
async function cronEvent(socket: MemorySocket, action: string): Promise<Job> {
  const match = (f: Frame) =>
    f.type === "event" && f.event === "cron" && (f.payload as Job).action === action;
  return (socket.skipped.find(match) ?? await socket.waitFor(match)).payload as Job;
}

const ADMIN = connectParams({ scopes: ["operator.admin"] });

function cronGateway(
  docs: JsonDocs = new MemoryJsonDocs(),
  extra: GatewayOptions = {},
  catchUpDelayMs?: number,
) {
  return startGateway({
    ...extra,
    stores: { ...extra.stores, docs },
    modules: [agentsModule(), cronModule({ catchUpDelayMs })],
  });
}

const everyJob = (everyMs: number, message = "Report the queue depth.") => ({
  name: "Queue report",
  schedule: { kind: "every", everyMs },
  sessionTarget: "isolated",
  wakeMode: "now",
  payload: { kind: "agentTurn", message },
});

async function call<T = Record<string, unknown>>(
  gateway: Gateway,
  method: string,
  params: unknown,
): Promise<T> {
  return await gateway.call(method, params) as T;
}

/** The error a call is refused with; fails the test when it is answered. */
async function refused(gateway: Gateway, method: string, params: unknown): Promise<GatewayError> {
  const outcome = await gateway.call(method, params).then(() => undefined, (error: GatewayError) => error);
  if (!outcome) throw new Error(`${method} was not refused`);
  return outcome;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const runsOf = (gateway: Gateway, id: string) => call<RunsPage>(gateway, "cron.runs", { id, limit: 200 });
const runCount = (gateway: Gateway, id: string, atLeast: number, timeoutMs?: number) =>
  until(`${atLeast} runs`, async () => {
    const page = await runsOf(gateway, id);
    return page.total >= atLeast ? page : undefined;
  }, timeoutMs);

Deno.test("cron: add, list, get, update and remove round-trip in the protocol schema's shapes, with cron events", async () => {
  const gateway = await cronGateway();
  try {
    const admin = await client(gateway, ADMIN);
    const params = everyJob(3_600_000);
    assertMatchesSchema("CronAddParams", params);
    const added = await admin.request("cron.add", params);
    assert.equal(added.ok, true, JSON.stringify(added.error));
    const job = added.payload as Job;
    assertMatchesSchema("CronAddResult", job);
    assert.equal(job.enabled, true);
    assert.equal(job.state.nextRunAtMs, (job.createdAtMs as number) + 3_600_000);
    const addedEvent = await cronEvent(admin.socket, "added");
    assert.equal(addedEvent.jobId, job.id);
    assertMatchesSchema("CronJob", addedEvent.job);

    const list = (await admin.request("cron.list", { includeDisabled: true, limit: 50, offset: 0 }))
      .payload as {
        jobs: Job[];
        total: number;
        snapshotRevision: string;
        deliveryPreviews: Record<string, unknown>;
      };
    assertMatchesSchema("CronListParams", { includeDisabled: true, limit: 50, offset: 0 });
    assert.equal(list.total, 1);
    const { effectiveAgentId, ...listed } = list.jobs[0];
    assert.equal(effectiveAgentId, "main");
    assertMatchesSchema("CronJob", listed);
    assert.match(list.snapshotRevision, /^sha256:[A-Za-z0-9_-]{43}$/);
    assertMatchesSchema("CronDeliveryPreview", list.deliveryPreviews[job.id]);
    assertMatchesSchema("CronJob", (await admin.request("cron.get", { id: job.id })).payload);

    const update = {
      id: job.id,
      patch: { enabled: false, schedule: { kind: "cron", expr: "30 9 * * mon-fri", tz: "Europe/Vienna" } },
    };
    assertMatchesSchema("CronUpdateParams", update);
    const updated = (await admin.request("cron.update", update)).payload as Job;
    assertMatchesSchema("CronJob", updated);
    assert.equal(updated.enabled, false);
    assert.equal(updated.state.nextRunAtMs, undefined, "a disabled job has no next run");
    assert.deepEqual(updated.schedule, { kind: "cron", expr: "30 9 * * mon-fri", tz: "Europe/Vienna" });
    const revised = (await admin.request("cron.list", {})).payload as {
      total: number;
      snapshotRevision: string;
    };
    assert.equal(revised.total, 0, "disabled jobs are listed only on request");
    assert.notEqual(revised.snapshotRevision, list.snapshotRevision);

    const enabled = (await admin.request("cron.update", { jobId: job.id, patch: { enabled: true } }))
      .payload as Job;
    const next = new Date(enabled.state.nextRunAtMs!);
    assert.equal(
      new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Vienna", timeStyle: "short" }).format(next),
      "09:30",
    );

    assertMatchesSchema("CronRemoveParams", { id: job.id });
    assert.deepEqual((await admin.request("cron.remove", { id: job.id })).payload, {
      ok: true,
      removed: true,
    });
    assert.equal((await cronEvent(admin.socket, "removed")).jobId, job.id);
    const gone = await admin.request("cron.get", { id: job.id });
    assert.equal(errorOf(gone).code, "INVALID_REQUEST");
    assertMatchesSchema("CronJobNotFoundErrorDetails", errorOf(gone).details);
    assert.match(errorOf(gone).message, new RegExp(`^cron job not found: ${job.id}\\.`));
    const again = await admin.request("cron.remove", { id: job.id });
    assert.match(errorOf(again).message, new RegExp(`^Automation not found: ${job.id}\\.`));
    admin.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: the reference Control UI's save, edit and toggle requests are taken as it sends them", async () => {
  const gateway = await cronGateway();
  try {
    // The Automations form's defaults: isolated agent turn, wake now, no delivery, empty description.
    const form = {
      name: "Daily digest",
      description: "",
      enabled: true,
      sessionTarget: "isolated",
      wakeMode: "now",
      schedule: { kind: "every", everyMs: 86_400_000 },
      payload: { kind: "agentTurn", message: "Summarize the day." },
    };
    assertMatchesSchema("CronAddParams", form);
    const job = await call<Job>(gateway, "cron.add", form);
    // Editing sends the whole form as a patch; fields the form left empty come as null.
    const edit = {
      id: job.id,
      expectedConfigRevision: job.configRevision,
      patch: {
        ...form,
        payload: { kind: "agentTurn", message: "Summarize the week.", model: null, thinking: null },
      },
    };
    assertMatchesSchema("CronUpdateParams", edit);
    const edited = await call<Job>(gateway, "cron.update", edit);
    assert.deepEqual(edited.payload, { kind: "agentTurn", message: "Summarize the week." });
    const toggle = { id: job.id, expectedConfigRevision: edited.configRevision, patch: { enabled: false } };
    assert.equal((await call<Job>(gateway, "cron.update", toggle)).enabled, false);
    const stale = await refused(gateway, "cron.update", toggle);
    assert.equal(stale.code, "INVALID_REQUEST");
    assert.equal(stale.details?.code, "CRON_JOB_CHANGED", "a revision the job has moved past is refused");
    const switched = await refused(gateway, "cron.update", {
      id: job.id,
      patch: { sessionTarget: "main", payload: { kind: "systemEvent" } },
    });
    assert.equal(
      switched.message,
      "invalid cron.update params: patch.payload does not make a whole systemEvent payload",
    );
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: methods keep the schema's scopes; read scope cannot add", async () => {
  const gateway = await cronGateway();
  try {
    const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
    for (const method of ["cron.status", "cron.list", "cron.runs"]) {
      assert.equal(schemaScope(method), "operator.read");
      const answer = await reader.request(method, method === "cron.runs" ? { scope: "all" } : {});
      assert.equal(answer.ok, true, `${method}: ${JSON.stringify(answer.error)}`);
    }
    for (const method of ["cron.add", "cron.update", "cron.remove", "cron.run"]) {
      assert.equal(schemaScope(method), "operator.admin");
      const refused = await reader.request(method, { id: "x" });
      assert.equal(errorOf(refused).code, "FORBIDDEN", method);
    }
    const hello = reader.hello.features as { methods: string[]; events: string[] };
    assert.ok(hello.events.includes("cron"));
    for (const method of ["cron.get", "cron.add", "cron.update", "cron.remove", "cron.run"]) {
      assert.ok(hello.methods.includes(method), method);
    }
    reader.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: an every job runs agent turns on schedule, each in a fresh cron:<jobId> session", async () => {
  const gateway = await cronGateway();
  try {
    const job = await call<Job>(gateway, "cron.add", everyJob(150));
    const page = await runCount(gateway, job.id, 2);
    for (const entry of page.entries) {
      assertMatchesSchema("CronRunLogEntry", entry);
      assert.equal(entry.status, "ok", JSON.stringify(entry));
      assert.equal(entry.sessionKey, `agent:main:cron:${job.id}`);
      assert.equal(entry.jobName, "Queue report");
    }
    const [newer, older] = page.entries;
    assert.ok((newer.runAtMs as number) - (older.runAtMs as number) >= 150, "runs follow the interval");
    assert.notEqual(newer.sessionId, older.sessionId, "every isolated run gets a fresh transcript");
    const status = await call<{ enabled: boolean; jobs: number; nextWakeAtMs: number }>(
      gateway,
      "cron.status",
      {},
    );
    assert.equal(status.enabled, true);
    assert.equal(status.jobs, 1);
    assert.equal(typeof status.nextWakeAtMs, "number");
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: cron.run runs a job now, and cron.runs shows its history", async () => {
  const gateway = await cronGateway();
  try {
    const job = await call<Job>(gateway, "cron.add", everyJob(3_600_000, "Say hello."));
    assertMatchesSchema("CronRunParams", { id: job.id, mode: "due" });
    assert.deepEqual(
      (await call(gateway, "cron.run", { id: job.id, mode: "due" })).reason,
      "not-due",
      "a job whose slot has not come does not run in due mode",
    );
    const run = await call<{ ok: boolean; enqueued: boolean; runId: string; processInstanceId: string }>(
      gateway,
      "cron.run",
      { id: job.id },
    );
    assert.equal(run.enqueued, true);
    assert.equal(typeof run.processInstanceId, "string");
    const waited = await call<{ status: string }>(gateway, "agent.wait", {
      runId: run.runId,
      timeoutMs: 5_000,
    });
    assert.equal(waited.status, "ok");
    const page = await runCount(gateway, job.id, 1);
    assert.equal(page.entries[0].runId, run.runId);
    assert.equal(page.entries[0].status, "ok");
    const all = await call<RunsPage & { offset: number; hasMore: boolean }>(gateway, "cron.runs", {
      scope: "all",
      limit: 50,
    });
    assertMatchesSchema("CronRunsParams", { scope: "all", limit: 50 });
    assert.equal(all.total, 1);
    const after = await call<Job>(gateway, "cron.get", { id: job.id });
    assert.equal(after.state.nextRunAtMs, job.state.nextRunAtMs, "a forced run keeps the job's next slot");
    assert.equal(after.lastRunStatus, "ok");
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: a one-shot at job runs once and is deleted after it succeeds", async () => {
  const gateway = await cronGateway();
  try {
    const at = new Date(Date.now() + 100).toISOString();
    const job = await call<Job>(gateway, "cron.add", {
      ...everyJob(1),
      name: "Reminder",
      schedule: { kind: "at", at },
    });
    assert.equal(job.deleteAfterRun, true);
    await runCount(gateway, job.id, 1);
    await until("the job to be deleted", async () => {
      const list = await call<{ total: number }>(gateway, "cron.list", { includeDisabled: true });
      return list.total === 0 ? true : undefined;
    });
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: cron.run of a one-shot before its time runs it and keeps it waiting for that time", async () => {
  const gateway = await cronGateway();
  try {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const job = await call<Job>(gateway, "cron.add", { ...everyJob(1), schedule: { kind: "at", at } });
    const run = await call<{ runId: string }>(gateway, "cron.run", { id: job.id });
    await call(gateway, "agent.wait", { runId: run.runId, timeoutMs: 5_000 });
    await runCount(gateway, job.id, 1);
    const after = await call<Job>(gateway, "cron.get", { id: job.id });
    assert.equal(after.enabled, true);
    assert.equal(after.state.nextRunAtMs, Date.parse(at));
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: jobs and run history survive a restart on the same state dir", async () => {
  const dir = await tempDir();
  const first = await cronGateway(fileJsonDocs(dir));
  const job = await call<Job>(first, "cron.add", everyJob(3_600_000));
  const run = await call<{ runId: string }>(first, "cron.run", { id: job.id });
  await runCount(first, job.id, 1);
  await first.stop();
  const second = await cronGateway(fileJsonDocs(dir));
  try {
    const listed = await call<{ jobs: Job[] }>(second, "cron.list", {});
    assert.deepEqual(listed.jobs.map((j) => [j.id, j.state.nextRunAtMs]), [[job.id, job.state.nextRunAtMs]]);
    const page = await runsOf(second, job.id);
    assert.deepEqual(page.entries.map((entry) => entry.runId), [run.runId]);
    assert.ok((await Deno.stat(`${dir}/cron/jobs.json`)).isFile);
  } finally {
    await second.stop();
  }
});

Deno.test("cron: after a restart, slots missed while down run once (after the catch-up delay), not once per slot", async () => {
  const docs = new MemoryJsonDocs();
  const first = await cronGateway(docs);
  const job = await call<Job>(first, "cron.add", everyJob(1_000));
  await first.stop();
  // Down long enough to miss two slots.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const startedAt = Date.now();
  const second = await cronGateway(docs, {}, 50);
  try {
    const page = await runCount(second, job.id, 1);
    const runAt = page.entries[0].runAtMs as number;
    assert.ok(runAt >= startedAt + 50, "the missed slot waited for the catch-up delay");
    assert.equal((await runsOf(second, job.id)).total, 1, "two missed slots, one run");
    const after = await call<Job>(second, "cron.get", { id: job.id });
    assert.equal(
      after.state.nextRunAtMs,
      runAt + 1_000,
      "the next run is one interval on, not a missed slot",
    );
    assert.equal(page.entries[0].status, "ok");
  } finally {
    await second.stop();
  }
});

Deno.test("cron: a run cut off by a crash is recorded as failed when the scheduler starts again, not replayed", async () => {
  const docs = new MemoryJsonDocs();
  const first = await cronGateway(docs);
  const job = await call<Job>(first, "cron.add", everyJob(3_600_000));
  await first.stop();
  // What a crash mid-run leaves behind: the slot claimed (running, next run moved on), no outcome.
  const stored = await docs.read("cron/jobs.json") as { jobs: Job[] };
  const runningAtMs = Date.now() - 5_000;
  stored.jobs[0].state = { ...stored.jobs[0].state, runningAtMs, lastRunAtMs: runningAtMs };
  await docs.write("cron/jobs.json", stored);
  const second = await cronGateway(docs);
  try {
    const page = await runCount(second, job.id, 1);
    assert.equal(page.entries[0].status, "error");
    assert.match(page.entries[0].error as string, /interrupted/);
    assert.equal(page.entries[0].runAtMs, runningAtMs);
    const after = await call<Job>(second, "cron.get", { id: job.id });
    assert.equal(after.state.runningAtMs, undefined);
    assert.equal(after.state.nextRunAtMs, job.state.nextRunAtMs, "the next slot stays where it was");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await runsOf(second, job.id)).total, 1, "nothing replayed");
  } finally {
    await second.stop();
  }
});

Deno.test("cron: cron.enabled false stops scheduled runs; jobs can still be managed and run by hand", async () => {
  const config: GatewayConfig = {
    gateway: { auth: { mode: "token", token: TOKEN } },
    cron: { enabled: false },
  };
  const gateway = await cronGateway(new MemoryJsonDocs(), { config });
  try {
    const job = await call<Job>(gateway, "cron.add", everyJob(100));
    assert.deepEqual(await call(gateway, "cron.status", {}), {
      enabled: false,
      triggersEnabled: false,
      jobs: 1,
      nextWakeAtMs: null,
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await runsOf(gateway, job.id)).total, 0, "no scheduled run");
    await call(gateway, "cron.run", { id: job.id });
    await runCount(gateway, job.id, 1);
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: a late tick runs the missed slot once and schedules the next one from now", async () => {
  let clock = Date.UTC(2026, 0, 1, 12);
  const gateway = await cronGateway(new MemoryJsonDocs(), { now: () => clock });
  try {
    const job = await call<Job>(gateway, "cron.add", everyJob(200));
    assert.equal(job.state.nextRunAtMs, clock + 200);
    // The scheduler sleeps for the 200 ms interval; by the time it wakes, 50 intervals have passed.
    clock += 10_000;
    const page = await runCount(gateway, job.id, 1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await runsOf(gateway, job.id)).total, 1, "one run for fifty missed slots");
    const after = await call<Job>(gateway, "cron.get", { id: job.id });
    assert.equal(page.entries[0].runAtMs, clock);
    assert.equal(after.state.nextRunAtMs, clock + 200);
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: two gateways sharing one lease store and state run each slot once", async () => {
  const stores = memoryStores();
  const docs = new MemoryJsonDocs();
  const started = { a: 0, b: 0 };
  const counter = (
    replica: "a" | "b",
  ) => [{ write: (r: LogRecord) => void (r.msg === "cron: run started" && started[replica]++) }];
  const a = await cronGateway(docs, { stores, logSinks: counter("a") });
  const b = await cronGateway(docs, { stores, logSinks: counter("b") });
  try {
    const job = await call<Job>(b, "cron.add", everyJob(200));
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const page = await runsOf(a, job.id);
    const times = page.entries.map((entry) => entry.runAtMs as number).sort((x, y) => x - y);
    assert.ok(times.length >= 2 && times.length <= 7, `runs: ${times.length}`);
    for (let i = 1; i < times.length; i++) {
      assert.ok(
        times[i] - times[i - 1] >= 200,
        `two runs ${times[i] - times[i - 1]} ms apart: one slot ran twice`,
      );
    }
    assert.deepEqual(new Set(page.entries.map((entry) => entry.runId)).size, times.length);
    assert.ok(
      started.a === 0 || started.b === 0,
      `only the lease holder runs jobs: ${JSON.stringify(started)}`,
    );
    assert.equal(started.a + started.b, times.length);
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("cron: invalid schedules and features this gateway lacks are refused with INVALID_REQUEST and a clear message", async () => {
  const gateway = await cronGateway();
  try {
    const admin = await client(gateway, ADMIN);
    const refusal = async (params: unknown) => {
      const answer = await admin.request("cron.add", params);
      assert.equal(errorOf(answer).code, "INVALID_REQUEST", JSON.stringify(answer));
      return errorOf(answer).message;
    };
    const cron = (expr: string, tz?: string) => ({
      ...everyJob(1),
      schedule: { kind: "cron", expr, ...(tz ? { tz } : {}) },
    });
    assert.equal(
      await refusal(cron("61 * * * *")),
      'invalid cron.add params: invalid cron expression "61 * * * *": minute field "61" has 61, outside 0-59',
    );
    assert.match(await refusal(cron("* * *")), /expected 5 fields .* got 3$/);
    assert.match(await refusal(cron("0 0 30 2 *")), /has no upcoming run time and would never fire/);
    assert.match(await refusal(cron("0 9 * * *", "Mars/Olympus")), /invalid time zone "Mars\/Olympus"/);
    assert.match(
      await refusal({ ...everyJob(1), schedule: { kind: "at", at: "tomorrow" } }),
      /Invalid schedule.at/,
    );
    assert.match(
      await refusal({ ...everyJob(1), schedule: { kind: "at", at: "2020-01-01T00:00:00Z" } }),
      /schedule.at is in the past/,
    );
    assert.match(
      await refusal({ ...everyJob(1), delivery: { mode: "announce", channel: "telegram" } }),
      /delivery mode "announce" is not supported by this gateway/,
    );
    assert.match(
      await refusal({ ...everyJob(1), sessionTarget: "main" }),
      /main cron jobs require payload.kind="systemEvent"/,
    );
    assert.match(
      await refusal({ ...everyJob(1), sessionTarget: "session:notes/../x" }),
      /^invalid cron.add params: invalid session key "notes\/..\/x": it contains a '.' or '..' segment$/,
    );
    assert.match(
      await refusal({ ...everyJob(1), schedule: { kind: "every", everyMs: 0 } }),
      /^invalid cron.add params: /,
    );
    assert.equal(
      (await admin.request("cron.list", {})).payload &&
        ((await admin.request("cron.list", {})).payload as { total: number }).total,
      0,
    );
    admin.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("cron: a failing recurring job is recorded as an error and backs off before its next run", async () => {
  const gateway = await cronGateway();
  try {
    const job = await call<Job>(gateway, "cron.add", {
      ...everyJob(100),
      payload: { kind: "agentTurn", message: "hi", model: "nowhere/none" },
    });
    const page = await runCount(gateway, job.id, 1);
    assert.equal(page.entries[0].status, "error");
    assert.match(page.entries[0].error as string, /nowhere/);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await runsOf(gateway, job.id)).total, 1, "no run during the 30 s back-off");
    const after = await call<Job>(gateway, "cron.get", { id: job.id });
    assert.equal(after.lastRunStatus, "error");
    assert.ok(after.state.nextRunAtMs! >= (page.entries[0].ts as number) + 30_000);
  } finally {
    await gateway.stop();
  }
});

Deno.test("openclaw cron add|list|run|rm drive the running gateway's jobs, as the reference spells them", async () => {
  await withTempDir(async (home) => {
    const gateway = createGateway({
      config: { gateway: { auth: { mode: "token", token: OPS_TOKEN } } },
      modules: [agentsModule(), cronModule()],
      transport: nodeTransport(),
      port: 0,
      hostname: "127.0.0.1",
    });
    const { port } = (await gateway.start())!;
    await writeConfig(home, { gateway: { mode: "local", port, auth: { token: OPS_TOKEN } } });
    const run = (argv: string[]) => runOps(denoOpsHost(), argv, { HOME: home });
    try {
      const added = await run([
        "cron",
        "add",
        "0 7 * * *",
        "Summarize overnight updates.",
        "--name",
        "Morning brief",
        "--json",
      ]);
      assert.equal(added.code, 0, added.err);
      const job = JSON.parse(added.out) as Job & { schedule: unknown; payload: unknown };
      assert.deepEqual(job.schedule, { kind: "cron", expr: "0 7 * * *" });
      const hourly = await run(["cron", "add", "Hourly", "--cron", "0 * * * *", "--message", "m", "--json"]);
      assert.deepEqual(
        JSON.parse(hourly.out).schedule,
        { kind: "cron", expr: "0 * * * *", staggerMs: 300_000 },
        "the reference staggers top-of-hour expressions by up to 5 minutes",
      );
      await run(["cron", "rm", JSON.parse(hourly.out).id]);
      assert.deepEqual(job.payload, { kind: "agentTurn", message: "Summarize overnight updates." });
      const every = await run([
        "automations",
        "add",
        "Queue",
        "--every",
        "1h30m",
        "--message",
        "Check the queue.",
      ]);
      assert.equal(every.code, 0, every.err);
      assert.match(every.out, /^Added \S+ \(every 90m, next in 90m\)$/);

      const list = await run(["cron", "list"]);
      assert.equal(list.code, 0, list.err);
      assert.match(list.out, /^ID\s+Name\s+Schedule\s+Next\s+Last\s+Status\s+Target\s+Agent ID$/m);
      assert.match(
        list.out,
        new RegExp(
          `^${job.id} Morning brief\\s+cron 0 7 \\* \\* \\*\\s+in \\S+\\s+-\\s+idle\\s+isolated\\s+main$`,
          "m",
        ),
      );

      const started = await run(["cron", "run", job.id]);
      assert.match(started.out, new RegExp(`^Started ${job.id} \\(run cron:${job.id}:\\d+:\\w+\\)$`));
      await runCount(gateway, job.id, 1);
      const due = await run(["cron", "run", job.id, "--due"]);
      assert.equal(due.out, "Not run: not-due");

      assert.equal((await run(["cron", "rm", job.id])).out, `Removed ${job.id}`);
      const gone = await run(["cron", "rm", job.id]);
      assert.equal(gone.code, 1);
      assert.match(gone.err, new RegExp(`Automation not found: ${job.id}`));
      const bad = await run(["cron", "add", "--name", "x", "--every", "soon", "--message", "m"]);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--every needs a duration such as 10m or 1h \(got soon\)/);
    } finally {
      await gateway.stop();
    }
  });
});

Deno.test({
  name: referenceUi.reason
    ? `reference Control UI creates and runs an automation (skipped: ${referenceUi.reason})`
    : "reference Control UI creates and runs an automation on its Automations page, with no error answer",
  ignore: referenceUiMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await tempDir();
    const { gateway, port } = await referenceUiGateway(referenceUi.root!, dir);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const refusals: string[] = [];
      page.on("pageerror", (error) => refusals.push(`page error: ${error}`));
      page.on("websocket", (ws) =>
        ws.on("framereceived", ({ payload }) => {
          const frame = JSON.parse(String(payload));
          if (frame.type === "res" && !frame.ok) refusals.push(JSON.stringify(frame.error));
        }));
      await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`);
      await page.getByPlaceholder("Message main").waitFor({ timeout: 30_000 });
      await page.getByRole("link", { name: "Automations", exact: true }).first().click();
      await page.getByRole("button", { name: "New automation" }).first().click();
      await page.locator("#cron-payload-text").fill("Say hello from the automation.");
      await page.locator("#cron-name").fill("UI job");
      await page.locator("#cron-every-amount").fill("5");
      await page.getByRole("button", { name: "Create & run now" }).click();
      await page.getByText("UI job").first().waitFor({ timeout: 15_000 });
      const [job] = (await call<{ jobs: Job[] }>(gateway, "cron.list", {})).jobs;
      assert.deepEqual([job.name, job.schedule], ["UI job", { kind: "every", everyMs: 300_000 }]);
      const page1 = await runCount(gateway, job.id, 1, 15_000);
      assert.equal(page1.entries[0].status, "ok");
      assert.match(page1.entries[0].summary as string, /Say hello from the automation/);
      assert.deepEqual(refusals, [], "no error answer or page error");
      // Jobs live under the state dir, where the next `gateway run` finds them.
      assert.ok((await Deno.stat(join(dir, "cron", "jobs.json"))).isFile);
    } finally {
      await browser.close();
      await gateway.stop();
    }
  },
});
