"""SSH signatures (SSHSIG) parsed and verified in-process.

The format is OpenSSH's ``PROTOCOL.sshsig``: an armored blob that carries the
signer's public key, a namespace, the hash algorithm applied to the message, and
the signature over a small "signed data" structure that wraps that hash. git signs
commits and tags in the namespace ``git``. Verifying in-process with
``cryptography`` avoids one ``ssh-keygen`` process per object, which is what makes
a history walk over thousands of commits fast.

Supported keys: ed25519, ECDSA on NIST P-256, P-384 and P-521, and RSA with
``rsa-sha2-256`` or ``rsa-sha2-512`` signatures. RSA signatures with SHA-1
(``ssh-rsa``) are rejected, as ``ssh-keygen -Y verify`` of OpenSSH 9.2 does.
Security-key types (``sk-*``) and certificates are not supported: verification
fails with an error that names the key type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gitreg.errors import GitregError

BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
GIT_NAMESPACE = "git"

_MAGIC = b"SSHSIG"
_VERSION = 1
_MESSAGE_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_ECDSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "ecdsa-sha2-nistp256": hashes.SHA256,
    "ecdsa-sha2-nistp384": hashes.SHA384,
    "ecdsa-sha2-nistp521": hashes.SHA512,
}
_RSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "rsa-sha2-256": hashes.SHA256,
    "rsa-sha2-512": hashes.SHA512,
}


class SignatureError(GitregError):
    """An SSH signature that is malformed, unsupported or does not verify."""


@dataclass(frozen=True)
class SshSignature:
    """The fields of one SSHSIG blob."""

    public_key: bytes
    namespace: str
    hash_algorithm: str
    signature: bytes

    @property
    def key_type(self) -> str:
        return _Reader(self.public_key).string().decode("ascii", "replace")

    def fingerprint(self) -> str:
        """Return the key's fingerprint as ``ssh-keygen -l`` prints it: ``SHA256:...``."""
        return key_fingerprint(self.public_key)


def key_fingerprint(public_key: bytes) -> str:
    """Return ``SHA256:<base64 without padding>`` of an SSH public key blob."""
    digest = base64.b64encode(hashlib.sha256(public_key).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


class _Reader:
    """Reads the SSH wire encoding: uint32 lengths followed by that many bytes."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def uint32(self) -> int:
        if self._offset + 4 > len(self._data):
            raise SignatureError("SSH signature is truncated")
        (value,) = struct.unpack_from(">I", self._data, self._offset)
        self._offset += 4
        return int(value)

    def string(self) -> bytes:
        length = self.uint32()
        end = self._offset + length
        if end > len(self._data):
            raise SignatureError("SSH signature is truncated")
        value = self._data[self._offset : end]
        self._offset = end
        return value

    def raw(self, length: int) -> bytes:
        value = self._data[self._offset : self._offset + length]
        self._offset += length
        return value

    def at_end(self) -> bool:
        return self._offset == len(self._data)


def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def parse(armored: str | bytes) -> SshSignature:
    """Parse an armored SSH signature.

    Raises:
        SignatureError: the text is not a version 1 SSHSIG blob.
    """
    text = armored.decode("ascii", "replace") if isinstance(armored, bytes) else armored
    start = text.find(BEGIN)
    stop = text.find(END)
    if start < 0 or stop < start:
        raise SignatureError("not an armored SSH signature (no BEGIN/END SSH SIGNATURE lines)")
    body = "".join(text[start + len(BEGIN) : stop].split())
    try:
        blob = base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise SignatureError(f"SSH signature is not valid base64: {exc}") from None
    reader = _Reader(blob)
    if reader.raw(len(_MAGIC)) != _MAGIC:
        raise SignatureError("SSH signature does not start with the SSHSIG preamble")
    version = reader.uint32()
    if version != _VERSION:
        raise SignatureError(f"SSH signature version {version} is not supported (expected 1)")
    public_key = reader.string()
    namespace = reader.string().decode("utf-8", "replace")
    reader.string()  # reserved
    hash_algorithm = reader.string().decode("ascii", "replace")
    signature = reader.string()
    if not reader.at_end():
        raise SignatureError("SSH signature has trailing bytes")
    return SshSignature(public_key, namespace, hash_algorithm, signature)


def signed_data(message: bytes, *, namespace: str, hash_algorithm: str) -> bytes:
    """Return the structure that the private key signs for ``message``.

    Raises:
        SignatureError: ``hash_algorithm`` is neither sha256 nor sha512.
    """
    hasher = _MESSAGE_HASHES.get(hash_algorithm)
    if hasher is None:
        raise SignatureError(f"SSH signature hash algorithm '{hash_algorithm}' is not supported")
    return (
        _MAGIC
        + _string(namespace.encode("utf-8"))
        + _string(b"")
        + _string(hash_algorithm.encode("ascii"))
        + _string(hasher(message).digest())
    )


@lru_cache(maxsize=256)
def _load_key(public_key: bytes) -> object:
    key_type = _Reader(public_key).string()
    line = key_type + b" " + base64.b64encode(public_key)
    try:
        return serialization.load_ssh_public_key(line)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureError(
            f"SSH key type '{key_type.decode('ascii', 'replace')}' is not supported: {exc}"
        ) from None


def verify(signature: SshSignature, message: bytes, *, namespace: str = GIT_NAMESPACE) -> None:
    """Check that ``signature`` is a valid signature of ``message`` by its embedded key.

    This proves only that the embedded key signed; whether that key is trusted is
    the caller's decision.

    Raises:
        SignatureError: wrong namespace, unsupported key or algorithm, or a
            signature that does not match the message.
    """
    if signature.namespace != namespace:
        raise SignatureError(
            f"SSH signature is for namespace '{signature.namespace}', not '{namespace}'"
        )
    data = signed_data(message, namespace=namespace, hash_algorithm=signature.hash_algorithm)
    reader = _Reader(signature.signature)
    algorithm = reader.string().decode("ascii", "replace")
    raw = reader.string()
    key = _load_key(signature.public_key)
    try:
        _verify_raw(key, signature.key_type, algorithm, raw, data)
    except InvalidSignature:
        raise SignatureError(
            f"SSH signature by {signature.fingerprint()} does not match the signed content"
        ) from None


def _verify_raw(key: object, key_type: str, algorithm: str, raw: bytes, data: bytes) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey) and algorithm == "ssh-ed25519":
        key.verify(raw, data)
        return
    if isinstance(key, ec.EllipticCurvePublicKey) and algorithm == key_type:
        numbers = _Reader(raw)
        r = int.from_bytes(numbers.string(), "big")
        s = int.from_bytes(numbers.string(), "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_ECDSA_HASHES[algorithm]()))
        return
    if isinstance(key, rsa.RSAPublicKey) and algorithm in _RSA_HASHES:
        key.verify(raw, data, padding.PKCS1v15(), _RSA_HASHES[algorithm]())
        return
    raise SignatureError(
        f"SSH signature algorithm '{algorithm}' is not accepted for a '{key_type}' key"
        + (" (RSA signatures with SHA-1 are rejected)" if algorithm == "ssh-rsa" else "")
    )
