"""Request accounting shared by the test apps: what the end-to-end test asks each app
after a run.

GET /__barrage/counts   requests served per route key ("GET /items/{item_id}")
GET /__barrage/errors   every 422 answered: route key and body (which field was invalid)

Both are left out of the OpenAPI document, so `barrage init` never generates tasks for
them. Counting happens in an ASGI middleware, by the router's own matching, so a 422 (or
any answer) is counted under the route it was meant for.

A plain dict without a lock is enough: uvicorn runs one worker with one event loop and
nothing here awaits between reading and writing a count.
"""

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

COUNTS_PATH = "/__barrage/counts"
ERRORS_PATH = "/__barrage/errors"


def install(app: FastAPI) -> None:
    """Adds the two endpoints and the middleware; call it after declaring the routes."""
    counts: dict[str, int] = {}
    errors: list[dict] = []

    @app.get(COUNTS_PATH, include_in_schema=False)
    async def served_counts():
        return counts

    @app.get(ERRORS_PATH, include_in_schema=False)
    async def served_errors():
        return errors

    def routes():
        return [
            r for r in app.routes
            if isinstance(r, APIRoute) and r.path not in (COUNTS_PATH, ERRORS_PATH)
        ]

    class Count:
        def __init__(self, asgi_app):
            self.app = asgi_app

        async def __call__(self, scope, receive, send):
            key = None
            if scope["type"] == "http":
                for route in routes():
                    match, _ = route.matches(scope)
                    if match == Match.FULL:
                        key = f"{scope['method']} {route.path}"
                        break
            if key is None:
                return await self.app(scope, receive, send)
            status = {}
            body = []

            async def counting_send(message):
                if message["type"] == "http.response.start":
                    counts[key] = counts.get(key, 0) + 1
                    status["code"] = message["status"]
                elif message["type"] == "http.response.body" and status.get("code") == 422:
                    body.append(message.get("body", b""))
                    if not message.get("more_body"):
                        errors.append({"route": key, "body": b"".join(body).decode("utf-8", "replace")})
                await send(message)

            await self.app(scope, receive, counting_send)

    app.add_middleware(Count)
    # Called after the routes are declared: every route is listed from the start.
    for route in routes():
        for method in sorted(route.methods):
            counts[f"{method} {route.path}"] = 0
