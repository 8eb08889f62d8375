"""The server's warm-up before its first visitor: import what the default page imports (app.py runs it).

`streamlit run app.py` starts the server long before a session runs anything: a browser first spends
about a second loading Streamlit's scripts. app.py uses that second to import, in a thread, what app.py
and the default page import, so the first session finds them loaded (0.3 s saved with bytecode, about
1 s without any, when every module is compiled from source).

    import_all(Path("app.py"), Path("pages/stepper.py"))
"""

import ast
import importlib
from pathlib import Path

# imported lazily on the first run, by no import statement of ours: numpy's seeding of the course's inputs
# (np.random), st.set_page_config reading the SVG favicon (PIL), st.Page checking its icon names
LAZY = ("numpy.random", "PIL.Image", "PIL.ImageFile", "streamlit.material_icon_names")


def imported_by(script: Path) -> list:
    """The absolute module names a script's own import statements name, in order, each once.

    `from a.b import c` names a.b and a.b.c (c may be a module or only a function in a.b).
    imported_by(Path("app.py"))[:2]  # ['threading', 'pathlib']
    """
    names = []
    for node in ast.walk(ast.parse(script.read_text(), filename=str(script))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(names))


def import_all(*scripts: Path) -> list:
    """Import every module the scripts import, then LAZY; returns the names imported.

    A name that is no module (`from bptt.catalog import get_bug`) is passed over; any other failure
    is left for the session's own import, which raises it where the page shows it.
    import_all(Path("pages/stepper.py"))
    """
    done = []
    for name in [name for script in scripts for name in imported_by(script)] + list(LAZY):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                return done
            continue
        except Exception:  # noqa: BLE001 - see the docstring: the page reports it
            return done
        done.append(name)
    return done
