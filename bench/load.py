"""Benchmark: the assessment form, a draft save and the dashboard under load, over HTTP, against gunicorn.

    .venv/bin/python bench/load.py --employees 100000 [--workers 4] [--clients 50] [--seconds 30] [--repeat 1]
                                   [--accounts 2000] [--database-url URL] [--reuse]

Builds a synthetic bank (bench/synthetic.py) where everyone has a completed assessment (bench/heatmap.py) and an
open cycle for everyone, with login accounts for `accounts` people spread over the bank (team leads also hold the
supervisor role). Then starts gunicorn as the README runs it (`--workers 4`, SECRET_KEY and DATABASE_URL in its
environment), on a free local port, and for each scenario runs `clients` concurrent clients for `seconds`:

- form_get: GET of the person's self-assessment form;
- draft_save: POST of a draft of that form, with the CSRF token and lock version read from the form before the
  clock starts (each client owns its people, so no save meets another's: no 409);
- dashboard: GET of the person's dashboard.

Each client cycles over its own people, on one connection of its own (http.client, re-opened when gunicorn's sync
workers close it). Sessions are prepared before timing as a sign-in would write them (flask_login's login_user and
the app's start_session), signed with the server's SECRET_KEY, as bench/synthetic.py's `signed_in_client` does for
the test client: the sign-in throttle is neither exercised nor weakened. Any answer other than 2xx or 3xx, or a
failed connection, is an error; the run exits with status 1 when there is one. Per scenario it prints

    RESULT name=load_form_get db=sqlite employees=100000 median_s=… peak_rss_mb=… rps=… p50_ms=… p95_ms=… p99_ms=…
           cpu_ms_per_req=… errors=0

where median_s is the median latency, peak_rss_mb the largest worker's peak resident memory, rps the completed
requests per second, and cpu_ms_per_req the server's CPU time (gunicorn's master and workers, from /proc) per request.
With `repeat` > 1 each scenario runs that many times and the run with the median rate is reported.
Budget at 100,000 people on 2 cores: ≥ 200 req/s in each scenario, no errors, ≤ 10 ms of server CPU per request.

`--reuse` keeps a bank an earlier run built on the same `--database-url` (the default is a new SQLite file, whose
URL is printed).
"""
import argparse
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CYCLE = "LOAD"
USER_AGENT = "competency-load-bench"
SCENARIOS = ("form_get", "draft_save", "dashboard")


@dataclass
class Person:
    """One signed-in account a client acts as: its session cookie (renewed by every answer) and its open form."""

    user_id: str
    assessment_id: int
    cookie: str = ""
    csrf: str = ""
    lock_version: int = 0


@dataclass
class Tally:
    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)


# --- the bank ----------------------------------------------------------------------------------


def build(app, employees: int, accounts: int) -> None:
    """The synthetic bank, everyone assessed once (a closed cycle) and in an open cycle, and the accounts."""
    from heatmap import add_assessments
    from synthetic import build_bank

    from competency.services.assessments import cycles
    from competency.timeutil import bank_today

    bank = build_bank(employees)
    add_assessments(bank["version"].id)
    today = bank_today()
    cycle = cycles.save_cycle(cycles.CycleValues(
        code=CYCLE, name_zh="负载", name_en="Load", version_id=bank["version"].id, period_start=today - timedelta(days=60),
        period_end=today + timedelta(days=60), self_deadline=today + timedelta(days=30),
        supervisor_deadline=today + timedelta(days=45)))
    cycles.open_cycle(cycle)
    _add_accounts(accounts)


