"""Signing of commit and tag payloads, the way git itself signs them.

libgit2 does not sign, so gitreg builds each object's payload, passes it to the
program the git configuration names, and stores the detached signature: in a
commit's ``gpgsig`` header, or appended to a tag's message. The programs and
arguments follow git 2.39 (``gpg-interface.c``) so that ``git verify-commit`` and
``git verify-tag`` accept the result.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gitreg.errors import SigningError

logger = logging.getLogger(__name__)

SignatureFormat = Literal["openpgp", "ssh", "x509"]
_FORMATS: tuple[SignatureFormat, ...] = ("openpgp", "ssh", "x509")
_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class SigningConfig:
    """The signing settings read from the git configuration."""

    format: SignatureFormat = "openpgp"
    key: str | None = None
    openpgp_program: str = "gpg"
    ssh_program: str = "ssh-keygen"
    x509_program: str = "gpgsm"
    committer: str | None = None

    @staticmethod
    def parse_format(value: str | None) -> SignatureFormat:
        """Return a valid ``gpg.format`` value.

        Raises:
            SigningError: the value is not a format git supports.
        """
        if value is None:
            return "openpgp"
        for known in _FORMATS:
            if value == known:
                return known
        raise SigningError(
            f"gpg.format '{value}' is not supported",
            hint="set it to openpgp, ssh or x509",
        )


def sign(payload: str, config: SigningConfig) -> str:
    """Return the armored detached signature of ``payload``.

    Raises:
        SigningError: the signing program is missing, fails, or no key is set.
    """
    if config.format == "ssh":
        return _sign_ssh(payload, config)
    program = config.x509_program if config.format == "x509" else config.openpgp_program
    key = config.key or config.committer
    if not key:
        raise SigningError(
            "no signing key is configured",
            hint="set one with 'git config user.signingkey KEYID'",
        )
    output = _run([program, "--status-fd=2", "-bsau", key], payload.encode("utf-8"), key)
    if b"\n[GNUPG:] SIG_CREATED " not in b"\n" + output.stderr:
        raise SigningError(
            f"{program} did not sign with key '{key}': {_last_line(output.stderr)}",
            hint="check that the secret key exists with 'gpg --list-secret-keys'",
        )
    return output.stdout.decode("utf-8")


def _sign_ssh(payload: str, config: SigningConfig) -> str:
    if not config.key:
        raise SigningError(
            "gpg.format is ssh but user.signingkey is not set",
            hint="set it to the path of your SSH key: "
            "'git config user.signingkey ~/.ssh/id_ed25519.pub'",
        )
    with tempfile.TemporaryDirectory(prefix="gitreg-sign-") as folder:
        buffer = Path(folder) / "payload"
        buffer.write_text(payload, encoding="utf-8")
        if config.key.startswith("key::") or config.key.startswith("ssh-"):
            # A literal public key: the private half must be in ssh-agent.
            key_file = Path(folder) / "key.pub"
            key_file.write_text(config.key.removeprefix("key::") + "\n", encoding="utf-8")
            command = [config.ssh_program, "-Y", "sign", "-n", "git", "-f", str(key_file), "-U"]
        else:
            key_path = Path(config.key).expanduser()
            if not key_path.exists():
                raise SigningError(
                    f"SSH signing key '{config.key}' not found",
                    hint="set user.signingkey to an existing key file",
                )
            command = [config.ssh_program, "-Y", "sign", "-n", "git", "-f", str(key_path)]
        _run([*command, str(buffer)], b"", config.key)
        signature = buffer.with_name("payload.sig")
        if not signature.exists():
            raise SigningError(f"{config.ssh_program} wrote no signature with key '{config.key}'")
        return signature.read_text(encoding="utf-8")


def _run(command: list[str], stdin: bytes, key: str) -> subprocess.CompletedProcess[bytes]:
    logger.debug("signing with %s", command[0])
    try:
        result = subprocess.run(
            command, input=stdin, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False
        )
    except FileNotFoundError as exc:
        raise SigningError(
            f"signing program '{command[0]}' not found",
            hint="install it or point gpg.program / gpg.ssh.program at it",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise SigningError(
            f"signing with key '{key}' timed out after {_TIMEOUT_SECONDS} s",
            hint="unlock the key or start its agent, then run the command again",
        ) from exc
    if result.returncode != 0:
        raise SigningError(
            f"signing with key '{key}' failed: {_last_line(result.stderr)}",
            hint="check user.signingkey and that the key can sign without a prompt",
        )
    return result


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no error output"


def generate_ssh_key(path: Path, *, comment: str, program: str = "ssh-keygen") -> Path:
    """Create an ed25519 SSH key without a passphrase at ``path``; return the public key path.

    Raises:
        SigningError: ``ssh-keygen`` is missing or fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _run([program, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], b"", str(path))
    return path.with_name(path.name + ".pub")


def ssh_public_key(key: str) -> str:
    """Return the ``keytype base64`` public key that ``user.signingkey`` names.

    Raises:
        SigningError: the key file or its ``.pub`` companion does not exist.
    """
    literal = key.removeprefix("key::")
    if literal.startswith(("ssh-", "ecdsa-", "sk-")):
        return " ".join(literal.split()[:2])
    path = Path(key).expanduser()
    public = path if path.suffix == ".pub" else path.with_name(path.name + ".pub")
    try:
        text = public.read_text(encoding="utf-8")
    except OSError:
        raise SigningError(
            f"SSH public key '{public}' not found",
            hint="set user.signingkey to a key whose .pub file sits beside it",
        ) from None
    return " ".join(text.split()[:2])


def openpgp_export(key: str, *, program: str = "gpg") -> bytes:
    """Return the ASCII-armored public key ``key`` from the user's keyring.

    Raises:
        SigningError: gpg is missing, fails, or has no such key.
    """
    output = _run([program, "--batch", "--armor", "--export", key], b"", key)
    if not output.stdout.strip():
        raise SigningError(
            f"OpenPGP key '{key}' not found in the keyring",
            hint="list keys with 'gpg --list-keys'",
        )
    return output.stdout


def openpgp_fingerprints(armored: bytes, *, program: str = "gpg") -> list[tuple[str, str]]:
    """Return ``(primary fingerprint, first user id)`` for each key in ``armored``.

    Raises:
        SigningError: gpg is missing or cannot read the data.
    """
    command = [program, "--batch", "--with-colons", "--import-options", "show-only", "--import"]
    try:
        output = subprocess.run(
            command, input=armored, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise SigningError(
            f"could not run '{program}' to read OpenPGP keys: {exc}",
            hint="install gnupg or point gpg.program at it",
        ) from None
    if output.returncode != 0:
        raise SigningError(
            f"{program} could not read the OpenPGP key data: {_last_line(output.stderr)}",
            hint="pass an ASCII-armored public key, as 'gpg --armor --export KEYID' writes it",
        )
    keys: list[tuple[str, str]] = []
    expect_fingerprint = False
    for line in output.stdout.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            expect_fingerprint = True
        elif fields[0] == "fpr" and expect_fingerprint:
            keys.append((fields[9], ""))
            expect_fingerprint = False
        elif fields[0] == "uid" and keys and not keys[-1][1]:
            keys[-1] = (keys[-1][0], fields[9])
    return keys
