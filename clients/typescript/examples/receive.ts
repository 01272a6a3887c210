import { createServer } from "node:http";
import { verifyWebhook, WebhookVerificationError } from "@marketplace-connections/client";

// POST /hooks: verify the body as received, before parsing it, with the endpoint's secret.
export const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    try {
      const event = verifyWebhook(Buffer.concat(chunks), request.headers, process.env["CONNECTIONS_WEBHOOK_SECRET"]!);
      console.log(event.type, event.connection.id, event.connection.version);
      response.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      response.writeHead(400).end();
    }
  });
});
