// The Control UI in headless Chromium (Debian's /usr/bin/chromium via playwright-core) against a real
// loopback gateway: token from the fragment, login form, health, streamed chat, live log tail, charts,
// and a socket from a foreign origin refused with a clear close reason. Screenshots go to
// bench/results/ui/.
import assert from "node:assert/strict";
import { CHROMIUM, haveChromium, launchChromium } from "./_browser.ts";
import type { Browser } from "playwright-core";
import { agentsModule, LocalProvider } from "../lib/agents/mod.ts";
import { metricsModule } from "../lib/metrics/mod.ts";
import { controlUiModule } from "../lib/ui/mod.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { TOKEN } from "./_helpers.ts";

const SHOTS = new URL("../bench/results/ui/", import.meta.url);
if (!haveChromium) {
  console.warn(`skipping Control UI browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);
}

async function startUiGateway() {
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  // Slow words make the streaming visible to the page.
  const agents = agentsModule({ providers: { local: new LocalProvider({ delayMs: 40, sleep }) } });
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, metricsModule({ agents }), controlUiModule()],
  });
  const { port } = (await gateway.start())!;
  return { gateway, port, base: `http://127.0.0.1:${port}` };
}

async function withBrowser(run: (browser: Browser) => Promise<void>) {
  const browser = await launchChromium();
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

async function screenshot(
  page: { screenshot(o: { path: string; fullPage: boolean }): Promise<unknown> },
  name: string,
) {
  await Deno.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

Deno.test({
  name: "control ui: token from the fragment, health, streamed chat, live logs, charts",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { gateway, base } = await startUiGateway();
    try {
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
        page.on("pageerror", (e) => problems.push(String(e)));
        const response = await page.goto(`${base}/#token=${TOKEN}`);
        assert.match(response!.headers()["content-security-policy"], /script-src 'self'/);
        await page.waitForSelector('#status[data-state="connected"]');
        assert.ok(!page.url().includes(TOKEN), "the token leaves the address bar");
        assert.equal(await page.isVisible("#login"), false, "the login form hides once connected");
        assert.equal(await page.textContent("#health-ok"), "ok");
        await page.waitForSelector('#presence li:has-text("openclaw-control-ui")');
        // The built-in scripted model is labelled, not passed off as a configured one.
        await page.waitForSelector('#agents li:has-text("built-in local model")', { state: "attached" });
        // Charts need two metric samples (2 s apart); string predicates would need the eval CSP forbids.
        for (let i = 0; i < 80 && (await page.textContent("#rate")) === "–"; i++) {
          await page.waitForTimeout(100);
        }
        assert.notEqual(await page.textContent("#rate"), "–", "the request-rate chart has a value");
        await screenshot(page, "overview");

        await page.click('nav button[data-tab="chat"]');
        await page.fill("#chat-input", "stream this reply please");
        await page.click("#chat-form button");
        await page.waitForSelector('.msg.assistant[data-state="delta"]');
        const partial = await page.textContent('.msg.assistant[data-state="delta"]');
        await page.waitForSelector('.msg.assistant[data-state="final"]');
        const final = await page.textContent('.msg.assistant[data-state="final"]');
        assert.equal(final, 'Local model reply #1: you said "stream this reply please".');
        assert.ok(partial!.length < final!.length, "the reply was shown while it streamed");
        await screenshot(page, "chat");

        await page.click('nav button[data-tab="logs"]');
        gateway.logger.info("ui-browser-test-marker");
        await page.waitForSelector('#log-lines:has-text("ui-browser-test-marker")');
        await screenshot(page, "logs");
        assert.deepEqual(problems, [], "no script errors or CSP violations");
      });
    } finally {
      await gateway.stop();
    }
  },
});

Deno.test({
  name: "control ui: login form refuses a wrong token, accepts the right one; foreign origins are refused",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { gateway, port, base } = await startUiGateway();
    const foreign = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response("<!doctype html><title>elsewhere</title>", { headers: { "Content-Type": "text/html" } }),
    );
    try {
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        await page.goto(`http://localhost:${port}/`);
        await page.waitForSelector("#login:not([hidden])");
        await page.fill("#secret", "definitely-wrong");
        await page.click("#login button");
        await page.waitForSelector('#login-error:has-text("unauthorized")');
        assert.match((await page.textContent("#login-error"))!, /unauthorized/);
        await screenshot(page, "login-refused");
        await page.fill("#secret", TOKEN);
        await page.click("#login button");
        await page.waitForSelector('#status[data-state="connected"]');

        const other = await browser.newPage();
        await other.goto(`http://127.0.0.1:${foreign.addr.port}/`);
        const closed = await other.evaluate(
          (url) =>
            new Promise<{ code: number; reason: string }>((resolve) => {
              const ws = new WebSocket(url);
              ws.onclose = (event) => resolve({ code: event.code, reason: event.reason });
            }),
          `ws://127.0.0.1:${port}/`,
        );
        assert.equal(closed.code, 1008);
        assert.match(closed.reason, /origin not allowed: http:\/\/127\.0\.0\.1:\d+/);
      });
      const config = await fetch(`${base}/control-ui-config.json`);
      await config.body?.cancel();
      assert.equal(config.status, 401, "the runtime config needs gateway auth");
    } finally {
      await gateway.stop();
      await foreign.shutdown();
    }
  },
});
