/** A refusal from the service as a typed error: the RFC 9457 problem's `code`, `detail`
 * and, for a refused action, `allowedActions`. */
import type { components } from "./generated/schema.js";

export type Problem = components["schemas"]["Problem"] & {
  allowed_actions?: string[];
  [extra: string]: unknown;
};

/** An error response that is not a problem document (say, from a proxy in between). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
    this.name = "ApiError";
  }
}

/** `application/problem+json` from the service. `code` is stable (GET /v1/errors lists
 * them); `detail` is for people; `allowedActions` is set when an action was refused in the
 * connection's state (INVALID_TRANSITION). */
export class ProblemError extends ApiError {
  readonly code: string;
  readonly detail: string;
  readonly title: string;
  readonly allowedActions: string[] | undefined;
  readonly requestId: string | undefined;

  constructor(
    readonly problem: Problem,
    body: string,
    headers: Headers,
  ) {
    super(problem.status, body, headers);
    this.name = "ProblemError";
    this.message = `${problem.code}: ${problem.detail}`;
    this.code = problem.code;
    this.detail = problem.detail;
    this.title = problem.title;
    this.allowedActions = problem.allowed_actions;
    this.requestId = problem.request_id ?? undefined;
  }
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  return ["type", "title", "status", "code", "detail"].every((key) => key in value);
}

/** Throws ProblemError (or ApiError) for a 4xx/5xx response; returns otherwise. */
export async function throwForProblem(response: Response): Promise<void> {
  if (response.status < 400) return;
  const body = await response.clone().text();
  let document: unknown;
  if ((response.headers.get("content-type") ?? "").includes("json")) {
    try {
      document = JSON.parse(body);
    } catch {
      document = undefined;
    }
  }
  if (isProblem(document)) throw new ProblemError(document, body, response.headers);
  throw new ApiError(response.status, body, response.headers);
}
