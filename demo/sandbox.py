"""A throwaway registry repository that touches none of the user's own configuration.

Every command runs with HOME, git's global configuration and GNUPGHOME pointed at
folders inside the demo's output folder, so neither the user's identity nor their
keys, hooks or signing settings are read or changed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEMO_NAME = "gitreg demo"
DEMO_EMAIL = "demo@example.com"
BRANCH = "main"

# A file that marks a folder as made by the demo, so that a rerun may delete it.
MARKER = ".gitreg-demo"

# Variables that would point git at another repository, identity or agent.
_LEAKY_VARIABLES = ("EMAIL", "SSH_AUTH_SOCK", "GNUPGHOME", "GPG_AGENT_INFO")


class StepFailedError(Exception):
    """A command of the demo could not start or exited with a non-zero status."""


def reset_output_dir(out: Path) -> None:
    """Delete the folder of a previous run and create it empty.

    Raises:
        StepFailedError: ``out`` exists, is not empty and was not made by the demo.
    """
    if out.exists():
        if not out.is_dir():
            raise StepFailedError(f"output folder '{out}' is a file; pass another --out")
        if not (out / MARKER).is_file() and any(out.iterdir()):
            raise StepFailedError(
                f"output folder '{out}' is not empty and was not made by the demo; "
                "pass an empty or new folder with --out"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("Made by demo/run_demo.py; deleted on the next run.\n")


def isolated_env(home: Path) -> dict[str, str]:
    """Return the process environment with HOME, git and gpg settings inside ``home``.

    GIT_CONFIG_NOSYSTEM and GIT_CONFIG_GLOBAL keep git away from the user's files.
    libgit2 (inside gitreg) finds its global file through HOME, and it reads
    /etc/gitconfig regardless, so the repository's local configuration sets every
    key the demo depends on: local settings override system ones.
    """
    gnupg = home / ".gnupg"
    gnupg.mkdir(parents=True, exist_ok=True)
    gnupg.chmod(0o700)
    global_config = home / ".gitconfig"
    global_config.touch()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and key not in _LEAKY_VARIABLES
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(global_config),
        GNUPGHOME=str(gnupg),
    )
    # The demo captures output through a pipe, where rich falls back to 80 columns.
    # Passing the terminal's width shows the tables as gitreg prints them there.
    env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    return env


def find_gitreg() -> Path:
    """Return the ``gitreg`` console script installed next to this Python.

    Raises:
        StepFailedError: gitreg is not installed in this environment.
    """
    beside = Path(sys.executable).parent / "gitreg"
    if beside.is_file():
        return beside
    found = shutil.which("gitreg")
    if found is None:
        raise StepFailedError(
            "the gitreg command is not installed; run 'make venv' or 'pip install -e .[dev]'"
        )
    return Path(found)


@dataclass(frozen=True)
class Shell:
    """Runs commands in one folder and environment, printing each before its output."""

    cwd: Path
    env: dict[str, str]
    gitreg_program: Path

    def run(self, *args: str, display: tuple[str, ...] | None = None) -> str:
        """Run ``args``, echo the command and its combined output, and return the output.

        Raises:
            StepFailedError: the program is missing or exits with a non-zero status.
        """
        print(f"$ {shlex.join(display or args)}", flush=True)
        try:
            result = subprocess.run(
                args,
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                check=False,
            )
        except FileNotFoundError as exc:
            raise StepFailedError(f"'{args[0]}' not found; install it and run again") from exc
        print(result.stdout, end="" if result.stdout.endswith("\n") or not result.stdout else "\n")
        if result.returncode != 0:
            raise StepFailedError(
                f"'{shlex.join(display or args)}' exited with {result.returncode}"
            )
        return result.stdout

    def gitreg(self, *args: str) -> str:
        """Run the installed gitreg console script, shown as plain ``gitreg``."""
        return self.run(str(self.gitreg_program), *args, display=("gitreg", *args))

    def git(self, *args: str) -> str:
        return self.run("git", *args)


def make_signing_key(shell: Shell, key: Path) -> None:
    """Create a passphrase-less ed25519 key pair at ``key`` and ``key``.pub."""
    key.parent.mkdir(parents=True, exist_ok=True)
    key.parent.chmod(0o700)
    shell.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", DEMO_EMAIL, "-f", str(key))


def init_registry(shell: Shell, key: Path) -> None:
    """Create the repository in ``shell.cwd``, configure SSH signing and run ``gitreg init``.

    ``gitreg init`` commits the key to ``.gitreg/allowed_signers``, where the
    repository keeps who may publish, and points ``gpg.ssh.allowedSignersFile``
    at that file so that git's own ``verify-commit`` and ``verify-tag`` work.
    """
    shell.cwd.mkdir(parents=True)
    shell.git("init", "--quiet", f"--initial-branch={BRANCH}")
    settings = (
        ("user.name", DEMO_NAME),
        ("user.email", DEMO_EMAIL),
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
        ("commit.gpgSign", "true"),
        ("tag.gpgSign", "true"),
    )
    for name, value in settings:
        shell.git("config", name, value)
    shell.gitreg("init")
