"""Locations: JSON pointers (RFC 6901) and the line each one starts on.

Workflow files may hold bare placeholders, so they are scanned after marking
(`mark_bare_placeholders` keeps line numbers). The scanner only follows structure;
the loader has already checked that the text is valid JSON.
"""

from __future__ import annotations

import contextlib
import json

from reconciler.model.lines import LineMap
from reconciler.model.placeholders import mark_bare_placeholders

JsonPath = tuple[str | int, ...]


def pointer(path: JsonPath) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[JsonPath, int] = {}

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            if self.text[self.pos] == "\n":
                self.line += 1
            self.pos += 1

    def string(self) -> str:
        start = self.pos + 1
        self.pos = start
        while self.text[self.pos] != '"':
            self.pos += 2 if self.text[self.pos] == "\\" else 1
        raw = self.text[start : self.pos]
        self.pos += 1
        return _unescape(raw)

    def value(self, path: JsonPath) -> None:
        self.skip_space()
        self.lines.setdefault(path, self.line)
        ch = self.text[self.pos]
        if ch == "{":
            self.container(path, "}", keyed=True)
        elif ch == "[":
            self.container(path, "]", keyed=False)
        elif ch == '"':
            self.string()
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]} \t\r\n":
                self.pos += 1

    def container(self, path: JsonPath, close: str, keyed: bool) -> None:
        self.pos += 1
        index = 0
        while True:
            self.skip_space()
            if self.text[self.pos] == close:
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            if keyed:
                key_line = self.line
                key = self.string()
                self.skip_space()
                self.pos += 1  # the colon
                self.lines[(*path, key)] = key_line
                self.value((*path, key))
            else:
                self.value((*path, index))
                index += 1


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    decoded: str = json.loads(f'"{raw}"')
    return decoded


def json_lines(text: str) -> LineMap:
    """Path -> line for every key and array item of a (placeholder-holding) JSON text."""
    scanner = _Scanner(mark_bare_placeholders(text))
    with contextlib.suppress(IndexError):  # truncated text: keep what was mapped
        scanner.value(())
    return LineMap(scanner.lines)
