"""The termly report's files, drawn from one `ReportData` (storage/reports.py): a PDF laid out
for a governors' pack (A4, fpdf2), a spreadsheet with one sheet per table (openpyxl) and a CSV
of the same tables. The web page draws the same `report_tables` (bot/web).

The PDF's font is DejaVu Sans from matplotlib's own package data (a dependency already): fpdf2's
built-in fonts know only Latin-1, and the report quotes names and notes as typed (“curly
quotes”, en dashes, accented names). Nothing is read from the system."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from handlers.dates import format_date
from handlers.replies import Attachment
from handlers.schoolyear import short_date
from storage.learning import CpdTally
from storage.reports import ReportData
from storage.types import LONDON

# A date is a real date in the spreadsheet (it sorts), ISO in the CSV, "5 Feb 2026" elsewhere.
Cell = str | int | float | date

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"


def hours(minutes: int) -> float:
    """Minutes as hours, to two places: 90 -> 1.5."""
    return round(minutes / 60, 2)


def hours_text(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Table:
    """One table of the report: a sheet of the spreadsheet, a block of the CSV, a table of the
    PDF and of the web page."""

    key: str  # an anchor on the web page
    sheet: str  # the spreadsheet's sheet name (at most 31 characters)
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    total: tuple[Cell, ...] | None = None
    empty: str = "None in this period."
    # Relative column widths in the PDF (the page's width shared out).
    widths: tuple[float, ...] = ()
    # Long lists (sessions, impact notes, schools) are cut to this many rows in the PDF and on
    # the page, the rest being in the spreadsheet and the CSV, which always have every row.
    most_shown: int | None = None

    @property
    def shown_rows(self) -> list[tuple[Cell, ...]]:
        return self.rows if self.most_shown is None else self.rows[:self.most_shown]

    @property
    def more(self) -> str | None:
        """What the PDF and the page say under a list they cut short."""
        left = len(self.rows) - len(self.shown_rows)
        return (f"…and {left:,} more: every one is in the spreadsheet and the CSV." if left > 0
                else None)

    def numeric(self, index: int) -> bool:
        """A column of numbers (blank where there is none), aligned right."""
        values = [row[index] for row in self.rows if row[index] != ""]
        return bool(values) and all(isinstance(v, int | float) for v in values)


# The most sessions and impact notes the PDF and the page list (a large partnership logs
# thousands a term), and the most schools or foci; the files for spreadsheets have them all.
# They bound the PDF's cost: fpdf2 lays out a table cell in about 1 ms on this machine.
MOST_LISTED = 100
MOST_SCHOOLS = 150


def _tally(t: CpdTally) -> tuple[int, float, int]:
    return t.sessions, hours(t.minutes), t.without_length


def key_figures(data: ReportData) -> list[tuple[str, str]]:
    """The figures the PDF shows first, large."""
    return [("CPD sessions", f"{data.cpd_total.sessions:,}"),
            ("CPD hours", hours_text(hours(data.cpd_total.minutes))),
            ("Learning walks", f"{data.walks:,}"),
            ("Actions done", f"{data.actions.done:,} of {data.actions.raised:,} raised"),
            ("Meetings held", f"{len(data.meetings):,}")]


def about(data: ReportData) -> list[tuple[str, str]]:
    made = data.made_at.astimezone(LONDON)
    return [("Report", "Partnership termly report"),
            ("Partnership", data.partnership),
            ("School", data.school or "All the partnership's schools"),
            ("Period", period_text(data)),
            ("Figures as at", format_date(data.as_of)),
            ("Made", f"{format_date(made.date())}, {made:%H:%M}, by Partnership Bot"),
            *(("Note", note) for note in notes(data))]


def period_text(data: ReportData) -> str:
    p = data.period
    dates = f"{short_date(p.first)} to {short_date(p.last)}"
    return dates if p.label == dates else f"{p.label} ({dates})"


def notes(data: ReportData) -> list[str]:
    return [*data.sources,
            "Learning walks are counted by focus and host school only: notes about staff are "
            "never part of this report.",
            "Hours count sessions with a length; sessions logged without one are counted apart."]


def report_tables(data: ReportData) -> list[Table]:
    total = data.cpd_total
    as_of = short_date(data.as_of)
    summary = Table(
        "summary", "Summary", "Summary", ("Measure", "Value"), [
            ("CPD sessions", total.sessions),
            ("CPD hours", hours(total.minutes)),
            ("CPD sessions with no length given", total.without_length),
            ("Head count (sessions with a head count)", data.headcount),
            ("Sessions with a head count", data.headcount_sessions),
            ("Learning walks", data.walks),
            ("Actions raised", data.actions.raised),
            ("Actions done", data.actions.done),
            (f"Actions open on {as_of}", data.actions.open),
            (f"Actions overdue on {as_of}", data.actions.overdue),
            ("Meetings held", len(data.meetings)),
        ], widths=(3, 1))
    themes = Table(
        "cpd-themes", "CPD by theme", "CPD sessions and hours by theme",
        ("Theme", "Sessions", "Hours", "Sessions with no length"),
        [(f"{t.theme} (no longer a theme)" if t.retired else t.theme, *_tally(t.tally))
         for t in data.themes],
        total=("Total", *_tally(total)), empty="The partnership has no CPD themes yet.",
        widths=(4, 1.2, 1.2, 1.6))
    schools = Table(
        "cpd-schools", "CPD by school", "CPD by school: sessions hosted and attended",
        ("School", "URN", "Sessions hosted", "Hours hosted", "Sessions attended",
         "Hours attended"),
        [(s.school, str(s.urn) if s.urn else "", s.hosted.sessions, hours(s.hosted.minutes),
          s.attended.sessions, hours(s.attended.minutes)) for s in data.schools],
        empty="The partnership has no schools yet.", widths=(4, 1.3, 1.3, 1.2, 1.4, 1.3),
        most_shown=MOST_SCHOOLS)
    sessions = Table(
        "cpd-sessions", "CPD sessions", "CPD sessions in the period",
        ("Date", "Session", "Theme", "Host", "Hours", "Attendance"),
        [(s.held_on, s.title, s.theme, s.host,
          hours(s.minutes) if s.minutes else "", s.attendance) for s in data.sessions],
        empty="No CPD sessions were logged in this period.", widths=(1.6, 3, 2.2, 2, 1, 2.6),
        most_shown=MOST_LISTED)
    focus = Table(
        "walks-focus", "Walks by focus", "Learning walks by focus",
        ("Focus", "Walks"), [(c.label, c.count) for c in data.walks_by_focus],
        total=("Total", data.walks), empty="No learning walks in this period.", widths=(5, 1),
        most_shown=MOST_SCHOOLS)
    hosts = Table(
        "walks-schools", "Walks by school", "Learning walks by host school",
        ("Host school", "Walks"), [(c.label, c.count) for c in data.walks_by_school],
        total=("Total", data.walks), empty="The partnership has no schools yet.",
        widths=(5, 1), most_shown=MOST_SCHOOLS)
    actions = Table(
        "actions", "Actions", f"Actions: raised and done in the period, open and overdue on "
        f"{as_of}", ("School", "Raised", "Done", f"Open on {as_of}", f"Overdue on {as_of}"),
        [(a.school, a.counts.raised, a.counts.done, a.counts.open, a.counts.overdue)
         for a in data.actions_by_school],
        total=("Total", data.actions.raised, data.actions.done, data.actions.open,
               data.actions.overdue),
        empty="The partnership has no schools yet.", widths=(4, 1, 1, 1.4, 1.6),
        most_shown=MOST_SCHOOLS)
    meetings = Table(
        "meetings", "Meetings", "Meetings held, with attendance and apologies",
        ("Date", "Meeting", "Attended", "Apologies", "No reply", "Who attended",
         "Apologies from", "Recorded in"),
        [(m.day, m.title, len(m.attending), len(m.apologies), m.no_reply,
          ", ".join(m.attending), ", ".join(m.apologies), m.recorded_in)
         for m in data.meetings],
        empty="No meetings were held in this period.",
        widths=(1.6, 2.1, 1.55, 1.65, 1.35, 2.2, 2.2, 1.6))
    impact = Table(
        "impact", "Impact", "Impact noted on CPD sessions",
        ("Date", "Session", "Theme", "Impact"),
        [(n.held_on, n.title, n.theme, n.note) for n in data.impact],
        empty="No impact notes were recorded on this period's sessions.",
        widths=(1.5, 2.5, 2, 6), most_shown=MOST_LISTED)
    return [summary, themes, schools, sessions, focus, hosts, actions, meetings, impact]


# --- the files ------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def file_stem(data: ReportData) -> str:
    parts = ["termly-report", data.partnership, data.school or "",
             data.period.label if not data.period.label[:1].isdigit()
             else f"{data.period.first.isoformat()}-to-{data.period.last.isoformat()}"]
    return "-".join(_slug(p) for p in parts if p)


def files(data: ReportData) -> list[Attachment]:
    """The PDF, the spreadsheet and the CSV, as files for the person who asked."""
    stem, title = file_stem(data), f"Termly report, {data.scope}, {period_text(data)}"
    return [Attachment(f"{stem}.pdf", pdf(data), f"{title} (PDF)", PDF_TYPE),
            Attachment(f"{stem}.xlsx", xlsx(data), f"{title} (spreadsheet)", XLSX_TYPE),
            Attachment(f"{stem}.csv", csv_bytes(data), f"{title} (CSV)", CSV_TYPE)]


def csv_bytes(data: ReportData) -> bytes:
    """Each table as a block: its title on a line of its own, the column headings, the rows (and
    a total), then a blank line. UTF-8 with a byte order mark, so Excel reads names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["About this report"])
    writer.writerows(about(data))
    writer.writerow([])
    for table in report_tables(data):
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows(table.rows)
        if table.total and table.rows:
            writer.writerow(table.total)
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx(data: ReportData) -> bytes:
    """One sheet per table (headings in row 1, frozen; a total row in bold), after an "About"
    sheet saying what the report covers. Written as a stream (openpyxl's write-only mode): a
    large partnership's report has thousands of rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    book = Workbook(write_only=True)
    book.properties.title = f"Termly report, {data.scope}"
    book.properties.creator = "Partnership Bot"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F0")
    wrap = Alignment(wrap_text=True, vertical="top")

    def styled(sheet: WriteOnlyWorksheet, value: Cell, font: Font | None = None,
               number: str | None = None, heading: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        if font is not None:
            cell.font = font
        if heading:
            cell.fill, cell.alignment = fill, wrap
        if number is not None and isinstance(value, float | int | date):
            cell.number_format = number
        return cell

    sheet = book.create_sheet("About")
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 100
    sheet.append([styled(sheet, "About this report", bold)])
    for label, value in about(data):
        sheet.append((label, value))
    for table in report_tables(data):
        sheet = book.create_sheet(table.sheet[:31])
        sheet.freeze_panes = "A2"
        formats = ["0.0#" if "Hours" in heading else "d mmm yyyy" if heading == "Date" else None
                   for heading in table.columns]
        for index, heading in enumerate(table.columns, start=1):
            longest = max([len(heading), *(len(str(r[index - 1])) for r in table.rows[:500])])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 9),
                                                                          60)
        sheet.append([styled(sheet, h, bold, heading=True) for h in table.columns])
        for row in table.rows:
            sheet.append([styled(sheet, v, number=f) if f else v
                          for v, f in zip(row, formats, strict=True)])
        if table.total and table.rows:
            sheet.append([styled(sheet, v, bold, number=f)
                          for v, f in zip(table.total, formats, strict=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the PDF --------------------------------------------------------------------------------

INK = (20, 33, 61)
ACCENT = (31, 78, 121)
SHADE = (220, 230, 240)
BAND = (243, 246, 250)
FONT = "DejaVu"


def _font_folder() -> Path:
    """matplotlib's bundled fonts, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def pdf(data: ReportData) -> bytes:
    """A4 portrait: a title block, the key figures in a band of boxes, then each table under
    its heading (headings repeated on a new page), the impact notes, and what the figures mean;
    "Page n of m" and the partnership in every footer."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, f"{data.scope} · termly report · {period_text(data)}", align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    doc = Report(orientation="portrait", unit="mm", format="A4")
    doc.set_title(f"Termly report: {data.scope}, {period_text(data)}")
    doc.set_author("Partnership Bot")
    doc.set_creator("Partnership Bot")
    doc.set_lang("en-GB")
    folder = _font_folder()
    doc.add_font(FONT, "", str(folder / "DejaVuSans.ttf"))
    doc.add_font(FONT, "B", str(folder / "DejaVuSans-Bold.ttf"))
    doc.set_margins(16, 16, 16)
    doc.set_auto_page_break(True, margin=18)
    doc.alias_nb_pages()
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin

    # The title block.
    doc.set_text_color(*ACCENT)
    doc.set_font(FONT, "B", 9)
    doc.cell(0, 5, "PARTNERSHIP TERMLY REPORT FOR GOVERNORS", new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(*INK)
    doc.set_font(FONT, "B", 20)
    doc.multi_cell(0, 9, data.partnership, align="L", new_x="LMARGIN", new_y="NEXT")
    if data.school:
        doc.set_font(FONT, "B", 13)
        doc.multi_cell(0, 7, data.school, align="L", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(FONT, "", 11)
    doc.multi_cell(0, 6, period_text(data)[:1].upper() + period_text(data)[1:], align="L",
                   new_x="LMARGIN", new_y="NEXT")
    made = data.made_at.astimezone(LONDON)
    doc.set_font(FONT, "", 8.5)
    doc.set_text_color(90, 90, 90)
    doc.multi_cell(0, 5, f"Figures as at {format_date(data.as_of)}. Made on "
                   f"{format_date(made.date())} at {made:%H:%M} by Partnership Bot.", align="L",
                   new_x="LMARGIN", new_y="NEXT")
    doc.set_draw_color(*ACCENT)
    doc.set_line_width(0.6)
    doc.line(doc.l_margin, doc.get_y() + 2, doc.l_margin + width, doc.get_y() + 2)
    doc.set_line_width(0.2)
    doc.set_draw_color(150, 160, 175)
    doc.ln(6)

    # The key figures, in a band of boxes.
    figures = key_figures(data)
    gap = 3.0
    box = (width - gap * (len(figures) - 1)) / len(figures)
    top = doc.get_y()
    for i, (label, value) in enumerate(figures):
        x = doc.l_margin + i * (box + gap)
        doc.set_fill_color(*BAND)
        doc.rect(x, top, box, 20, style="F")
        doc.set_xy(x + 2, top + 2.5)
        doc.set_text_color(*INK)
        doc.set_font(FONT, "B", 14 if len(value) < 9 else 10)
        doc.cell(box - 4, 8, value, align="C")
        doc.set_xy(x + 2, top + 12)
        doc.set_font(FONT, "", 8)
        doc.set_text_color(70, 70, 70)
        doc.cell(box - 4, 5, label, align="C")
    doc.set_y(top + 24)
    doc.set_text_color(0, 0, 0)
    if data.empty:
        doc.set_font(FONT, "B", 11)
        doc.multi_cell(0, 6, f"Nothing was recorded for {data.scope} in this period: no CPD "
                       "sessions, learning walks, actions or meetings.", align="L",
                       new_x="LMARGIN", new_y="NEXT")
        doc.ln(2)

    headings = FontFace(family=FONT, emphasis="BOLD", fill_color=SHADE, color=INK)
    for table in report_tables(data):
        _heading(doc, table.title)
        if not table.rows:
            doc.set_font(FONT, "", 9.5)
            doc.multi_cell(0, 5.5, table.empty, align="L", new_x="LMARGIN", new_y="NEXT")
            doc.ln(2)
            continue
        doc.set_font(FONT, "", 8.5)
        aligns = ["RIGHT" if table.numeric(i) else "LEFT" for i in range(len(table.columns))]
        rows = [*table.shown_rows, *([table.total] if table.total else [])]
        with doc.table(col_widths=table.widths or None, width=width, line_height=4.6,
                       headings_style=headings, text_align=tuple(aligns),
                       borders_layout="HORIZONTAL_LINES", padding=(1.2, 1.5),
                       repeat_headings=1) as grid:
            heading_row = grid.row()
            for name in table.columns:
                heading_row.cell(name)
            for n, row in enumerate(rows):
                is_total = table.total is not None and n == len(rows) - 1
                style = FontFace(emphasis="BOLD") if is_total else None
                cells = grid.row()
                for cell in row:
                    cells.cell(shown(cell), style=style)
        if table.more:
            doc.set_font(FONT, "", 8.5)
            doc.multi_cell(0, 5, table.more, align="L", new_x="LMARGIN", new_y="NEXT")
        doc.ln(4)

    _heading(doc, "What the figures mean")
    doc.set_font(FONT, "", 8.5)
    for note in notes(data):
        doc.multi_cell(0, 4.6, f"•  {note}", align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def _heading(doc: object, title: str) -> None:
    from fpdf import FPDF

    assert isinstance(doc, FPDF)
    if doc.get_y() > doc.h - 50:  # keep a heading with the start of its table
        doc.add_page()
    doc.set_font(FONT, "B", 12)
    doc.set_text_color(*ACCENT)
    doc.multi_cell(0, 7, title, align="L", new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(0, 0, 0)
    doc.ln(1)


def shown(value: Cell) -> str:
    """A cell as the PDF and the web page show it: hours to two places at most, counts with
    thousands separators."""
    if isinstance(value, float):
        return hours_text(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return short_date(value)
    return value

