"""One batch job, in its own process: ``python -m portmodel.serving.job_process JOB_ID``.

Started by the service's job runner with the repository in ``PORTMODEL_JOB_REPO`` (never on the
command line, where a database password would show). Reads the job and its model version from
the repository, scores the input into the output with ``portmodel.batch.score_file`` (one
process: the service bounds how many jobs run at once), prints the summary as JSON on stdout.
SIGTERM (a cancel) or a failure aborts the output: nothing partial is left. Exit status 0 when the
output was written, 1 otherwise (the reason as the last stderr line).
"""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    import os

    from ..batch import score_file
    from ..cli import Terminated, _interruptible, _one_line
    from .store import Store
    _interruptible()     # SIGTERM -> Terminated: the writer aborts its upload or temporary file
    import time
    store = Store.open(os.environ["PORTMODEL_JOB_REPO"])
    try:
        job = store.job(argv[0])
        if job is None:
            print(f"portmodel: error: job {argv[0]!r} does not exist", file=sys.stderr)
            return 1
        version = store.version(job["model"], job["version"])
        if version is None:
            print(f"portmodel: error: model {job['model']!r} no longer has version "
                  f"{job['version']}", file=sys.stderr)
            return 1
        document = store.document(version.digest)
    except BaseException:
        store.close()
        raise
    spec = job["spec"]
    # checked again here, just before the files are opened: a symbolic link swapped in since
    # the job was accepted must not lead it out of the allowed roots
    from .config import ServeConfig
    from .jobs import Refused, check_location
    config = ServeConfig.from_env()
    try:
        check_location(spec["input"], config, writing=False)
        check_location(spec["output"], config, writing=True)
    except Refused as exc:
        print(f"portmodel: error: refused: {exc}", file=sys.stderr)
        return 1
    last = [time.monotonic()]

    def report(summary) -> None:         # rows so far, into the repository at most once a second
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            try:
                store.job_progress(job["id"], summary.rows_read, summary.rows_scored,
                                   summary.rows_rejected)
            except Exception:  # noqa: BLE001 - progress is only informative
                pass
    def still_wanted(summary) -> None:   # a job cancelled meanwhile leaves no output behind
        current = store.job(job["id"])
        if current is None or current.get("state") != "running":
            raise Terminated()
    try:
        summary = score_file(document, spec["input"], spec["output"], jobs=1, progress=False,
                             on_chunk=report, before_commit=still_wanted,
                             **spec.get("options", {}))
    except Terminated:
        print("portmodel: error: cancelled; no output written", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - reported as the job's error, one line
        print(f"portmodel: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        store.close()
    json.dump({"rows_read": summary.rows_read, "rows_scored": summary.rows_scored,
               "rows_rejected": summary.rows_rejected, "seconds": summary.seconds,
               "errors": summary.errors}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
