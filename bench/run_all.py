"""What `make bench` runs: the chat relay benchmark, then the usage statistics benchmark when it exists.
Extra arguments go to the chat benchmark (e.g. `--quick`). Exits non-zero when any benchmark did."""
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main():
    """Run each benchmark in its own process (the chat bench monkey-patches with gevent)."""
    status = 0
    runs = [[sys.executable, str(BENCH / "chat_bench.py"), *sys.argv[1:]]]
    if (BENCH / "usage_bench.py").exists():
        runs.append([sys.executable, str(BENCH / "usage_bench.py")])
    for command in runs:
        print(f"\n$ {' '.join(Path(part).name if part.endswith('.py') else part for part in command[1:])}",
              flush=True)
        status = subprocess.run(command, cwd=BENCH.parent).returncode or status
    return status


if __name__ == "__main__":
    sys.exit(main())
