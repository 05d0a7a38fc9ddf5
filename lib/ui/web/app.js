// The Control UI: one socket to the gateway (protocol v4), panels fed by its methods and events.
// Credentials come from the URL fragment (#token=… never reaches the server) or the login form and
// live only in this tab's sessionStorage. The shared token alone grants a browser no scopes, so the UI
// also proves a device identity: an Ed25519 key made once and kept in IndexedDB (its private half cannot
// be exported), which the gateway pairs (on loopback at once, elsewhere after `openclaw devices approve`).

const STORAGE_KEY = "openclaw.controlUi.auth";
const CLIENT_VERSION = "0.1.0";
const $ = (id) => document.getElementById(id);

/** Reads `#token=` / `#password=` once, keeps it for this tab, and removes it from the address bar. */
function takeCredentialsFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  const password = params.get("password");
  if (token || password) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(token ? { token } : { password }));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function storedCredentials() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    return null;
  }
}

const DEVICE_DB = "openclaw-control-ui";
const CLIENT = { id: "openclaw-control-ui", version: CLIENT_VERSION, platform: "web", mode: "ui" };
const SCOPES = ["operator.admin", "operator.read", "operator.write"];

function idbRequest(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function base64Url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** This browser's device key pair and id (the SHA-256 of the raw public key); none without WebCrypto. */
async function deviceIdentity() {
  if (!globalThis.crypto?.subtle || !globalThis.indexedDB) return undefined;
  try {
    const open = indexedDB.open(DEVICE_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    const db = await idbRequest(open);
    let keys = await idbRequest(db.transaction("keys").objectStore("keys").get("device"));
    if (!keys) {
      keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      await idbRequest(db.transaction("keys", "readwrite").objectStore("keys").put(keys, "device"));
    }
    db.close();
    const raw = await crypto.subtle.exportKey("raw", keys.publicKey);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
    const id = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    return { id, publicKey: base64Url(raw), privateKey: keys.privateKey };
  } catch {
    return undefined;
  }
}

/** The connect `device` block: a v3 signature binding this challenge to the client, scopes and token. */
async function deviceProof(identity, nonce, auth) {
  const signedAt = Date.now();
  const payload = [
    "v3",
    identity.id,
    CLIENT.id,
    CLIENT.mode,
    "operator",
    SCOPES.join(","),
    String(signedAt),
    auth.token ?? "",
    nonce,
    CLIENT.platform,
    "",
  ].join("|");
  const signature = await crypto.subtle.sign(
    "Ed25519",
    identity.privateKey,
    new TextEncoder().encode(payload),
  );
  return { id: identity.id, publicKey: identity.publicKey, signature: base64Url(signature), signedAt, nonce };
}

/** A minimal protocol v4 client: challenge, connect, request correlation, events. */
class GatewaySocket {
  constructor(auth, handlers) {
    this.auth = auth;
    this.handlers = handlers;
    this.pending = new Map();
    this.nextId = 0;
  }

  open() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${location.pathname}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (event) => this.#frame(JSON.parse(event.data));
    ws.onclose = (event) => {
      for (const { reject } of this.pending.values()) reject(new Error("disconnected"));
      this.pending.clear();
      this.handlers.closed(event.code, event.reason);
    };
  }

  request(method, params = {}) {
    const id = `ui-${++this.nextId}`;
    this.ws.send(JSON.stringify({ type: "req", id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  close() {
    this.ws?.close(1000, "logout");
  }

  async #connect(nonce) {
    const identity = await deviceIdentity();
    return await this.request("connect", {
      minProtocol: 4,
      maxProtocol: 4,
      client: CLIENT,
      role: "operator",
      scopes: SCOPES,
      auth: this.auth,
      ...(identity ? { device: await deviceProof(identity, nonce, this.auth) } : {}),
    });
  }

  #frame(frame) {
    if (frame.type === "event" && frame.event === "connect.challenge") {
      this.#connect(frame.payload.nonce).then(
        (hello) => this.handlers.ready(hello),
        (error) => this.handlers.refused(error),
      );
      return;
    }
    if (frame.type === "event") return this.handlers.event(frame.event, frame.payload);
    if (frame.type !== "res") return;
    const waiter = this.pending.get(frame.id);
    if (!waiter) return;
    // Two-stage methods send an early ack; only the final answer settles the call.
    if (frame.ok && frame.payload?.status === "accepted") return;
    this.pending.delete(frame.id);
    if (frame.ok) waiter.resolve(frame.payload);
    else waiter.reject(Object.assign(new Error(frame.error?.message ?? "request failed"), frame.error));
  }
}

const state = {
  socket: undefined,
  hello: undefined,
  startedAt: 0,
  logCursor: undefined,
  timers: [],
  series: { rate: [], latency: [], connections: [] },
  lastMetrics: undefined,
  chatBubbles: new Map(),
};

function setStatus(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.dataset.state = kind;
}

function showLogin(message) {
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message ?? "";
}

function connect() {
  const auth = storedCredentials();
  if (!auth) return showLogin();
  setStatus("connecting…", "idle");
  state.socket = new GatewaySocket(auth, {
    ready: onHello,
    refused(error) {
      // The credentials were right; the device waits for an operator's approval, so keep trying.
      if (error.details?.code === "PAIRING_REQUIRED") {
        setStatus("waiting for pairing approval", "error");
        showLogin(error.message);
        setTimeout(connect, 5000);
        return;
      }
      sessionStorage.removeItem(STORAGE_KEY);
      setStatus("refused", "error");
      showLogin(error.message);
    },
    event: onEvent,
    closed(code, reason) {
      stopTimers();
      if (!state.hello) return;
      state.hello = undefined;
      setStatus(`disconnected (${code})${reason ? `: ${reason}` : ""}`, "error");
      if (code !== 1000 && storedCredentials()) setTimeout(connect, 2000);
    },
  });
  state.socket.open();
}

function has(method) {
  return state.hello?.features?.methods?.includes(method);
}

function onHello(hello) {
  state.hello = hello;
  state.startedAt = Date.now() - (hello.snapshot?.uptimeMs ?? 0);
  setStatus(
    hello.auth?.scopes?.length
      ? "connected"
      : "connected without scopes (no device identity: open the UI over HTTPS or on localhost)",
    "connected",
  );
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("version").textContent = hello.server?.version ?? "?";
  renderHealth(hello.snapshot?.health);
  renderPresence(hello.snapshot?.presence ?? []);
  every(1000, () => ($("uptime").textContent = formatDuration(Date.now() - state.startedAt)));
  every(1000, tailLogs);
  if (has("metrics.snapshot")) every(2000, sampleMetrics);
  loadSessions();
  // sessions.changed only reaches sockets that subscribed.
  if (has("sessions.subscribe")) state.socket.request("sessions.subscribe", {}).catch(() => {});
  loadConfig();
  loadHistory();
}

function onEvent(event, payload) {
  if (event === "presence") renderPresence(payload?.presence ?? []);
  else if (event === "health") renderHealth(payload);
  else if (event === "chat") renderChatEvent(payload);
  else if (event === "sessions.changed") loadSessions();
}

function every(ms, fn) {
  fn();
  state.timers.push(setInterval(fn, ms));
}

function stopTimers() {
  state.timers.splice(0).forEach(clearInterval);
}

function formatDuration(ms) {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

function fillList(id, items, text) {
  const list = $(id);
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.textContent = text(item);
    return li;
  }));
  if (!items.length) {
    list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "none" }));
  }
}

