/**
 * Secret values never leave in an HTTP body: JSON and text answers (errors above all: an upstream 401
 * that echoes the API key) are checked against the gateway's {@link SecretRedactor}, and event streams
 * are checked line by line as they flow. Bodies built by the gateway's response helpers are checked
 * without reading their stream, so the common case stays synchronous and unchanged.
 *
 * @module
 */
import type { SecretRedactor } from "../log/secret-redactor.ts";
import { securedBodyText } from "./security-headers.ts";

const TEXTUAL = /^(application\/json|text\/plain|application\/x-ndjson)/i;
const encoder = new TextEncoder();

function rebuilt(response: Response, body: string): Response {
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

function redactBody(secrets: SecretRedactor, text: string, json: boolean): string {
  return json ? secrets.redactJson(text) : secrets.redactText(text);
}

/** `data:` lines carry JSON; each is redacted as a document so its syntax survives. */
function redactSseLines(secrets: SecretRedactor, text: string): string {
  return text.split("\n").map((line) =>
    line.startsWith("data: ") ? `data: ${secrets.redactJson(line.slice(6))}` : secrets.redactText(line)
  ).join("\n");
}

function redactingEventStream(secrets: SecretRedactor, body: ReadableStream<Uint8Array>) {
  // One decoder per stream: a character split across two chunks must not leak into another response.
  const decoder = new TextDecoder();
  let pending = "";
  // The previous chunk ended a line, so neither text nor a split character is carried over.
  let clean = true;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const text = pending + decoder.decode(chunk, { stream: true });
        const cut = text.lastIndexOf("\n") + 1;
        const complete = text.slice(0, cut);
        const wasClean = clean;
        pending = text.slice(cut);
        clean = chunk.at(-1) === 0x0a;
        // The usual chunk is whole events with no secret: pass its bytes on untouched.
        if (wasClean && clean && !secrets.hits(complete)) return controller.enqueue(chunk);
        if (complete) controller.enqueue(encoder.encode(redactSseLines(secrets, complete)));
      },
      flush(controller) {
        const rest = pending + decoder.decode();
        if (rest) controller.enqueue(encoder.encode(redactSseLines(secrets, rest)));
      },
    }),
  );
}

/** `response` with secret values replaced in its body; the same response when there is nothing to do. */
export function redactResponse(response: Response, secrets: SecretRedactor): Response | Promise<Response> {
  if (!secrets.values().length) return response;
  // Neither `body` nor `headers` is touched for the gateway's own bodies: on Deno each getter builds an
  // object (a stream, a Headers) per response, which cost a quarter of a small answer's time.
  const known = securedBodyText(response);
  const isJson = () => /json/i.test(response.headers.get("content-type") ?? "");
  if (known !== undefined) {
    return secrets.hits(known) ? rebuilt(response, redactBody(secrets, known, isJson())) : response;
  }
  if (!response.body) return response;
  const type = response.headers.get("content-type") ?? "";
  const json = isJson();
  if (/^text\/event-stream/i.test(type)) {
    return new Response(redactingEventStream(secrets, response.body), response);
  }
  if (!TEXTUAL.test(type)) return response;
  return response.text().then((text) =>
    secrets.hits(text) ? rebuilt(response, redactBody(secrets, text, json)) : rebuilt(response, text)
  );
}
