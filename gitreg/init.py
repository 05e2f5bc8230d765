"""``init``: turn a repository, new or existing, into a registry.

One commit adds what a registry needs: empty manifests that pass the schemas,
``.gitreg/allowed_signers`` (or an OpenPGP key under ``.gitreg/``) holding the
current user's signing key, and ``.gitattributes`` lines that keep artifacts
byte-exact. The git configuration is set to sign every commit and tag. Running it
again adds only what is missing, so a second run changes nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitreg import signing
from gitreg.changes import commit_changes
from gitreg.errors import SigningError, UsageError
from gitreg.gitrepo import Repository
from gitreg.install import MERGE_ATTRIBUTE_LINES, configure_merge_driver
from gitreg.manifest import KINDS, MANIFEST_PATHS, empty_manifest, serialize
from gitreg.registry import signing_config, utc_timestamp
from gitreg.trust import ALLOWED_SIGNERS_PATH, TRUST_DIR, parse_allowed_signers

GITATTRIBUTES = ".gitattributes"
# '-text' stops end-of-line conversion, so an artifact's bytes (and its sha256)
# are the same in every clone, whatever core.autocrlf is set to. The merge lines
# make git merge the manifests by entry (see gitreg.merge).
ATTRIBUTE_LINES = (
    "models/** -text",
    "datasets/** -text",
    "data/** -text",
    *MERGE_ATTRIBUTE_LINES,
)
_ATTRIBUTE_HEADER = "# gitreg: keep artifacts and manifests byte-exact in every clone"
INIT_MESSAGE = "Initialize gitreg registry\n\nRegistry-Init: 1\n"


@dataclass(frozen=True)
class InitResult:
    """The files, key and commit that ``init`` created."""

    workdir: Path
    created_repository: bool
    commit: str | None
    signed: bool
    paths: tuple[str, ...]
    signer: str | None
    generated_key: Path | None
    trust_notice: str | None = None


def default_key_path() -> Path:
    """Return where ``--generate-key`` puts the key: the user's config folder."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gitreg" / "signing_ed25519"


