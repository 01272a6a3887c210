"""One proxied call, told as a story: the connection's token, the target on Amazon's
regional host, the call (retried while throttled, once more with a fresh token after a
403), and Amazon's answer streamed back, then its line in the access log."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from litestar import Request, Response
from litestar.response import Stream

from adapters.amazon.errors import AmazonError
from adapters.amazon.relay import Answer, Relay, Unreachable
from adapters.amazon.waits import wait_before_retry
from domain.access import ADS, SP_API, AccessRefused, chosen_profile
from domain.exceptions import NotFound, ValidationFailed
from service.api.auth import caller_of
from service.api.problems import status_of
from service.credentials import proxy
from service.credentials.access_log import operation_of
from service.credentials.metrics import PROXY_ADDED_LATENCY, PROXY_CALLS, PROXY_RETRIES
from service.credentials.outcomes import RETRY_AFTER
from service.credentials.views import endpoint_of

RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
# An answer of at most this many bytes (announced by Content-Length: SP-API answers are
# JSON, mostly a few kilobytes) is read whole and sent in one piece: streaming it would cost
# a task group and a write per chunk for nothing. Larger or unannounced answers stream.
WHOLE_ANSWER = 64 * 1024
PROBE_PATH = "/sellers/v1/marketplaceParticipations"  # every app may call it


def _relay(request: Request) -> Relay:
    state = request.app.state
    if state.get("proxy_relay") is None:
        state.proxy_relay = Relay(request.app.state.services.amazon.settings.timeout)
        request.app.on_shutdown.append(state.proxy_relay.aclose)  # its pooled connections
    return state.proxy_relay


async def forward(request: Request, connection_id: str, api: str, path: str) -> Response:
    started = time.perf_counter()
    services = request.app.state.services
    caller = caller_of(request)
    if api not in (SP_API, ADS):
        raise NotFound(f"No proxy for API {api!r}; use sp-api or ads.")
    settings = services.amazon.settings
    query = request.scope.get("query_string", b"").decode("latin-1")
    retries = proxy.throttle_retries(request.headers.get("x-throttle-retries"))
    proxy.check_path(path)  # before any token is taken out
    wanted = request.headers.get("amazon-advertising-api-scope")
    tokens = services.credentials.tokens
    known = tokens.recall(caller, connection_id, api)
    if known is not None:  # held in memory, nothing announced since: no store, no thread
        c, issued, profile_id = _prepare(services, caller, known.connection, api, wanted, known)
    else:  # one trip to a worker thread for everything that reads the store
        c, issued, profile_id = await anyio.to_thread.run_sync(
            _loaded, services, caller, connection_id, api, wanted
        )
    url = proxy.target_url(endpoint_of(settings, api, c.region), path, query)
    access_token = issued.access_token
    relay = _relay(request)
    method = request.method.upper()
    refused: Answer | None = None
    body: proxy.Body | None = None
    try:
        if api == SP_API and proxy.restricted(method, path):
            rdt = await _restricted_data_token(relay, url, path, access_token, method)
            if not isinstance(rdt, str):  # Amazon's refusal, passed back as it is
                refused = rdt
            else:
                access_token = rdt
        if refused is None:  # Amazon's refusal is answered after the try, logged once
            has_body = method not in ("GET", "HEAD") and (
                request.headers.get("content-length", "0") != "0"
                or "transfer-encoding" in request.headers
            )
            length = request.headers.get("content-length") if has_body else None
            headers = {
                **proxy.to_amazon(request.headers, content_length=length),
                **_extra(api, access_token, settings, profile_id),
            }
            body = proxy.Body(request.stream() if has_body else None)
            limits, operation = services.amazon.limits, proxy.rate_operation(api, method, path)
            sent_at, attempt, refreshed = time.perf_counter(), 0, False
            response = await relay.send(method, url, headers, body.stream() if has_body else None)
            while True:
                limits.learn(operation, response.headers.get("x-amzn-ratelimit-limit"))
                replayable = body.replayable or not has_body
                if response.status_code == 429 and attempt < retries and replayable:
                    wait = wait_before_retry(
                        response.headers.get("retry-after"),
                        limits.rate(operation),
                        attempt + 1,
                        backoff=proxy.THROTTLE_BACKOFF,
                    )
                    if wait > proxy.MAX_THROTTLE_WAIT:
                        break  # not retried: the access log says "forwarded"
                    attempt += 1
                    await response.aclose()
                    PROXY_RETRIES.labels(api).inc()
                    await proxy.sleep(wait)
                elif (
                    response.status_code == 403
                    and api == SP_API
                    and not refreshed
                    and replayable
                    and await anyio.to_thread.run_sync(
                        services.credentials.forbidden.take, str(c.id)
                    )
                ):
                    refreshed = True
                    await response.aclose()
                    fresh = await anyio.to_thread.run_sync(
                        services.credentials.tokens.reissue, c, api, access_token, caller.request_id
                    )
                    headers = {**headers, "x-amz-access-token": fresh.access_token}
                    access_token = fresh.access_token
                else:
                    break
                sent_at = time.perf_counter()
                response = await relay.send(
                    method, url, headers, body.again() if has_body else None
                )
            if response.status_code == 403 and refreshed:
                await _check_revoked(services, relay, c, settings, access_token, caller.request_id)
    except Unreachable as e:
        if body is not None and body.failure is not None:  # the caller's body broke off
            failure = body.failure
            status = getattr(failure, "status_code", None) or status_of(failure)
            _record(request, c, api, method, path, status, "failed", started)
            raise failure from None
        # Amazon did not answer: logged, then the catalogue's 503
        _record(request, c, api, method, path, 504 if e.timed_out else 502, "unreachable", started)
        raise AccessRefused(
            "Amazon did not answer in time; retry after the indicated delay."
            if e.timed_out
            else "Amazon's host could not be reached; retry after the indicated delay.",
            code="AMAZON_UNAVAILABLE",
            headers={"Retry-After": RETRY_AFTER},
        ) from None
    except Exception as e:  # the caller's body broke off, was too large or too slow: logged
        status = getattr(e, "status_code", None) or status_of(e)  # litestar's 408/413, or ours
        _record(request, c, api, method, path, status, "failed", started)
        raise
    if refused is not None:
        return await _answer(request, c, api, method, path, refused, started, started, 0)
    return await _answer(request, c, api, method, path, response, started, sent_at, attempt)


def _record(
    request: Request,
    c: Any,
    api: str,
    method: str,
    path: str,
    status: int,
    outcome: str,
    started: float,
    amazon_request_id: str | None = None,
) -> None:
    """The call's line in the access log (buffered: no store access here)."""
    services = request.app.state.services
    services.credentials.access_log.record(
        caller_of(request),
        str(c.id),
        at=services.clock.now(),
        api=api,
        kind="proxy",
        method=method,
        operation=operation_of(path),
        status=status,
        outcome=outcome,
        duration=time.perf_counter() - started,
        amazon_request_id=amazon_request_id,
    )


