/** Retries on 429 and 503 in the fetch under openapi-fetch: the request sent again is the
 * very same one, so an `Idempotency-Key` it carries is kept across them.
 *
 * Only a request that is safe to repeat is retried: GET, HEAD, OPTIONS, PUT, DELETE, or one
 * carrying an `Idempotency-Key` (the service answers a repeat with the first response). A
 * POST or PATCH without one is never sent twice. `Retry-After` (seconds or an HTTP date) is
 * honoured; when it asks for longer than `maxRetryWait` the response is returned as it is. */

export const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 503]);
const REPEATABLE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** The longest wait, in seconds, the client accepts between attempts (default 30). */
  maxRetryWait?: number;
}

export function repeatable(request: Request): boolean {
  return REPEATABLE_METHODS.has(request.method) || request.headers.has("idempotency-key");
}

export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, (when - now) / 1000);
}

const sleep = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));

export function retryingFetch(
  base: (request: Request) => Promise<Response>,
  { maxRetries = 3, maxRetryWait = 30 }: RetryOptions = {},
): (request: Request) => Promise<Response> {
  return async (request: Request) => {
    for (let attempt = 0; ; attempt++) {
      const response = await base(request.clone());
      if (!RETRIED_STATUSES.has(response.status) || attempt >= maxRetries || !repeatable(request)) {
        return response;
      }
      // No advice: exponential backoff with full jitter.
      const wait =
        retryAfterSeconds(response.headers.get("retry-after")) ??
        Math.random() * Math.min(maxRetryWait, 0.5 * 2 ** attempt);
      if (wait > maxRetryWait) return response;
      await response.body?.cancel();
      await sleep(wait);
    }
  };
}
