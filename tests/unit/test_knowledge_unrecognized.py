"""A failure no known cause explains is reported once, precisely; clean logs stay quiet.

The logs under knowledge_logs/ are written from the libraries' own output formats:
unknown_*.log each end in a failure the catalog does not know, clean_*.log are training
runs that went fine (two of them are real output of cockpit's tiny CPU runs).
"""

# ruff: noqa: E501  (verbatim log lines are long)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.cli.explain import explain_main
from cockpit.knowledge.findings import UNRECOGNIZED, Match
from cockpit.knowledge.matcher import ChunkScanner, scan_file, scan_lines
from cockpit.report.build import build_report

LOGS = Path(__file__).with_name("knowledge_logs")

# file: (exception, package, user frame, in the message, how it ended)
UNKNOWN = {
    "unknown_collate_keyerror.log": (
        "KeyError",
        "torch",
        "collate.py:12, in pad_pairs",
        "'chosen_ids'",
        "",
    ),
    "unknown_datasets_split.log": (
        "ValueError",
        "datasets",
        "sft.py:31, in <module>",
        'Unknown split "validation"',
        "",
    ),
    "unknown_torch_shape.log": (
        "RuntimeError",
        "torch",
        "train_head.py:121, in main",
        "mat1 and mat2 shapes",
        "",
    ),
    "unknown_user_attributeerror.log": (
        "AttributeError",
        "datasets",
        "prep.py:22, in to_chat",
        "no attribute 'strip'",
        "",
    ),
    "unknown_torchrun_two_ranks.log": (
        "ValueError",
        "torch",
        "losses.py:41, in weighted_ce",
        "Expected input batch_size",
        "exit code 1",
    ),
    "unknown_torchrun_sigsegv.log": (
        "exit",
        "",
        "",
        "failed (exitcode: -11)",
        "signal 11 (SIGSEGV)",
    ),
    "unknown_shell_killed.log": ("Killed", "", "", "48211 Killed", "signal 9 (SIGKILL)"),
    "unknown_faulthandler_segfault.log": (
        "Fatal Python error",
        "sentencepiece",
        "tok.py:9, in load_tokenizer",
        "Segmentation fault",
        "signal 11 (SIGSEGV)",
    ),
    "unknown_chained_reward.log": (
        "rewards.RewardComputationError",
        "trl",
        "rewards.py:21, in length_ratio",
        "length_ratio failed",
        "",
    ),
    "unknown_accelerate_calledprocess.log": (
        "AssertionError",
        "",
        "train.py:40, in main",
        "warmup_ratio must be below 1",
        "exit code 1",
    ),
    "unknown_tqdm_interleaved.log": (
        "TypeError",
        "transformers",
        "trainer_ext.py:33, in compute_loss",
        "unsupported operand",
        "",
    ),
    "unknown_cpp_bad_alloc.log": ("std::bad_alloc", "", "", "std::bad_alloc", "signal 6 (SIGABRT)"),
    "unknown_notebook_valueerror.log": (
        "ValueError",
        "trl",
        "Cell In[7]:3",
        "Padding-free training requires",
        "",
    ),
    "unknown_error_line_ends.log": ("Error", "", "", "unrecognized arguments: --lora-alpah 32", ""),
}


def _errors(found: list[Match]) -> list[Match]:
    return [match for match in found if match.severity == "error"]


def test_every_fixture_is_listed_and_there_are_enough() -> None:
    assert sorted(p.name for p in LOGS.glob("unknown_*.log")) == sorted(UNKNOWN)
    assert len(UNKNOWN) >= 10
    assert len(list(LOGS.glob("clean_*.log"))) >= 10


@pytest.mark.parametrize("name", sorted(UNKNOWN))
def test_a_log_ending_in_an_unknown_failure_gets_exactly_one_precise_finding(name: str) -> None:
    exception, package, user, message, ended = UNKNOWN[name]
    found = _errors(scan_file(LOGS / name))
    assert [match.id for match in found] == [UNRECOGNIZED], found
    failure = found[0].failure
    assert failure is not None
    assert (failure.exception, failure.package) == (exception, package)
    assert failure.user_frame.endswith(user) if user else failure.user_frame == ""
    assert message in failure.message
    assert failure.exit == ended
    assert failure.search and failure.search in found[0].fix
    assert "No cause in cockpit's catalog" in found[0].fix


def test_the_finding_is_on_the_exception_line_and_names_the_raising_frame() -> None:
    (match,) = _errors(scan_file(LOGS / "unknown_datasets_split.log"))
    assert match.line == 16
    assert match.excerpt.startswith('ValueError: Unknown split "validation"')
    assert match.title == "Unrecognized error: ValueError in datasets"
    assert match.failure is not None
    assert match.failure.raised_at == "datasets/arrow_reader.py:245, in read"
    assert (
        match.failure.search
        == "\"ValueError: Unknown split 'validation'. Should be one of ['train'].\" datasets"
    )


