#!/usr/bin/env python3
"""Fails on a relative link or #anchor in the user documentation that does not resolve.

    .ci/links.py [FILE.md ...]     (default: README.md and docs/**/*.md)

Checks every Markdown link and image, [text](target) and ![alt](target), outside fenced code
blocks and inline code: a relative target must name a file or folder of the repository, and an
anchor (#section, or file.md#section) must be one of the headings of that Markdown file, spelled
as GitHub spells heading anchors (lower case; punctuation other than - and _ dropped; spaces to
hyphens; a repeated heading gets -1, -2, ...). Links with a scheme (https:, mailto:) are not
fetched. Prints file:line: message for each broken link and exits 1 if there is one.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')
FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')


def prose_lines(text):
    """(line number, line) of every line outside fenced code blocks, inline code blanked."""
    fenced = False
    for number, line in enumerate(text.split('\n'), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, re.sub(r'`[^`]*`', lambda m: ' ' * len(m.group(0)), line)


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link in a heading: its text
    text = re.sub(r'<[^>]+>', '', text).strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path, cache={}):
    """Every heading anchor of a Markdown file."""
    if path not in cache:
        seen = {}
        found = set()
        fenced = False
        for line in path.read_text(encoding='utf-8').split('\n'):
            if FENCE.match(line):
                fenced = not fenced
                continue
            match = None if fenced else HEADING.match(line)
            if match:
                base = slug(match.group(2))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else '%s-%d' % (base, count))
        cache[path] = found
    return cache[path]


def problems(md):
    """Yields (line, message) for each link of md that does not resolve."""
    for number, line in prose_lines(md.read_text(encoding='utf-8')):
        for match in LINK.finditer(line):
            target = match.group(1)
            if not target or SCHEME.match(target) or target.startswith('//'):
                continue
            path_part, _, anchor = target.partition('#')
            dest = (md.parent / path_part).resolve() if path_part else md
            if ROOT not in dest.parents and dest != ROOT:
                yield number, 'link %s leaves the repository' % target
            elif not dest.exists():
                yield number, 'link %s: no file %s' % (target, dest.relative_to(ROOT))
            elif anchor and dest.suffix != '.md':
                yield number, 'link %s: an anchor into %s, which is not Markdown' % (target, dest.name)
            elif anchor and anchor not in anchors(dest):
                yield number, 'link %s: %s has no heading with anchor #%s' % (
                    target, dest.relative_to(ROOT), anchor)


def main(args):
    files = [Path(a).resolve() for a in args] or [ROOT / 'README.md'] + sorted((ROOT / 'docs').rglob('*.md'))
    broken = 0
    links = 0
    for md in files:
        for number, line in prose_lines(md.read_text(encoding='utf-8')):
            links += len(LINK.findall(line))
        for number, message in problems(md):
            print('%s:%d: %s' % (md.relative_to(ROOT), number, message))
            broken += 1
    if broken:
        print('link check FAILED: %d broken links (above)' % broken)
        return 1
    print('link check ok: %d links in %d Markdown files' % (links, len(files)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