function renderHealth(health) {
  if (!health) return;
  $("health-ok").textContent = health.ok ? "ok" : "not ok";
  const channels = health.channels ?? {};
  fillList("channels", health.channelOrder ?? Object.keys(channels), (id) => {
    const c = channels[id] ?? {};
    const label = health.channelLabels?.[id] ?? id;
    return `${label}: ${c.running ? "running" : "stopped"}${c.lastError ? ` (${c.lastError})` : ""}`;
  });
}

function renderPresence(entries) {
  fillList(
    "presence",
    entries,
    (e) => `${e.host} · ${e.mode} · ${e.platform ?? ""} ${e.version ?? ""}`.trim(),
  );
}

async function loadSessions() {
  if (!has("sessions.list")) return fillList("sessions", [], String);
  const [sessions, models, status] = await Promise.all([
    state.socket.request("sessions.list", {}),
    has("models.list") ? state.socket.request("models.list", {}) : Promise.resolve({ models: [] }),
    has("status") ? state.socket.request("status", {}) : Promise.resolve({}),
  ]).catch(() => [{ sessions: [] }, { models: [] }, {}]);
  fillList(
    "sessions",
    sessions.sessions ?? [],
    (s) => `${s.key} · ${s.model ?? ""} · ${s.totalTokens ?? 0} tokens`,
  );
  // The status method names each agent's model; the built-in scripted model is labelled as such so
  // nobody mistakes its canned replies for a configured model.
  const agents = status.agents ??
    [...new Set((sessions.sessions ?? []).map((s) => s.key.split(":")[1]).filter(Boolean))]
      .map((id) => ({ id }));
  fillList(
    "agents",
    agents.length ? agents : [{ id: "main" }],
    (a) =>
      a.model
        ? `${a.id} · ${a.model}${a.builtInLocalModel ? " (built-in local model, scripted replies)" : ""}`
        : `${a.id} (${(models.models ?? []).length} models known)`,
  );
}

