"""The deployment files mean what they say: Kubernetes and Compose schemas, nginx's own syntax check.

Nothing is deployed here; each file is checked by the tool its platform would use, and each check
is shown to refuse a broken copy, so a pass means something. Last, the loopback topology itself
(deploy/cluster.py) under a small load with a replica killed.
"""

import copy
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
from cluster import write_nginx_config  # noqa: E402

kubernetes_validate = pytest.importorskip("kubernetes_validate")
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
COMPOSE = ROOT / "compose.yaml"
TEMPLATE = ROOT / "deploy" / "bptt.conf.template"


def kubernetes_errors(documents: list) -> list:
    errors = []
    for document in documents:
        try:
            kubernetes_validate.validate(document, "1.30.0", strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(str(e))
    return errors


def test_the_kubernetes_manifest_is_valid_and_the_validator_would_say_otherwise():
    documents = list(yaml.safe_load_all(MANIFEST.read_text()))
    assert [d["kind"] for d in documents] == ["Deployment", "Service", "Ingress"]
    assert kubernetes_errors(documents) == []
    broken = copy.deepcopy(documents)
    broken[0]["spec"]["replicas"] = "four"
    broken[2]["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = None
    assert len(kubernetes_errors(broken)) == 2


def test_the_ingress_keeps_a_student_on_one_replica_and_probes_streamlits_health():
    deployment, service, ingress = yaml.safe_load_all(MANIFEST.read_text())
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def compose_check(path: Path) -> subprocess.CompletedProcess:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("check-jsonschema is not installed (requirements-dev.txt)")
    return subprocess.run([tool, "--builtin-schema", "vendor.compose-spec", str(path)], capture_output=True,
                          text=True, timeout=60)


def test_the_compose_file_follows_the_compose_spec_and_a_broken_one_does_not(tmp_path):
    assert compose_check(COMPOSE).returncode == 0
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("restart: unless-stopped", "restart: [unless-stopped]", 1))
    assert compose_check(broken).returncode != 0


def test_compose_fills_in_every_placeholder_of_the_nginx_template():
    placeholders = set(re.findall(r"\$\{(BPTT_\w+)\}", TEMPLATE.read_text()))
    proxy = yaml.safe_load(COMPOSE.read_text())["services"]["proxy"]
    assert placeholders and placeholders <= set(proxy["environment"])


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(), reason="no nginx")
def test_nginx_accepts_the_cluster_config_and_refuses_a_broken_one(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    config = write_nginx_config(str(tmp_path), 8599, [8601, 8602])
    ok = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    fragment = tmp_path / "bptt.conf"
    fragment.write_text(fragment.read_text().replace("hash $bptt_route consistent;", "hash;"))
    bad = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert bad.returncode != 0


def test_a_small_course_through_nginx_comes_back_from_a_killed_replica_with_every_step():
    """benchmarks/load.py --through-nginx at CI size: the sessions of the killed replica reconnect, none loses its step."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (scripts/test.sh installs Debian's)")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import load_cluster

    with ThreadPoolExecutor(max_workers=1) as pool:  # its own asyncio loop, away from Playwright's
        (result,) = pool.submit(load_cluster.run, [2], sessions=6, duration=12, think=1.0, checks=2).result()
    assert result["killed_sessions"] >= 1 and result["reconnects"] >= 1  # the kill was felt
    assert result["lost_states"] == [] and result["errors"] == [], result["errors"]
    assert result["tracebacks"] == 0, result["traceback_excerpts"]
    assert result["after_kill"]["n"] > 0  # the class went on stepping on the replica left
    assert {row["file"]: row["got"] for row in result["checks"]} == {"hostile/infinite_loop.py": "timeout",
                                                                      "correct/rnn_course_style.py": "ok"}
