// The README's first-hour snippets do what they say: the real-model config validates with no unknown keys,
// its `openclaw config set` lines produce that config, and the embedding snippet runs on a free port.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseJson5 } from "../lib/config/json5.ts";
import { validateAuthoredConfig } from "../lib/config/unknown-keys.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { tempHome } from "./_runner_process.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));

/** The fenced blocks of `lang` in the README section that starts with `heading`. */
function blocks(heading: string, lang: string): string[] {
  const start = README.indexOf(`${heading}\n`);
  assert.ok(start !== -1, `README has no "${heading}"`);
  const next = README.indexOf("\n#", start + heading.length);
  const section = README.slice(start, next === -1 ? undefined : next);
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

/** Splits a shell line into words, honouring single quotes (all the README's lines need). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

Deno.test("README real-model config validates: no unknown keys, nothing ignored", () => {
  const [snippet] = blocks("### Pointing it at a real model", "json5");
  const result = validateAuthoredConfig(parseJson5(snippet));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
  assert.deepEqual(result.warnings, []);
});

Deno.test("README real-model commands write that config; status is the named check", async () => {
  await using t = await tempHome();
  const cli = async (argv: string[]) => {
    const out: string[] = [];
    const code = await runCli(argv, {
      output: { out: (x) => out.push(x), err: (x) => out.push(x) },
      env: { HOME: t.home, OPENAI_API_KEY: "sk-test" },
      osHome: t.home,
      shutdownSignal: new AbortController().signal,
      commands: commandCatalog({ isTerminal: false }),
      version: "test",
    });
    return { code, out: out.join("\n") };
  };
  assert.equal((await cli(["setup"])).code, 0);
  const [commands] = blocks("### Pointing it at a real model", "sh");
  const sets = commands.split("\n").filter((l) => l.startsWith("openclaw config set "));
  assert.equal(sets.length, 3);
  for (const line of sets) {
    const result = await cli(shellWords(line.replace(/\s+#.*$/, "")).slice(1));
    assert.equal(result.code, 0, `${line}\n${result.out}`);
  }
  const written = JSON.parse(await Deno.readTextFile(join(t.state, "openclaw.json")));
  assert.deepEqual(written.models.providers.openai, {
    baseUrl: "https://api.openai.com/v1",
    apiKey: "${OPENAI_API_KEY}",
  });
  assert.equal(written.agents.defaults.model, "openai/gpt-4o-mini");
  const validate = await cli(["config", "validate"]);
  assert.equal(validate.code, 0, validate.out);
  assert.match(commands, /^openclaw status .*Models/m);
});

Deno.test("README embedding snippet runs, on a free port rather than the real gateway's 18789", async () => {
  const [snippet] = blocks("### Embedding", "ts");
  const dir = await Deno.makeTempDir({ prefix: "openclaw-readme-" });
  try {
    const file = join(dir, "embed.ts");
    const entry = (name: string) => JSON.stringify(new URL(`../${name}`, import.meta.url).href);
    await Deno.writeTextFile(
      file,
      snippet.replace(/"\.\/((?:mod|deno|node)\.ts)"/g, (_, name) => entry(name)),
    );
    const config = new URL("../deno.json", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    const port = Number(/listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(text)?.[1]);
    assert.ok(port > 0 && port !== 18789, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
