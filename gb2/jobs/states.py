"""DIRAC job statuses, their state machine, and how gbasf2 summarises them.

Shared by the embedded server (which enforces the state machine like DiracX),
the engine and the client (which prints gbasf2's summary line).
"""

from __future__ import annotations

SUBMITTING = "Submitting"
RECEIVED = "Received"
CHECKING = "Checking"
SCOUTING = "Scouting"
STAGING = "Staging"
WAITING = "Waiting"
MATCHED = "Matched"
RESCHEDULED = "Rescheduled"
RUNNING = "Running"
STALLED = "Stalled"
COMPLETING = "Completing"
DONE = "Done"
COMPLETED = "Completed"
FAILED = "Failed"
DELETED = "Deleted"
KILLED = "Killed"

ALL_STATES = (
    SUBMITTING, RECEIVED, CHECKING, SCOUTING, STAGING, WAITING, MATCHED, RESCHEDULED,
    RUNNING, STALLED, COMPLETING, DONE, COMPLETED, FAILED, DELETED, KILLED,
)  # fmt: skip

#: The payload has finished (DIRAC's JOB_FINAL_STATES), plus Deleted.
FINAL_STATES = frozenset({DONE, COMPLETED, FAILED, KILLED, DELETED})
#: States gbasf2's gb2_job_reschedule acts on.
FATAL_STATES = frozenset({FAILED, KILLED, STALLED})
#: States in which a job holds (or is about to hold) a worker slot.
ACTIVE_STATES = frozenset({MATCHED, RUNNING, COMPLETING, STALLED})

#: DIRAC's JobsStateMachine: allowed next states of each state.
TRANSITIONS: dict[str, frozenset[str]] = {
    DELETED: frozenset(),
    KILLED: frozenset({DELETED}),
    FAILED: frozenset({RESCHEDULED, DELETED}),
    DONE: frozenset({DELETED}),
    COMPLETED: frozenset({DONE, FAILED}),
    COMPLETING: frozenset({DONE, FAILED, COMPLETED, STALLED, KILLED}),
    STALLED: frozenset({RUNNING, FAILED, KILLED}),
    RUNNING: frozenset({STALLED, DONE, FAILED, RESCHEDULED, COMPLETING, KILLED, RECEIVED}),
    RESCHEDULED: frozenset({WAITING, RECEIVED, DELETED, FAILED, KILLED}),
    MATCHED: frozenset({RUNNING, FAILED, RESCHEDULED, KILLED}),
    WAITING: frozenset({MATCHED, RESCHEDULED, DELETED, KILLED}),
    STAGING: frozenset({CHECKING, WAITING, FAILED, KILLED}),
    SCOUTING: frozenset({CHECKING, FAILED, STALLED, KILLED}),
    CHECKING: frozenset({SCOUTING, STAGING, WAITING, RESCHEDULED, FAILED, DELETED, KILLED}),
    RECEIVED: frozenset({SCOUTING, CHECKING, STAGING, WAITING, FAILED, DELETED, KILLED}),
    SUBMITTING: frozenset({RECEIVED, CHECKING, DELETED, KILLED}),
}


def next_state(current: str, candidate: str) -> str:
    """DIRAC's rule: move if the transition is allowed, otherwise stay where you are."""
    if candidate == current:
        return current
    return candidate if candidate in TRANSITIONS.get(current, frozenset()) else current


#: gbasf2's summary line, alphabetical: its eight keys plus Scouting (jobs held until their
#: project's scout jobs pass), which BelleDIRAC shows and gb2 keeps apart from Waiting.
SUMMARY_KEYS = ("Completed", "Deleted", "Done", "Failed", "Killed", "Running", "Scouting", "Stalled", "Waiting")

_SUMMARY_BUCKET = {
    SUBMITTING: "Waiting", RECEIVED: "Waiting", CHECKING: "Waiting", SCOUTING: "Scouting",
    STAGING: "Waiting", WAITING: "Waiting", MATCHED: "Waiting", RESCHEDULED: "Waiting",
    RUNNING: "Running", COMPLETING: "Running", STALLED: "Stalled", DONE: "Done",
    COMPLETED: "Completed", FAILED: "Failed", KILLED: "Killed", DELETED: "Deleted",
}  # fmt: skip


def summary_bucket(status: str) -> str:
    """Which key of the summary line a DIRAC status is counted under."""
    return _SUMMARY_BUCKET.get(status, "Waiting")


# Minor statuses (DIRAC's JobMinorStatus constants and what DiracX uses).
class Minor:
    JOB_ACCEPTED = "Job accepted"
    BULK_CONFIRMATION = "Bulk transaction confirmation"
    JOB_SANITY = "JobSanity"
    INPUT_DATA_RESOLUTION = "Input Data Resolution"
    INPUT_DATA_NOT_AVAILABLE = "Input Data Not Available"
    NO_CANDIDATE_SITES = "No candidate sites available"
    ILLEGAL_JDL = "Illegal Job JDL"
    PILOT_AGENT_SUBMISSION = "Pilot Agent Submission"
    SCOUT_WAIT = "Waiting for Scout Job Completion"
    #: A primary job whose scout failed ends Failed with ``Scout job <id> failed`` (see :func:`scout_failed`).
    SCOUT_FAILED_PREFIX = "Scout job "
    ASSIGNED = "Assigned"
    JOB_INITIALIZATION = "Job Initialization"
    DOWNLOADING_INPUT_SANDBOX = "Downloading InputSandbox"
    FAILED_DOWNLOADING_INPUT_SANDBOX = "Failed Downloading InputSandbox"
    APPLICATION = "Application"
    APP_NOT_FOUND = "Application not found"
    APP_SUCCESS = "Application Finished Successfully"
    APP_ERRORS = "Application Finished With Errors"
    EXCEPTION_DURING_EXECUTION = "Exception During Execution"
    UPLOADING_OUTPUT_SANDBOX = "Uploading Output Sandbox"
    OUTPUT_SANDBOX_UPLOADED = "Output Sandbox Uploaded"
    UPLOADING_OUTPUT_DATA = "Uploading Output Data"
    UPLOADING_JOB_OUTPUTS = "Uploading Job Outputs"
    OUTPUT_DATA_UPLOADED = "Output Data Uploaded"
    EXEC_COMPLETE = "Execution Complete"
    CPU_LIMIT = "Job has reached the CPU limit of the queue"
    WALLCLOCK_LIMIT = "Job has exceeded maximum wall clock time"
    STALLED_PILOT = "Job stalled: pilot not running"
    WATCHDOG_STALLED = "Watchdog identified this job as stalled"
    MARKED_KILLED = "Marked for termination"
    RECEIVED_KILL = "Received Kill signal"
    RESCHEDULED = "Job Rescheduled"
    #: gb2's embedded grid: a clean stop of the server sent the job back to wait (a crash stalls it).
    SERVER_STOPPED = "Requeued: the gb2 server was stopped"
    MAX_RESCHEDULING = "Maximum of reschedulings reached"


def scout_failed(scout_id: int) -> str:
    """The minor status of a primary job that never ran because scout ``scout_id`` failed."""
    return f"{Minor.SCOUT_FAILED_PREFIX}{scout_id} failed"


def failed_scout_of(minor: str | None) -> int | None:
    """The scout named by a :func:`scout_failed` minor status, else None."""
    text = minor or ""
    if not (text.startswith(Minor.SCOUT_FAILED_PREFIX) and text.endswith(" failed")):
        return None
    number = text[len(Minor.SCOUT_FAILED_PREFIX) : -len(" failed")]
    return int(number) if number.isdigit() else None
