// The TypeScript client against `connections serve` in sandbox mode, started by the Python
// test that runs this (tests/clients/test_typescript_client.py): CONNECTIONS_URL and
// CONNECTIONS_API_KEY say where it is.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { readFile } from "node:fs/promises";
import { Webhook } from "standardwebhooks";
import {
  createClient,
  ProblemError,
  verifyWebhook,
  WebhookVerificationError,
  type Connection,
  type ConnectionsClient,
} from "@marketplace-connections/client";

const baseUrl = process.env["CONNECTIONS_URL"];
const apiKey = process.env["CONNECTIONS_API_KEY"];
if (!baseUrl || !apiKey) throw new Error("CONNECTIONS_URL and CONNECTIONS_API_KEY are required");


interface Delivery {
  path: string;
  body: Buffer;
  headers: IncomingHttpHeaders;
}

/** A webhook receiver on loopback keeping each delivery's bytes and headers as sent. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  base = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.deliveries.push({ path: request.url ?? "", body: Buffer.concat(chunks), headers: request.headers });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks`;
  }

  async waitFor(name: string, text: string, seconds = 30): Promise<Delivery> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const found = this.deliveries.find((d) => d.path === `/hooks/${name}` && d.body.includes(text));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no delivery to ${name} with ${text}`);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The owner on the sandbox's consent page, then back at the service's callback. */
async function playOwner(consentUrl: string): Promise<void> {
  const page = await fetch(`${consentUrl}&sandbox_outcome=approve`, { redirect: "manual" });
  assert.ok([302, 303].includes(page.status), `consent page answered ${page.status}`);
  const back = await fetch(page.headers.get("location")!, { headers: { Accept: "application/json" }, redirect: "manual" });
  assert.ok(back.status < 400, `callback answered ${back.status}`);
}

async function invite(client: ConnectionsClient, ownerEmail = "owner@example.com", extra: object = {}): Promise<Connection> {
  const { data } = await client.POST("/v1/connections", {
    body: { owner_email: ownerEmail, region: "na", marketplace_ids: ["ATVPDKIKX0DER"], ...extra },
  });
  return data!;
}

