"""Reading cohort input: UTF-8 text, and YAML whose every value knows its line number.

Nothing here raises on bad input: each problem becomes an :class:`InputProblem` in a list
the caller owns, so a user sees every problem in one go. Used by :mod:`journey.cohort.file`
and :mod:`journey.cohort.roster`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Numeric, String
from sqlalchemy.orm import InstrumentedAttribute

from journey.cohort.specs import Origin, PersonSpec
from journey.errors import InputProblem
from journey.models import Person

_BOM = b"\xef\xbb\xbf"
_LAST_STEP = re.compile(r"(?:^|\.)[^.\[]*$|\[\d+\]$")
_FORBIDDEN = {"Cc", "Zl", "Zp"}  # control characters and line breaks


def csv_records(
    text: str,
    file: str,
    read_header: Callable[[list[str]], list[str] | None],
    problems: list[InputProblem],
) -> tuple[list[str] | None, list[tuple[int, dict[str, str]]]]:
    """A CSV's header (as ``read_header`` checks it: None when wrong, its problems recorded)
    and its data rows: ``(row number, cells by column)``, cells trimmed, missing ones empty,
    blank rows and every row under a wrong header left out. A row with more cells than the
    header, or text the csv module cannot read, is a problem. Shared by the roster and the
    evaluation responses."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[tuple[int, dict[str, str]]] = []
    try:
        header = read_header(next(reader, []))
        last_line = reader.line_num
        for record in reader:
            row, last_line = last_line + 1, reader.line_num
            cells = [cell.strip() for cell in record]
            if header is None or not any(cells):
                continue
            if len(cells) > len(header) and any(cells[len(header) :]):
                message = f"{len(cells)} cells but the header has {len(header)} columns"
                problems.append(InputProblem(file, row, "row", message))
            cells += [""] * (len(header) - len(cells))
            records.append((row, dict(zip(header, cells, strict=False))))
    except csv.Error as exc:
        problems.append(InputProblem(file, reader.line_num, "csv", f"cannot read the CSV: {exc}"))
    return header, records


def read_text(path: Path, problems: list[InputProblem]) -> str | None:
    """The file's text with any UTF-8 BOM stripped, or None after recording why not."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.append(InputProblem(str(path), None, "file", "not found"))
        return None
    except OSError as exc:
        problems.append(InputProblem(str(path), None, "file", f"cannot be read: {exc.strerror}"))
        return None
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        message = f"not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}); save it as UTF-8"
        problems.append(InputProblem(str(path), None, "encoding", message))
        return None


def column_length(*columns: InstrumentedAttribute[Any]) -> int:
    """The most characters a text stored in all of ``columns`` may have, read from the
    models, so a file that SQLite would take is never one Postgres refuses half-way."""
    lengths = []
    for column in columns:
        column_type = column.type
        if not isinstance(column_type, String) or column_type.length is None:
            raise TypeError(f"{column}: not a text column with a length")
        lengths.append(column_type.length)
    return min(lengths)


def column_digits(column: InstrumentedAttribute[Any]) -> tuple[int, int]:
    """A NUMERIC column's (digits, of which after the point), read from the model."""
    column_type = column.type
    if not isinstance(column_type, Numeric) or column_type.precision is None:
        raise TypeError(f"{column}: not a NUMERIC column with a precision")
    return column_type.precision, column_type.scale or 0


NAME_LENGTH = column_length(Person.name)
EMAIL_LENGTH = column_length(Person.email)


def text_problem(value: str, limit: int | None = None) -> str | None:
    """Why a piece of people's text is unacceptable, or None if it is fine. ``limit`` is
    its column's length (see :func:`column_length`)."""
    if not value:
        return "required"
    if any(unicodedata.category(ch) in _FORBIDDEN for ch in value):
        return "contains control characters or line breaks"
    if limit is not None and len(value) > limit:
        return f"too long: {len(value)} characters (at most {limit})"
    return None


def normal_email(value: str) -> tuple[str, str | None]:
    """The address validated and lower-cased, and the problem (None when it is valid).

    Only ASCII addresses are taken: sending to any other needs SMTPUTF8, which not every
    mail server offers, so such an address would be accepted now and fail at launch.
    """
    if not value:
        return "", "required"
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return "", f"{value!r} is not a valid email address: {exc}"
    if not value.isascii():
        return "", f"{value!r} is not an address this system can send to: use an ASCII address"
    problem = text_problem(checked.normalized, EMAIL_LENGTH)
    if problem:
        return "", problem
    return checked.normalized.lower(), None


