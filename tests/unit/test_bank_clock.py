"""The app's clock is the bank's: no code of the package asks the server's local date or time (which, on a server
kept on UTC, starts a bank in Beijing's day at 08:00), only timeutil does, in the bank's zone."""
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "competency"
SERVER_CLOCK = re.compile(r"\bdate\.today\(\)|\bdatetime\.now\(\s*\)|\bdatetime\.today\(\)|\bdatetime\.utcnow\(\)|\btime\.localtime\(")


def test_only_timeutil_reads_the_clock_and_never_the_servers_zone():
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
                 for path in sorted(PACKAGE.rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if SERVER_CLOCK.search(line)]
    assert offenders == [], "use timeutil.bank_today(), bank_now() or utcnow():\n" + "\n".join(offenders)