def test_an_error_raised_in_user_code_says_so_and_keeps_the_library_that_called_it() -> None:
    (match,) = _errors(scan_file(LOGS / "unknown_collate_keyerror.log"))
    assert match.title == "Unrecognized error: KeyError in your code"
    assert match.failure is not None
    assert match.failure.version == "2.13.0+cu128"  # from the log's own version line
    assert ("raised in", "your code, called by torch 2.13.0+cu128") in match.failure.summary()
    assert "raised in your own code at /home/me/proj/collate.py:12" in match.fix


def test_ranks_printing_the_same_traceback_are_one_finding_with_the_launchers_exit() -> None:
    (match,) = _errors(scan_file(LOGS / "unknown_torchrun_two_ranks.log"))
    assert match.failure is not None and match.failure.count == 2
    assert match.line == 22  # the first rank's exception line, not torchrun's wrapper


def test_a_chain_reports_the_last_exception_and_names_the_first() -> None:
    (match,) = _errors(scan_file(LOGS / "unknown_chained_reward.log"))
    assert match.failure is not None
    assert match.failure.first == "ZeroDivisionError: division by zero (the direct cause)"
    handling = [
        "Traceback (most recent call last):",
        '  File "/srv/app/net.py", line 3, in fetch',
        "ConnectionResetError: [Errno 104] Connection reset by peer",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/srv/app/main.py", line 9, in <module>',
        "MyAppError: fetch failed",
    ]
    (match,) = _errors(scan_lines(handling))
    assert match.failure is not None and match.failure.exception == "MyAppError"
    assert match.failure.first.startswith("ConnectionResetError: [Errno 104]")


OOM_TRACEBACK = [
    "[rank0]: Traceback (most recent call last):",
    '[rank0]:   File "/workspace/train.py", line 40, in <module>',
    "[rank0]:     trainer.train()",
    "[rank0]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.6 GiB",
]
TORCHRUN_WRAPPER = [
    "E1130 14:00:09.456000 7001 torch/distributed/elastic/multiprocessing/api.py:882] failed (exitcode: 1) local_rank: 0 (pid: 7002) of binary: /opt/conda/bin/python",
    "Traceback (most recent call last):",
    '  File "/opt/conda/bin/torchrun", line 8, in <module>',
    "    sys.exit(main())",
    "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
    "============================================================",
    "train.py FAILED",
    "  exitcode  : 1 (pid: 7002)",
    "============================================================",
]


def test_a_known_cause_in_the_traceback_leaves_no_unrecognized_error_nor_for_its_launcher() -> None:
    found = scan_lines(["step 1", *OOM_TRACEBACK, *TORCHRUN_WRAPPER])
    assert [match.id for match in _errors(found)] == ["cuda_oom"]


def test_a_launchers_wrapper_alone_says_how_the_child_ended() -> None:
    (match,) = _errors(scan_lines(["Loading checkpoint shards: 0%", *TORCHRUN_WRAPPER[1:]]))
    assert match.failure is not None
    assert match.failure.exception.endswith("ChildFailedError")
    assert match.failure.exit == "exit code 1"
    assert "train.py FAILED" in match.failure.message


def _traceback(error: str, user_line: int = 10) -> list[str]:
    return [
        "Traceback (most recent call last):",
        f'  File "/home/me/proj/train.py", line {user_line}, in <module>',
        "    run()",
        error,
    ]


def test_a_traceback_after_which_training_goes_on_was_handled() -> None:
    progress = ["{'loss': 1.1, 'grad_norm': 0.5, 'learning_rate': 1e-4, 'epoch': 0.2}"]
    bar = [
        " 11%|█         | 11/100 [00:11<01:29, 1.00it/s]",
        " 12%|█▏        | 12/100 [00:12<01:28, 1.00it/s]",
    ]
    error = _traceback("MetricsUploadError: upload to the metrics server failed")
    assert _errors(scan_lines([*error, *progress])) == []
    assert _errors(scan_lines([*error, *bar])) == []
    assert len(_errors(scan_lines([*error, bar[0]]))) == 1  # one redraw of a bar is not training
    assert len(_errors(scan_lines([*progress, *error]))) == 1  # the traceback ends the log


def test_stopping_a_run_with_ctrl_c_is_not_a_failure() -> None:
    assert _errors(scan_lines(["step 9", *_traceback("KeyboardInterrupt")])) == []


def test_python_ignoring_an_exception_is_not_a_failure() -> None:
    lines = [
        "Exception ignored in: <function Pool.__del__ at 0x7f3a2c1d9ee0>",
        *_traceback("OSError: handle is closed"),
    ]
    assert _errors(scan_lines(lines)) == []


def test_distinct_failures_are_each_reported_and_repeats_once() -> None:
    first, second = _traceback("MyError: first thing"), _traceback("OtherError: second thing", 20)
    found = _errors(scan_lines([*first, "", *second]))
    assert [m.failure.exception for m in found if m.failure] == ["MyError", "OtherError"]
    repeated = _errors(scan_lines([*first, "retrying", *first, "retrying", *first]))
    assert len(repeated) == 1 and repeated[0].failure and repeated[0].failure.count == 3


