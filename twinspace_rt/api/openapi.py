"""The OpenAPI document, derived from the endpoint declarations and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from twinspace_rt import __version__
from twinspace_rt.api.http import Endpoint
from twinspace_rt.api.schemas import ErrorOut
from twinspace_rt.errors import DESCRIPTIONS, HTTP_STATUS, ErrorCode

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK"}
    if endpoint.response is not None:
        ok["content"] = {"application/json": {"schema": _ref(endpoint.response)}}
    responses: dict[str, Any] = {str(endpoint.status): ok}
    codes = list(endpoint.errors)
    if endpoint.body is not None:
        codes += [ErrorCode.invalid_json, ErrorCode.validation_failed]
    if not endpoint.public:
        codes += [ErrorCode.unauthenticated, ErrorCode.token_expired, ErrorCode.token_invalid]
    if endpoint.budgeted and ErrorCode.rate_limited not in codes:
        codes.append(ErrorCode.rate_limited)
    by_status: dict[int, list[ErrorCode]] = {}
    for code in codes:
        by_status.setdefault(HTTP_STATUS[code], []).append(code)
    for status, status_codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": "; ".join(f"`{c.value}`: {DESCRIPTIONS[c]}" for c in status_codes),
            "content": {"application/json": {"schema": _ref(ErrorOut)}},
        }
    return responses


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
        for name in _PATH_PARAM.findall(endpoint.path)
    ]
    queries = [(name, text, "integer") for name, text in endpoint.query.items()]
    queries += [(name, text, "string") for name, text in endpoint.text_query.items()]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": {"type": kind},
        }
        for name, text, kind in queries
    ]
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": endpoint.handler.__name__,
        "responses": _responses(endpoint),
    }
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(endpoint.body)}},
        }
    if endpoint.raw_body is not None:
        binary = {"type": "string", "format": "binary"}
        operation["requestBody"] = {
            "required": True,
            "content": {endpoint.raw_body: {"schema": binary}},
        }
    if endpoint.public:
        operation["security"] = []
    return operation


def openapi_document(endpoints: list[Endpoint]) -> dict[str, Any]:
    inputs = {e.body for e in endpoints if e.body is not None}
    outputs = {e.response for e in endpoints if e.response is not None} | {ErrorOut}
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in inputs]
    models += [(m, "serialization") for m in outputs]
    _, schemas = models_json_schema(
        sorted(models, key=lambda pair: pair[0].__name__), ref_template=REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        path = _PATH_PARAM.sub(r"{\1}", endpoint.path)
        paths.setdefault(path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "TwinSpace RT", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
    }
