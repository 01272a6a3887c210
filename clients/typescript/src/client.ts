/** The client: openapi-fetch typed by openapi-typescript's `paths`, with an API key, an
 * `Idempotency-Key` where the operation honours one, retries (retries.ts), problems thrown
 * (problems.ts) and every page of a list. */
import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";
import { IDEMPOTENT_POSTS } from "./generated/operations.js";
import { throwForProblem } from "./problems.js";
import { retryingFetch, type RetryOptions } from "./retries.js";

export interface ClientOptions extends RetryOptions {
  baseUrl: string;
  apiKey: string;
  /** The fetch to send with (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

/** Paths whose GET takes a `starting_after` cursor: the lists. */
export type ListPath = {
  [P in keyof paths]: paths[P] extends { get: { parameters: { query?: { starting_after?: unknown } } } }
    ? P
    : never;
}[keyof paths];

type ListParams<P extends ListPath> = paths[P]["get"]["parameters"];

/** The JSON body of an operation's 200 answer, as the contract declares it. */
type Ok<O> = O extends { responses: { 200: { content: { "application/json": infer Body } } } } ? Body : never;

/** An item of the list at `P`: a `Connection` of /v1/connections, an `Event` of a
 * connection's events, … (the generated type of the page's `data`). */
export type Item<P extends ListPath> = Ok<paths[P]["get"]> extends { data: (infer T)[] } ? T : never;

/** The contract's schemas by name, for answers: `Schemas["Connection"]` and so on. */
export type Schemas = components["schemas"];
export type Connection = Schemas["Connection"];
export type ActionResult = Schemas["ActionResult"];
export type AccessToken = Schemas["AccessToken"];
export type Event = Schemas["Event"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type WebhookDelivery = Schemas["WebhookDelivery"];

export interface ConnectionsClient extends Client<paths> {
  /** Every item of a list, page after page (`starting_after` cursors), lazily. */
  pages<P extends ListPath>(path: P, params?: Omit<ListParams<P>, "header" | "cookie">): AsyncGenerator<Item<P>>;
  /** Calls Amazon through the service (`api`: "sp-api" or "ads"); Amazon's answer as it is.
   * The service's own refusals (say ACCESS_REVOKED) throw ProblemError. */
  proxy(connectionId: string, api: "sp-api" | "ads", method: string, path: string, init?: RequestInit): Promise<Response>;
}

const idempotent = new Set(IDEMPOTENT_POSTS);

const addIdempotencyKey: Middleware = {
  onRequest({ request, schemaPath }) {
    if (request.method === "POST" && idempotent.has(schemaPath) && !request.headers.has("idempotency-key")) {
      request.headers.set("Idempotency-Key", crypto.randomUUID());
    }
    return request;
  },
};

const throwProblems: Middleware = {
  async onResponse({ response }) {
    await throwForProblem(response);
    return response;
  },
};

export function createClient(options: ClientOptions): ConnectionsClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const base = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const send = retryingFetch(base, options);
  const authorization = `Bearer ${options.apiKey}`;
  const client = createFetchClient<paths>({
    baseUrl,
    headers: { Authorization: authorization },
    fetch: send,
  });
  client.use(addIdempotencyKey, throwProblems);

  async function* pages<P extends ListPath>(
    path: P,
    params?: Omit<ListParams<P>, "header" | "cookie">,
  ): AsyncGenerator<Item<P>> {
    const query: Record<string, unknown> = { ...((params as { query?: object } | undefined)?.query ?? {}) };
    for (;;) {
      // One generic call for every list: the path's own types are checked at the caller.
      const get = client.GET as unknown as (p: string, init: object) => Promise<{ data?: unknown }>;
      const { data } = await get(path, { params: { ...params, query } });
      const page = data as { data: Item<P>[]; has_more?: boolean; next_cursor?: unknown };
      yield* page.data;
      const last = page.data[page.data.length - 1] as { id?: unknown } | undefined;
      if (!page.has_more || last === undefined) return;
      query["starting_after"] = page.next_cursor ?? last.id;
    }
  }

  async function proxy(
    connectionId: string,
    api: "sp-api" | "ads",
    method: string,
    path: string,
    init: RequestInit = {},
  ): Promise<Response> {
    const url = `${baseUrl}/v1/connections/${encodeURIComponent(connectionId)}/proxy/${api}/${path.replace(/^\/+/, "")}`;
    const headers = new Headers(init.headers);
    headers.set("Authorization", authorization);
    const response = await send(new Request(url, { ...init, method, headers }));
    if ((response.headers.get("content-type") ?? "").startsWith("application/problem+json")) {
      await throwForProblem(response);
    }
    return response;
  }

  return Object.assign(client, { pages, proxy });
}
