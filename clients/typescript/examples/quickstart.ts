import { createClient, ProblemError } from "@marketplace-connections/client";

const client = createClient({
  baseUrl: process.env["CONNECTIONS_URL"]!,
  apiKey: process.env["CONNECTIONS_API_KEY"]!,
});

// A create: the client adds an Idempotency-Key and keeps it across its own retries.
const { data: connection } = await client.POST("/v1/connections", {
  body: { owner_email: "owner@example.com", region: "na", marketplace_ids: ["ATVPDKIKX0DER"] },
});
const { id, state } = connection!; // a typed Connection (problems throw, so it is there)
console.log(id, state); // <id> invited

// Every connection still waiting for its owner, across as many pages as there are.
const waiting: string[] = [];
for await (const each of client.pages("/v1/connections", { query: { state: "invited", limit: 50 } })) {
  waiting.push(each.id); // each a Connection
}
if (!waiting.includes(id)) throw new Error("not listed");

// A refused action is a typed error that says what is allowed instead.
try {
  await client.POST("/v1/connections/{connection_id}/activate", {
    params: { path: { connection_id: id } },
    body: {},
  });
} catch (error) {
  if (!(error instanceof ProblemError)) throw error;
  console.log(error.code, error.allowedActions); // INVALID_TRANSITION [ 'resend_invitation', 'start_authorization', 'disconnect' ]
}

export { id };
