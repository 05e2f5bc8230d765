"""Installing gitreg into a repository: commit hooks and the manifest merge driver."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gitreg.errors import RejectedError
from gitreg.gitrepo import Repository, write_atomically
from gitreg.manifest import MANIFEST_PATHS

HOOK_NAMES = ("pre-commit", "pre-merge-commit")
MERGE_DRIVER = "gitreg"
MERGE_DRIVER_NAME = "gitreg registry manifest merge (by entry)"
MERGE_ATTRIBUTE_LINES = tuple(f"{path} merge={MERGE_DRIVER}" for path in MANIFEST_PATHS.values())

# Every script gitreg installs carries this line, so a reinstall can tell its own
# hooks from a foreign one that it must not overwrite.
HOOK_MARKER = "# gitreg hook:"
_LAUNCH_LINE = 'run_gitreg() { gitreg "$@"; }'


@dataclass(frozen=True)
class InstallResult:
    """The hooks, backups, attribute lines and driver command of one install."""

    hooks: tuple[Path, ...]
    backups: tuple[Path, ...]
    attributes_added: tuple[str, ...]
    driver_command: str


def hook_script(launcher: Sequence[str]) -> str:
    """Return the hook script, starting gitreg with ``launcher`` (such as ``["gitreg"]``)."""
    template = resources.files("gitreg").joinpath("githooks/pre-commit").read_text("utf-8")
    return template.replace(_LAUNCH_LINE, f'run_gitreg() {{ {shlex.join(launcher)} "$@"; }}')


def _is_foreign(hook: Path) -> bool:
    return hook.exists() and HOOK_MARKER not in hook.read_text("utf-8", errors="replace")


def _install_hook(target: Path, script: str) -> Path | None:
    """Write one hook; return the backup made of a foreign hook, if any."""
    backup = None
    if _is_foreign(target):
        backup = target.with_name(f"{target.name}.gitreg-backup")
        write_atomically(backup, target.read_bytes())
        backup.chmod(0o755)
    write_atomically(target, script.encode("utf-8"))
    target.chmod(0o755)
    return backup


def install_hooks(
    repo: Repository, *, launcher: Sequence[str], force: bool = False
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Install the pre-commit and pre-merge-commit hooks; return (hooks, backups).

    With ``force``, a hook that gitreg did not install is replaced and kept
    beside it as ``<name>.gitreg-backup``.

    Raises:
        RejectedError: such a foreign hook exists and ``force`` is false. Nothing
            is written in that case.
    """
    folder = repo.hooks_dir
    targets = [folder / name for name in HOOK_NAMES]
    foreign = [target for target in targets if _is_foreign(target)]
    if foreign and not force:
        raise RejectedError(
            f"{foreign[0]} already exists and was not installed by gitreg",
            hint="pass --force to replace it (a backup is kept), or call gitreg's checks "
            "from it: 'gitreg hook check'",
        )
    folder.mkdir(parents=True, exist_ok=True)
    script = hook_script(launcher)
    backups = [_install_hook(target, script) for target in targets]
    return tuple(targets), tuple(backup for backup in backups if backup is not None)


def configure_merge_driver(repo: Repository, *, launcher: Sequence[str] = ("gitreg",)) -> str:
    """Define the merge driver in the repository's git config; return its command."""
    command = f"{shlex.join(launcher)} merge-driver %O %A %B %P"
    repo.set_config(f"merge.{MERGE_DRIVER}.name", MERGE_DRIVER_NAME)
    repo.set_config(f"merge.{MERGE_DRIVER}.driver", command)
    return command


def install_merge_driver(repo: Repository, *, launcher: Sequence[str] = ("gitreg",)) -> list[str]:
    """Register the merge driver in ``.gitattributes`` and the repository's git config.

    Returns the ``.gitattributes`` lines that were added; lines already present
    are kept as they are, so running this twice changes nothing.
    """
    configure_merge_driver(repo, launcher=launcher)
    attributes = repo.workdir / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    present = {line.strip() for line in text.splitlines()}
    added = [line for line in MERGE_ATTRIBUTE_LINES if line not in present]
    if added:
        if text and not text.endswith("\n"):
            text += "\n"
        write_atomically(attributes, (text + "\n".join(added) + "\n").encode("utf-8"))
    return added


def install(repo: Repository, *, launcher: Sequence[str], force: bool = False) -> InstallResult:
    """Install the hooks and the merge driver.

    Raises:
        RejectedError: a foreign hook exists and ``force`` is false; then nothing
            is installed.
    """
    hooks, backups = install_hooks(repo, launcher=launcher, force=force)
    added = install_merge_driver(repo, launcher=launcher)
    return InstallResult(
        hooks=hooks,
        backups=backups,
        attributes_added=tuple(added),
        driver_command=repo.config_value(f"merge.{MERGE_DRIVER}.driver") or "",
    )
