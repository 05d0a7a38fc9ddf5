// Prepared responses: the same bytes and headers on every copy, whichever way the transport makes them.
import assert from "node:assert/strict";
import { preparedJsonResponse } from "../lib/http/response.ts";

for (const cloneIsCheap of [true, false]) {
  Deno.test(`prepared JSON response (cloneIsCheap: ${cloneIsCheap}) hands out independent full copies`, async () => {
    const prepared = preparedJsonResponse('{"ok":true}', cloneIsCheap, 503, { "Retry-After": "1" });
    const first = prepared();
    const second = prepared();
    assert.notEqual(first, second);
    assert.equal(await first.text(), '{"ok":true}');
    // Reading one copy leaves the others (and the template) whole.
    assert.equal(await second.text(), '{"ok":true}');
    const third = prepared();
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(third.headers.get("x-content-type-options"), "nosniff");
    assert.equal(third.headers.get("retry-after"), "1");
    assert.deepEqual(await third.json(), { ok: true });
  });
}
