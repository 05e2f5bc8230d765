"""Trust files: the allowed-signers format and signature checks against a policy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitreg import trust
from gitreg.trust import GpgVerifier, TrustError, parse_allowed_signers, policy_from_files

PAYLOAD = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmessage\n"


def _sign(key: Path, payload: bytes = PAYLOAD, namespace: str = "git") -> bytes:
    file = key.parent / "payload"
    file.write_bytes(payload)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", namespace, "-f", str(key), str(file)],
        check=True,
        capture_output=True,
    )
    return file.with_name("payload.sig").read_bytes()


def _public(key: Path) -> str:
    return " ".join(key.with_suffix(".pub").read_text().split()[:2])


def _policy(line: str) -> trust.TrustPolicy:
    return policy_from_files({"allowed_signers": line.encode()}, source="test policy")


def test_parse_plain_line(ssh_key: Path) -> None:
    (signer,) = parse_allowed_signers(f"a@example.com {_public(ssh_key)} laptop", source="f")
    assert signer.principals == ("a@example.com",)
    assert signer.key_type == "ssh-ed25519"
    assert signer.comment == "laptop"


def test_parse_options(ssh_key: Path) -> None:
    line = (
        f'"a@example.com,b@example.com" namespaces="git,file",valid-after="20250101",'
        f"valid-before=20300101120000Z {_public(ssh_key)}"
    )
    (signer,) = parse_allowed_signers(line, source="f")
    assert signer.principals == ("a@example.com", "b@example.com")
    assert signer.namespaces == ("git", "file")
    assert signer.valid_after is not None
    assert signer.valid_before == 1893499200


def test_comments_and_blank_lines_skipped(ssh_key: Path) -> None:
    text = f"# team keys\n\n  a@example.com {_public(ssh_key)}\n"
    assert len(parse_allowed_signers(text, source="f")) == 1


def test_to_line_round_trips(ssh_key: Path) -> None:
    line = f'a@example.com cert-authority,namespaces="git" {_public(ssh_key)} note'
    (signer,) = parse_allowed_signers(line, source="f")
    assert parse_allowed_signers(signer.to_line(), source="f")[0] == signer


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("a@example.com", "expected 'principals"),
        ('a@example.com "unterminated ssh-ed25519 AAAA', "unterminated"),
        ("a@example.com bogus-option ssh-ed25519 AAAA", "unknown option"),
        ('a@example.com valid-after="2025" ssh-ed25519 AAAA', "YYYYMMDD"),
        ('a@example.com namespaces="git" ssh-ed25519', "expected a key type"),
        ("a@example.com ssh-ed25519 !!!notbase64", "not valid base64"),
        ("a@example.com ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA==", "does not match key type"),
    ],
)
def test_malformed_line_names_file_and_line(line: str, problem: str) -> None:
    with pytest.raises(TrustError, match=f"f:2: invalid allowed-signers line: .*{problem}"):
        parse_allowed_signers(f"# first\n{line}\n", source="f")


def test_trusted_ssh_signature(ssh_key: Path) -> None:
    with GpgVerifier() as gpg:
        signer = _policy(f"a@example.com {_public(ssh_key)}").check(
            _sign(ssh_key), PAYLOAD, at=0, gpg=gpg
        )
    assert signer.identity == "a@example.com"


def test_untrusted_ssh_key(ssh_key: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    with GpgVerifier() as gpg, pytest.raises(TrustError, match=r"test policy does not allow$"):
        _policy(f"a@example.com {_public(ssh_key)}").check(_sign(other), PAYLOAD, at=0, gpg=gpg)


def test_tampered_payload_rejected(ssh_key: Path) -> None:
    with GpgVerifier() as gpg, pytest.raises(TrustError, match="invalid SSH signature"):
        _policy(f"a@example.com {_public(ssh_key)}").check(
            _sign(ssh_key), PAYLOAD + b"x", at=0, gpg=gpg
        )


@pytest.mark.parametrize(
    ("options", "at", "reason"),
    [
        ('namespaces="file"', 0, "not allowed for namespace 'git'"),
        ('valid-after="20300101"', 0, "predates the key's valid-after"),
        ('valid-before="20200101"', 1_900_000_000, "after the key's valid-before"),
        ("cert-authority", 0, "certificate authority"),
    ],
)
def test_key_options_limit_trust(ssh_key: Path, options: str, at: int, reason: str) -> None:
    policy = _policy(f"a@example.com {options} {_public(ssh_key)}")
    with GpgVerifier() as gpg, pytest.raises(TrustError, match=reason):
        policy.check(_sign(ssh_key), PAYLOAD, at=at, gpg=gpg)


def test_x509_signature_rejected() -> None:
    with GpgVerifier() as gpg, pytest.raises(TrustError, match="x509 is not supported"):
        _policy("").check(b"-----BEGIN SIGNED MESSAGE-----\n", PAYLOAD, at=0, gpg=gpg)


def test_empty_policy() -> None:
    assert policy_from_files({}, source="none").empty


def _gpg_sign(payload: bytes, fingerprint: str) -> bytes:
    return subprocess.run(
        ["gpg", "--batch", "--armor", "--detach-sign", "-u", fingerprint],
        input=payload,
        capture_output=True,
        check=True,
    ).stdout


def _gpg_export(fingerprint: str) -> bytes:
    return subprocess.run(
        ["gpg", "--batch", "--armor", "--export", fingerprint], capture_output=True, check=True
    ).stdout


def test_openpgp_signature_trusted(gpg_key: str) -> None:
    policy = policy_from_files({"team.asc": _gpg_export(gpg_key)}, source="p")
    with GpgVerifier() as gpg:
        signer = policy.check(_gpg_sign(PAYLOAD, gpg_key), PAYLOAD, at=0, gpg=gpg)
    assert signer.identity == gpg_key


def test_openpgp_tampered_rejected(gpg_key: str) -> None:
    policy = policy_from_files({"team.asc": _gpg_export(gpg_key)}, source="p")
    with GpgVerifier() as gpg, pytest.raises(TrustError, match="invalid OpenPGP signature"):
        policy.check(_gpg_sign(PAYLOAD, gpg_key), PAYLOAD + b"x", at=0, gpg=gpg)


def test_openpgp_unknown_key_rejected(gpg_key: str, tmp_path: Path) -> None:
    home = tmp_path / "other-gnupg"
    home.mkdir(mode=0o700)
    subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--batch",
            "--passphrase",
            "",
            "--quick-generate-key",
            "Other <o@example.com>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    exported = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--armor", "--export"],
        capture_output=True,
        check=True,
    ).stdout
    policy = policy_from_files({"other.asc": exported}, source="p")
    with GpgVerifier() as gpg, pytest.raises(TrustError, match="which p does not allow"):
        policy.check(_gpg_sign(PAYLOAD, gpg_key), PAYLOAD, at=0, gpg=gpg)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def test_missing_gpg_program(gpg_key: str) -> None:
    policy = policy_from_files({"team.asc": _gpg_export(gpg_key)}, source="p")
    with GpgVerifier("gpg-not-installed") as gpg, pytest.raises(TrustError, match="not found"):
        policy.check(_gpg_sign(PAYLOAD, gpg_key), PAYLOAD, at=0, gpg=gpg)
