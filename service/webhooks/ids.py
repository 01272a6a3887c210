"""Row ids for webhook endpoints (we_), deliveries (wd_) and attempts (wa_)."""

from uuid import uuid4


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex}"
