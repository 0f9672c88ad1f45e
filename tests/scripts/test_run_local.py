"""`make run`'s start-up output (scripts/run_local.py) without starting the platform: the progress
lines, where the components' output goes (their log files, not the terminal), the failure report,
the banner and the settings every service gets. The components are stand-in scripts."""
from __future__ import annotations

import importlib.util
import re
import signal
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def rl(tmp_path, monkeypatch):
    """scripts/run_local.py as a module, its state and scripts in tmp_path."""
    spec = importlib.util.spec_from_file_location("run_local_under_test", REPO / "scripts" / "run_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = tmp_path / "data"
    (data / "dev-keys").mkdir(parents=True)
    monkeypatch.setattr(module, "DATA", data)
    monkeypatch.setenv("OT_DATA_DIR", str(data))  # run() sets it for the scripts it calls
    monkeypatch.setattr(module, "LOGS", data / "logs")
    monkeypatch.setattr(module, "SCRIPTS", tmp_path / "scripts")
    (tmp_path / "scripts").mkdir()
    (data / "logs").mkdir()
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # run() must not take over this test run's Ctrl-C
    return module


def fake_script(rl, name: str, start: str, calls: Path | None = None) -> None:
    """A stand-in for scripts/<name>: `status` says not running, `start` runs the given bash."""
    record = f'echo "$1" >>{calls}' if calls else ":"
    (rl.SCRIPTS / name).write_text(f'{record}\ncase "$1" in\n  status) exit 1 ;;\n  start) {start} ;;\n'
                                   '  stop) echo "[x] stopping" >&2 ;;\nesac\n')


def test_a_progress_line_per_component_with_the_seconds(rl, capsys):
    with rl.step("Kafka", "kafka"):
        pass
    with rl.step("Keycloak", "keycloak") as progress:
        progress.note = "already running"
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"  Kafka      starting… ready in \d+ s", out[0])
    assert re.fullmatch(r"  Keycloak   starting… ready in \d+ s \(already running\)", out[1])


