/** Client for the marketplace connection service. `./generated/` is made from openapi.yaml
 * by `make sdk` (openapi-typescript); the rest is this package's own thin layer on it. */
export {
  createClient,
  type AccessToken,
  type ActionResult,
  type ClientOptions,
  type Connection,
  type ConnectionsClient,
  type Event,
  type Item,
  type ListPath,
  type Schemas,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "./client.js";
export { ApiError, ProblemError, type Problem } from "./problems.js";
export { retryingFetch, retryAfterSeconds, type RetryOptions } from "./retries.js";
export { verifyWebhook, WebhookVerificationError, type WebhookEvent } from "./webhooks.js";
export type { components, operations, paths } from "./generated/schema.js";
