"""Base-URL policy (SSRF guard): upstream URLs are http(s) only, and unless allowed they may not
reach loopback, private, link-local, shared, multicast, reserved or cloud-metadata addresses.

`normalize_base_url` is applied when a URL is saved; `check_host` when it is used, on every address
DNS gives for the host; `check_peer` on the address a connection actually reached (DNS rebinding).
"""
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

# Suffixes clients copy from provider docs; the stored base URL is the API root before them.
ENDPOINT_SUFFIXES = ("/chat/completions", "/completions", "/models")
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class BlockedUpstream(Exception):
    """The URL, or an address its host resolves to, is not allowed for this credential."""


def normalize_base_url(url):
    """The API root of `url` ("https://host/v1"): http(s) with a host, no credentials, query or fragment,
    no trailing slash or endpoint suffix. Raises ValueError with a user-facing reason."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("must be an http(s) URL")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError("must not contain a query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("has an invalid port") from None
    path = parts.path.rstrip("/")
    for suffix in ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
            break
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


def address_blocked(address):
    """True for an IP address an untrusted URL may not reach."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or not ip.is_global
    )


def resolve(host, port):
    """Every address DNS gives for host:port (raises BlockedUpstream when it cannot be resolved)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedUpstream(f"The upstream host {host} cannot be resolved") from exc
    return sorted({info[4][0] for info in infos})


def check_host(url):
    """Refuse `url` when its host is a metadata name or resolves to any blocked address."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise BlockedUpstream("The upstream URL names no host")
    if host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost"):
        raise BlockedUpstream(f"The upstream host {host} is internal and not allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in resolve(host, port):
        if address_blocked(address):
            raise BlockedUpstream(f"The upstream host {host} resolves to a private or internal address")


def check_peer(address):
    """Refuse a connection that reached a blocked address (after the pre-check, DNS may have changed)."""
    if address_blocked(address):
        raise BlockedUpstream("The upstream connection reached a private or internal address")
