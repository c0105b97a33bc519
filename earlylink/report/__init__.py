"""``earlylink report``: the partnership report, one self-contained HTML file (charts as inline
SVG, no network needed to open it) and the same tables as CSV, made from the analytics views
as the analyst role only, so every figure in it is already suppressed.

period -> sink.report.read_report -> charts -> page (+ csv)
"""
