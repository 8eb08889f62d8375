"""Two replicas behind nginx (deploy/cluster.py): a student's link survives the replica serving it dying.

The whole state of a page is in its URL, so when the replica holding a session is killed, the
browser's websocket reconnects through nginx to another replica, which rebuilds the same step.
"""

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
from cluster import Cluster  # noqa: E402

EXCEPTION = '[data-testid="stException"]'
LINK = "?cell=rnn&scenario=course&t=2"


def established(port: int) -> int:
    """TCP connections in state ESTABLISHED whose local port is `port` (from /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            count += state == "01" and int(local.rsplit(":", 1)[1], 16) == port
    return count


@pytest.fixture(scope="module")
def cluster():
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (scripts/test.sh installs Debian's)")
    with Cluster(replicas=2) as running:
        yield running


def shows_step(page, t: int) -> None:
    """The browser stepper (a classroom-sized run steps in the page) is drawn at t, and the URL says t."""
    page.locator(".bptt-heading", has_text=re.compile(rf"\bt = {t}$")).wait_for(timeout=60_000)
    # the stepper writes the URL with history.replaceState, which is no navigation for wait_for_url to see
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('t') === '{t}'", timeout=30_000)


def test_a_deep_link_survives_the_death_of_its_replica(cluster, page, screenshot):
    page.goto(cluster.url + "/" + LINK)
    shows_step(page, 2)
    page.locator(".bptt-heading").click()  # focus the stepper itself, so the arrow key reaches it
    page.keyboard.press("ArrowRight")  # the step the backward loop runs next: t = 1
    shows_step(page, 1)
    serving = [i for i, port in enumerate(cluster.ports) if established(port) > 0]
    assert len(serving) == 1, f"one replica should hold the session, found {serving}"
    cluster.kill(serving[0])
    other = 1 - serving[0]
    for _ in range(300):  # the browser notices the closed websocket and reconnects, through nginx
        if established(cluster.ports[other]) > 0:
            break
        page.wait_for_timeout(100)
    assert established(cluster.ports[other]) > 0, "the browser never reached the other replica"
    shows_step(page, 1)
    page.locator('canvas[data-bptt-t="1"]').first.wait_for(timeout=60_000)  # the heatmaps redrawn at that step
    assert page.locator(EXCEPTION).count() == 0
    screenshot("cluster-after-failover")
