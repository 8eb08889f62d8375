"""Where a benchmark's figures go: its own section of docs/PERFORMANCE.md, between two markers."""

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


def write_section(start: str, end: str, section: str) -> None:
    """Replace what stands between `start` and `end` (markers included) by `section`, or append it.

    write_section("<!-- core:start -->", "<!-- core:end -->", "<!-- core:start -->\\n...\\n<!-- core:end -->")
    """
    text = DOCS.read_text() if DOCS.exists() else "# Performance\n"
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)