def _loaded(
    services: Any, caller: Any, connection_id: str, api: str, wanted: str | None
) -> tuple[Any, Any, str | None]:
    c, known, mark = services.credentials.tokens.connection(caller, connection_id, api)
    return _prepare(services, caller, c, api, wanted, known, mark)


def _prepare(
    services: Any,
    caller: Any,
    c: Any,
    api: str,
    wanted: str | None,
    known: Any,
    mark: Any = None,
) -> tuple[Any, Any, str | None]:
    profile_id = None
    if api == ADS:
        profile = chosen_profile(c, wanted)
        if wanted is not None and profile is None:
            raise ValidationFailed(
                "Amazon-Advertising-API-Scope names no Ads profile of this connection.",
                field="Amazon-Advertising-API-Scope",
            )
        profile_id = profile["profile_id"] if profile else None
    return c, services.credentials.tokens.issue(c, api, caller.request_id, known, mark), profile_id


def _small(response: Answer) -> bool:
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) <= WHOLE_ANSWER


def _extra(api: str, token: str, settings: Any, profile_id: str | None) -> dict[str, str]:
    return proxy.access_headers(api, token, settings.ads_credentials[0], profile_id)


async def _restricted_data_token(
    relay: Relay, url: str, path: str, access_token: str, method: str
) -> str | Answer:
    """The RDT for this one resource, or Amazon's refusal to pass back as it is."""
    base = url[: url.index(path)] if path in url else url
    response = await relay.post_json(
        base + RDT_PATH,
        {"restrictedResources": [{"method": method, "path": path}]},
        proxy.access_headers(SP_API, access_token, "", None),
    )
    if response.status_code == 200:
        try:
            return str(response.json()["restrictedDataToken"])
        except (ValueError, KeyError, TypeError):
            pass
    return response


async def _check_revoked(
    services: Any, relay: Relay, c: Any, settings: Any, token: str, rid: str | None
) -> None:
    """A fresh token refused too: if even the Sellers API refuses it, the grant is gone
    (a 403 on one API alone is a missing role, not a revocation)."""
    probe = await relay.get(
        endpoint_of(settings, SP_API, c.region) + PROBE_PATH,
        proxy.access_headers(SP_API, token, "", None),
    )
    if probe.status_code == 403:
        error = AmazonError("ACCESS_REVOKED", "SP-API refused a freshly refreshed token (403)")
        await anyio.to_thread.run_sync(
            services.credentials.tokens.outcomes.refused, c, SP_API, error, rid
        )


async def _answer(
    request: Request,
    c: Any,
    api: str,
    method: str,
    path: str,
    response: Answer,
    started: float,
    sent_at: float,
    retries: int,
) -> Response:
    PROXY_ADDED_LATENCY.labels(api).observe(sent_at - started)
    PROXY_CALLS.labels(api, str(response.status_code)).inc()

    recorded = False

    def record() -> None:
        nonlocal recorded
        if recorded:
            return
        recorded = True
        outcome = f"retried_{retries}" if retries else "forwarded"
        _record(
            request,
            c,
            api,
            method,
            path,
            response.status_code,
            outcome,
            started,
            response.headers.get("x-amzn-requestid"),
        )

    if not response.is_stream_consumed and _small(response):
        try:
            # Raw, as Amazon encoded it (its Content-Encoding and Content-Length pass on).
            content = await response.read()
        finally:
            record()
            await response.aclose()
        headers = dict(proxy.to_caller(response.headers))
        media_type = headers.pop("content-type", None) or headers.pop("Content-Type", None)
        return Response(
            content,
            status_code=response.status_code,
            headers=headers,
            media_type=media_type or "application/octet-stream",
        )

    async def body() -> AsyncIterator[bytes]:
        # The entry is recorded before the last chunk leaves, so a caller that reads the
        # log right after the answer finds it there.
        try:
            if response.is_stream_consumed:  # read already (a refused RDT request)
                record()
                yield response.content
                return
            held: bytes | None = None
            async for chunk in response.aiter_raw():
                if held is not None:
                    yield held
                held = chunk
            record()
            if held is not None:
                yield held
        finally:
            record()  # the caller went away mid-answer: still logged
            await response.aclose()

    return Stream(
        body(), status_code=response.status_code, headers=dict(proxy.to_caller(response.headers))
    )
