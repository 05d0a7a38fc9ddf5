// A peer's attribution for requests without forwarding headers is made once and shared. These pin that
// sharing changes nothing a caller sees: a changed `trustedProxies` list is seen at once, forwarding
// headers still count on every request, and the shared answer cannot be altered by one caller.
import assert from "node:assert/strict";
import { attributeClient } from "../lib/auth/client-address.ts";

const settings = (trustedProxies: string[]) => ({ trustedProxies, allowRealIpFallback: false });
const none = new Headers();

Deno.test("a direct peer's attribution follows a replaced trustedProxies list", () => {
  const untrusted = attributeClient("10.9.8.7", none, settings([]));
  assert.deepEqual(untrusted, {
    address: "10.9.8.7",
    forwarded: false,
    peerTrusted: false,
    proxied: false,
    unattributable: false,
  });
  const trusted = attributeClient("10.9.8.7", none, settings(["10.9.8.0/24"]));
  assert.equal(trusted.peerTrusted, true);
  assert.equal(attributeClient("10.9.8.7", none, settings([])).peerTrusted, false);
});

Deno.test("forwarding headers count on every request from a peer whose direct answer is shared", () => {
  const loopback = settings([]);
  assert.equal(attributeClient("127.0.0.1", none, loopback).unattributable, false);
  const spoofed = attributeClient("127.0.0.1", new Headers({ "x-forwarded-for": "1.2.3.4" }), loopback);
  assert.equal(spoofed.proxied, true);
  assert.equal(spoofed.unattributable, true);
  assert.equal(attributeClient("127.0.0.1", none, loopback).unattributable, false);
  const proxy = settings(["127.0.0.1"]);
  const forwarded = attributeClient("127.0.0.1", new Headers({ "x-forwarded-for": "1.2.3.4" }), proxy);
  assert.deepEqual([forwarded.address, forwarded.forwarded], ["1.2.3.4", true]);
});

Deno.test("the shared attribution cannot be changed by one caller", () => {
  const first = attributeClient("192.0.2.55", none, settings([]));
  assert.throws(() => {
    (first as { address: string }).address = "6.6.6.6";
  }, TypeError);
  assert.equal(attributeClient("192.0.2.55", none, settings([])).address, "192.0.2.55");
});
