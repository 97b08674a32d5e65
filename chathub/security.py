"""Password hashing, encryption of stored secrets, and masking for display."""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password):
    """A salted scrypt hash of `password` (cost from PASSWORD_HASH_METHOD)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash, password):
    """True when `password` matches the stored hash."""
    return bool(password_hash) and check_password_hash(password_hash, password)


def _fernet():
    passphrase = current_app.config["CHATHUB_ENCRYPTION_KEY"].encode()
    key = base64.urlsafe_b64encode(hashlib.sha256(passphrase).digest())
    return Fernet(key)


def encrypt_secret(plaintext):
    """Fernet ciphertext (text) of a secret such as a provider API key."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(ciphertext):
    """The plaintext of `encrypt_secret`'s output; None if the key changed or the data is bad."""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def mask_secret(secret):
    """`sk-...abcd`: enough to recognise a key, never enough to use it."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "..." + secret[-2:] if len(secret) > 4 else "****"
    prefix = secret[:3]
    return f"{prefix}...{secret[-4:]}"
