"""Output forwarding: line by line, per stream, bounded, partial last line."""

from __future__ import annotations

from cells.supervisor import ServiceSpec, Supervisor, parse_restart
from cells.supervisor.output import LineSplitter
from sup_helpers import Recorder, run


def _run_once(rec: Recorder, script: str, max_line: int = 4096) -> None:
    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(
            ServiceSpec(
                name="out",
                argv=("sh", "-c", script),
                restart=parse_restart("no"),
                log_sink=rec.sink,
                max_line=max_line,
            )
        )
        await sup.start("out")
        await sup.wait_down("out")
        await sup.close()

    run(scenario())


def test_lines_are_forwarded_per_stream_with_the_partial_last_line(rec: Recorder) -> None:
    _run_once(rec, "echo one; echo two >&2; printf 'three\\r\\nfour'; printf tail >&2")
    assert rec.lines_of("out", "stdout") == ["one", "three", "four"]
    assert rec.lines_of("out", "stderr") == ["two", "tail"]


def test_long_lines_are_cut_into_bounded_pieces_and_nothing_is_lost(rec: Recorder) -> None:
    _run_once(rec, "head -c 250 /dev/zero | tr '\\0' x; echo; echo short", max_line=100)
    assert rec.lines_of("out") == ["x" * 100, "x" * 100, "x" * 50, "short"]


def test_many_lines_in_large_writes_arrive_in_order(rec: Recorder) -> None:
    _run_once(rec, "seq 1 20000")
    assert rec.lines_of("out") == [str(i) for i in range(1, 20001)]


def test_invalid_utf8_is_replaced_not_fatal(rec: Recorder) -> None:
    _run_once(rec, "printf 'caf\\303\\251 \\377\\n'")
    assert rec.lines_of("out") == ["caf\u00e9 \ufffd"]


def test_splitter_handles_newlines_across_chunks() -> None:
    splitter = LineSplitter(8)
    assert splitter.feed(b"ab") == []
    assert splitter.feed(b"c\nde") == [b"abc"]
    assert splitter.feed(b"fghijklmn\n") == [b"defghijk", b"lmn"]
    assert splitter.feed(b"12345678") == [b"12345678"]
    assert splitter.feed(b"\n") == [b""]
    assert splitter.feed(b"rest") == []
    assert splitter.flush() == [b"rest"]
    assert splitter.flush() == []


def test_a_failing_sink_does_not_stop_the_service(rec: Recorder) -> None:
    def broken(service: str, stream: str, line: str) -> None:
        raise OSError("disk full")

    async def scenario() -> None:
        sup = Supervisor(on_event=rec.on_event)
        sup.add(
            ServiceSpec(
                name="s",
                argv=("sh", "-c", "echo a; echo b"),
                restart=parse_restart("no"),
                log_sink=broken,
            )
        )
        await sup.start("s")
        status = await sup.wait_down("s")
        assert (status.state, status.exit_code) == ("exited", 0)
        await sup.close()

    run(scenario())
    failures = [e for _, e in rec.events if e.message == "log sink failed: disk full"]
    assert len(failures) == 1, "reported once, not once per line"
