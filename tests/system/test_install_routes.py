"""The grader as it is really installed, graded end to end, in the bubblewrap sandbox.

- The learner's release (`grade release OUT`), installed as its README says (`.venv/bin/pip install .` in
  OUT: a wheel built and installed, not an editable install) into a fresh virtual environment, then graded
  as its workflow and its README say, with a PATH that does not hold this test's environment.
- The same release as a source distribution (built with setuptools' own PEP 517 hook, as `python -m build
  --sdist` would), installed with `pip install rnn_autograder-VERSION.tar.gz` and graded.
- The Gradescope bundle (`grade release --gradescope ZIP`): its `setup.sh` run as Gradescope runs it, then
  its `run_autograder`, in a directory laid out like /autograder (AUTOGRADER_ROOT). Not covered: the
  apt-get line (a stand-in records it), the Ubuntu image and its python3.11 (a stand-in makes the virtual
  environment from this one's Python), Gradescope's container and network.

A fresh virtual environment (tests/make_venv.py) gets this (tox) environment's packages as hard links,
without this checkout's editable install of the grader, so the only grader it has is the one installed by
the route under test; pip runs offline (PIP_NO_INDEX) and builds without isolation.
"""

import json
import shutil
import sys
import tarfile
import zipfile

import jsonschema
import pytest
import yaml

from grader.core.config import PACKAGE_DIR
from grader.core.course import exercises
from tests.routes import OFFLINE_PIP, WHERE_IS_GRADER, environment, make_venv, python_stand_in, run, site_packages

GRADESCOPE_SCHEMA = PACKAGE_DIR / "reports" / "formats" / "gradescope.schema.json"
@pytest.fixture(scope="module")
def installed(tmp_path_factory, grade_cli):
    """The learner's release in OUT, installed as its README says: `.venv/bin/pip install .` in OUT."""
    out = tmp_path_factory.mktemp("learner") / "rnn-exercises"
    done = grade_cli("release", out, "--no-validate")
    assert done.returncode == 0, done.stdout + done.stderr
    readme = (out / "README.md").read_text()
    assert ".venv/bin/pip install ." in readme and "pip install -e" not in readme
    workflow = yaml.safe_load((out / ".github" / "workflows" / "grade.yml").read_text())
    steps = workflow["jobs"]["grade"]["steps"]
    assert "python -m pip install .\n" in next(s["run"] for s in steps if "Install" in s.get("name", ""))
    venv = make_venv(out / ".venv")
    home = out.parent / "home"
    done, said = run([venv / "bin" / "pip", "install", "."], cwd=out, env=environment(home, **OFFLINE_PIP))
    assert done.returncode == 0, said
    # What runs is the copy installed in site-packages, and no other grader (no batch: the release's).
    assert (venv / "bin" / "grade").read_text().startswith(f"#!{venv}/bin/python")
    done, said = run([venv / "bin" / "python", "-c", WHERE_IS_GRADER], cwd=home, env=environment(home))
    assert done.stdout.split() == [str(site_packages(venv) / "grader" / "__init__.py"), "None"], said
    assert not list(site_packages(venv).glob("__editable__*"))
    return out, venv, home


def test_the_stubs_grade_zero_in_the_sandbox_as_the_classroom_workflow_runs_them(installed, tmp_path):
    out, venv, home = installed
    workflow = yaml.safe_load((out / ".github" / "workflows" / "grade.yml").read_text())
    command = next(s["run"] for s in workflow["jobs"]["grade"]["steps"] if s.get("name") == "Grade")
    summary = tmp_path / "summary.md"
    done, said = run(["bash", "-c", command], cwd=out,
                     env=environment(home, venv / "bin", GITHUB_STEP_SUMMARY=str(summary)))
    assert done.returncode == 0, said
    report = json.loads((out / "reports" / "report.json").read_text())
    assert report["environment"]["isolation"] == "bubblewrap", said
    assert report["score"] == 0 < report["max_score"] and not report["hidden_suites"]
    assert {e["name"] for e in report["exercises"]} == set(exercises())
    assert (out / "reports" / "feedback.html").is_file() and summary.read_text()


def test_the_reference_copied_over_the_exercises_gets_full_public_marks(installed, root, tmp_path):
    out, venv, home = installed
    grade_the_reference(out, venv, home, root, tmp_path)


def grade_the_reference(out, venv, home, root, tmp_path):
    """`grade` of `venv` run on the release `out`'s exercises with the reference copied over them: full
    public marks, in the sandbox."""
    solved = shutil.copytree(out / "exercises", tmp_path / "solved")
    for module in exercises():
        shutil.copyfile(root / "solutions" / f"{module}.py", solved / f"{module}.py")
    done, said = run(["grade", solved, "--json", tmp_path / "r.json"], cwd=home, env=environment(home, venv / "bin"))
    assert done.returncode == 0, said
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["environment"]["isolation"] == "bubblewrap", said
    assert report["score"] == report["max_score"] > 0 and not report["hidden_suites"]
    assert {t["visibility"] for t in report["tests"]} == {"public"}
    assert all(t["status"] == "passed" for t in report["tests"]), said


