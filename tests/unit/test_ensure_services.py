"""scripts/ensure-services, driven through a PATH of stand-in commands that record what they were asked
to do: nothing on this machine is started, stopped or installed."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-services"
TOOLS = ("ls", "sort", "tail", "seq", "mkdir", "sed", "cat", "touch", "echo", "cp", "chmod")

FAKES = {
    "pg_isready": '[ -e "$STATE/pg_running" ]',
    "psql": "exit 0",
    "pg_ctlcluster": 'echo "pg_ctlcluster $*" >> "$STATE/log"; case "$*" in *start*) touch "$STATE/pg_running";; esac',
    "redis-cli": '[ -e "$STATE/redis_running" ] && echo PONG || exit 1',
    "redis-server": 'echo "redis-server $*" >> "$STATE/log"; touch "$STATE/redis_running"',
}
APT = '''echo "apt-get $*" >> "$STATE/log"
case "$*" in
  *install*postgresql*) for c in pg_isready psql pg_ctlcluster; do cp "$STATE/fakes/$c" "$STATE/bin/"; done
                        mkdir -p "$STATE/etc/15/main"; touch "$STATE/etc/15/main/pg_hba.conf" ;;
esac
case "$*" in *install*redis-server*) cp "$STATE/fakes/redis-cli" "$STATE/fakes/redis-server" "$STATE/bin/" ;; esac
case "$*" in *install*chromium*) touch "$STATE/chromium"; chmod +x "$STATE/chromium" ;; esac
case "$*" in *install*jq*) cp "$STATE/fakes/curl" "$STATE/fakes/jq" "$STATE/bin/" ;; esac
exit 0
'''


def write(path: Path, body: str) -> None:
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o755)


def machine(tmp: Path, *, installed: bool, running: bool, root: bool, debian: bool = True,
            chromium: bool = True, tools: bool = True) -> dict[str, str]:
    bin_dir, fakes = tmp / "bin", tmp / "fakes"
    bin_dir.mkdir()
    fakes.mkdir()
    for tool in TOOLS:
        os.symlink(shutil.which(tool) or f"/bin/{tool}", bin_dir / tool)
    write(bin_dir / "sleep", "exit 0")
    write(bin_dir / "id", f"echo {0 if root else 1000}")
    write(bin_dir / "apt-get", APT)
    for name, body in FAKES.items():
        write(fakes / name, body)
        if installed:
            shutil.copy(fakes / name, bin_dir / name)
    if installed:
        (tmp / "etc" / "15" / "main").mkdir(parents=True)
    if running:
        (tmp / "pg_running").touch()
        (tmp / "redis_running").touch()
    if chromium:
        write(tmp / "chromium", "exit 0")
    for tool in ("curl", "jq"):
        write(fakes / tool, "exit 0")
        if tools:
            shutil.copy(fakes / tool, bin_dir / tool)
    if debian:
        (tmp / "debian_version").write_text("12.8\n")
    (tmp / "log").touch()
    return {"PATH": str(bin_dir), "STATE": str(tmp), "RUAMSUE_ETC_POSTGRESQL": str(tmp / "etc"),
            "RUAMSUE_DEBIAN_VERSION_FILE": str(tmp / "debian_version"), "RUAMSUE_CHROMIUM": str(tmp / "chromium"),
            "RUAMSUE_REDIS_DIR": str(tmp / "redis"), "RUAMSUE_WAIT_SECONDS": "3"}


def run(env: dict[str, str]) -> tuple[int, str, list[str]]:
    done = subprocess.run(["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    return done.returncode, done.stderr, Path(env["STATE"], "log").read_text().splitlines()


def test_running_services_are_left_alone(tmp_path: Path) -> None:
    status, _, log = run(machine(tmp_path, installed=True, running=True, root=True))
    assert (status, log) == (0, [])


def test_installed_but_stopped_services_are_started(tmp_path: Path) -> None:
    status, err, log = run(machine(tmp_path, installed=True, running=False, root=True))
    assert status == 0, err
    assert log[0] == "pg_ctlcluster --skip-systemctl-redirect 15 main start"
    assert log[1].startswith("redis-server --daemonize yes --bind 127.0.0.1")
    assert len(log) == 2


def test_missing_services_are_installed_by_root_on_debian(tmp_path: Path) -> None:
    status, err, log = run(machine(tmp_path, installed=False, running=False, root=True, chromium=False,
                                   tools=False))
    assert status == 0, err
    installs = [line for line in log if line.startswith("apt-get install")]
    assert installs == ["apt-get install -y -qq postgresql", "apt-get install -y -qq redis-server",
                        "apt-get install -y -qq chromium fonts-thai-tlwg", "apt-get install -y -qq curl jq"]
    assert log.count("apt-get update -qq") == 1
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in log
    assert any(line.startswith("redis-server ") for line in log)


@pytest.mark.parametrize("root, debian", [(False, True), (True, False)])
def test_otherwise_it_stops_with_the_commands_to_run(tmp_path: Path, root: bool, debian: bool) -> None:
    status, err, log = run(machine(tmp_path, installed=False, running=False, root=root, debian=debian,
                                   chromium=False, tools=False))
    assert status == 1
    assert log == []  # nothing installed, nothing started
    assert ("sudo apt-get update && sudo apt-get install -y postgresql redis-server chromium fonts-thai-tlwg "
            "curl jq") in err
    assert "pg_ctlcluster" in err and "redis-server --daemonize yes" in err
