"""The upstream SSE parser: deltas, usage, [DONE], errors and malformed lines, however the bytes are cut."""
import json

import pytest

from chathub.upstream.sse import DELTA, DONE, ERROR, MALFORMED, USAGE, ChatStreamParser


def chunk(content=None, finish=None, usage=None):
    body = {"object": "chat.completion.chunk", "choices": []}
    if content is not None or finish is not None:
        body["choices"] = [{"index": 0, "delta": {"content": content} if content is not None else {},
                            "finish_reason": finish}]
    if usage is not None:
        body["usage"] = usage
    return "data: " + json.dumps(body, ensure_ascii=False) + "\n\n"


STREAM = (
    ": keep-alive\n\n"
    + chunk("")
    + chunk("Héllo ")
    + "\n"
    + chunk("wörld 👋")
    + chunk(finish="stop")
    + chunk(usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
    + "data: [DONE]\n\n"
).encode()


def parse(pieces):
    parser = ChatStreamParser()
    items = []
    for piece in pieces:
        items += parser.feed(piece)
    return items + parser.finish(), parser


def text_of(items):
    return "".join(i.content for i in items if i.kind == DELTA)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_the_reply_is_the_same_however_the_bytes_are_split(size):
    items, parser = parse([STREAM[i:i + size] for i in range(0, len(STREAM), size)])
    assert text_of(items) == "Héllo wörld 👋"
    assert [i.usage for i in items if i.kind == USAGE] == [{"prompt_tokens": 7, "completion_tokens": 3,
                                                             "total_tokens": 10}]
    assert items[-1].kind == DONE and parser.done and parser.finish_reason == "stop"
    assert not any(i.kind in (ERROR, MALFORMED) for i in items)


def test_deltas_come_out_as_soon_as_their_event_is_complete():
    parser = ChatStreamParser()
    line = chunk("one ").encode()
    assert parser.feed(line[:-1]) == []  # the blank line that ends the event has not arrived
    assert text_of(parser.feed(line[-1:])) == "one "


def test_crlf_line_ends_even_when_split_between_cr_and_lf():
    raw = chunk("a").replace("\n", "\r\n").encode() + chunk("b").replace("\n", "\r").encode()
    cut = raw.index(b"\r") + 1
    items, _ = parse([raw[:cut], raw[cut:]])
    assert text_of(items) == "ab"


def test_an_error_object_in_the_stream_is_reported_with_its_message():
    raw = chunk("partial ") + 'data: {"error": {"message": "The model   overloaded", "type": "server_error"}}\n\n'
    items, _ = parse([raw.encode()])
    assert text_of(items) == "partial "
    assert items[-1].kind == ERROR and items[-1].error == "The model overloaded"


@pytest.mark.parametrize("payload", ["{this is not json", "[1, 2]", '"text"'])
def test_malformed_payloads_are_reported_and_do_not_stop_parsing(payload):
    items, parser = parse([(chunk("a") + f"data: {payload}\n\n" + chunk("b")).encode()])
    assert text_of(items) == "ab"
    assert [i.kind for i in items].count(MALFORMED) == 1 and parser.malformed == 1


def test_an_event_cut_off_by_the_end_of_the_stream_is_still_read_and_incompleteness_is_visible():
    items, parser = parse([b'data: {"choices": [{"delta": {"content": "last"}}]}'])
    assert text_of(items) == "last"
    assert not parser.done and parser.finish_reason is None


def test_event_and_id_fields_and_multi_line_data_follow_the_sse_rules():
    raw = 'event: message\nid: 5\nretry: 10\ndata: {"choices": [{"delta":\ndata: {"content": "x"}}]}\n\n'
    items, _ = parse([raw.encode()])
    assert text_of(items) == "x"


def test_usage_values_are_normalised():
    items, _ = parse([chunk(usage={"prompt_tokens": "4", "completion_tokens": None}).encode()])
    assert items[0].kind == USAGE and items[0].usage == {"prompt_tokens": 4, "completion_tokens": 0, "total_tokens": 4}
