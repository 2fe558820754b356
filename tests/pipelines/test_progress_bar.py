"""The `upsert --all` bar: a count and a bar on a terminal, nothing when piped."""

import io
import threading

from pipelines.cli.count_bar import Bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_it_shows_the_count_and_a_bar_then_erases_itself():
    screen = Terminal()
    bar = Bar(4, screen)

    bar.advance(3, "unchanged")
    assert screen.getvalue().endswith("[######################........] 3/4 unchanged")
    bar.advance(1, "cvl-x-train")
    assert screen.getvalue().split("\r")[-1] == "[##############################] 4/4 cvl-x-train"
    bar.close()
    assert screen.getvalue().endswith("\r")
    assert screen.getvalue().split("\r")[-2].strip() == ""


def test_piped_it_writes_nothing():
    piped = io.StringIO()
    bar = Bar(3, piped)
    bar.advance(3)
    bar.close()
    assert piped.getvalue() == ""


def test_threads_count_every_pipeline():
    bar = Bar(200, Terminal())
    workers = [threading.Thread(target=lambda: [bar.advance() for _ in range(50)]) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert bar.done == 200
