// The client's retries, against a real HTTP server on loopback that answers 429 and 503 on
// cue (the service itself sheds load only under load).
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { createClient, ProblemError, retryAfterSeconds } from "@marketplace-connections/client";

type Answer = { status: number; headers?: Record<string, string>; body: string };

const problem = (status: number, code: string, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { "content-type": "application/problem+json", ...headers },
  body: JSON.stringify({ type: "about:blank", title: code, status, code, detail: code }),
});
const CREATED: Answer = { status: 201, headers: { "content-type": "application/json" }, body: '{"id":"con_1","state":"invited"}' };

describe("retries", () => {
  let server: Server;
  let url = "";
  let script: Answer[] = [];
  let seen: { method: string; headers: IncomingHttpHeaders; at: number }[] = [];
  const body = { owner_email: "owner@example.com", region: "na" as const, marketplace_ids: ["ATVPDKIKX0DER"] };

  before(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        seen.push({ method: request.method ?? "", headers: request.headers, at: Date.now() });
        const answer = script.shift() ?? CREATED;
        response.writeHead(answer.status, answer.headers).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    script = [];
    seen = [];
  });

  test("a create is retried after Retry-After with the same Idempotency-Key", async () => {
    script = [problem(503, "SERVICE_UNAVAILABLE", { "retry-after": "1" }), problem(429, "RATE_LIMITED")];
    const { data } = await createClient({ baseUrl: url, apiKey: "key" }).POST("/v1/connections", { body });
    assert.equal((data as { id: string }).id, "con_1");
    const keys = seen.map((s) => s.headers["idempotency-key"]);
    assert.equal(keys.length, 3);
    assert.ok(keys[0]);
    assert.equal(new Set(keys).size, 1);
    assert.ok(seen[1]!.at - seen[0]!.at >= 950, "Retry-After: 1 was honoured");
  });

  test("a key the caller gives is the one sent", async () => {
    script = [problem(429, "RATE_LIMITED")];
    await createClient({ baseUrl: url, apiKey: "key" }).POST("/v1/connections", {
      params: { header: { "Idempotency-Key": "mine-1" } },
      body,
    });
    assert.deepEqual(seen.map((s) => s.headers["idempotency-key"]), ["mine-1", "mine-1"]);
  });

  test("an action gets a key too", async () => {
    script = [problem(503, "SERVICE_UNAVAILABLE", { "retry-after": "0" })];
    await createClient({ baseUrl: url, apiKey: "key" }).POST("/v1/connections/{connection_id}/activate", {
      params: { path: { connection_id: "con_1" } },
      body: {},
    });
    const keys = seen.map((s) => s.headers["idempotency-key"]);
    assert.equal(keys.length, 2);
    assert.ok(keys[0]);
    assert.equal(keys[0], keys[1]);
  });

  test("retries are bounded", async () => {
    script = Array.from({ length: 10 }, () => problem(503, "SERVICE_UNAVAILABLE", { "retry-after": "0" }));
    const client = createClient({ baseUrl: url, apiKey: "key", maxRetries: 2 });
    await assert.rejects(
      client.GET("/v1/connections/{connection_id}", { params: { path: { connection_id: "con_1" } } }),
      (error: unknown) => error instanceof ProblemError && error.code === "SERVICE_UNAVAILABLE" && error.status === 503,
    );
    assert.equal(seen.length, 3);
  });

  test("a POST without an Idempotency-Key is never sent twice", async () => {
    script = [problem(503, "SERVICE_UNAVAILABLE", { "retry-after": "0" })];
    const client = createClient({ baseUrl: url, apiKey: "key" });
    await assert.rejects(client.POST("/v1/webhook_endpoints", { body: { url: "https://example.com/hooks" } }), ProblemError);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers["idempotency-key"], undefined); // its operation honours none
  });

  test("a wait longer than the bound is not waited for", async () => {
    script = [problem(429, "RATE_LIMITED", { "retry-after": "3600" })];
    const started = Date.now();
    const client = createClient({ baseUrl: url, apiKey: "key", maxRetryWait: 5 });
    await assert.rejects(
      client.GET("/v1/connections/{connection_id}", { params: { path: { connection_id: "con_1" } } }),
      (error: unknown) => error instanceof ProblemError && error.code === "RATE_LIMITED",
    );
    assert.equal(seen.length, 1);
    assert.ok(Date.now() - started < 2000);
  });

  test("Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-05T09:00:00Z");
    assert.equal(retryAfterSeconds("Mon, 05 Jan 2026 09:00:07 GMT", now), 7);
    assert.equal(retryAfterSeconds("12"), 12);
    assert.equal(retryAfterSeconds("soon"), undefined);
  });
});
