"""ShiViz export and the checker of ShiViz's rules: each rule's breach is reported."""

from __future__ import annotations

import re

import pytest

from distlab.clocks import SHIVIZ_REGEX, Run, check_shiviz, local, receive, send, to_shiviz


@pytest.fixture
def text():
    run = Run(
        {
            "a": [send("m1"), local("x"), receive("m3")],
            "b": [receive("m1"), send("m2")],
            "c": [receive("m2"), send("m3")],
        }
    )
    return to_shiviz(run)


def lines(text):
    return text.split("\n")


def test_export_is_valid_and_parsable_by_the_shiviz_expression(text):
    check = check_shiviz(text)
    assert check.ok and check.problems == () and check.events == 7
    assert set(check.hosts) == {"a", "b", "c"}
    assert lines(text)[0] == 'a {"a":1}' and lines(text)[1] == "send m1"
    assert lines(text)[3] == "x"  # a label is the description
    python = re.compile(SHIVIZ_REGEX.replace("(?<", "(?P<"))
    assert len(python.findall(text)) == 7


def test_a_python_expression_works_too(text):
    assert check_shiviz(text, regex=r"(?P<host>\S*) (?P<clock>{.*})\n(?P<event>.*)").ok


def replace_clock(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


def test_own_host_missing(text):
    bad = replace_clock(text, 'a {"a":1}', 'a {"b":1}')
    assert any('host "a" is missing from its own clock' in p for p in check_shiviz(bad).problems)


def test_own_entry_must_start_at_one(text):
    bad = "\n".join(lines(text)[2:])  # drop a's first event
    problems = check_shiviz(bad).problems
    assert any('host "a" starts at 2, not at 1' in p for p in problems)


def test_own_entry_must_increase_by_one(text):
    bad = "\n".join(lines(text)[:2] + lines(text)[4:])  # drop a's second event (local x)
    problems = check_shiviz(bad).problems
    assert any('host "a" goes from 1 to 3' in p for p in problems)


def test_unknown_host(text):
    bad = replace_clock(text, 'a {"a":2}', 'a {"a":2,"zed":1}')
    assert any('unknown host "zed"' in p for p in check_shiviz(bad).problems)


def test_value_beyond_the_hosts_events(text):
    bad = replace_clock(text, 'a {"a":2}', 'a {"a":2,"c":9}')
    problems = check_shiviz(bad).problems
    assert any('gives host "c" the value 9, but it logged only 2' in p for p in problems)


def test_clock_that_is_not_the_merge(text):
    # c's receive of m2 forgets that b had heard from a
    bad = replace_clock(text, 'c {"a":1,"b":2,"c":1}', 'c {"b":2,"c":1}')
    problems = check_shiviz(bad).problems
    assert any("the messages give" in p and 'host "c"' in p for p in problems), problems


def test_clock_with_too_much_knowledge(text):
    # a's local event claims to know b's first event without any message in between:
    # ShiViz infers a message from b:1, whose clock knows a:1 only; fine. But claiming c:1
    # while c's first event knows b:2 contradicts the merge.
    bad = replace_clock(text, 'a {"a":2}', 'a {"a":2,"c":1}')
    problems = check_shiviz(bad).problems
    assert any('host "a"' in p and "the messages give" in p for p in problems), problems


def test_cycle_is_reported():
    # a:2 hears of b:2 and b:2 hears of a:2: each is the other's message source
    text = 'a {"a":1}\nx\na {"a":2,"b":2}\ny\nb {"b":1}\nz\nb {"a":2,"b":2}\nw'
    problems = check_shiviz(text).problems
    assert any("intransitive" in p for p in problems), problems


@pytest.mark.parametrize(
    "log, match",
    [
        ("a {not json}\nx", "is not JSON"),
        ('a {"a": -1}\nx', "whole numbers >= 0"),
        ('a {"a": 1.5}\nx', "whole numbers >= 0"),
        ("nothing here", "matches no event"),
    ],
)
def test_bad_lines(log, match):
    check = check_shiviz(log)
    assert not check.ok and any(re.search(match, p) for p in check.problems)


def test_line_numbers_point_at_the_event(text):
    bad = replace_clock(text, 'c {"a":1,"b":2,"c":1}', 'c {"b":2,"c":1}')
    line = next(i + 1 for i, s in enumerate(lines(bad)) if s == 'c {"b":2,"c":1}')
    assert any(p.startswith(f"line {line}:") for p in check_shiviz(bad).problems)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"lacks the named group\(s\) \['event'\]"):
        check_shiviz("a {}", regex=r"(?<host>\S*) (?<clock>{.*})")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        check_shiviz("a {}", regex="(?<host>")
    with pytest.raises(TypeError, match="text=.* must be the log as text"):
        check_shiviz(b"a {}")
    with pytest.raises(TypeError, match="run=.* must be a Run"):
        to_shiviz({"a": []})
    with pytest.raises(ValueError, match="contains whitespace"):
        to_shiviz(Run({"host a": [local()]}))
    with pytest.raises(ValueError, match="contains a line break"):
        to_shiviz(Run({"a": [local("two\nlines")]}))


def test_the_order_of_events_in_the_log_does_not_matter(text):
    """ShiViz orders each host's events by its own clock entry, not by line."""
    import random

    blocks = [f"{a}\n{b}" for a, b in zip(lines(text)[::2], lines(text)[1::2])]
    random.Random(4).shuffle(blocks)
    assert check_shiviz("\n".join(blocks)).ok
