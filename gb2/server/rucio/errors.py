"""Rucio's exception classes with the HTTP status its REST layer gives each.

Raised anywhere in the catalogue; ``rucio_route`` turns them into Rucio's error
shape. Rucio answers a permission refusal with 401 ``AccessDenied`` (not 403).
"""

from __future__ import annotations

from gb2.server.http import ApiError

_STATUS: dict[str, int] = {
    "AccessDenied": 401,
    "AccountNotFound": 404,
    "DataIdentifierAlreadyExists": 409,
    "DataIdentifierNotFound": 404,
    "DistanceNotFound": 404,
    "DuplicateContent": 409,
    "DuplicateRule": 409,
    "Duplicate": 409,
    "FileAlreadyExists": 409,
    "FileConsistencyMismatch": 412,
    "InvalidMetadata": 500,
    "InputValidationError": 400,
    "InvalidObject": 400,
    "InvalidPath": 400,
    "InvalidRSEExpression": 400,
    "InvalidReplicationRule": 409,
    "InvalidValueForKey": 400,
    "KeyNotFound": 404,
    "ReplicaNotFound": 404,
    "RSENotFound": 404,
    "RSEProtocolNotSupported": 404,
    "RuleNotFound": 404,
    "ScopeNotFound": 404,
    "UnsupportedOperation": 409,
    "UnsupportedRequestedContentType": 406,
    "ValueError": 400,
}


class RucioError(ApiError):
    """One of Rucio's exceptions, by class name."""

    def __init__(self, exc_class: str, message: str, status_code: int | None = None) -> None:
        super().__init__(status_code or _STATUS.get(exc_class, 500), message, exc_class)


def did_not_found(scope: str, name: str) -> RucioError:
    return RucioError("DataIdentifierNotFound", f"Data identifier '{scope}:{name}' not found")


def access_denied(message: str) -> RucioError:
    return RucioError("AccessDenied", message)