def test_an_error_line_is_fatal_only_when_the_log_ends_with_it() -> None:
    line = "2026-11-30 12:00:01,123 - __main__ - ERROR - could not reach the metrics server"
    assert _errors(scan_lines(["start", line, *(f"step {i}" for i in range(40))])) == []
    (match,) = _errors(scan_lines(["start", line]))
    assert (
        match.failure is not None and match.failure.message == "could not reach the metrics server"
    )
    assert match.title == "Unrecognized error: the log ends with an error line"


def test_an_error_line_followed_by_a_death_is_the_account_of_that_death() -> None:
    lines = [
        "ERROR:root:shard 3 is corrupt",
        *(f"cleanup {i}" for i in range(30)),
        "Segmentation fault (core dumped)",
    ]
    (match,) = _errors(scan_lines(lines))
    assert match.failure is not None and match.failure.message == "shard 3 is corrupt"
    assert match.failure.exit == "signal 11 (SIGSEGV)"


def test_fed_one_line_at_a_time_the_scan_finds_the_same(tmp_path: Path) -> None:
    for name in (
        "unknown_torchrun_two_ranks.log",
        "unknown_faulthandler_segfault.log",
        "unknown_chained_reward.log",
    ):
        data = (LOGS / name).read_bytes()
        scanner, found = ChunkScanner(), []
        for number, line in enumerate(data.splitlines(keepends=True), start=1):
            found += scanner.feed(line, number)
        found += scanner.finish()
        assert found == scan_file(LOGS / name), name


def test_peek_leaves_the_scanner_as_it_was() -> None:
    scanner = ChunkScanner()
    scanner.feed("\n".join(_traceback("MyError: boom")).encode() + b"\n", 1)
    assert [m.id for m in scanner.peek()] == [UNRECOGNIZED]
    bar = b" 11%|#  | 11/100 [00:11<01:29]\n 12%|#  | 12/100 [00:12<01:28]\n"
    assert scanner.feed(bar, 5) == [] and scanner.finish() == []  # handled, after all


@pytest.mark.parametrize("name", sorted(p.name for p in LOGS.glob("clean_*.log")))
def test_clean_logs_get_no_unrecognized_error(name: str) -> None:
    found = scan_file(LOGS / name)
    assert [m for m in found if m.id == UNRECOGNIZED or m.severity == "error"] == []


def test_explain_prints_what_failed_and_json_carries_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(LOGS / "unknown_datasets_split.log")
    assert explain_main(path, as_json=False) == 1
    out = capsys.readouterr().out
    assert "1 unrecognized error(s)" in out
    assert "Unrecognized error: ValueError in datasets (unrecognized_error)" in out
    assert "raised in:  datasets (datasets/arrow_reader.py:245, in read)" in out
    assert "your code:  /home/me/proj/sft.py:31, in <module>" in out
    assert explain_main(path, as_json=True) == 1
    (item,) = json.loads(capsys.readouterr().out)
    assert item["id"] == UNRECOGNIZED and item["line"] == 16
    assert item["failure"]["exception"] == "ValueError"
    assert item["failure"]["package"] == "datasets"
    assert item["failure"]["user_frame"] == "/home/me/proj/sft.py:31, in <module>"


def test_report_names_the_failure_and_shows_the_last_lines(tmp_path: Path) -> None:
    text = build_report(LOGS / "unknown_torch_shape.log", doctor_findings=[], now=0)
    assert "**Verdict:** Unrecognized error: RuntimeError in torch (unrecognized_error)" in text
    assert "- raised in: torch (torch/nn/modules/linear.py:134, in forward)" in text
    assert "- your code: /home/me/proj/train_head.py:121, in main" in text
    assert "the log ended with these lines" in text
    assert "Before retrying, fix the first error found, Unrecognized error" in text


@pytest.mark.parametrize(
    "ending",
    [
        [
            "W1130 14:00:09.100000 7001 torch/distributed/elastic/agent/server/api.py:704] Received 15 death signal, shutting down workers",
            "Traceback (most recent call last):",
            '  File "/opt/conda/bin/torchrun", line 8, in <module>',
            "torch.distributed.elastic.multiprocessing.api.SignalException: Process 7001 got signal: 15",
        ],
        [
            "[2026-11-30 11:07:01,553] [ERROR] [launch.py:325:sigkill_handler] ['python', 'train.py'] exits with return code = -2"
        ],
    ],
    ids=["torchrun-sigterm", "deepspeed-sigint"],
)
def test_a_run_stopped_on_purpose_is_not_a_failure(ending: list[str]) -> None:
    assert _errors(scan_lines(["{'loss': 1.0, 'epoch': 0.5}", *ending])) == []
