"""Reading and writing PNG text chunks (where character cards travel), without decoding pixels.

A PNG is an 8-byte signature followed by chunks: 4-byte length, 4-byte type, data, 4-byte CRC.
Cards sit in `tEXt` chunks keyed `chara` (V2) or `ccv3` (V3); some tools write `iTXt`/`zTXt`.
"""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")
MAX_INFLATED = 32 * 1024 * 1024


class PngError(ValueError):
    """The bytes are not a well-formed PNG."""


def is_png(raw):
    """True when `raw` starts with the PNG signature."""
    return raw[:8] == SIGNATURE


def chunks(raw):
    """[(type, data)] of every chunk, checking lengths and CRCs; PngError if malformed."""
    if not is_png(raw):
        raise PngError("not a PNG file")
    found, offset = [], 8
    while offset < len(raw):
        if offset + 12 > len(raw):
            raise PngError("truncated chunk header")
        length, kind = struct.unpack(">I4s", raw[offset:offset + 8])
        end = offset + 12 + length
        if end > len(raw):
            raise PngError("truncated chunk")
        data = raw[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", raw[end - 4:end])
        if zlib.crc32(kind + data) & 0xFFFFFFFF != crc:
            raise PngError("chunk checksum mismatch")
        found.append((kind, data))
        offset = end
        if kind == b"IEND":
            break
    if not found or found[0][0] != b"IHDR" or found[-1][0] != b"IEND":
        raise PngError("missing IHDR or IEND")
    return found


def _inflate(data):
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise PngError("compressed text chunk too large")
    return text


def text_entries(raw):
    """{keyword: text} of every text chunk (the first of each keyword wins)."""
    entries = {}
    for kind, data in chunks(raw):
        if kind not in TEXT_TYPES or b"\x00" not in data:
            continue
        keyword, _, rest = data.partition(b"\x00")
        try:
            if kind == b"tEXt":
                text = rest.decode("latin-1")
            elif kind == b"zTXt":
                text = _inflate(rest[1:]).decode("latin-1")
            else:
                compressed = rest[:1] == b"\x01"
                _language, _, rest = rest[2:].partition(b"\x00")
                _translated, _, body = rest.partition(b"\x00")
                text = (_inflate(body) if compressed else body).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            continue
        entries.setdefault(keyword.decode("latin-1"), text)
    return entries


def make_chunk(kind, data):
    """One encoded chunk."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def rebuild(raw, drop_text=(), add_text=None):
    """`raw` with text chunks named in `drop_text` (or all, for "*") removed and `add_text`
    ({keyword: ascii text}) written as tEXt chunks just before IEND."""
    out = [SIGNATURE]
    for kind, data in chunks(raw):
        if kind in TEXT_TYPES:
            keyword = data.partition(b"\x00")[0].decode("latin-1")
            if "*" in drop_text or keyword in drop_text:
                continue
        if kind == b"IEND":
            for keyword, text in (add_text or {}).items():
                out.append(make_chunk(b"tEXt", keyword.encode("latin-1") + b"\x00" + text.encode("latin-1")))
        out.append(make_chunk(kind, data))
    return b"".join(out)