def test_a_scripts_messages_go_to_its_log_and_only_its_result_is_read(rl, capfd):
    fake_script(rl, "kafka.sh", 'echo "[kafka] WARN a long java warning" >&2; echo KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1')
    with rl.step("Kafka", "kafka"):
        found = rl.start("kafka.sh", "kafka")
    assert found == {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    out, err = capfd.readouterr()
    assert "java warning" not in out + err
    assert "[kafka] WARN a long java warning" in rl.log_path("kafka").read_text()


def test_a_failing_component_shows_why_and_the_end_of_its_log(rl, capfd):
    fake_script(rl, "keycloak.sh", 'echo "[keycloak] ERROR: the realms did not answer" >&2; exit 1')
    with pytest.raises(rl.StartFailed):
        with rl.step("Keycloak", "keycloak"):
            rl.start("keycloak.sh", "keycloak")
    out = capfd.readouterr().out
    assert "  Keycloak   starting… failed: scripts/keycloak.sh start exited with code 1" in out
    assert "last lines of" in out and "[keycloak] ERROR: the realms did not answer" in out


def test_a_missing_script_is_a_failure_named_in_its_log(rl, capfd):
    with pytest.raises(rl.StartFailed):
        with rl.step("Zipkin", "zipkin"):
            rl.start("zipkin.sh", "zipkin")
    out = capfd.readouterr().out
    assert "failed: scripts/zipkin.sh start exited with code 127" in out
    assert "zipkin.sh: No such file or directory" in out


def test_a_services_json_log_goes_to_its_file_not_the_terminal(rl, capfd):
    code = 'import sys; print("{\\"level\\": \\"INFO\\", \\"message\\": \\"serving\\"}", file=sys.stderr); print("hello")'
    process = rl.launch([sys.executable, "-c", code], None, "intake")
    assert process.wait(timeout=60) == 0
    out, err = capfd.readouterr()
    assert "serving" not in out + err and "hello" not in out + err
    assert rl.log_path("intake").read_text().splitlines() == ['{"level": "INFO", "message": "serving"}', "hello"]


def test_a_failed_migration_names_the_command_and_keeps_its_output_in_the_log(rl, capfd):
    with pytest.raises(rl.StartFailed, match="exited with code 3"):
        with rl.step("consent", "consent"):
            rl.run_step([sys.executable, "-c", "import sys; print('no such table'); sys.exit(3)"], None, "consent")
    assert "no such table" in capfd.readouterr().out  # shown as the log's tail


def test_each_run_starts_fresh_logs_and_keeps_the_previous_one(rl):
    rl.log_path("intake").write_text("the last run\n")
    rl.rotate_logs()
    assert not rl.log_path("intake").exists()
    assert (rl.LOGS / "intake.log.prev").read_text() == "the last run\n"


def test_every_service_and_the_portal_send_their_traces_to_zipkin(rl):
    tracing = rl.tracing_env("http://127.0.0.1:9411")
    issuer = "http://127.0.0.1:8180/realms/pohjois-savo"
    for name, grpc_port, http_port, *_ in rl.SERVICES:
        env = rl.service_env(name, grpc_port, http_port, "pohjois-savo", "127.0.0.1:19092", issuer, tracing)
        assert env["OTEL_TRACES_EXPORTER"] == "zipkin"
        assert env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] == "http://127.0.0.1:9411/api/v2/spans"
    portal = rl.portal_env("pohjois-savo", issuer, "secret", tracing)
    assert portal["OTEL_TRACES_EXPORTER"] == "zipkin"
    assert portal["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] == "http://127.0.0.1:9411/api/v2/spans"


def test_the_mailed_feedback_link_points_at_the_portal(rl):
    _, grpc_port, http_port, *_ = next(s for s in rl.SERVICES if s[0] == "feedback")
    env = rl.service_env("feedback", grpc_port, http_port, "pohjois-savo", "127.0.0.1:19092",
                         "http://127.0.0.1:8180/realms/pohjois-savo", {})
    assert env["OT_FEEDBACK_PUBLIC_URL"] == rl.PORTAL_URL == f"http://127.0.0.1:{8080 + rl.OFFSET}"
    assert env["OT_SMTP_HOST"] == "127.0.0.1"  # the local sink: `send-due` refuses anything else


def test_the_banner_says_where_everything_is(rl, capsys):
    rl.print_guide("pohjois-savo", "127.0.0.1:19092", "http://127.0.0.1:8180",
                   "http://127.0.0.1:8180/realms/pohjois-savo", "http://127.0.0.1:9411")
    out = capsys.readouterr().out
    assert f"Portal       {rl.PORTAL_URL}/" in out
    assert "Traces       http://127.0.0.1:9411/zipkin/" in out
    assert f"Mail viewer  http://127.0.0.1:{rl.MAIL_PAGE_PORT}/" in out
    assert f"{rl.shown(rl.LOGS)}/<component>.log" in out and "make logs" in out
    assert "tail ot.pohjois-savo.intake.v1" in out
    assert "make send-due AS_OF=" in out
    for user, _ in rl.DEMO_USERS:
        assert f" {user} " in out
    assert out.rstrip().endswith("Press Ctrl-C to stop everything.")


def test_a_start_up_that_fails_stops_what_it_started_and_leaves_the_terminal_readable(rl, tmp_path, capfd):
    calls = tmp_path / "calls"
    fake_script(rl, "kafka.sh", 'echo "[kafka] lots of start-up chatter" >&2; echo KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1',
                calls)
    fake_script(rl, "keycloak.sh", 'echo "[keycloak] port 8180 is in use" >&2; exit 1', calls)
    fake_script(rl, "zipkin.sh", "exit 0", calls)
    assert rl.run("pohjois-savo") == 1
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Starting the OT platform for ")
    assert re.fullmatch(r"  Kafka      starting… ready in \d+ s", lines[1])
    assert lines[2] == "  Keycloak   starting… failed: scripts/keycloak.sh start exited with code 1"
    assert "[keycloak] port 8180 is in use" in out and "chatter" not in out + err
    assert out.rstrip().endswith("stopping… stopped.")
    # the ones it started are stopped (it found none of them running), Keycloak, Kafka, Zipkin alike
    assert calls.read_text().split().count("stop") == 3


def test_ctrl_c_during_the_start_up_stops_waiting_and_says_so(rl, capsys, monkeypatch):
    process = rl.launch([sys.executable, "-c", "import time; time.sleep(60)"], None, "portal")
    monkeypatch.setattr(rl, "STOP", rl.threading.Event())
    rl.STOP.set()  # what the SIGINT handler does
    try:
        with pytest.raises(rl.Interrupted):
            with rl.step("portal", "portal"):
                rl.wait_until(lambda: False, process, "never")
    finally:
        process.kill()
        process.wait()
    assert capsys.readouterr().out == "  portal     starting… interrupted\n"


def test_send_due_before_any_make_run_says_to_start_the_platform_first(rl, capsys):
    assert rl.main(["send-due", "--as-of", "2027-02-01"]) == 2
    assert "start the platform first (make run)" in capsys.readouterr().out