def test_a_source_distribution_of_the_release_installs_and_grades(installed, root, tmp_path):
    out, _, home = installed
    # The release as `grade release` wrote it: not what the other tests added at its top (.venv, reports/).
    source = shutil.copytree(out, tmp_path / "release",
                             ignore=lambda where, names: {".venv", "reports", "build"} & set(names) if where == str(out)
                             else ())
    build_sdist = "from setuptools import build_meta; print(build_meta.build_sdist('dist'))"
    done, said = run([sys.executable, "-c", build_sdist], cwd=source, env=environment(home, **OFFLINE_PIP))
    assert done.returncode == 0, said
    sdist = source / "dist" / done.stdout.split()[-1]
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("grader/untrusted/worker.py") for name in names), names
    assert any("grader/suites/public/" in name for name in names), names
    assert not any("hidden" in name or "solutions/" in name for name in names), names
    venv = make_venv(tmp_path / "venv")
    done, said = run([venv / "bin" / "pip", "install", sdist], cwd=home, env=environment(home, **OFFLINE_PIP))
    assert done.returncode == 0, said
    done, said = run([venv / "bin" / "python", "-c", WHERE_IS_GRADER], cwd=home, env=environment(home))
    assert done.stdout.split() == [str(site_packages(venv) / "grader" / "__init__.py"), "None"], said
    grade_the_reference(out, venv, home, root, tmp_path)


def test_the_sandbox_hides_the_installed_grader_at_every_path_it_shows_site_packages(installed, tmp_path):
    """Learner code sees site-packages (numpy is there) but an empty grader/, through the environment's real
    path and through a link to it alike (the sandbox mounts both)."""
    out, venv, home = installed
    link = tmp_path / "venv-link"
    link.symlink_to(venv)
    places = [("link", str(site_packages(link))), ("real", str(site_packages(venv)))]
    attack = tmp_path / "attack"
    shutil.copytree(out / "exercises", attack, ignore=shutil.ignore_patterns("*.ipynb"))
    with open(attack / "encoding.py", "a") as module:
        module.write(f'''

def build_alphabet(text):
    import os
    seen = []
    for label, place in {places!r}:
        grader = os.path.join(place, "grader")
        listed = sorted(os.listdir(grader)) if os.path.isdir(grader) else "absent"
        seen.append(f"{{label}}: numpy {{os.path.isdir(os.path.join(place, 'numpy'))}}, grader {{listed}}")
    return seen
''')
    done, said = run([link / "bin" / "python", link / "bin" / "grade", attack, "--only", "encoding", "--json",
                      tmp_path / "r.json"], cwd=home, env=environment(home, link / "bin"))
    assert done.returncode == 0, said
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["environment"]["isolation"] == "bubblewrap", said
    message = next(t["message"] for t in report["tests"] if "alphabet_sorted_unique" in t["name"])
    assert "'link: numpy True, grader []'" in message and "'real: numpy True, grader []'" in message, message


def test_a_checkout_inside_the_virtual_environment_is_refused_with_the_way_out(installed, root):
    """An instructor's repository that does lie inside a directory the sandbox shows (here the virtual
    environment, as `pip install -e git+...` checkouts in .venv/src do) is refused before grading starts."""
    out, venv, home = installed
    checkout = venv / "src" / "rnn-exercises"
    try:
        shutil.copytree(root / "grader", checkout / "grader", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(root / "solutions", checkout / "solutions")
        done, said = run([venv / "bin" / "python", "-m", "grader.cli", out / "exercises", "--only", "forward"],
                         cwd=checkout, env=environment(home, venv / "bin"))
    finally:
        shutil.rmtree(venv / "src")
    assert done.returncode == 3, said
    assert f"the grader's repository {checkout} lies inside {venv}" in said, said
    assert f"move the repository out of {venv}" in said and "pip install -e ." in said, said
    assert "INTERNALERROR" not in said and "install the grader in a virtual environment" not in said, said


def test_the_gradescope_bundle_sets_up_and_grades_as_on_gradescope(grade_cli, root, tmp_path):
    bundle = tmp_path / "autograder.zip"
    done = grade_cli("release", "--gradescope", bundle, "--no-validate")
    assert done.returncode == 0, done.stdout + done.stderr
    autograder = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:  # unpacked with the modes it records, as Gradescope does
        for info in archive.infolist():
            archive.extract(info, autograder / "source")
            if info.external_attr >> 16:
                (autograder / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir()
    (stand_ins / "apt-get").write_text('#!/bin/sh\necho "$@" >> "$AUTOGRADER_ROOT/apt-get.log"\n')
    (stand_ins / "apt-get").chmod(0o755)
    python_stand_in(stand_ins, "python3.11", venv_under=f"{autograder}/")  # Ubuntu's, as setup.sh uses it
    home = tmp_path / "home"
    done, said = run([autograder / "source" / "setup.sh"], cwd=autograder / "source",
                     env=environment(home, stand_ins, AUTOGRADER_ROOT=str(autograder), **OFFLINE_PIP))
    assert done.returncode == 0, said
    assert "install -y python3.11 python3.11-venv bubblewrap" in (autograder / "apt-get.log").read_text()
    done, said = run([autograder / "venv" / "bin" / "python", "-c", WHERE_IS_GRADER], cwd=home,
                     env=environment(home))
    assert done.stdout.split()[0] == str(autograder / "source" / "grader" / "__init__.py"), said

    (autograder / "submission").mkdir()
    for module in exercises():  # what a learner uploads: the exercise files
        shutil.copyfile(root / "solutions" / f"{module}.py", autograder / "submission" / f"{module}.py")
    done, said = run([autograder / "source" / "run_autograder"], cwd=home,
                     env=environment(home, AUTOGRADER_ROOT=str(autograder)))
    assert done.returncode == 0, said
    results = json.loads((autograder / "results" / "results.json").read_text())
    jsonschema.validate(results, json.loads(GRADESCOPE_SCHEMA.read_text()))
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0, results
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_due_date"}
    report = json.loads((autograder / "results" / "report.json").read_text())
    assert report["environment"]["isolation"] == "bubblewrap" and report["hidden_suites"], said
