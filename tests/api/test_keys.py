"""The key file: parsing, hashing, lookup, and the ``gitreg api-key`` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from gitreg.api.keys import (
    KEY_PREFIX,
    KeyStore,
    Scope,
    add_key,
    hash_key,
    parse_key_file,
    read_key_file,
    remove_key,
)
from gitreg.errors import RejectedError, UsageError

SHA = "a" * 64


def _line(**fields: Any) -> str:
    record = {"name": "k", "sha256": SHA, "clients": ["acme-corp"], **fields}
    return json.dumps(record)


def test_parse_skips_comments_and_blanks() -> None:
    data = f"# keys\n\n{_line()}\n".encode()
    ring = parse_key_file(data, source="keys.jsonl")
    assert [record.name for record in ring.records] == ["k"]


def test_parse_all_clients() -> None:
    ring = parse_key_file(_line(clients="*", writer=True).encode(), source="keys.jsonl")
    scope = ring.records[0].scope()
    assert scope.all_clients
    assert scope.writer


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{oops", "keys.jsonl:2: invalid JSON"),
        (_line(sha256="xyz"), "keys.jsonl:2: sha256: String should match pattern"),
        (_line(clients=[]), "keys.jsonl:2: clients"),
        (_line(clients=["Acme"]), "keys.jsonl:2: clients"),
        (_line(writer="yes"), "keys.jsonl:2: writer"),
        (_line(extra=1), "keys.jsonl:2: extra"),
        (json.dumps({"sha256": SHA, "clients": "*"}), "keys.jsonl:2: name: Field required"),
    ],
)
def test_parse_rejects_bad_line(line: str, expected: str) -> None:
    data = f"# header\n{line}\n".encode()
    with pytest.raises(UsageError, match="^" + expected.replace("[", r"\[")):
        parse_key_file(data, source="keys.jsonl")


def test_parse_rejects_repeated_name() -> None:
    data = f"{_line()}\n{_line(sha256='b' * 64)}\n".encode()
    with pytest.raises(UsageError, match="names key 'k' twice"):
        parse_key_file(data, source="keys.jsonl")


def test_parse_rejects_repeated_hash() -> None:
    data = f"{_line()}\n{_line(name='other')}\n".encode()
    with pytest.raises(UsageError, match="hash of key 'other' twice"):
        parse_key_file(data, source="keys.jsonl")


def test_parse_rejects_non_utf8() -> None:
    with pytest.raises(UsageError, match="is not UTF-8"):
        parse_key_file(b"\xff\xfe", source="keys.jsonl")


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        read_key_file(tmp_path / "absent.jsonl")


def test_read_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be read"):
        read_key_file(tmp_path)


def test_add_stores_only_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    key = add_key(path, name="ci", clients=("acme-corp",), writer=False)
    text = path.read_text(encoding="utf-8")
    assert key.startswith(KEY_PREFIX)
    assert key not in text
    assert hash_key(key) in text


def test_add_file_private(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    add_key(path, name="ci", clients=None, writer=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_add_keys_differ(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    first = add_key(path, name="one", clients=None, writer=False)
    second = add_key(path, name="two", clients=None, writer=False)
    assert first != second


def test_add_rejects_duplicate_name(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    add_key(path, name="ci", clients=None, writer=False)
    with pytest.raises(RejectedError, match="key 'ci' already exists"):
        add_key(path, name="ci", clients=None, writer=False)


def test_add_rejects_bad_client(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    with pytest.raises(UsageError, match=r"^client 'Not A Slug' is not a valid slug "):
        add_key(path, name="ci", clients=("Not A Slug",), writer=False)
    assert not path.exists()


def test_add_rejects_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    with pytest.raises(UsageError, match=r"^key name 'bad name' is not valid "):
        add_key(path, name="bad name", clients=None, writer=False)
    assert not path.exists()


def test_add_rejects_no_client(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    with pytest.raises(UsageError, match=r"^key 'ci' has no client "):
        add_key(path, name="ci", clients=(), writer=False)
    assert not path.exists()


def test_cli_add_bad_client_one_line(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    args = ["--keys", str(path), "--name", "ci", "--client", "Bad Client"]
    result = cli("api-key", "add", *args, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: client 'Bad Client' is not a valid slug "
        "(use lowercase letters, digits, '.', '_' and '-', such as acme-corp)\n"
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("add", "Key file to add to"),
        ("list", "Key file to read"),
        ("remove", "Key file to remove the key from"),
    ],
)
def test_cli_keys_help(cli: Any, tmp_path: Path, command: str, expected: str) -> None:
    result = cli("api-key", command, "--help", cwd=tmp_path)
    assert expected in result.stdout


def test_remove_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    add_key(path, name="ci", clients=None, writer=False)
    with pytest.raises(RejectedError, match="key 'other' not found"):
        remove_key(path, name="other")


def test_authenticate_matches_only_exact_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    first = add_key(path, name="one", clients=("acme-corp",), writer=False)
    second = add_key(path, name="two", clients=("globex",), writer=True)
    ring = read_key_file(path)
    assert ring.authenticate(first).name == "one"  # type: ignore[union-attr]
    assert ring.authenticate(second).name == "two"  # type: ignore[union-attr]
    assert ring.authenticate(first[:-1]) is None
    assert ring.authenticate("") is None


def test_scope_allows() -> None:
    scope = Scope(clients=frozenset({"acme-corp"}), writer=False, key_name="k")
    assert scope.allows("acme-corp")
    assert not scope.allows("globex")
    assert not scope.allows(None)
    assert Scope.open().allows(None)


def test_store_reloads_on_change(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    add_key(path, name="one", clients=None, writer=False)
    store = KeyStore(path)
    first = store.current()
    assert store.current() is first
    add_key(path, name="two", clients=None, writer=False)
    assert [record.name for record in store.current().records] == ["one", "two"]


def test_store_rejects_bad_file_at_start(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    path.write_text("nope\n", encoding="utf-8")
    with pytest.raises(UsageError, match="invalid JSON"):
        KeyStore(path)


def test_cli_add_prints_key_once(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    result = cli(
        "api-key", "add", "--keys", str(path), "--name", "ci", "--client", "acme-corp", cwd=tmp_path
    )
    key = result.stdout.strip()
    assert result.exit_code == 0
    assert key.startswith(KEY_PREFIX)
    assert "shown only this once" in result.stderr
    assert read_key_file(path).authenticate(key) is not None


def test_cli_add_needs_scope(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    result = cli("api-key", "add", "--keys", str(path), "--name", "ci", cwd=tmp_path)
    assert result.exit_code == 2
    assert "either --client" in result.stderr
    assert not path.exists()


def test_cli_add_rejects_both_scopes(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    args = ["--keys", str(path), "--name", "ci", "--client", "acme-corp", "--all-clients"]
    result = cli("api-key", "add", *args, cwd=tmp_path)
    assert result.exit_code == 2


def test_cli_list_and_remove(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    cli("api-key", "add", "--keys", str(path), "--name", "reader", "--all-clients", cwd=tmp_path)
    args = ["--keys", str(path), "--name", "bot", "--client", "a", "--client", "b", "--writer"]
    cli("api-key", "add", *args, cwd=tmp_path)
    listed = cli("api-key", "list", "--keys", str(path), cwd=tmp_path)
    as_json = cli("api-key", "list", "--keys", str(path), "--json", cwd=tmp_path)
    removed = cli("api-key", "remove", "--keys", str(path), "--name", "reader", cwd=tmp_path)
    assert listed.stdout == "reader\t*\tread-only\nbot\ta,b\twriter\n"
    assert json.loads(as_json.stdout) == [
        {"name": "reader", "clients": "*", "writer": False},
        {"name": "bot", "clients": ["a", "b"], "writer": True},
    ]
    assert removed.exit_code == 0
    assert [record.name for record in read_key_file(path).records] == ["bot"]
