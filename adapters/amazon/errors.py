"""The one exception the Amazon adapter raises.

`code` is always a code of the service's error catalogue (`domain/`), so callers record it
as `last_error` without translating. `detail` is for logs and support: it names the HTTP
status and Amazon's own error code, never a token, a secret or an authorization code.
"""

from __future__ import annotations


class AmazonError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
