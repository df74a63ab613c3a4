"""Sections of docs/results.md that different runners own: each runner rewrites only its own part of the file.

A marked section sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->` lines; the unmarked text before the first
marked section belongs to run.py (the Fashion-MNIST table)."""
import os
import re


def _markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def _read(path):
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def marked_sections(text):
    """Every marked section of text, markers included, in file order."""
    return [m.group(0) for m in re.finditer(r"<!-- ([\w-]+):begin -->\n.*?<!-- \1:end -->\n?", text, flags=re.S)]


def write_section(path, name, body):
    """Replaces section `name` of the file with body (appends it at the end when the file has none)."""
    begin, end = _markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = _read(path)
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end) + r"\n?", flags=re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block
    _write(path, text)


def write_unmarked(path, body):
    """Writes body as the file's unmarked text, keeping every marked section after it."""
    kept = marked_sections(_read(path))
    _write(path, body.rstrip("\n") + "\n" + "".join("\n" + s for s in kept))
