"""grader/reports/wording.py: check labels are unique, and the stub's error is recognised once per function."""

from grader.reports import wording


def check(name, description, status="error", message="", exercise="encoding"):
    return {"name": name, "exercise": exercise, "description": description, "status": status, "message": message}


STUB = ("encoding.encode() raised NotImplementedError at encoding.py line 66, in encode: encode() in encoding.py "
        "is not written yet: replace this line with your code")
HIDDEN_STUB = "encoding.encode() raised NotImplementedError at encoding.py line 66, in encode"


def test_a_parametrized_check_is_labelled_with_its_parameters():
    first = check("public/encoding/test_rejects[bad-char]", "encode raises ValueError.")
    second = check("public/encoding/test_rejects[wrong-length]", "encode raises ValueError.")
    plain = check("public/encoding/test_shape", "encode returns (N, T, V).")
    assert wording.label(first) == "encoding: encode raises ValueError. [bad-char]"
    assert wording.label(first) != wording.label(second)
    assert wording.label(plain) == "encoding: encode returns (N, T, V)."


def test_the_stub_error_is_recognised_in_public_and_hidden_messages_alike():
    assert wording.not_written(check("a", "d", message=STUB)) == ("encoding.py", "encode")
    assert wording.not_written(check("a", "d", message=HIDDEN_STUB)) == ("encoding.py", "encode")


def test_a_real_error_or_failure_is_not_taken_for_the_stub():
    raised = "encoding.encode() raised ValueError at encoding.py line 70, in encode: bad sample"
    assert wording.not_written(check("a", "d", message=raised)) is None
    assert wording.not_written(check("a", "d", status="failed", message=STUB)) is None


def test_each_function_still_to_write_is_listed_once_in_the_order_met():
    tests = [check("a", "d", message=STUB), check("b", "d", message=HIDDEN_STUB),
             check("c", "d", message=STUB.replace("encode", "decode")),
             check("d", "d", message=STUB.replace("encoding", "forward").replace("encode", "softmax"))]
    assert wording.stub_functions(tests) == {"encoding.py": ["encode", "decode"], "forward.py": ["softmax"]}


def test_the_stub_error_is_recognised_at_a_notebooks_cell():
    from grader.grading.sources import CellLine

    for place in (CellLine(2, None, 19), CellLine(3, 14, 5)):
        message = f"encoding.encode() raised NotImplementedError at {place.describe('encoding.ipynb')}, in encode"
        assert wording.not_written(check("a", "d", message=message)) == ("encoding.ipynb", "encode")


def test_errors_of_one_exercise_with_one_message_become_one_row():
    broken = "importing forward.py raised SyntaxError: invalid syntax (forward.py, line 133)"
    tests = [{**check(f"public/forward/t{i}", "d", message=broken, exercise="forward"), "score": 0, "max_score": 2,
              "visibility": "public", "misconception": None} for i in range(3)]
    other = {**check("public/encoding/t", "d", status="failed", message="wrong"), "score": 0, "max_score": 1,
             "visibility": "public", "misconception": None}
    merged = wording.merge_same_errors([*tests, other])
    assert len(merged) == 2
    assert merged[0]["description"] == "3 checks, the same error" and merged[0]["max_score"] == 6
    assert merged[1] is other
