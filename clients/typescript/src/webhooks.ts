/** Standard Webhooks verification (the `standardwebhooks` package): the signature over
 * `{webhook-id}.{webhook-timestamp}.{body}` and a timestamp within five minutes. */
import { Webhook, WebhookVerificationError as Refused } from "standardwebhooks";
import type { components } from "./generated/schema.js";

/** The body was not signed with this secret, or its timestamp is too old or too new. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** A delivered event: `type` is `connection.<event>`; `connection` is the connection as of
 * that event (the contract's `Connection`, with `version`), `event` the event itself. */
export interface WebhookEvent {
  id: string;
  type: string;
  timestamp: Date;
  connection: components["schemas"]["Connection"];
  event: { id: string; type: string; occurred_at: string; actor: unknown };
  data: Record<string, unknown>;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function lowered(headers: HeaderSource): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Iterable<[string, string | string[] | undefined]> =
    headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** The verified event, or WebhookVerificationError. `body` must be the bytes (or text) as
 * received, before any JSON parsing; `secret` is the endpoint's `whsec_…`. Headers may be
 * a fetch `Headers` or Node's `IncomingHttpHeaders`. */
export function verifyWebhook(body: string | Uint8Array, headers: HeaderSource, secret: string): WebhookEvent {
  const received = lowered(headers);
  const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
  let payload: unknown;
  try {
    payload = new Webhook(secret).verify(text, received);
  } catch (refused) {
    if (refused instanceof Refused || refused instanceof Error) {
      throw new WebhookVerificationError(refused.message);
    }
    throw refused;
  }
  const document = payload as { type: string; timestamp: string; data?: Record<string, unknown> };
  const data = document.data ?? {};
  return {
    id: received["webhook-id"] ?? "",
    type: document.type,
    timestamp: new Date(document.timestamp),
    connection: (data["connection"] ?? {}) as WebhookEvent["connection"],
    event: (data["event"] ?? {}) as WebhookEvent["event"],
    data,
  };
}
