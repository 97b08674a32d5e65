"""Incremental parser of an upstream OpenAI-compatible chat stream (Server-Sent Events).

Feed it bytes as they arrive (`feed`), then call `finish` at the end of the stream; each returns
the `StreamItem`s completed so far. It copes with what real upstreams send: `data:` lines split
across network reads (even inside a UTF-8 character), CRLF or LF line ends, blank and `:` comment
keep-alive lines, `event:`/`id:` fields, `[DONE]`, an `{"error": ...}` object inside the stream,
usage in a final chunk, and malformed lines (reported, not fatal). Nothing Flask-specific.
"""
import codecs
import json
from dataclasses import dataclass

DELTA = "delta"  # text to append (`content`), maybe with a `finish_reason`
USAGE = "usage"  # token usage reported by the upstream
ERROR = "error"  # the upstream reported an error inside the stream
DONE = "done"  # `data: [DONE]`
MALFORMED = "malformed"  # a data payload that is not JSON (or not an object)

MAX_PENDING = 1024 * 1024  # a single event larger than this is malformed, not a memory leak


@dataclass
class StreamItem:
    """One meaningful thing read from the upstream stream."""

    kind: str
    content: str = ""
    finish_reason: str | None = None
    usage: dict | None = None
    error: str | None = None
    raw: str | None = None


class ChatStreamParser:
    """Turns an upstream byte stream into `StreamItem`s, one `feed` at a time."""

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data = []
        self.done = False
        self.finish_reason = None
        self.malformed = 0

    def feed(self, chunk):
        """Items completed by this chunk of bytes (or text)."""
        text = chunk if isinstance(chunk, str) else self._decoder.decode(chunk)
        self._buffer += text
        items = []
        while True:
            index = self._line_end()
            if index < 0:
                break
            line = self._buffer[:index]
            skip = 2 if self._buffer.startswith("\r\n", index) else 1
            self._buffer = self._buffer[index + skip:]
            items += self._line(line)
        if len(self._buffer) > MAX_PENDING:
            self._buffer = ""
            self._data = []
            items.append(self._malformed("(oversized line)"))
        return items

    def finish(self):
        """Items still pending when the stream ends (an event not followed by a blank line)."""
        text = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        items = self._line(text) if text else []
        return items + self._dispatch()

    def _line_end(self):
        """Index of the first line terminator (CR, LF or CRLF) in the buffer, -1 when none.

        A lone trailing CR may be the first half of a CRLF split across reads: wait for more."""
        lf, cr = self._buffer.find("\n"), self._buffer.find("\r")
        if cr < 0 or (0 <= lf < cr):
            return lf
        return cr if cr + 1 < len(self._buffer) else -1

    def _line(self, line):
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return []  # a comment: keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        return []  # event:, id:, retry: and unknown fields carry nothing a chat needs

    def _dispatch(self):
        if not self._data:
            return []
        payload = "\n".join(self._data)
        self._data = []
        return self.interpret(payload)

    def _malformed(self, payload):
        self.malformed += 1
        return StreamItem(MALFORMED, raw=payload[:200])

    def interpret(self, payload):
        """The items one `data:` payload stands for."""
        payload = payload.strip()
        if payload == "[DONE]":
            self.done = True
            return [StreamItem(DONE)]
        if not payload:
            return []
        try:
            body = json.loads(payload)
        except ValueError:
            return [self._malformed(payload)]
        if not isinstance(body, dict):
            return [self._malformed(payload)]
        if body.get("error"):
            return [StreamItem(ERROR, error=error_message(body["error"]))]
        items = []
        for choice in body.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            finish = choice.get("finish_reason")
            if finish:
                self.finish_reason = finish
            if (isinstance(content, str) and content) or finish:
                text = content if isinstance(content, str) else ""
                items.append(StreamItem(DELTA, content=text, finish_reason=finish))
            break  # ChatHub asks for one choice
        usage = body.get("usage")
        if isinstance(usage, dict) and usage:
            items.append(StreamItem(USAGE, usage=normalise_usage(usage)))
        return items


def error_message(error):
    """The human message of an upstream error object (or string)."""
    if isinstance(error, dict):
        message = error.get("message") or error.get("type") or error.get("code") or "unknown error"
    else:
        message = error
    return " ".join(str(message).split())[:300]


def normalise_usage(usage):
    """`{prompt_tokens, completion_tokens, total_tokens}` as ints from an upstream usage object."""

    def number(key):
        try:
            return max(0, int(usage.get(key) or 0))
        except (TypeError, ValueError):
            return 0

    prompt, completion = number("prompt_tokens"), number("completion_tokens")
    total = number("total_tokens") or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