describe("the TypeScript client against the service", () => {
  const client = createClient({ baseUrl, apiKey });
  const receiver = new Receiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  test("a connection walks to active, lends an access token and the proxy", async () => {
    const made = await invite(client, "walk@example.com", { requires_seller_central_user: false });
    assert.equal(made.state, "invited");
    const path = { connection_id: made.id };
    const { data: started } = await client.POST("/v1/connections/{connection_id}/start_authorization", {
      params: { path },
      body: {},
    });
    await playOwner(started!.consent_url!);
    const { data: authorized } = await client.GET("/v1/connections/{connection_id}", { params: { path } });
    assert.equal(authorized!.state, "api_authorized");

    const { data: active } = await client.POST("/v1/connections/{connection_id}/activate", { params: { path }, body: {} });
    assert.equal(active!.state, "active");

    const { data: token } = await client.POST("/v1/connections/{connection_id}/access_tokens", {
      params: { path },
      body: { api: "sp-api" },
    });
    assert.equal(token!.object, "access_token");
    assert.ok(token!.access_token);
    assert.ok(new Date(token!.expires_at).getTime() > Date.now());

    const amazon = await client.proxy(made.id, "sp-api", "GET", "/sellers/v1/marketplaceParticipations");
    assert.equal(amazon.status, 200);
    const participations = (await amazon.json()) as { payload: { marketplace: { id: string } }[] };
    assert.ok(participations.payload.some((p) => p.marketplace.id === "ATVPDKIKX0DER"));

    const history: string[] = [];
    for await (const event of client.pages("/v1/connections/{connection_id}/events", { path, query: { limit: 1 } })) {
      history.push(event.type);
    }
    assert.equal(history[0], "connection.invited");
    assert.equal(history.at(-1), "connection.activated");
    assert.equal(new Set(history).size, history.length);
  });

  test("a list is read across all its pages", async () => {
    const owner = `pages-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const made = new Set<string>();
    for (let i = 0; i < 5; i++) made.add((await invite(client, owner)).id);
    const seen: string[] = [];
    for await (const each of client.pages("/v1/connections", { query: { owner_email: owner, limit: 2 } })) {
      seen.push(each.id);
    }
    assert.deepEqual([...seen].sort(), [...made].sort());
  });

  test("a refused action is a typed problem with the allowed actions", async () => {
    const made = await invite(client);
    await assert.rejects(
      client.POST("/v1/connections/{connection_id}/activate", { params: { path: { connection_id: made.id } }, body: {} }),
      (error: unknown) => {
        assert.ok(error instanceof ProblemError);
        assert.equal(error.status, 409);
        assert.equal(error.code, "INVALID_TRANSITION");
        assert.ok(error.detail);
        assert.ok(error.allowedActions?.includes("start_authorization"));
        assert.ok(!error.allowedActions?.includes("activate"));
        return true;
      },
    );
  });

  test("a given Idempotency-Key answers a repeat with the first connection", async () => {
    const key = crypto.randomUUID();
    const body = { owner_email: "once@example.com", region: "eu" as const, marketplace_ids: ["A1PA6795UKMFR9"] };
    const params = { header: { "Idempotency-Key": key } };
    const { data: first } = await client.POST("/v1/connections", { params, body });
    const { data: again } = await client.POST("/v1/connections", { params, body });
    assert.equal(again!.id, first!.id);
  });

  test("a delivered webhook verifies and a tampered or stale one is refused", async () => {
    const { data: endpoint } = await client.POST("/v1/webhook_endpoints", {
      body: { url: `${receiver.base}/ts`, event_types: ["connection.invited"] },
    });
    const secret = endpoint!.secret;
    const made = await invite(client, "hooked@example.com");
    const delivery = await receiver.waitFor("ts", made.id);

    const event = verifyWebhook(delivery.body, delivery.headers, secret);
    assert.equal(event.type, "connection.invited");
    assert.equal(event.connection.id, made.id);
    assert.equal(event.connection.version, 1);
    assert.equal(event.event.type, "connection.invited");
    assert.ok(event.timestamp instanceof Date);

    const tampered = delivery.body.toString().replace('"invited"', '"active"');
    assert.notEqual(tampered, delivery.body.toString());
    assert.throws(() => verifyWebhook(tampered, delivery.headers, secret), WebhookVerificationError);
    assert.throws(
      () => verifyWebhook(delivery.body, delivery.headers, "whsec_" + Buffer.alloc(24).toString("base64")),
      WebhookVerificationError,
    );

    // Correctly signed, but ten minutes ago: a replay.
    const old = new Date(Date.now() - 10 * 60 * 1000);
    const id = String(delivery.headers["webhook-id"]);
    const stale = {
      ...delivery.headers,
      "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, old, delivery.body.toString()),
    };
    assert.throws(() => verifyWebhook(delivery.body, stale, secret), WebhookVerificationError);
  });

  test("the README's examples run as written", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    const files = ["quickstart.ts", "receive.ts"];
    for (const [i, name] of files.entries()) {
      const source = await readFile(new URL(`../../examples/${name}`, import.meta.url), "utf8");
      assert.equal(blocks[i], source, `README's block ${i + 1} differs from examples/${name}`);
    }
    const { data: endpoint } = await client.POST("/v1/webhook_endpoints", { body: { url: `${receiver.base}/readme-ts` } });
    process.env["CONNECTIONS_WEBHOOK_SECRET"] = endpoint!.secret;

    const { id } = await import("../examples/quickstart.js");
    const { server } = await import("../examples/receive.js");
    const delivery = await receiver.waitFor("readme-ts", id);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const headers = Object.fromEntries(
      Object.entries(delivery.headers).filter(([name]) => name.startsWith("webhook-") || name === "content-type"),
    ) as Record<string, string>;
    try {
      assert.equal((await fetch(url, { method: "POST", headers, body: delivery.body })).status, 204);
      assert.equal((await fetch(url, { method: "POST", headers, body: delivery.body + " " })).status, 400);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
