"""Parses files with a tree-sitter grammar and reports every syntax error.

Usage: syntax_check.py LANGUAGE FILE...   (LANGUAGE: swift, kotlin, dart, csharp, typescript, java)
"""

import sys

import tree_sitter
import tree_sitter_c_sharp
import tree_sitter_dart
import tree_sitter_java
import tree_sitter_kotlin
import tree_sitter_swift
import tree_sitter_typescript

GRAMMARS = {
    "swift": tree_sitter_swift.language,
    "kotlin": tree_sitter_kotlin.language,
    "dart": tree_sitter_dart.language,
    "csharp": tree_sitter_c_sharp.language,
    "typescript": tree_sitter_typescript.language_typescript,
    "java": tree_sitter_java.language,
}


def errors(node):
    """Yields every ERROR or MISSING node under node."""
    if node.is_error or node.is_missing:
        yield node
        return
    for child in node.children:
        if child.has_error or child.is_missing:
            yield from errors(child)


def main(argv):
    if len(argv) < 3 or argv[1] not in GRAMMARS:
        print(__doc__, file=sys.stderr)
        return 2
    parser = tree_sitter.Parser(tree_sitter.Language(GRAMMARS[argv[1]]()))
    failed = False
    for path in argv[2:]:
        with open(path, "rb") as f:
            source = f.read()
        tree = parser.parse(source)
        for node in errors(tree.root_node):
            failed = True
            row, col = node.start_point
            line = source.splitlines()[row].decode("utf-8", "replace") if row < len(source.splitlines()) else ""
            kind = "missing " + node.type if node.is_missing else "syntax error"
            print(f"{path}:{row + 1}:{col + 1}: {kind}\n    {line.strip()}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