async function loadConfig() {
  const note = $("config-note");
  if (!has("config.get")) {
    note.textContent = `This gateway does not serve config.get; the file is ${
      state.hello.snapshot?.configPath ?? "not known"
    }.`;
    return;
  }
  // config.* needs operator.admin (it holds the shape of every secret); a read-only session is told so
  // instead of sending a request that can only be refused.
  if (!state.hello.auth?.scopes?.includes("operator.admin")) {
    $("config-text").value = "";
    $("config-text").readOnly = true;
    $("config-save").hidden = true;
    note.textContent = "Viewing the config needs the operator.admin scope; this session does not have it.";
    return;
  }
  const result = await state.socket.request("config.get", {});
  $("config-text").value = result.raw ?? JSON.stringify(result.config ?? result.parsed ?? {}, null, 2);
  const editable = has("config.set");
  $("config-text").readOnly = !editable;
  $("config-save").hidden = !editable;
  note.textContent = editable ? "Edit and save; the gateway validates before applying." : "Read only.";
  state.configHash = result.hash;
}

/** What a save did, in words: applied in place, waiting for a restart, or nothing to do. */
function saveOutcome(result) {
  const at = new Date().toLocaleTimeString();
  const paths = (result.changedPaths ?? []).join(", ");
  if (result.reload === "hot") return `Saved at ${at}. Applied without a restart: ${paths}.`;
  if (result.reload === "restart") {
    return `Saved at ${at}. Needs a gateway restart to apply (in hybrid reload mode the gateway restarts itself): ${paths}.`;
  }
  if (paths) {
    return `Saved at ${at}. Not applied automatically (config reload is off); restart the gateway: ${paths}.`;
  }
  return `Saved at ${at}. No setting changed.`;
}

async function saveConfig() {
  const issues = $("config-issues");
  const outcome = $("config-result");
  issues.replaceChildren();
  outcome.textContent = "Saving…";
  try {
    const result = await state.socket.request("config.set", {
      raw: $("config-text").value,
      baseHash: state.configHash,
    });
    // The editor is reloaded first: text typed after the outcome shows must not be replaced by the reload.
    await loadConfig();
    outcome.textContent = saveOutcome(result);
  } catch (error) {
    outcome.textContent = "";
    const found = error.details?.issues ?? [{ path: "", message: error.message }];
    fillList("config-issues", found, (i) => `${i.path ? `${i.path}: ` : ""}${i.message}`);
  }
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];
const MAX_LOG_ROWS = 2000;

/** One log line as a row: time, level, subsystem, message; the other fields open on a click. */
function logRow(line) {
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    record = undefined;
  }
  const row = document.createElement("details");
  row.className = "log-row";
  const summary = document.createElement("summary");
  row.append(summary);
  if (!record || typeof record !== "object") {
    row.dataset.level = "info";
    summary.textContent = line;
    return row;
  }
  // `message` repeats `msg` for the reference's log reader.
  const { time, level, subsystem, msg, message, ...fields } = record;
  row.dataset.level = LEVELS.includes(level) ? level : "info";
  const part = (cls, text) =>
    Object.assign(document.createElement("span"), { className: cls, textContent: text });
  summary.append(
    part("time", `${typeof time === "string" ? time.slice(11, 23) : ""} `),
    part("level", String(level ?? "").toUpperCase()),
    part("subsystem", subsystem ? `[${subsystem}] ` : ""),
    part("msg", String(msg ?? message ?? "")),
  );
  if (Object.keys(fields).length) {
    summary.append(part("more", " …"));
    row.append(
      Object.assign(document.createElement("pre"), { textContent: JSON.stringify(fields, null, 2) }),
    );
  }
  return row;
}

/** Shows the rows at or above the chosen level. */
function applyLogFilter() {
  const min = LEVELS.indexOf($("log-level").value);
  for (const row of $("log-lines").children) {
    row.hidden = LEVELS.indexOf(row.dataset.level) < min;
  }
}

async function tailLogs() {
  if (!has("logs.tail")) return;
  const result = await state.socket.request("logs.tail", { cursor: state.logCursor, limit: 200 }).catch(() =>
    undefined
  );
  if (!result) return;
  const box = $("log-lines");
  if (result.reset) box.replaceChildren();
  if (result.lines?.length) {
    const min = LEVELS.indexOf($("log-level").value);
    for (const line of result.lines) {
      const row = logRow(line);
      row.hidden = LEVELS.indexOf(row.dataset.level) < min;
      box.append(row);
    }
    while (box.children.length > MAX_LOG_ROWS) box.firstElementChild.remove();
    if ($("log-follow").checked) box.scrollTop = box.scrollHeight;
  }
  state.logCursor = result.cursor;
}

