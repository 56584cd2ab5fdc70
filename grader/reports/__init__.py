"""The grading report and its renderings; used by any trusted process, imports no grading code.

`report.py` validates a report against `report.schema.json`, writes it as JSON and renders it in
the terminal; `formats/` renders it for Gradescope, JUnit, Markdown, HTML and CSV gradebooks.
"""
