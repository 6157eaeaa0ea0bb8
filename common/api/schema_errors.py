"""Document the error answers every API operation can give, in the OpenAPI schema.

Views declare their success responses; the errors come from shared machinery
(token authentication, throttles, the body size limit, the database-outage
handler, validation, 404 lookups), so one postprocessing hook adds them to every
operation instead of each view repeating them. schemathesis then holds every
response, errors included, to the schema (tests/test_schemathesis.py).
"""

ERROR = {
    "type": "object",
    "description": "`detail` says what went wrong; validation errors list messages per field.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}

_ERRORS = {
    "400": "Invalid query parameters or body.",
    "401": "Missing or invalid API token.",
    "403": "The token may not do this.",
    "404": "No such object.",
    "413": "Request body too large.",
    "429": "Rate limit exceeded: retry after Retry-After seconds.",
    "503": "Storage briefly unavailable (database restarting: nothing was stored; or, for a report, the intake log "
    "did not confirm it in time: it may have been stored, and a resend is not counted twice). Retry after Retry-After"
    " seconds.",
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("Error", ERROR)
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["400", "401", "403", "429", "503"]
            if "{" in path or method == "get":  # a lookup, or a list's bad cursor
                codes.append("404")
            if method in ("post", "put", "patch"):
                codes.append("413")
            for code in codes:
                if code in operation["responses"]:
                    continue
                response = {"description": _ERRORS[code], "content": {"application/json": {"schema": ref}}}
                if code in ("429", "503"):
                    response["headers"] = RETRY_AFTER
                operation["responses"][code] = response
    return result
