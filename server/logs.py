"""Structured logging: JSON lines in production, readable lines in development.

The JSON format (``TABLIUM_LOG_FORMAT=json``) uses Elastic Common Schema (ECS) field names,
so Filebeat ships it to Elasticsearch with no ingest pipeline (deploy/filebeat/). One line:

    {"@timestamp": "2026-12-03T10:15:02.123456Z", "message": "listening",
     "log": {"level": "info", "logger": "tablium.server"},
     "ecs": {"version": "8.11.0"}, "service": {"name": "tablium"}, "process": {"pid": 7},
     "tablium": {"ws": "ws://0.0.0.0:8765", "admin": "http://0.0.0.0:8080"}}

- ``message``: the event; ``@timestamp``: UTC, ISO 8601; ``log.level``, ``log.logger``.
- An exception becomes ``error.type``, ``error.message`` and ``error.stack_trace``.
- Every other key a call site binds (``table_id``, ``player``, ``ms``, ...) goes under the
  ``tablium`` object: ECS reserves the top level for its own fields (``error`` is an object
  there, never a string), and custom fields belong in a namespace of their own.

Client addresses are personal data (GDPR): a field named in ADDRESS_FIELDS (``address``,
``client_address``, ``peer``, ...) never reaches a line; ``<field>_hash`` does instead, an
HMAC-SHA256 of the address under ``TABLIUM_LOG_ADDRESS_KEY`` (a random key per process when
unset), 16 hex digits: lines from one address can be told apart and counted, the address
cannot be read back without the key. Log a client's address under one of those names.

Tracebacks are plain text in both formats. structlog's console default, when rich is
installed (the dev extras bring it), renders each traceback with every frame's local
variables: about 150 KB and 4 s of CPU per crash on our machines, on the event loop's thread,
so ten crashing sessions froze every other player for 40 s; and the locals of a login handler
hold the password. Plain tracebacks cost about a millisecond and show no values.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sys
import traceback
from typing import Any, Final, TextIO, final

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
ECS_VERSION: Final = "8.11.0"
SERVICE_NAME: Final = "tablium"
CUSTOM_NAMESPACE: Final = "tablium"
# structlog's bookkeeping keys: never part of a line.
_INTERNAL_KEYS: Final = frozenset({"_record", "_from_structlog"})
# Fields that hold a client's network address: logged only as a keyed hash.
ADDRESS_FIELDS: Final = frozenset(
    {"address", "client_address", "client_ip", "ip", "peer", "remote", "remote_addr"}
)
ADDRESS_HASH_HEX_CHARS: Final = 16


@final
class AddressPseudonymizer:
    """A structlog processor: each ADDRESS_FIELDS field becomes ``<field>_hash``."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, address: str) -> str:
        mac = hmac.new(self._key, address.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return mac.hexdigest()[:ADDRESS_HASH_HEX_CHARS]

    def __call__(
        self, _logger: Any, _method: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        for name in ADDRESS_FIELDS.intersection(event_dict):
            value = event_dict.pop(name)
            if value is not None:
                event_dict[f"{name}_hash"] = self.digest(str(value))
        return event_dict


def to_ecs(_logger: Any, _method: str, event_dict: structlog.typing.EventDict) -> dict[str, Any]:
    """Rename structlog's keys to ECS fields and namespace the rest (a structlog processor)."""
    fields = {k: v for k, v in event_dict.items() if k not in _INTERNAL_KEYS}
    line: dict[str, Any] = {"@timestamp": fields.pop("timestamp", None)}
    line["message"] = str(fields.pop("event", ""))
    line["log"] = {"level": fields.pop("level", "info"), "logger": fields.pop("logger", "")}
    line["ecs"] = {"version": ECS_VERSION}
    line["service"] = {"name": SERVICE_NAME}
    line["process"] = {"pid": os.getpid()}
    error = _error_fields(fields.pop("exc_info", None))
    fields.pop("exception", None)  # already formatted: error.stack_trace carries it
    if error:
        line["error"] = error
    if fields:
        line[CUSTOM_NAMESPACE] = fields
    return line


def _error_fields(exc_info: Any) -> dict[str, str]:
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or exc_info[0] is None:
        return {}
    kind, value, tb = exc_info
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return {
        "type": f"{module}{kind.__qualname__}",
        "message": str(value),
        "stack_trace": "".join(traceback.format_exception(kind, value, tb)),
    }


def configure_logging(
    log_format: str = "console",
    level: str = "info",
    stream: TextIO | None = None,
    *,
    address_key: str = "",
) -> None:
    """Route structlog and the standard library's loggers (hypercorn's too) to ``stream``
    (stderr by default). ``address_key``: the key client addresses are hashed with (empty:
    a random one)."""
    stream = sys.stderr if stream is None else stream
    key = address_key.encode() if address_key else secrets.token_bytes(32)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        AddressPseudonymizer(key),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatting: list[structlog.typing.Processor]
    if log_format == "json":
        shared.append(structlog.stdlib.add_logger_name)  # log.logger (console lines omit it)
        formatting = [to_ecs, structlog.processors.JSONRenderer()]
    else:
        formatting = [
            structlog.dev.ConsoleRenderer(
                colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *formatting,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
