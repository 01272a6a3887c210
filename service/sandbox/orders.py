"""The Orders API (v0): a page of the seller's orders, and an order's address (restricted).

Shapes from amzn/selling-partner-api-models, models/orders-api-model/ordersV0.json:
`getOrders` needs `MarketplaceIds` and `CreatedAfter` or `LastUpdatedAfter`, pages with
`MaxResultsPerPage` (1 to 100) and `NextToken`, and answers `{"payload": {"Orders", "NextToken"?,
"CreatedBefore"}}`; `getOrderAddress` returns PII, so it takes a Restricted Data Token only.
Default usage plan of getOrders: 0.0167 requests per second, burst 20.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter

from domain import marketplaces
from service.sandbox.grants import Levers, rate_of, throttled
from service.sandbox.issued import Grant
from service.sandbox.sellers import sp_answer, sp_grant
from service.sandbox.threads import off_the_shared_pool
from service.sandbox.tokens import read_rdt

ORDERS_PER_MARKETPLACE = 7
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _invalid(message: str) -> Response[Any]:
    return sp_answer(400, {"errors": [{"code": "InvalidInput", "message": message}]})


def _order_id(partner: str, marketplace_id: str, n: int) -> str:
    digits = int.from_bytes(hashlib.sha256(f"{partner}:{marketplace_id}:{n}".encode()).digest())
    d = f"{digits:020d}"[-17:]
    return f"{d[:3]}-{d[3:10]}-{d[10:17]}"


def _orders(grant: Grant, marketplace_ids: list[str]) -> list[dict[str, Any]]:
    currencies = {m.id: m.currency for m in marketplaces.ALL}
    orders = []
    for marketplace_id in marketplace_ids:
        for n in range(ORDERS_PER_MARKETPLACE):
            at = (_EPOCH + timedelta(hours=7 * n)).isoformat().replace("+00:00", "Z")
            orders.append(
                {
                    "AmazonOrderId": _order_id(grant.selling_partner_id, marketplace_id, n),
                    "PurchaseDate": at,
                    "LastUpdateDate": at,
                    "OrderStatus": "Shipped" if n % 3 else "Unshipped",
                    "FulfillmentChannel": "MFN" if n % 2 else "AFN",
                    "SalesChannel": "Amazon",
                    "OrderTotal": {
                        "CurrencyCode": currencies.get(marketplace_id, "USD"),
                        "Amount": f"{10 + 3 * n}.99",
                    },
                    "NumberOfItemsShipped": 1 if n % 3 else 0,
                    "NumberOfItemsUnshipped": 0 if n % 3 else 1,
                    "PaymentMethod": "Other",
                    "MarketplaceId": marketplace_id,
                    "OrderType": "StandardOrder",
                    "IsBusinessOrder": False,
                    "IsPrime": n % 2 == 0,
                    "IsPremiumOrder": False,
                    "IsGlobalExpressEnabled": False,
                    "IsReplacementOrder": False,
                    "IsSoldByAB": False,
                    "IsISPU": False,
                    "IsAccessPointOrder": False,
                    "HasRegulatedItems": False,
                }
            )
    return orders


def _next_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sbx-page:{offset}".encode()).decode()


def _offset(token: str) -> int | None:
    try:
        kind, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        return int(number) if kind == "sbx-page" else None
    except (ValueError, UnicodeDecodeError):
        return None


def orders_routes(levers: Levers) -> list[HTTPRouteHandler]:
    @get("/{region:str}/orders/v0/orders")
    @off_the_shared_pool  # the levers are in the store
    def get_orders(
        request: Request,
        region: FromPath[str],
        marketplace_ids: Annotated[str | None, QueryParameter(name="MarketplaceIds")] = None,
        created_after: Annotated[str | None, QueryParameter(name="CreatedAfter")] = None,
        updated_after: Annotated[str | None, QueryParameter(name="LastUpdatedAfter")] = None,
        per_page: Annotated[str | None, QueryParameter(name="MaxResultsPerPage")] = None,
        next_token: Annotated[str | None, QueryParameter(name="NextToken")] = None,
    ) -> Response[Any]:
        grant = sp_grant(region, request.headers.get("x-amz-access-token"), levers)
        if isinstance(grant, Response):
            return grant
        limited = throttled(levers, grant.selling_partner_id)
        if limited is not None:
            return limited
        if not marketplace_ids:
            return _invalid("MarketplaceIds is required.")
        if not (created_after or updated_after or next_token):
            return _invalid("Either CreatedAfter or LastUpdatedAfter must be specified.")
        size = int(per_page) if per_page and per_page.isdigit() else 100
        if not 1 <= size <= 100:
            return _invalid("MaxResultsPerPage must be between 1 and 100.")
        start = 0 if next_token is None else _offset(next_token)
        if start is None:
            return _invalid("Invalid NextToken.")
        every = _orders(grant, [m for m in marketplace_ids.split(",") if m])
        payload: dict[str, Any] = {
            "Orders": every[start : start + size],
            "CreatedBefore": (_EPOCH + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        }
        if start + size < len(every):
            payload["NextToken"] = _next_token(start + size)
        answer = sp_answer(200, {"payload": payload})
        answer.headers["x-amzn-RateLimit-Limit"] = rate_of(levers, grant.selling_partner_id)
        return answer

    @get("/{region:str}/orders/v0/orders/{order_id:str}/address")
    @off_the_shared_pool  # the levers are in the store
    def get_order_address(request: Request, region: FromPath[str], order_id: str) -> Response[Any]:
        token = request.headers.get("x-amz-access-token")
        grant = read_rdt(token)
        if grant is None or levers.is_revoked(grant.selling_partner_id):
            refused = sp_grant(region, None, levers)  # Amazon's 403 for a token that is not an RDT
            return refused if isinstance(refused, Response) else sp_answer(403, {})
        address = {
            "Name": "Sandbox Buyer",
            "AddressLine1": "2 Sandbox Lane",
            "City": "Sandbox City",
            "PostalCode": "00000",
            "CountryCode": "US",
        }
        return sp_answer(200, {"payload": {"AmazonOrderId": order_id, "ShippingAddress": address}})

    return [get_orders, get_order_address]
