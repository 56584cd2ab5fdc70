"""JUnit XML, one <testsuite> per exercise, with `file` and `line` on each <testcase> (as pytest's
xunit1 family writes them), so CI annotators can point at the check. Validated by junit.xsd.

ElementTree escapes markup but writes any character it is given, and XML 1.0 forbids some (a NUL made
the file unreadable): the document leaves without them, whatever the report holds.
"""

import re
from typing import Any, TypedDict
from xml.etree import ElementTree as ET

ELEMENT = {"failed": "failure", "error": "error", "skipped": "skipped"}
# Every character XML 1.0 does not allow (its `Char` production).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Counts(TypedDict):
    """A <testsuites> or <testsuite> element's counting attributes."""

    tests: str
    failures: str
    errors: str
    skipped: str
    time: str


def counts(tests: list[dict[str, Any]]) -> Counts:
    return {
        "tests": str(len(tests)),
        "failures": str(sum(t["status"] == "failed" for t in tests)),
        "errors": str(sum(t["status"] == "error" for t in tests)),
        "skipped": str(sum(t["status"] == "skipped" for t in tests)),
        "time": f"{sum(t['duration_s'] for t in tests):.3f}",
    }


def testcase(test: dict[str, Any]) -> ET.Element:
    module = test["file"].removesuffix(".py").replace("/", ".")
    case = ET.Element("testcase", classname=module, name=test["name"].rsplit("/", 1)[-1], file=test["file"],
                      line=str(test["line"]), time=f"{test['duration_s']:.3f}")
    properties = ET.SubElement(case, "properties")
    for key in ("score", "max_score", "visibility", "misconception"):
        ET.SubElement(properties, "property", name=key, value=str(test[key] if test[key] is not None else ""))
    if test["status"] in ELEMENT:
        detail = ET.SubElement(case, ELEMENT[test["status"]], message=test["message"][:500])
        if test["status"] != "skipped":
            detail.set("type", test["misconception"] or test["status"])
            detail.text = test["message"] + (f"\nHint: {test['hint']}" if test["hint"] else "")
    return case


def render(report: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name="grade", **counts(report["tests"]))
    for exercise in report["exercises"]:
        tests = [t for t in report["tests"] if t["exercise"] == exercise["name"]]
        suite = ET.SubElement(root, "testsuite", name=exercise["name"], **counts(tests))
        suite.extend(testcase(t) for t in tests)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + NOT_XML.sub("", ET.tostring(root, encoding="unicode")) + "\n"
