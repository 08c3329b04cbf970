"""Request ids and JSON log lines, so one request's lines can be found across app servers."""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.dispatch import receiver

# The id of the request this thread is answering ("" outside a request).
request_id = contextvars.ContextVar("request_id", default="")

# What we accept from nginx: anything else (too long, or characters that could forge
# a log line) is replaced by an id of our own.
ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Set by the access log line; copied into the JSON object when present.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")

access_log = logging.getLogger("dateline.request")


class RequestIdMiddleware:
    """Names each request (X-Request-ID from the proxy, or a new id), answers with the
    name, and writes one access log line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        current = given if ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex
        # Not reset on the way out: Django logs a 4xx or 5xx after the middleware has
        # returned. request_finished clears it once the answer is sent.
        request_id.set(current)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = current
        # Errors are logged with their traceback by django.request; this is the count.
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


@receiver(request_finished)
def forget_request_id(**kwargs):
    request_id.set("")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record, for the text format too."""

    def filter(self, record):
        record.request_id = request_id.get() or "-"
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: what a log collector parses without a pattern."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get() or None,
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        # default=str: a record's odd argument must never cost the line.
        return json.dumps(line, default=str, ensure_ascii=False)
