"""Cover images: `data:image/...;base64,` URLs checked with Pillow, stored under the uploads folder
with generated names, and read back for serving.

Only PNG, JPEG, WebP and GIF are accepted, and the bytes must decode as the type the client claims.
Nothing the client sends ever becomes part of a path: files are named `<32 hex>.<ext>` by us.
"""
import base64
import binascii
import io
import os
import re
import secrets
import warnings

from flask import current_app
from PIL import Image, UnidentifiedImageError

from chathub.errors import ApiError

FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
MIMETYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
NAME_PATTERN = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp|gif)$")
DATA_URL = re.compile(r"^data:image/([a-z0-9.+-]+);base64,(.*)$", re.IGNORECASE | re.DOTALL)
URL_PREFIX = "/api/cloud/covers/"
MAX_PIXELS = 40_000_000
FIELD = "coverImageDataUrl"


def cover_error(message, field=FIELD):
    """A 400 naming the cover field."""
    return ApiError(400, "VALIDATION_ERROR", message, {field: [message]})


def max_bytes():
    """The largest accepted cover, in bytes (CHATHUB_COVER_MAX_BYTES)."""
    return int(current_app.config["CHATHUB_COVER_MAX_BYTES"])


def covers_dir():
    """The folder covers live in (created on demand)."""
    base = current_app.config.get("CHATHUB_UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads")
    path = os.path.join(base, "covers")
    os.makedirs(path, exist_ok=True)
    return path


def cover_url(name):
    """The URL a stored cover is served at, or None without a cover."""
    return f"{URL_PREFIX}{name}" if name else None


def name_from_url(value):
    """The cover file name if `value` is (a URL ending in) one of our cover URLs, else None."""
    match = re.search(r"/api/cloud/covers/([^/?#]+)$", value or "")
    return match.group(1) if match and NAME_PATTERN.match(match.group(1)) else None


def decode_data_url(data_url, field=FIELD):
    """(raw bytes, Pillow format name) of a `data:image/<png|jpeg|webp|gif>;base64,...` URL, or 400."""
    match = DATA_URL.match(data_url.strip())
    if not match:
        raise cover_error("Must be a data:image/png|jpeg|webp|gif;base64,... URL", field)
    kind = match.group(1).lower()
    if kind not in FORMATS:
        raise cover_error(f"Cover images must be PNG, JPEG, WebP or GIF (not {kind})", field)
    payload = re.sub(r"\s+", "", match.group(2))
    if len(payload) * 3 // 4 > max_bytes() + 3:
        raise cover_error(f"The cover image is larger than {max_bytes()} bytes", field)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise cover_error("The cover image is not valid base64", field) from None
    return raw, FORMATS[kind]


def check_image(raw, expected_format, field=FIELD):
    """400 unless `raw` fully decodes as an image of `expected_format` within the size limits."""
    if not raw:
        raise cover_error("The cover image is empty", field)
    if len(raw) > max_bytes():
        raise cover_error(f"The cover image is larger than {max_bytes()} bytes", field)
    label = expected_format.replace("WEBP", "WebP")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as image:
                if image.format != expected_format:
                    found = image.format or "unknown"
                    raise cover_error(f"The cover image claims to be {label} but is {found}", field)
                if image.width * image.height > MAX_PIXELS:
                    raise cover_error(f"The cover image has more than {MAX_PIXELS} pixels", field)
                image.load()
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Warning, Image.DecompressionBombError):
        raise cover_error(f"The cover image could not be decoded as {label}", field) from None


def store_image(raw, image_format, field=FIELD):
    """Check `raw` and write it under a generated name; returns the file name."""
    check_image(raw, image_format, field)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[image_format]}"
    folder = covers_dir()
    temporary = os.path.join(folder, f".{name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(raw)
    os.replace(temporary, os.path.join(folder, name))
    return name


def store_data_url(data_url, field=FIELD):
    """Decode, check and store a cover data URL; returns the generated file name."""
    raw, image_format = decode_data_url(data_url, field)
    return store_image(raw, image_format, field)


def cover_path(name):
    """The absolute path of a stored cover, or None for a malformed name or a missing file."""
    if not name or not NAME_PATTERN.match(name):
        return None
    path = os.path.join(covers_dir(), name)
    return path if os.path.isfile(path) else None


def read_cover(name):
    """(bytes, mimetype) of a stored cover, or None."""
    path = cover_path(name)
    if path is None:
        return None
    with open(path, "rb") as handle:
        return handle.read(), MIMETYPES[name.rsplit(".", 1)[1]]


def delete_cover(name):
    """Remove a stored cover file (missing files are fine)."""
    path = cover_path(name)
    if path:
        try:
            os.remove(path)
        except OSError:
            current_app.logger.warning("could not remove a replaced cover file")