def _merged_attributes(current: bytes | None) -> bytes:
    text = "" if current is None else current.decode("utf-8")
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in ATTRIBUTE_LINES if line not in present]
    if not missing:
        return text.encode("utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    if _ATTRIBUTE_HEADER not in present:
        missing.insert(0, _ATTRIBUTE_HEADER)
    return (text + "\n".join(missing) + "\n").encode("utf-8")


def ssh_trust_line(principal: str, public_key: str) -> str:
    """Return an allowed-signers line that allows ``public_key`` to sign git objects."""
    return f'{principal} namespaces="git" {public_key}'


def merged_allowed_signers(current: bytes | None, line: str) -> bytes:
    """Append ``line`` unless a line for the same principal and key is there already."""
    text = "" if current is None else current.decode("utf-8")
    wanted = parse_allowed_signers(line, source="new line")[0]
    for existing in parse_allowed_signers(text, source=ALLOWED_SIGNERS_PATH):
        if existing.public_key == wanted.public_key and set(wanted.principals) <= set(
            existing.principals
        ):
            return text.encode("utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    return (text + line + "\n").encode("utf-8")


def _configure_generated_key(repo: Repository, email: str) -> Path:
    key = default_key_path()
    if not key.exists():
        signing.generate_ssh_key(key, comment=email)
    repo.set_config("gpg.format", "ssh")
    repo.set_config("user.signingkey", str(key))
    return key


def _trust_files(repo: Repository, head: str | None, email: str) -> tuple[dict[str, bytes], str]:
    config = signing_config(repo)
    if config.format == "x509":
        raise UsageError(
            "gpg.format is x509, but registry trust files contain SSH or OpenPGP keys only",
            hint="sign with an SSH key (pass --generate-key) or with OpenPGP",
        )
    if config.format == "ssh":
        if not config.key:
            raise SigningError(
                "gpg.format is ssh but user.signingkey is not set",
                hint="pass --generate-key, or set user.signingkey to your SSH key",
            )
        public = signing.ssh_public_key(config.key)
        current = repo.read_at(head, ALLOWED_SIGNERS_PATH)
        merged = merged_allowed_signers(current, ssh_trust_line(email, public))
        return {ALLOWED_SIGNERS_PATH: merged}, f"{email} ({public.split()[0]})"
    key = config.key or config.committer
    if not key:
        raise SigningError("no signing key is configured", hint="pass --generate-key")
    armored = signing.openpgp_export(key, program=config.openpgp_program)
    fingerprint = signing.openpgp_fingerprints(armored, program=config.openpgp_program)[0][0]
    return {f"{TRUST_DIR}/{fingerprint}.asc": armored}, f"OpenPGP key {fingerprint}"


def _has_policy(repo: Repository, head: str | None) -> bool:
    return head is not None and repo.path_ids_at(head, (TRUST_DIR,))[TRUST_DIR] is not None


def _require_signing(repo: Repository) -> None:
    """Set the configuration that makes every later publish signed and checkable by git."""
    repo.set_config("commit.gpgsign", "true")
    repo.set_config("tag.gpgSign", "true")
    if (
        signing_config(repo).format == "ssh"
        and repo.config_value("gpg.ssh.allowedSignersFile") is None
    ):
        repo.set_config("gpg.ssh.allowedSignersFile", str(repo.workdir / ALLOWED_SIGNERS_PATH))


def _has_signing_key(repo: Repository) -> bool:
    config = signing_config(repo)
    return bool(config.key) or (
        config.format == "openpgp" and repo.config_value("user.signingkey") is not None
    )


def init_registry(
    cwd: Path,
    *,
    generate_key: bool = False,
    sign: bool | None = None,
    epoch: int | None = None,
    launcher: Sequence[str] = ("gitreg",),
) -> InitResult:
    """Make ``cwd`` (or the repository around it) a registry and commit the files.

    ``launcher`` is the command that starts gitreg, for the merge driver that
    init registers in the repository's git config.

    Raises:
        UsageError: no signing key is configured and neither ``--generate-key``
            nor ``--no-sign`` was given, or the key format cannot be trusted.
        GitError: the repository state does not allow a commit.
        SigningError: the key cannot be read, generated or used.
        RejectedError: a file init writes has uncommitted changes.
    """
    created = Repository.find(cwd) is None
    repo = Repository.init(cwd) if created else Repository.discover(cwd)
    head = repo.head_state().commit
    stamp = int(time.time()) if epoch is None else epoch
    email = repo.identity(time=stamp).email
    generated = _configure_generated_key(repo, email) if generate_key else None
    use_signing = sign if sign is not None else (generate_key or _has_signing_key(repo))
    if sign is None and not use_signing:
        raise UsageError(
            "no signing key is configured, so the registry would have no trust policy",
            hint="pass --generate-key to create one, set user.signingkey, or pass --no-sign",
        )
    changes: dict[str, bytes | None] = {}
    for kind in KINDS:
        if repo.read_at(head, MANIFEST_PATHS[kind]) is None:
            changes[MANIFEST_PATHS[kind]] = serialize(
                empty_manifest(kind, updated_at=utc_timestamp(stamp))
            )
    changes[GITATTRIBUTES] = _merged_attributes(repo.read_at(head, GITATTRIBUTES))
    signer = None
    notice = None
    if use_signing:
        trust, signer = _trust_files(repo, head, email)
        if _has_policy(repo, head) and any(
            repo.read_at(head, p) != data for p, data in trust.items()
        ):
            # Adding a key to an existing policy is a trust change that a trusted key must sign.
            notice = (
                f"your key ({signer}) is not in the registry's trust files; ask a trusted "
                "signer to add it with 'gitreg signers add'"
            )
            signer = None
        else:
            changes.update(trust)
    result = commit_changes(repo, changes, message=INIT_MESSAGE, sign=use_signing, epoch=stamp)
    configure_merge_driver(repo, launcher=launcher)
    if use_signing:
        _require_signing(repo)
    return InitResult(
        workdir=repo.workdir,
        created_repository=created,
        commit=result.commit,
        signed=result.signed,
        paths=result.paths,
        signer=signer,
        generated_key=generated,
        trust_notice=notice,
    )
