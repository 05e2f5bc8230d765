"""The trust policy kept in the repository: who may sign registry commits and tags.

Trust files live under ``.gitreg/``:

- ``allowed_signers``: SSH keys in the OpenSSH allowed-signers format
  (``ssh-keygen(1)``, section ALLOWED SIGNERS): ``principals [options] keytype
  base64-key [comment]``. The options ``namespaces``, ``valid-after`` and
  ``valid-before`` are honoured; ``cert-authority`` lines are read but never match,
  because certificate signatures are not supported.
- ``*.asc``: ASCII-armored OpenPGP public keys. Signatures are checked by gpg
  against a temporary keyring that contains exactly these keys.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from gitreg import sshsig
from gitreg.errors import GitregError

TRUST_DIR = ".gitreg"
ALLOWED_SIGNERS = "allowed_signers"
ALLOWED_SIGNERS_PATH = f"{TRUST_DIR}/{ALLOWED_SIGNERS}"
OPENPGP_SUFFIX = ".asc"
_GPG_TIMEOUT_SECONDS = 60
_KEY_TYPE_PREFIXES = ("ssh-", "ecdsa-", "sk-")


class TrustError(GitregError):
    """A signature that is missing, invalid, or made by a key the policy does not allow."""


@dataclass(frozen=True)
class AllowedSigner:
    """One line of an allowed-signers file."""

    principals: tuple[str, ...]
    key_type: str
    public_key: bytes
    namespaces: tuple[str, ...] | None = None
    valid_after: int | None = None
    valid_before: int | None = None
    cert_authority: bool = False
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        return sshsig.key_fingerprint(self.public_key)

    def allows(self, *, namespace: str, at: int) -> str | None:
        """Return why this line does not allow a signature, or None when it does."""
        if self.cert_authority:
            return (
                "the key is a certificate authority, and certificate signatures are not supported"
            )
        if self.namespaces is not None and namespace not in self.namespaces:
            return f"the key is not allowed for namespace '{namespace}'"
        if self.valid_after is not None and at < self.valid_after:
            return "the signature predates the key's valid-after time"
        if self.valid_before is not None and at > self.valid_before:
            return "the signature is after the key's valid-before time"
        return None

    def to_line(self) -> str:
        """Render the line as it is written to the file."""
        options = []
        if self.cert_authority:
            options.append("cert-authority")
        if self.namespaces is not None:
            options.append(f'namespaces="{",".join(self.namespaces)}"')
        key = base64.b64encode(self.public_key).decode("ascii")
        parts = [",".join(self.principals), *([",".join(options)] if options else [])]
        parts += [self.key_type, key, *([self.comment] if self.comment else [])]
        return " ".join(parts)


def _tokens(line: str) -> list[str]:
    """Split on whitespace outside double quotes; quotes stay in option tokens."""
    tokens: list[str] = []
    current = ""
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char.isspace() and not quoted:
            if current:
                tokens.append(current)
            current = ""
            continue
        current += char
    if quoted:
        raise ValueError("unterminated double quote")
    if current:
        tokens.append(current)
    return tokens


def _split_options(text: str) -> list[str]:
    options: list[str] = []
    current = ""
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            options.append(current)
            current = ""
            continue
        current += char
    options.append(current)
    return options


def _parse_time(value: str) -> int:
    """Parse an allowed-signers time: YYYYMMDD[HHMM[SS]][Z], local time unless Z."""
    utc = value.endswith("Z")
    digits = value.removesuffix("Z")
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if len(digits) not in formats or not digits.isdigit():
        raise ValueError(f"time '{value}' is not YYYYMMDD[HHMM[SS]][Z]")
    parsed = datetime.strptime(digits, formats[len(digits)])
    if utc:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


def _apply_option(option: str, fields: dict[str, object]) -> None:
    name, _, value = option.partition("=")
    value = value.strip('"')
    lowered = name.lower()
    if lowered == "cert-authority":
        fields["cert_authority"] = True
    elif lowered == "namespaces":
        fields["namespaces"] = tuple(part.strip() for part in value.split(",") if part.strip())
    elif lowered == "valid-after":
        fields["valid_after"] = _parse_time(value)
    elif lowered == "valid-before":
        fields["valid_before"] = _parse_time(value)
    else:
        raise ValueError(f"unknown option '{name}'")


def parse_signer_line(line: str) -> AllowedSigner:
    """Parse one non-empty, non-comment allowed-signers line.

    Raises:
        ValueError: the line is malformed, and the message explains why.
    """
    tokens = _tokens(line)
    if len(tokens) < 3:
        raise ValueError("expected 'principals [options] keytype base64-key'")
    principals = tuple(part for part in tokens[0].strip('"').split(",") if part)
    fields: dict[str, object] = {}
    rest = tokens[1:]
    if not rest[0].startswith(_KEY_TYPE_PREFIXES):
        for option in _split_options(rest[0]):
            _apply_option(option, fields)
        rest = rest[1:]
    if len(rest) < 2:
        raise ValueError("expected a key type and a base64 key after the principals")
    key_type, encoded, *comment = rest
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError(f"key '{encoded[:20]}...' is not valid base64") from None
    if not blob[4:].startswith(key_type.encode("ascii", "replace")):
        raise ValueError(f"key data does not match key type '{key_type}'")
    return AllowedSigner(
        principals=principals,
        key_type=key_type,
        public_key=blob,
        comment=" ".join(comment),
        **fields,  # type: ignore[arg-type]
    )


def parse_allowed_signers(text: str, *, source: str) -> list[AllowedSigner]:
    """Parse an allowed-signers file.

    Raises:
        TrustError: a line is malformed; the message names the file and line.
    """
    signers = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            signers.append(parse_signer_line(line))
        except ValueError as exc:
            raise TrustError(
                f"{source}:{number}: invalid allowed-signers line: {exc}",
                hint="fix the line; the format is 'principals [options] keytype base64-key'",
            ) from None
    return signers


@dataclass(frozen=True)
class Signer:
    """The identity and key behind a signature that the policy accepted."""

    method: str
    identity: str
    key: str


@dataclass
class TrustPolicy:
    """The SSH keys and OpenPGP keys trusted at one point of the history."""

    source: str
    ssh: list[AllowedSigner] = field(default_factory=list)
    openpgp: dict[str, bytes] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.ssh and not self.openpgp

    def check(self, signature: bytes, payload: bytes, *, at: int, gpg: GpgVerifier) -> Signer:
        """Verify ``signature`` over ``payload`` and return the trusted signer.

        Raises:
            TrustError: the signature is invalid, unsupported, or by an untrusted key.
        """
        if signature.lstrip().startswith(sshsig.BEGIN.encode("ascii")):
            return self._check_ssh(signature, payload, at=at)
        if signature.lstrip().startswith(b"-----BEGIN PGP SIGNATURE-----"):
            return gpg.verify(self, signature, payload)
        raise TrustError(
            "the signature is neither an SSH nor an OpenPGP signature (x509 is not supported)"
        )

    def _check_ssh(self, signature: bytes, payload: bytes, *, at: int) -> Signer:
        try:
            parsed = sshsig.parse(signature)
            sshsig.verify(parsed, payload, namespace=sshsig.GIT_NAMESPACE)
        except sshsig.SignatureError as exc:
            raise TrustError(f"invalid SSH signature: {exc.message}") from None
        reasons = []
        for signer in self.ssh:
            if signer.public_key != parsed.public_key:
                continue
            reason = signer.allows(namespace=sshsig.GIT_NAMESPACE, at=at)
            if reason is None:
                return Signer("ssh", ",".join(signer.principals), parsed.fingerprint())
            reasons.append(reason)
        detail = f" ({reasons[0]})" if reasons else ""
        raise TrustError(
            f"signed by SSH key {parsed.fingerprint()}, which {self.source} does not allow{detail}"
        )


def policy_from_files(files: dict[str, bytes], *, source: str) -> TrustPolicy:
    """Build a policy from the files of a ``.gitreg`` folder (name to content).

    Raises:
        TrustError: ``allowed_signers`` is malformed.
    """
    policy = TrustPolicy(source=source)
    signers = files.get(ALLOWED_SIGNERS)
    if signers is not None:
        policy.ssh = parse_allowed_signers(
            signers.decode("utf-8", "replace"), source=f"{ALLOWED_SIGNERS_PATH} in {source}"
        )
    policy.openpgp = {
        name: data for name, data in sorted(files.items()) if name.endswith(OPENPGP_SUFFIX)
    }
    return policy


class GpgVerifier:
    """Checks OpenPGP signatures with gpg against one temporary keyring per policy.

    Use as a context manager: the keyrings are deleted on exit.
    """

    def __init__(self, program: str = "gpg") -> None:
        self._program = program
        self._root: Path | None = None
        self._keyrings: dict[int, Path] = {}

    def __enter__(self) -> GpgVerifier:
        return self

    def __exit__(self, *_exc: object) -> None:
        for home in self._keyrings.values():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["gpgconf", "--homedir", str(home), "--kill", "all"],
                    capture_output=True,
                    timeout=_GPG_TIMEOUT_SECONDS,
                    check=False,
                )
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    def _keyring(self, policy: TrustPolicy) -> Path:
        found = self._keyrings.get(id(policy))
        if found is not None:
            return found
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="gitreg-gpg-"))
        home = self._root / str(len(self._keyrings))
        home.mkdir(mode=0o700)
        keys = b"".join(policy.openpgp.values())
        if keys:
            self._run(home, ["--import"], keys)
        self._keyrings[id(policy)] = home
        return home

    def _run(self, home: Path, args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        command = [self._program, "--homedir", str(home), "--batch", "--no-tty", *args]
        try:
            return subprocess.run(
                command, input=stdin, capture_output=True, timeout=_GPG_TIMEOUT_SECONDS, check=False
            )
        except FileNotFoundError:
            raise TrustError(
                f"OpenPGP signatures need '{self._program}', which was not found",
                hint="install gnupg",
            ) from None
        except subprocess.TimeoutExpired:
            raise TrustError(f"gpg timed out after {_GPG_TIMEOUT_SECONDS} s") from None

    def verify(self, policy: TrustPolicy, signature: bytes, payload: bytes) -> Signer:
        """Verify an OpenPGP signature against the policy's keys only.

        Raises:
            TrustError: gpg does not report a valid signature by one of those keys.
        """
        if not policy.openpgp:
            raise TrustError(f"signed with OpenPGP, but {policy.source} has no OpenPGP keys")
        home = self._keyring(policy)
        signature_file = home / "signature.asc"
        signature_file.write_bytes(signature)
        result = self._run(
            home,
            ["--status-fd", "1", "--trust-model", "always", "--verify", str(signature_file), "-"],
            payload,
        )
        status = result.stdout.decode("utf-8", "replace").splitlines()
        valid = [line.split() for line in status if line.startswith("[GNUPG:] VALIDSIG ")]
        if result.returncode != 0 or not valid:
            key = next(
                (line.split()[2] for line in status if line.startswith("[GNUPG:] ERRSIG ")), None
            )
            if key is not None:
                raise TrustError(
                    f"signed by OpenPGP key {key}, which {policy.source} does not allow"
                )
            raise TrustError("invalid OpenPGP signature (gpg did not report a valid signature)")
        fingerprint = valid[0][-1]
        return Signer("openpgp", fingerprint, fingerprint)
