#!/usr/bin/python3
"""Writes a man page (roff) from a program's --help text, for scripts/package.

usage: manpage.py NAME SECTION VERSION DATE SUMMARY HELP_FILE [EXTRA_FILE]

HELP_FILE is what `NAME --help` printed. CLI11 help (shardmq, shardmq-load) becomes a
SYNOPSIS and an OPTIONS list; any other text is kept as written, in a no-fill block.
Several help texts (a program and its subcommands) go in one file, each after a line
"@@ TITLE" (TITLE: the section heading for it). EXTRA_FILE holds roff sections appended
as they are (FILES, SIGNALS, SEE ALSO, ...)."""
import re
import sys

OPTION = re.compile(r"^ {1,4}(-\S.*?)(?: {2,}(\S.*))?$")
CONTINUATION = re.compile(r"^ {6,}(\S.*)$")
HEADING = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")


def esc(text):
    """Text as roff shows it literally: backslashes, hyphens, a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def cli11_sections(body):
    """[(heading, [(option, description)])] from CLI11's help, or None if it is not that."""
    sections, current = [], None
    for line in body:
        if not line.strip():
            continue
        m = HEADING.match(line)
        if m:
            current = (m.group(1), [])
            sections.append(current)
            continue
        if current is None:
            return None
        m = OPTION.match(line)
        if m:
            current[1].append([m.group(1).rstrip(), m.group(2) or ""])
            continue
        m = CONTINUATION.match(line)
        if m and current[1]:
            opt = current[1][-1]
            opt[1] = (opt[1] + " " + m.group(1)).strip()
            continue
        m = re.match(r"^ {1,4}(\S+)(?: {2,}(\S.*))?$", line)  # a subcommand: "  many  What"
        if m:
            current[1].append([m.group(1), m.group(2) or ""])
            continue
        return None
    return sections


def render_help(title, text, out):
    lines = text.rstrip("\n").split("\n")
    usage = next((i for i, l in enumerate(lines) if l.startswith("Usage:")), None)
    sections = cli11_sections(lines[usage + 1:]) if usage is not None else None
    if sections is None:  # not CLI11: as written
        out.append(f".SH {'DESCRIPTION' if title == 'OPTIONS' else esc(title)}")
        out.append(".nf")
        out.extend(esc(l) if l.strip() else "" for l in lines)
        out.append(".fi")
        return
    if title == "OPTIONS":
        out.append(".SH SYNOPSIS")
        out.append(f".B {esc(lines[usage][len('Usage:'):].strip())}")
        intro = " ".join(l.strip() for l in lines[:usage] if l.strip())
        if intro:  # what CLI11 prints above Usage: is the program's description
            out += [".SH DESCRIPTION", esc(intro)]
    else:
        out.append(f".SH {esc(title)}")
        out.append(f".B {esc(lines[usage][len('Usage:'):].strip())}")
        intro = " ".join(l.strip() for l in lines[:usage] if l.strip())
        if intro:
            out.append(".PP")
            out.append(esc(intro))
    for heading, options in sections:
        if title == "OPTIONS" and heading == "Options":
            out.append(".SH OPTIONS")
        else:
            out.append(f".SS {esc(heading)}")
        for opt, desc in options:
            out.append(".TP")
            out.append(f".B {esc(opt)}")
            out.append(esc(desc) if desc else "")


def main():
    name, section, version, date, summary, help_file = sys.argv[1:7]
    extra = open(sys.argv[7]).read() if len(sys.argv) > 7 else ""
    text = open(help_file).read()
    parts = re.split(r"^@@ (.*)\n", text, flags=re.M)
    chunks = [("OPTIONS", parts[0])] + list(zip(parts[1::2], parts[2::2]))
    out = [f'.TH {name.upper()} {section} "{date}" "shardmq {version}" "shardmq"',
           ".SH NAME", f"{esc(name)} \\- {esc(summary)}"]
    for title, body in chunks:
        if body.strip():
            render_help(title, body, out)
    if extra:
        out.append(extra.rstrip("\n"))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
