"""Says why an executed notebook failed, for make notebooks: for each cell
that ended in an error, what it wrote to stderr (the Go error that the
notebook's must helper prints, or the compiler's) and the error itself.
Exits 1 if a cell failed, 0 if none did."""

import json
import re
import sys
from html.parser import HTMLParser


class Text(HTMLParser):
    """The text of GoNB's HTML error (a compile error), without its style
    and its hover-only context."""

    def __init__(self):
        super().__init__()
        self.text, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if self.skip or tag == "style" or "gonb-err-context" in (dict(attrs).get("class") or ""):
            self.skip += 1

    def handle_endtag(self, tag):
        if self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)


def show(text):
    """Prints text indented, without terminal colours, up to a Go panic's
    goroutine dump, and without a panic line that repeats the error."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
    for line in lines[:40]:
        if line.startswith("goroutine "):
            break
        if line.startswith("panic: ") and "apron: " + line[len("panic: "):] in lines:
            continue
        print("  " + line)


path = sys.argv[1]
with open(path) as f:
    nb = json.load(f)
failed = False
for i, cell in enumerate(nb["cells"], 1):
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        continue
    failed = True
    print(f"{path}: cell {i} failed:")
    for o in outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            show("".join(o["text"]))
        elif o.get("output_type") == "display_data" and "text/html" in o.get("data", {}):
            t = Text()
            t.feed("".join(o["data"]["text/html"]))
            show("\n".join(line for line in "".join(t.text).splitlines() if line.strip()))
    for e in errors:
        print(f"  {e.get('ename', 'error')}: {e.get('evalue', '')}")
sys.exit(1 if failed else 0)
