"""Authentication: the dependency that turns an X-API-Key header into a ``Scope``."""

# FastAPI reads the annotation of ``key_scope``, which names a local variable, at
# run time, so this module keeps annotations unpostponed.

from typing import Annotated

from fastapi import Security
from fastapi.security import APIKeyHeader

from gitreg.api.errors import ApiError
from gitreg.api.keys import KeyStore, Scope
from gitreg.api.routes import ScopeDependency
from gitreg.errors import UsageError

KEY_HEADER = "X-API-Key"


def scope_dependency(keys: KeyStore | None) -> ScopeDependency:
    """Return the dependency that authenticates a request and yields its scope."""
    if keys is None:

        async def open_scope() -> Scope:
            return Scope.open()

        return open_scope

    header = APIKeyHeader(
        name=KEY_HEADER,
        auto_error=False,
        description="An API key created with 'gitreg api-key add'.",
    )

    async def key_scope(key: Annotated[str | None, Security(header)]) -> Scope:
        try:
            ring = keys.current()
        except UsageError:
            raise ApiError(
                500,
                "key_file_invalid",
                "the server's key file is unusable, so no key can be checked",
                hint="an operator must fix the key file; the server log names the problem",
            ) from None
        if not key:
            raise ApiError(
                401,
                "missing_api_key",
                f"the {KEY_HEADER} header is missing",
                hint=f"send an API key in the {KEY_HEADER} header",
                headers={"WWW-Authenticate": KEY_HEADER},
            )
        record = ring.authenticate(key)
        if record is None:
            raise ApiError(
                401,
                "invalid_api_key",
                f"the {KEY_HEADER} header does not hold a known key",
                hint="ask an operator for a key; revoked keys stop working at once",
                headers={"WWW-Authenticate": KEY_HEADER},
            )
        return record.scope()

    return key_scope
