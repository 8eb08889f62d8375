"""No page imports pandas: a session's first st.dataframe once imported it while another session's plotly
looked it up half-imported (AttributeError mid-step under load), and importing it cost every cold start."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from streamlit.testing.v1 import AppTest
pages = ["pages/stepper.py", "pages/gradient_flow.py", "pages/gallery.py", "pages/itemized.py", "pages/lesson.py",
         "pages/check.py"]
for page in pages:
    at = AppTest.from_file("app.py", default_timeout=120)
    at.switch_page(page)
    at.run()
    assert not at.exception, (page, [e.value for e in at.exception])
at.text_area(key="check:text").set_value(open("tests/fixtures/submissions/missing_da_t.py").read()).run()
at.button(key="check:run").click().run()  # the verdict's tables
assert not at.exception and any(m.value.startswith("| function |") for m in at.markdown)
print("pandas imported" if "pandas" in sys.modules else "pandas never imported")
"""


def test_every_page_and_a_check_verdict_run_without_importing_pandas():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "pandas never imported"
