"""The mirror's signing key and its signatures, in OpenSSH's SSHSIG format.

A reader checks a copy of the mirror with a tool already on their machine:

    ssh-keygen -Y verify -f allowed_signers -I mirror -n newsmirror -s SHA256SUMS.sig < SHA256SUMS
    sha256sum -c SHA256SUMS

The key is Ed25519, stored in OpenSSH's own formats (so ``ssh-keygen -Y sign``
can use it too), and signatures are made here with ``cryptography``: the server
that builds the mirror needs no OpenSSH. Ed25519 signatures are deterministic,
so the same manifest always gets the same signature bytes (an unchanged tree
stays unchanged).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NAMESPACE = "newsmirror"
_MAGIC = b"SSHSIG"
_HASH = "sha512"
_KEY_TYPE = b"ssh-ed25519"
_ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOR_END = "-----END SSH SIGNATURE-----"
# The fingerprint pages show: "SHA256:" and its first characters, enough to compare by eye.
SHORT_FINGERPRINT = 16


class SigningError(Exception):
    """A key or signature cannot be read, made or checked; the message is for the user."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_strings(data: bytes) -> list[bytes]:
    out, offset = [], 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise SigningError("not an SSH signature (truncated)")
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        offset += 4
        if offset + length > len(data):
            raise SigningError("not an SSH signature (truncated)")
        out.append(data[offset : offset + length])
        offset += length
    return out


@dataclass(frozen=True, slots=True)
class PublicKey:
    key: Ed25519PublicKey
    comment: str = ""

    @property
    def blob(self) -> bytes:
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return _string(_KEY_TYPE) + _string(raw)

    @property
    def fingerprint(self) -> str:
        """As ``ssh-keygen -l`` shows it: SHA256:<base64 without padding>."""
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[: len("SHA256:") + SHORT_FINGERPRINT]

    def openssh(self) -> str:
        """The one line of an OpenSSH .pub file."""
        line = "ssh-ed25519 " + base64.b64encode(self.blob).decode()
        return f"{line} {self.comment}\n" if self.comment else line + "\n"

    def matches(self, fingerprint: str) -> bool:
        """Is this the key of ``fingerprint`` (whole, or the short form pages show)?"""
        given = fingerprint.strip()
        if not given.startswith("SHA256:"):
            given = "SHA256:" + given
        return len(given) >= len(self.short_fingerprint) and self.fingerprint.startswith(given)


def parse_public_key(text: str) -> PublicKey:
    """An OpenSSH public key line (``ssh-ed25519 AAAA… comment``), or an allowed_signers line."""
    parts = text.strip().split()
    if "ssh-ed25519" in parts:
        parts = parts[parts.index("ssh-ed25519") :]
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise SigningError("not an Ed25519 OpenSSH public key (expected a line 'ssh-ed25519 AAAA…')")
    try:
        fields = _read_strings(base64.b64decode(parts[1], validate=True))
    except (ValueError, SigningError):
        raise SigningError("not an Ed25519 OpenSSH public key (its base64 part does not decode)") from None
    if len(fields) != 2 or fields[0] != _KEY_TYPE or len(fields[1]) != 32:
        raise SigningError("not an Ed25519 OpenSSH public key")
    return PublicKey(Ed25519PublicKey.from_public_bytes(fields[1]), " ".join(parts[2:]))


def public_key_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".pub")


def generate_key(key_path: Path, comment: str) -> PublicKey:
    """A new key at ``key_path`` (mode 0600) and its public key beside it (``.pub``)."""
    private = Ed25519PrivateKey.generate()
    data = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = PublicKey(private.public_key(), comment)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    temp = key_path.with_name(f".{key_path.name}.tmp-{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, key_path)
    public_key_path(key_path).write_text(public.openssh(), "utf-8")
    return public


@dataclass(frozen=True, slots=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: PublicKey

    def sign(self, message: bytes) -> str:
        """A detached SSHSIG signature of ``message``, armored as ``ssh-keygen -Y sign`` writes it."""
        signed = _signed_data(message)
        signature = _string(_KEY_TYPE) + _string(self.private.sign(signed))
        blob = (
            _MAGIC
            + struct.pack(">I", 1)
            + _string(self.public.blob)
            + _string(NAMESPACE.encode())
            + _string(b"")
            + _string(_HASH.encode())
            + _string(signature)
        )
        text = base64.b64encode(blob).decode()
        lines = [text[i : i + 70] for i in range(0, len(text), 70)]
        return "\n".join([_ARMOR_BEGIN, *lines, _ARMOR_END]) + "\n"


def load_key(key_path: Path) -> SigningKey:
    try:
        private = serialization.load_ssh_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError:
        raise SigningError(f"{key_path}: no signing key; run 'newsmirror keygen' to make one") from None
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{key_path}: cannot read the signing key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningError(f"{key_path}: not an Ed25519 key; make one with 'newsmirror keygen'")
    comment = ""
    pub = public_key_path(key_path)
    if pub.exists():
        parts = pub.read_text("utf-8").split()
        comment = " ".join(parts[2:])
    return SigningKey(private, PublicKey(private.public_key(), comment))


def _signed_data(message: bytes) -> bytes:
    digest = hashlib.sha512(message).digest()
    return _MAGIC + _string(NAMESPACE.encode()) + _string(b"") + _string(_HASH.encode()) + _string(digest)


def signer_of(signature: str) -> PublicKey:
    """The public key a signature says it was made with (not yet checked)."""
    return PublicKey(Ed25519PublicKey.from_public_bytes(_unpack(signature)[0][1]))


def _unpack(signature: str) -> tuple[list[bytes], bytes]:
    text = signature.strip()
    if not (text.startswith(_ARMOR_BEGIN) and text.endswith(_ARMOR_END)):
        raise SigningError("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
    body = "".join(text[len(_ARMOR_BEGIN) : -len(_ARMOR_END)].split())
    try:
        blob = base64.b64decode(body, validate=True)
    except ValueError:
        raise SigningError("not an SSH signature (bad base64)") from None
    if not blob.startswith(_MAGIC) or blob[6:10] != struct.pack(">I", 1):
        raise SigningError("not an SSH signature (version 1 expected)")
    key_blob, namespace, _reserved, hash_alg, sig_blob = _read_strings(blob[10:])
    key_fields = _read_strings(key_blob)
    sig_fields = _read_strings(sig_blob)
    if key_fields[0] != _KEY_TYPE or sig_fields[0] != _KEY_TYPE or len(key_fields[1]) != 32:
        raise SigningError("not an Ed25519 SSH signature")
    if namespace != NAMESPACE.encode() or hash_alg != _HASH.encode():
        raise SigningError(f"not a newsmirror signature (namespace {namespace!r}, hash {hash_alg!r})")
    return key_fields, sig_fields[1]


def verify(message: bytes, signature: str, key: PublicKey) -> None:
    """Raise ``SigningError`` unless ``signature`` is ``key``'s signature of ``message``."""
    key_fields, raw = _unpack(signature)
    signer = PublicKey(Ed25519PublicKey.from_public_bytes(key_fields[1]))
    if signer.blob != key.blob:
        raise SigningError(f"signed with another key ({signer.fingerprint}), not {key.fingerprint}")
    try:
        key.key.verify(raw, _signed_data(message))
    except InvalidSignature:
        raise SigningError("the signature does not match SHA256SUMS: the manifest was altered") from None