def _add_accounts(accounts: int) -> None:
    """Login accounts for `accounts` people evenly spread over the bank; team leads are also supervisors."""
    from sqlalchemy import func, insert, select

    from competency.extensions import db
    from competency.models import Employee, Role, User, UserRole

    total = db.session.scalar(select(func.count(Employee.id)))
    step = max(1, total // max(1, accounts))
    people = db.session.execute(select(Employee.id, Employee.supervisor_id).order_by(Employee.id)).all()[::step][:accounts]
    db.session.execute(insert(User), [{"email": f"p{e}@load.example", "employee_id": e, "password_hash": "!", "active": True,
                                       "session_version": 1} for e, _s in people])
    ids = dict(db.session.execute(select(User.employee_id, User.id).where(User.email.like("%@load.example"))).all())
    roles = [{"user_id": ids[e], "role": Role.EMPLOYEE} for e, _s in people]
    roles += [{"user_id": ids[e], "role": Role.SUPERVISOR} for e, s in people if s is None]
    db.session.execute(insert(UserRole), roles)
    db.session.commit()


def _built(employees: int) -> bool:
    from sqlalchemy import func, select

    from competency.extensions import db
    from competency.models import Cycle, Employee

    return (db.session.scalar(select(Cycle.id).where(Cycle.code == CYCLE)) is not None
            and db.session.scalar(select(func.count(Employee.id))) == employees)


def prepare(args) -> tuple[str, str, list[Person], list[int]]:
    """Build or reuse the bank; returns the database URL, the secret key, the people and the competency ids."""
    import secrets

    from synthetic import fresh_app, vacuum_analyze

    from competency import create_app
    from competency.extensions import db

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/load.db"
    key = secrets.token_hex(32)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": key})
    with app.app_context():
        reuse = args.reuse and _built(args.employees)
        db.session.remove()
        db.engine.dispose()
    if not reuse:
        if url.startswith("sqlite:///") and Path(url[len("sqlite:///"):]).exists():
            Path(url[len("sqlite:///"):]).unlink()
        app = fresh_app(url)
        app.config["SECRET_KEY"] = key
        with app.app_context():
            started = time.perf_counter()
            build(app, args.employees, args.accounts)
            print(f"built {args.employees} employees, assessed and in an open cycle, in {time.perf_counter() - started:.1f}s "
                  f"({db.engine.dialect.name}): {url}", flush=True)
    with app.app_context():
        vacuum_analyze()  # after the build, and after an earlier run's saves: PostgreSQL here runs without autovacuum
        people, competencies = _sessions(app)
        db.session.remove()
        db.engine.dispose()
    return url, key, people, competencies


def _sessions(app) -> tuple[list[Person], list[int]]:
    """A signed session cookie per account, as a sign-in writes it, and each person's open assessment."""
    from flask import session
    from flask_login import login_user
    from sqlalchemy import select

    from competency.extensions import db
    from competency.models import Assessment, Competency, Cycle, User
    from competency.security import start_session

    cycle = db.session.scalar(select(Cycle).where(Cycle.code == CYCLE))
    assessments = dict(db.session.execute(select(Assessment.employee_id, Assessment.id).where(Assessment.cycle_id == cycle.id)).all())
    users = db.session.scalars(select(User).where(User.email.like("%@load.example")).order_by(User.id)).all()
    serializer = app.session_interface.get_signing_serializer(app)
    people = []
    for user in users:
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
            login_user(user)
            start_session(two_factor_done=True)
            cookie = serializer.dumps(dict(session))
        people.append(Person(user.get_id(), assessments[user.employee_id], cookie=cookie))
    competencies = db.session.scalars(select(Competency.id).where(Competency.version_id == cycle.version_id)).all()
    return people, list(competencies)


# --- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, key: str, workers: int, log) -> tuple[subprocess.Popen, int]:
    """gunicorn as the README runs it, on a free local port; returns once it answers."""
    port = _free_port()
    env = dict(os.environ, SECRET_KEY=key, DATABASE_URL=url, SESSION_COOKIE_SECURE="1")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                               "competency:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            connection.getresponse().read()
            connection.close()
            if len(_worker_pids(server.pid)) >= workers:
                return server, port
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def _worker_pids(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def server_cpu_s(master: int) -> float:
    """User and system CPU time of gunicorn's master and workers so far, in seconds."""
    ticks = 0
    for pid in [master, *_worker_pids(master)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def workers_peak_rss_mb(master: int) -> float:
    """The largest peak resident memory (VmHWM) among the workers, in MB."""
    peak = 0
    for pid in _worker_pids(master):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


# --- the clients -------------------------------------------------------------------------------


class Client:
    """One simulated browser tab after another, on one connection: sends the person's session cookie and keeps the
    renewed one."""

    CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
    LOCK = re.compile(r'name="lock_version" type="hidden" value="(\d+)"')

    def __init__(self, port: int, people: list[Person], competencies: list[int], seed: int):
        self.port, self.people, self.competencies = port, people, competencies
        self.rng = random.Random(seed)
        self.connection = None

    def request(self, method: str, path: str, person: Person, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": f"session={person.cookie}", "User-Agent": USER_AGENT, "Accept-Language": "zh"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        for cookie in response.msg.get_all("Set-Cookie") or []:
            if cookie.startswith("session="):
                person.cookie = cookie.split(";", 1)[0][len("session="):]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, data

    def open_form(self, person: Person, read: bool = False) -> tuple[int, bytes]:
        """GET the person's form; with `read`, keep its CSRF token and lock version for the saves."""
        status, body = self.request("GET", f"/assessments/{person.assessment_id}/self", person)
        if read and status == 200:
            text = body.decode()
            person.csrf, person.lock_version = self.CSRF.search(text).group(1), int(self.LOCK.search(text).group(1))
        return status, body

    def save_draft(self, person: Person) -> tuple[int, bytes]:
        fields = {"csrf_token": person.csrf, "lock_version": person.lock_version, "strengths": "", "to_develop": "",
                  "save": "1"}
        for comp_id in self.competencies:
            fields[f"level_{comp_id}"] = self.rng.randint(1, 5)
            fields[f"comment_{comp_id}"] = ""
        status, body = self.request("POST", f"/assessments/{person.assessment_id}/self", person, urlencode(fields))
        if status == 302:
            person.lock_version += 1
        return status, body

    def act(self, scenario: str, person: Person) -> tuple[int, bytes]:
        if scenario == "form_get":
            return self.open_form(person)
        if scenario == "draft_save":
            return self.save_draft(person)
        return self.request("GET", "/", person)

    def run(self, scenario: str, until: float, tally: Tally) -> None:
        index = 0
        while time.perf_counter() < until:
            person = self.people[index % len(self.people)]
            index += 1
            started = time.perf_counter()
            try:
                status, body = self.act(scenario, person)
            except Exception as error:  # noqa: BLE001 - any failure of a request is counted, the run goes on
                tally.errors.append(repr(error))
                continue
            tally.latencies.append(time.perf_counter() - started)
            if not 200 <= status < 400:
                tally.errors.append(f"{status} {body[:200]!r}")


def _all(clients: list[Client], scenario: str, seconds: float, tally: Tally) -> None:
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=c.run, args=(scenario, until, tally)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(scenario: str, clients: list[Client], seconds: float, master: int) -> dict:
    """One timed run of a scenario: rate, latency percentiles, server CPU per request, errors."""
    warm, tally = Tally(), Tally()
    _all(clients, scenario, min(2.0, seconds / 4), warm)  # not counted: each worker's first pages, the first saves
    cpu_before, client_before, started = server_cpu_s(master), time.process_time(), time.perf_counter()
    _all(clients, scenario, seconds, tally)
    elapsed = time.perf_counter() - started
    cpu, client_cpu = server_cpu_s(master) - cpu_before, time.process_time() - client_before
    tally.errors[:0] = warm.errors
    done = len(tally.latencies)
    ms = [1000 * t for t in tally.latencies] or [0.0]
    return {"rps": done / elapsed, "p50_ms": _percentile(ms, 0.5), "p95_ms": _percentile(ms, 0.95),
            "p99_ms": _percentile(ms, 0.99), "cpu_ms_per_req": 1000 * cpu / max(1, done), "requests": done,
            "client_cpu_ms_per_req": 1000 * client_cpu / max(1, done),
            "errors": tally.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url", help="PostgreSQL to use (its schema is dropped); a new SQLite file by default")
    parser.add_argument("--reuse", action="store_true", help="keep the bank an earlier run built on --database-url")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README's 4)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--accounts", type=int, default=2000, help="people signed in, shared out among the clients")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args()
    url, key, people, competencies = prepare(args)
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    clients = [Client(0, people[i::args.clients], competencies, seed=i) for i in range(min(args.clients, len(people)))]
    failed = False
    with tempfile.TemporaryFile("w+") as log:
        server, port = start_server(url, key, args.workers, log)
        try:
            for client in clients:
                client.port = port
            print(f"gunicorn: {args.workers} workers on port {port}; {len(clients)} clients over {len(people)} people", flush=True)
            for scenario in args.only:
                if scenario == "draft_save":  # each person's CSRF token and lock version, read from the form
                    problems = [status for c in clients for p in c.people if (status := c.open_form(p, read=True)[0]) != 200]
                    if problems:
                        raise RuntimeError(f"the forms did not open: {problems[:5]}")
                runs = [measure(scenario, clients, args.seconds, server.pid) for _ in range(args.repeat)]
                for n, run in enumerate(runs, 1):
                    print(f"{scenario} run {n}: {run['requests']} requests, {run['rps']:.0f} req/s, "
                          f"{run['client_cpu_ms_per_req']:.1f} ms of the clients' CPU per request, "
                          f"{len(run['errors'])} errors {run['errors'][:3]}", flush=True)
                run = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
                failed = failed or any(r["errors"] for r in runs)
                print(f"RESULT name=load_{scenario} db={database} employees={args.employees} "
                      f"median_s={run['p50_ms'] / 1000:.4f} peak_rss_mb={workers_peak_rss_mb(server.pid):.0f} "
                      f"rps={run['rps']:.0f} p50_ms={run['p50_ms']:.1f} p95_ms={run['p95_ms']:.1f} p99_ms={run['p99_ms']:.1f} "
                      f"cpu_ms_per_req={run['cpu_ms_per_req']:.1f} errors={len(run['errors'])}", flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            if failed:
                log.seek(0)
                print(log.read()[-3000:], file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
