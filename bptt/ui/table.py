"""Small tables as markdown: st.markdown draws them without importing pandas (st.dataframe would).

    markdown_table([{"quantity": "dz", "matches": "✅"}])  # '| quantity | matches |\n|---|---|\n| dz | ✅ |'

No page imports pandas: a session's first st.dataframe imported it while another session's plotly
looked it up half-imported (an AttributeError mid-step under load), and importing it up front
cost every cold start 0.3-0.4 s.
"""


def _cell(value) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list) -> str:
    """A markdown table of dicts that share their keys, the first row's keys as the header."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(_cell(k) for k in keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_cell(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)