function parseMetrics(text) {
  const sums = { requests: 0, durationSum: 0, durationCount: 0, connections: 0 };
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (name === "openclaw_gateway_rpc_total") sums.requests += value;
    else if (name === "openclaw_gateway_rpc_duration_seconds_sum") sums.durationSum += value;
    else if (name === "openclaw_gateway_rpc_duration_seconds_count") sums.durationCount += value;
    else if (name === "openclaw_gateway_connections") sums.connections += value;
  }
  return sums;
}

async function sampleMetrics() {
  const result = await state.socket.request("metrics.snapshot", {}).catch(() => undefined);
  if (!result) return;
  const now = parseMetrics(result.text);
  now.at = Date.now();
  const last = state.lastMetrics;
  state.lastMetrics = now;
  if (!last) return;
  const seconds = Math.max(0.001, (now.at - last.at) / 1000);
  const calls = now.durationCount - last.durationCount;
  push("rate", (now.requests - last.requests) / seconds, (v) => v.toFixed(2));
  push("latency", calls > 0 ? ((now.durationSum - last.durationSum) / calls) * 1000 : 0, (v) => v.toFixed(1));
  push("connections", now.connections, (v) => String(v));
}

function push(name, value, format) {
  const series = state.series[name];
  series.push(value);
  if (series.length > 60) series.shift();
  $(name).textContent = format(value);
  drawSparkline($(`chart-${name}`), series);
}

function drawSparkline(canvas, values) {
  const g = canvas.getContext("2d");
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  const max = Math.max(1e-9, ...values);
  g.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent") || "#ff5a36";
  g.lineWidth = 2;
  g.beginPath();
  values.forEach((v, i) => {
    const x = (i / Math.max(1, values.length - 1)) * width;
    const y = height - 2 - (v / max) * (height - 4);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

function bubble(role, text, key) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  $("chat-log").append(div);
  if (key) state.chatBubbles.set(key, div);
  $("chat-log").scrollTop = $("chat-log").scrollHeight;
  return div;
}

function messageText(message) {
  if (!message) return "";
  if (typeof message.content === "string") return message.content;
  return (message.content ?? []).map((part) => part.text ?? "").join("");
}

function renderChatEvent(payload) {
  if (!payload?.sessionKey?.endsWith(":main")) return;
  const div = state.chatBubbles.get(payload.runId) ?? bubble("assistant", "", payload.runId);
  div.dataset.state = payload.state;
  if (payload.message) div.textContent = messageText(payload.message);
  if (payload.state === "error") div.textContent = `Error: ${payload.errorMessage ?? "run failed"}`;
}

async function loadHistory() {
  if (!has("chat.history")) return;
  const result = await state.socket.request("chat.history", { sessionKey: "main" }).catch(() => undefined);
  $("chat-log").replaceChildren();
  for (const message of result?.messages ?? []) {
    if (message.role === "user" || message.role === "assistant") bubble(message.role, messageText(message));
  }
}

async function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  $("chat-error").textContent = "";
  if (!has("chat.send")) {
    $("chat-error").textContent = "This gateway has no agents module (chat.send is missing).";
    return;
  }
  input.value = "";
  bubble("user", text);
  try {
    const result = await state.socket.request("chat.send", {
      sessionKey: "main",
      message: text,
      idempotencyKey: crypto.randomUUID(),
    });
    if (!state.chatBubbles.has(result.runId)) bubble("assistant", "", result.runId).dataset.state = "delta";
  } catch (error) {
    $("chat-error").textContent = error.message;
  }
}

function selectTab(name) {
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.tab === name);
  }
  for (const section of document.querySelectorAll(".tab")) section.hidden = section.id !== `tab-${name}`;
}

function init() {
  takeCredentialsFromFragment();
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const secret = $("secret").value;
    $("secret").value = "";
    sessionStorage.setItem(
      STORAGE_KEY,
      JSON.stringify($("is-password").checked ? { password: secret } : { token: secret }),
    );
    connect();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(STORAGE_KEY);
    state.hello = undefined;
    state.socket?.close();
    setStatus("not connected", "idle");
    showLogin();
  });
  $("chat-form").addEventListener("submit", sendChat);
  $("config-save").addEventListener("click", saveConfig);
  $("log-level").addEventListener("change", applyLogFilter);
  $("log-follow").addEventListener("change", () => {
    if ($("log-follow").checked) $("log-lines").scrollTop = $("log-lines").scrollHeight;
  });
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => selectTab(button.dataset.tab));
  }
  connect();
}

init();
