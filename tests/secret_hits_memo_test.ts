// SecretRedactor.hits remembers its answer for the last (short) text, since a prepared response is checked
// with the same body string on every request. These pin that the memory never outlives the secret set.
import assert from "node:assert/strict";
import { SecretRedactor } from "../lib/log/secret-redactor.ts";

Deno.test("the same text is checked against the new secrets after update, both ways", () => {
  const body = '{"object":"list","note":"sk-live-0123456789"}';
  const secrets = new SecretRedactor(["unrelated-value-xyz"]);
  assert.equal(secrets.hits(body), false);
  assert.equal(secrets.hits(body), false);
  secrets.update(["sk-live-0123456789"]);
  assert.equal(secrets.hits(body), true);
  assert.equal(secrets.redactJson(body), '{"object":"list","note":"__OPENCLAW_REDACTED__"}');
  secrets.update(["another-secret-value"]);
  assert.equal(secrets.hits(body), false);
});

Deno.test("texts that differ are each checked, whatever was asked before", () => {
  const secrets = new SecretRedactor(["p4ssw0rd-long"]);
  assert.equal(secrets.hits("a clean line of text"), false);
  assert.equal(secrets.hits("a line with p4ssw0rd-long"), true);
  assert.equal(secrets.hits("a clean line of text"), false);
  const long = `${"x".repeat(5000)}p4ssw0rd-long`;
  assert.equal(secrets.hits(long), true);
  assert.equal(secrets.hits("x".repeat(5013)), false);
});
