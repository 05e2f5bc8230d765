"""The in-process SSHSIG verifier agrees with ``ssh-keygen -Y verify``."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gitreg import sshsig

KEY_TYPES = [
    ("ed25519", []),
    ("ecdsa", ["-b", "256"]),
    ("ecdsa", ["-b", "384"]),
    ("ecdsa", ["-b", "521"]),
    ("rsa", ["-b", "2048"]),
]
MESSAGE = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1 +0000\n\nhi\n"


def _key(folder: Path, key_type: str, extra: list[str]) -> Path:
    key = folder / f"id_{key_type}{''.join(extra)}"
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            key_type,
            *extra,
            "-N",
            "",
            "-C",
            "a@example.com",
            "-f",
            str(key),
        ],
        check=True,
    )
    return key


def _sign(key: Path, message: bytes, namespace: str = "git") -> str:
    payload = key.parent / "payload"
    payload.write_bytes(message)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", namespace, "-f", str(key), str(payload)],
        check=True,
        capture_output=True,
    )
    return payload.with_name("payload.sig").read_text(encoding="utf-8")


def _ssh_keygen_accepts(key: Path, signature: str, message: bytes) -> bool:
    allowed = key.parent / "allowed"
    allowed.write_text("a@example.com " + key.with_suffix(".pub").read_text(encoding="utf-8"))
    sig_file = key.parent / "check.sig"
    sig_file.write_text(signature, encoding="utf-8")
    result = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            "a@example.com",
            "-n",
            "git",
            "-s",
            str(sig_file),
        ],
        input=message,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _in_process_accepts(signature: str, message: bytes) -> bool:
    try:
        sshsig.verify(sshsig.parse(signature), message)
    except sshsig.SignatureError:
        return False
    return True


def _tamper(signature: str) -> str:
    lines = signature.splitlines()
    body = base64.b64decode("".join(lines[1:-1]))
    flipped = body[:-5] + bytes([body[-5] ^ 1]) + body[-4:]
    encoded = base64.b64encode(flipped).decode("ascii")
    return (
        "\n".join([lines[0], *[encoded[i : i + 70] for i in range(0, len(encoded), 70)], lines[-1]])
        + "\n"
    )


@pytest.fixture(params=KEY_TYPES, ids=lambda p: f"{p[0]}{''.join(p[1])}")
def key(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    key_type, extra = request.param
    return _key(tmp_path, key_type, extra)


def test_good_signature_agrees(key: Path) -> None:
    signature = _sign(key, MESSAGE)
    assert _ssh_keygen_accepts(key, signature, MESSAGE)
    assert _in_process_accepts(signature, MESSAGE)


def test_tampered_message_agrees(key: Path) -> None:
    signature = _sign(key, MESSAGE)
    tampered = MESSAGE.replace(b"hi", b"ho")
    assert not _ssh_keygen_accepts(key, signature, tampered)
    assert not _in_process_accepts(signature, tampered)


def test_tampered_signature_agrees(key: Path) -> None:
    signature = _tamper(_sign(key, MESSAGE))
    assert not _ssh_keygen_accepts(key, signature, MESSAGE)
    assert not _in_process_accepts(signature, MESSAGE)


def test_other_namespace_rejected(tmp_path: Path) -> None:
    key = _key(tmp_path, "ed25519", [])
    signature = sshsig.parse(_sign(key, MESSAGE, namespace="file"))
    with pytest.raises(sshsig.SignatureError, match="namespace 'file'"):
        sshsig.verify(signature, MESSAGE)


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    key = _key(tmp_path, "ed25519", [])
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(key.with_suffix(".pub"))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert sshsig.parse(_sign(key, MESSAGE)).fingerprint() == listed


def _armor(blob: bytes) -> str:
    return f"{sshsig.BEGIN}\n{base64.b64encode(blob).decode()}\n{sshsig.END}\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no armor", "BEGIN/END"),
        (f"{sshsig.BEGIN}\n!!!\n{sshsig.END}\n", "base64"),
        (_armor(b"NOTSIG"), "preamble"),
        (_armor(b"SSHSIG" + bytes([0, 0, 0, 2])), "version 2"),
        (_armor(b"SSHSIG" + bytes([0, 0, 0, 1, 0, 0, 0, 9])), "truncated"),
        (_armor(b"SSHSIG" + bytes([0, 0, 0, 1]) + bytes(20) + b"x"), "trailing"),
    ],
)
def test_malformed_signature_rejected(text: str, problem: str) -> None:
    with pytest.raises(sshsig.SignatureError, match=problem):
        sshsig.parse(text)


def test_unknown_hash_rejected() -> None:
    with pytest.raises(sshsig.SignatureError, match="md5"):
        sshsig.signed_data(b"", namespace="git", hash_algorithm="md5")


def test_sha1_rsa_rejected_by_both(tmp_path: Path) -> None:
    key = _key(tmp_path, "rsa", ["-b", "2048"])
    private = serialization.load_ssh_private_key(key.read_bytes(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    public = base64.b64decode(key.with_suffix(".pub").read_text().split()[1])
    data = sshsig.signed_data(MESSAGE, namespace="git", hash_algorithm="sha512")
    raw = private.sign(data, padding.PKCS1v15(), hashes.SHA1())
    blob = (
        b"SSHSIG"
        + bytes([0, 0, 0, 1])
        + sshsig._string(public)
        + sshsig._string(b"git")
        + sshsig._string(b"")
        + sshsig._string(b"sha512")
        + sshsig._string(sshsig._string(b"ssh-rsa") + sshsig._string(raw))
    )
    signature = _armor(blob)
    assert not _ssh_keygen_accepts(key, signature, MESSAGE)
    with pytest.raises(sshsig.SignatureError, match="SHA-1"):
        sshsig.verify(sshsig.parse(signature), MESSAGE)


def test_unsupported_key_type_rejected() -> None:
    blob = sshsig._string(b"ssh-dss") + sshsig._string(b"\x00")
    signature = sshsig.SshSignature(
        blob, "git", "sha512", sshsig._string(b"ssh-dss") + sshsig._string(b"")
    )
    with pytest.raises(sshsig.SignatureError, match="not supported"):
        sshsig.verify(signature, MESSAGE)
