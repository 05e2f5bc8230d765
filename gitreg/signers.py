"""``signers``: read and edit the trust files through signed commits.

Each edit is one commit that changes only ``.gitreg/``. ``verify`` accepts the
change only when that commit is signed by a key the previous trust files allow,
so adding a signer takes someone already trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitreg import signing
from gitreg.changes import CommitResult, commit_changes
from gitreg.errors import RejectedError, UsageError
from gitreg.gitrepo import Repository
from gitreg.init import merged_allowed_signers, ssh_trust_line
from gitreg.registry import signing_config
from gitreg.trust import (
    ALLOWED_SIGNERS,
    ALLOWED_SIGNERS_PATH,
    OPENPGP_SUFFIX,
    TRUST_DIR,
    parse_allowed_signers,
    parse_signer_line,
)


@dataclass(frozen=True)
class SignerInfo:
    """One trusted key as ``signers list`` shows it."""

    method: str
    identity: str
    key_type: str
    fingerprint: str
    file: str


def _trust_files(repo: Repository) -> dict[str, bytes]:
    head = repo.head_commit()
    if head is None:
        return {}
    tree = repo.path_ids_at(head, (TRUST_DIR,))[TRUST_DIR]
    if tree is None:
        return {}
    return {name: repo.read_blob(blob) for name, blob in repo.tree_blobs(tree).items()}


def list_signers(repo: Repository, *, gpg_program: str = "gpg") -> list[SignerInfo]:
    """Return the keys that the trust files committed at HEAD allow.

    Raises:
        TrustError: ``allowed_signers`` is malformed.
        SigningError: an OpenPGP key file cannot be read by gpg.
    """
    found: list[SignerInfo] = []
    for name, data in sorted(_trust_files(repo).items()):
        path = f"{TRUST_DIR}/{name}"
        if name == ALLOWED_SIGNERS:
            for signer in parse_allowed_signers(data.decode("utf-8", "replace"), source=path):
                found.append(
                    SignerInfo(
                        "ssh",
                        ",".join(signer.principals),
                        signer.key_type,
                        signer.fingerprint,
                        path,
                    )
                )
        elif name.endswith(OPENPGP_SUFFIX):
            for fingerprint, uid in signing.openpgp_fingerprints(data, program=gpg_program):
                found.append(SignerInfo("openpgp", uid, "openpgp", fingerprint, path))
    return found


def add_ssh_signer(
    repo: Repository, *, principal: str, key: str, sign: bool | None = None
) -> CommitResult:
    """Allow an SSH key (a ``.pub`` file path or a ``keytype base64`` literal) for ``principal``.

    Raises:
        UsageError: the principal or the key is malformed.
        RejectedError: the key is already allowed for that principal.
    """
    if not principal or any(char.isspace() or char in ',"' for char in principal):
        raise UsageError(
            f"principal '{principal}' is not valid",
            hint="pass one e-mail address or name without spaces, commas or quotes",
        )
    public = signing.ssh_public_key(key) if not key.startswith(("ssh-", "ecdsa-", "sk-")) else key
    line = ssh_trust_line(principal, " ".join(public.split()[:2]))
    try:
        signer = parse_signer_line(line)
    except ValueError as exc:
        raise UsageError(f"SSH key '{key}' is not valid: {exc}", hint="pass a .pub file") from None
    current = repo.read_at(repo.head_commit(), ALLOWED_SIGNERS_PATH)
    merged = merged_allowed_signers(current, line)
    if merged == (current or b""):
        raise RejectedError(f"{principal} with key {signer.fingerprint} is already a signer")
    message = (
        f"Add signer {principal}\n\n"
        f"Registry-Trust-Change: add ssh {principal} {signer.fingerprint}\n"
    )
    return commit_changes(repo, {ALLOWED_SIGNERS_PATH: merged}, message=message, sign=sign)


def add_openpgp_signer(repo: Repository, *, key: str, sign: bool | None = None) -> CommitResult:
    """Allow an OpenPGP key: an armored key file, or a key id exported from the keyring.

    Raises:
        SigningError: gpg cannot export or read the key.
        RejectedError: the key is already trusted.
    """
    program = signing_config(repo).openpgp_program
    path = Path(key)
    armored = path.read_bytes() if path.is_file() else signing.openpgp_export(key, program=program)
    keys = signing.openpgp_fingerprints(armored, program=program)
    if len(keys) != 1:
        raise UsageError(
            f"'{key}' contains {len(keys)} OpenPGP keys, expected one",
            hint="pass exactly one public key",
        )
    fingerprint, uid = keys[0]
    file = f"{TRUST_DIR}/{fingerprint}{OPENPGP_SUFFIX}"
    if repo.read_at(repo.head_commit(), file) is not None:
        raise RejectedError(f"OpenPGP key {fingerprint} is already a signer")
    message = (
        f"Add signer {uid or fingerprint}\n\nRegistry-Trust-Change: add openpgp {fingerprint}\n"
    )
    return commit_changes(repo, {file: armored}, message=message, sign=sign)


def remove_signer(repo: Repository, *, identity: str, sign: bool | None = None) -> CommitResult:
    """Remove every key whose principal, SSH fingerprint or OpenPGP fingerprint is ``identity``.

    Raises:
        RejectedError: no trusted key matches.
    """
    changes: dict[str, bytes | None] = {}
    files = _trust_files(repo)
    signers_text = files.get(ALLOWED_SIGNERS, b"").decode("utf-8", "replace")
    kept, removed = [], 0
    for raw in signers_text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            signer = parse_signer_line(line)
            if identity in signer.principals or identity == signer.fingerprint:
                removed += 1
                continue
        kept.append(raw)
    if removed:
        changes[ALLOWED_SIGNERS_PATH] = ("\n".join(kept) + "\n").encode("utf-8") if kept else None
    wanted = identity.upper().removeprefix("0X")
    for name in files:
        if (
            name.endswith(OPENPGP_SUFFIX)
            and len(wanted) >= 16
            and name[: -len(OPENPGP_SUFFIX)].endswith(wanted)
        ):
            changes[f"{TRUST_DIR}/{name}"] = None
            removed += 1
    if not removed:
        raise RejectedError(
            f"no trusted key matches '{identity}'",
            hint="pass a principal or fingerprint that 'gitreg signers list' shows",
        )
    message = f"Remove signer {identity}\n\nRegistry-Trust-Change: remove {identity}\n"
    return commit_changes(repo, changes, message=message, sign=sign)