def same_name_problems(people: Iterable[PersonSpec]) -> list[InputProblem]:
    """One address is one person: a problem wherever an address already given comes again
    under another name (``people`` in the order they are read)."""
    first: dict[str, PersonSpec] = {}
    problems: list[InputProblem] = []
    for person in people:
        if not (person.email and person.name and person.origin):
            continue
        seen = first.setdefault(person.email, person)
        if seen.name != person.name and seen.origin is not None:
            at = seen.origin
            message = (
                f"{person.email!r} is {seen.name} ({at.file}:{at.row}, {at.field}),"
                f" not {person.name!r}; use the same name"
            )
            problems.append(person.origin.problem(message))
    return problems


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to the word, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def child(path: str, step: str | int) -> str:
    """The path of a mapping key or list item below ``path``: ``a.b``, ``a[0]``."""
    if isinstance(step, int):
        return f"{path}[{step}]"
    return f"{path}.{step}" if path else step


class YamlDoc:
    """A parsed YAML file: its data, the line of every path in it, and its problems."""

    def __init__(self, file: str, problems: list[InputProblem]) -> None:
        self.file = file
        self.problems = problems
        self.data: Any = None
        self.lines: dict[str, int] = {}

    def load(self, text: str) -> bool:
        """Parse ``text``; False (with a problem recorded) if it is not valid YAML."""
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                self.data = loader.construct_document(node)
                self._index(node, "", set())
        except yaml.MarkedYAMLError as exc:
            row = exc.problem_mark.line + 1 if exc.problem_mark else None
            self.problems.append(
                InputProblem(self.file, row, "yaml", f"not valid YAML: {exc.problem}")
            )
            return False
        except yaml.YAMLError as exc:
            self.problems.append(InputProblem(self.file, None, "yaml", f"not valid YAML: {exc}"))
            return False
        finally:
            loader.dispose()
        return True

    def _index(self, node: yaml.Node, path: str, active: set[int]) -> None:
        """Record the line of every key and item; flag keys given twice."""
        if id(node) in active:  # a recursive alias
            return
        active.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key_path = child(path, str(key_node.value))
                line = key_node.start_mark.line + 1
                if key_path in self.lines:
                    self.problems.append(InputProblem(self.file, line, key_path, "given twice"))
                self.lines.setdefault(key_path, line)
                self._index(value_node, key_path, active)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[child(path, index)] = item.start_mark.line + 1
                self._index(item, child(path, index), active)
        active.discard(id(node))

    def line(self, path: str) -> int:
        """The line of ``path``, or of its nearest parent that is in the file."""
        while path and path not in self.lines:
            parent = _LAST_STEP.sub("", path)
            path = parent if parent != path else ""
        return self.lines.get(path, 1)

    def add(self, path: str, message: str) -> None:
        """Record a problem at ``path`` (its line, or its parent's when it is missing)."""
        self.problems.append(InputProblem(self.file, self.line(path), path or "cohort", message))

    def mapping(self, value: Any, path: str, fields: Iterable[str]) -> dict[str, Any] | None:
        """``value`` as a mapping (None if it is not one); unknown keys are problems."""
        if not isinstance(value, dict):
            self.add(path, "required" if value is None else "expected a mapping of fields")
            return None
        known = list(fields)
        for key in value:
            if str(key) not in known:
                self.add(child(path, str(key)), "unknown field" + did_you_mean(str(key), known))
        return value

    def items(self, value: Any, path: str, required: bool = False) -> list[Any]:
        """``value`` as a list ([] if it is missing or not a list)."""
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.add(path, "required" if value is None else "expected a list")
            return []
        return value

    def text(
        self,
        parent: dict[str, Any],
        path: str,
        key: str,
        limit: int,
        required: bool = True,
    ) -> str:
        """A text field, trimmed, at most ``limit`` characters ("" if missing or bad; a
        problem unless optional)."""
        value, where = parent.get(key), child(path, key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.add(where, "required" if value is None else "expected text")
            return ""
        problem = text_problem(value.strip(), limit)
        if problem and (required or value.strip()):
            self.add(where, problem)
            return ""
        return value.strip()

    def flag(self, parent: dict[str, Any], path: str, key: str) -> bool:
        """A required true/false field."""
        value = parent.get(key)
        if not isinstance(value, bool):
            self.add(child(path, key), "required" if value is None else "expected true or false")
            return False
        return value

    def person(self, value: Any, path: str) -> PersonSpec:
        """A ``{name, email}`` mapping; the email validated and lower-cased, and where it
        was given."""
        fields = self.mapping(value, path, ("name", "email"))
        if fields is None:
            return PersonSpec("", "")
        name = self.text(fields, path, "name", NAME_LENGTH)
        raw = self.text(fields, path, "email", EMAIL_LENGTH)
        email, problem = normal_email(raw) if raw else ("", None)
        where = child(path, "email")
        if problem:
            self.add(where, problem)
        return PersonSpec(name, email, Origin(self.file, self.line(where), where))

    def unique(self, path: str, value: str, seen: dict[str, str]) -> bool:
        """Whether ``value`` (compared case-insensitively) is new; a problem if it is not."""
        key = value.casefold()
        if key in seen:
            self.add(path, f"{value!r} is listed twice (first on line {self.line(seen[key])})")
            return False
        if value:
            seen[key] = path
        return True
