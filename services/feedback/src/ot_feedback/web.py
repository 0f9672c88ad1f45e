"""Feedback's HTTP side: health and metrics, the worker's feedback form (reached through the signed
link), and the statistics as a page with charts and as CSV for the area's coordinators.

The form needs no login: the link is the permission, and it works once. The form is a public
edge, so it is checked like a gRPC request: the body's size (MAX_CONTENT_LENGTH), its encoding
(URL-encoded UTF-8, strictly), then each field's form and the guard (edge.check_form, in the
handler). Anything that is not a link of ours, however long or strange, is "the link is not
valid"; every refusal is a page that says what happened, never a 500.

The statistics need a coordinator's or secretary's bearer token (the roles of GetStatistics in
edge.ACCESS), either in the Authorization header (curl, a reporting tool) or, for a browser,
pasted once at /stats/login, which keeps it in an HttpOnly cookie.
"""
from __future__ import annotations

import csv
import io
from html import escape
from urllib.parse import parse_qsl

from flask import Flask, Response, make_response, redirect, request
from werkzeug.exceptions import HTTPException

from ot_runtime.access import method_path
from ot_runtime.auth import TokenVerifier, require_role
from ot_runtime.errors import InvalidArgument, OtError
from ot_runtime.tenants import TENANTS

from .domain import GOT_NEEDED_LABELS, MAX_FREE_TEXT, TYPE_LABELS, WHAT_NEXT_LABELS, RequestType
from .edge import ACCESS, SERVICE
from .handlers import FeedbackHandlers, FormContext, LinkRefused
from .stats import HIDDEN, RULE_TEXT, TOTAL, ResponseTimes, Table
from .templating import render_html

STYLE = """body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;line-height:1.5;padding:0 1rem}
.en{color:#555}.err{color:#a00;font-weight:600}fieldset{border:1px solid #ccc;margin:1rem 0;padding:.5rem 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}tr.total td{font-weight:600}.note{font-size:.9rem;color:#444}
@media print{a.noprint,form.noprint{display:none}}"""

REFUSED = {
    "invalid": (404, "Linkki ei kelpaa.", "The link is not valid.",
                "Tarkista, että kopioit koko linkin sähköpostista.", "Check that you copied the whole link."),
    "expired": (410, "Linkki on vanhentunut.", "The link has expired.",
                "Vastausaika on päättynyt. Kiitos silti!", "The time to answer has ended. Thank you all the same!"),
    "used": (410, "Linkkiä on jo käytetty.", "The link has already been used.",
             "Palaute on jo annettu tällä linkillä; kiitos!", "Feedback was already given with this link; thank you!"),
    "cancelled": (410, "Palautekysely on peruttu.", "The feedback request was cancelled.",
                  "Tähän pyyntöön ei kysytä palautetta.", "No feedback is asked for this request."),
}


# The largest body any page here needs: the answer form's 2000-character free text, every character
# a 4-byte UTF-8 one sent percent-encoded (12 bytes), is 24 kB; the sign-in form's token is ~1 kB.
MAX_BODY_BYTES = 32 * 1024
MAX_FORM_FIELDS = 10  # the answer form has four; anything far beyond that is not our form

# Refusals of the request itself (before any link or field is looked at).
BAD_REQUEST = {
    400: ("Lomaketta ei voi lukea.", "The form cannot be read.",
          "Lähetä lomake uudelleen selaimella.", "Please send the form again from your browser."),
    413: ("Lähetetty tieto on liian suuri.", "What was sent is too large.",
          f"Lomakkeen enimmäiskoko on {MAX_BODY_BYTES // 1024} kt; lyhennä tekstiä.",
          f"The form may be at most {MAX_BODY_BYTES // 1024} kB; please shorten the text."),
    415: ("Lomaketta ei voi lukea.", "The form cannot be read.",
          "Lomake lähetetään tavallisena verkkolomakkeena (application/x-www-form-urlencoded).",
          "The form is sent as an ordinary web form (application/x-www-form-urlencoded)."),
}


class BadForm(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def posted_form() -> dict[str, str]:
    """The posted fields, read strictly: an ordinary URL-encoded form (what the pages' forms send)
    whose values are valid UTF-8. Werkzeug's own parser quietly drops or mangles what it cannot
    decode; here that is a 400 instead, so nothing but what the person typed is ever checked or
    stored. A body over MAX_BODY_BYTES is refused (413) before it is read. Line breaks become
    "\n" (browsers send "\r\n" but count one character per break against the form's maxlength)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise BadForm(415)
    body = request.get_data(cache=False)
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # UnicodeDecodeError included: raw bytes, or %-escapes that are not UTF-8
        raise BadForm(400) from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value.replace("\r\n", "\n"))
    return fields


def page(title: str, body: str, status: int = 200) -> Response:
    html = (f"<!doctype html><html lang='fi'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width,initial-scale=1'><title>{escape(title)}</title><style>{STYLE}</style>"
            f"</head><body>{body}</body></html>")
    resp = make_response(html, status)
    resp.headers["Content-Type"] = "text/html; charset=utf-8"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # the link must not leak to other sites
    return resp


def _radio(name: str, options: list[tuple[str, str]], chosen: str) -> str:
    return "<br>".join(f"<label><input type='radio' name='{name}' value='{escape(v)}'"
                       f"{' checked' if v == chosen else ''}> {escape(text)}</label>" for v, text in options)


def form_page(area: str, ctx: FormContext, values: dict, errors: dict[str, str]) -> str:
    """The questions; once the case's content is shredded only the two that statistics count (the
    worker is not asked for what would not be kept)."""
    type_, expires_at = ctx.type, ctx.expires_at
    fi_type, en_type = TYPE_LABELS[type_]

    def err(name: str) -> str:
        return f"<p class='err' id='{name}-error'>{escape(errors[name])}</p>" if name in errors else ""

    return f"""
<h1>Palaute OT-keskukselle <span class='en' lang='en'>/ Feedback to the OT centre</span></h1>
<p>{escape(area)}: {escape(fi_type)} <span class='en' lang='en'>/ {escape(en_type)}</span>.
Vastaa viimeistään {expires_at:%d.%m.%Y}. <span class='en' lang='en'>Please answer by {expires_at:%Y-%m-%d}.</span></p>
{"<p class='err'>Vastausta ei tallennettu: korjaa merkityt kohdat. / The answer was not saved: fix the marked fields.</p>" if errors else ""}
<form method='post'>
<fieldset><legend>1. Kuinka hyödyllinen konsultaatio oli? (1 = ei lainkaan, 5 = erittäin)
<span class='en' lang='en'>/ How useful was the consultation? (1 = not at all, 5 = very)</span></legend>
{err("usefulness")}{_radio("usefulness", [(str(i), str(i)) for i in range(1, 6)], values.get("usefulness", ""))}
</fieldset>
<fieldset><legend>2. Saitko tarvitsemasi? <span class='en' lang='en'>/ Did you get what you needed?</span></legend>
{err("got_needed")}{_radio("got_needed", [(g.value, f"{fi} / {en}") for g, (fi, en) in GOT_NEEDED_LABELS.items()],
                           values.get("got_needed", ""))}
</fieldset>
{_case_questions(values, err) if ctx.content_kept else _CASE_GONE}
<p><button type='submit'>Lähetä <span lang='en'>/ Send</span></button></p>
</form>"""


_CASE_GONE = """<p class='note'>Tapauksen tiedot on jo poistettu, joten tapauksesta ei kysytä enempää: vastauksista
tallennetaan vain yllä olevat kaksi, tilastoja varten. <span class='en' lang='en'>The case's data has already been
deleted, so nothing more is asked about the case: only the two answers above are kept, for statistics.</span></p>"""


def _case_questions(values: dict, err) -> str:
    """What the worker says about the case: kept only until the case's content is shredded."""
    return f"""<fieldset><legend>3. Mitä sen jälkeen tapahtui? <span class='en' lang='en'>/ What happened next?</span></legend>
{err("what_next")}{_radio("what_next", [(w.value, f"{fi} / {en}") for w, (fi, en) in WHAT_NEXT_LABELS.items()],
                          values.get("what_next", ""))}
</fieldset>
<fieldset><legend>4. Vapaa palaute <span class='en' lang='en'>/ Free feedback</span></legend>
<p class='note'>Älä kirjoita asiakkaan tunnistetietoja (nimi, henkilötunnus, yhteystiedot, syntymäaika, diagnoosikoodi):
vastaus, jossa niitä on, palautetaan korjattavaksi eikä sitä tallenneta. Teksti poistetaan, kun tapauksen tiedot
poistetaan. <span class='en' lang='en'>Do not write client-identifying data (name, identity code, contact details,
date of birth, diagnosis code): an answer holding any is returned to be fixed and is not saved. The text is deleted
when the case's data is deleted.</span></p>
{err("free_text")}<textarea name='free_text' rows='6' cols='70' maxlength='{MAX_FREE_TEXT}'
aria-describedby='free_text-error'>{escape(values.get("free_text", ""))}</textarea>
</fieldset>"""


# --- statistics rendering ---------------------------------------------------------------------
def _bar_chart(t: Table) -> str:
    """Horizontal bars of each row's total (or its only column); a suppressed bar is drawn hatched
    at the threshold's width and labelled "<5", so the chart shows no more than the table."""
    col = TOTAL if TOTAL in t.shown_columns else t.shown_columns[0]
    rows = t.rows
    if not rows:
        return ""
    top = max([t.values[(r, col)] for r in rows if (r, col) not in t.hidden] + [5])
    width, bar_h, label_w = 700, 22, 360
    h = bar_h * len(rows) + 10
    parts = [f"<svg role='img' aria-label='{escape(t.title_fi)} / {escape(t.title_en)}' width='{width}' "
             f"height='{h}' xmlns='http://www.w3.org/2000/svg' font-family='sans-serif' font-size='12'>",
             "<defs><pattern id='hatch' width='6' height='6' patternUnits='userSpaceOnUse'>"
             "<path d='M0,6 L6,0' stroke='#999'/></pattern></defs>"]
    for i, r in enumerate(rows):
        y = 5 + i * bar_h
        hidden = (r, col) in t.hidden
        value = 4 if hidden else t.values[(r, col)]
        w = int((width - label_w - 40) * value / top)
        label = t.label(r).split(" / ")[0]
        short = label if len(label) <= 52 else label[:51].rstrip(" ,") + "…"
        parts.append(f"<text x='0' y='{y + 15}'>{escape(short)}</text>")
        parts.append(f"<rect x='{label_w}' y='{y + 3}' width='{max(w, 1)}' height='{bar_h - 6}' "
                     f"fill='{'url(#hatch)' if hidden else '#2f6f9f'}'/>")
        parts.append(f"<text x='{label_w + max(w, 1) + 4}' y='{y + 15}'>{escape(t.cell(r, col))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{escape(t.label(c))}</th>" for c in t.shown_columns)
    body = "".join(
        f"<tr{' class=total' if r == TOTAL else ''}><td>{escape(t.label(r))}</td>"
        + "".join(f"<td>{escape(t.cell(r, c))}</td>" for c in t.shown_columns) + "</tr>"
        for r in t.shown_rows)
    # A wide table scrolls in its own box instead of running off the page.
    return f"<div style='overflow-x:auto'><table><tr><th></th>{head}</tr>{body}</table></div>"


def stats_page(area: str, period, tables: list[Table], rates: dict[str, str], type_value: str,
               times: list[ResponseTimes]) -> str:
    sections = []
    for t in tables:
        sections.append(f"<h2>{escape(t.title_fi)} <span class='en' lang='en'>/ {escape(t.title_en)}</span></h2>"
                        f"{_bar_chart(t)}{_html_table(t)}")
        if t.name == "feedback_responses":
            shown = ", ".join(f"{escape(t.label(c).split(' / ')[0])}: {escape(rates[c]) + ' %' if rates[c] else '–'}"
                              for c in t.shown_columns)
            sections.append(f"<p>Vastausprosentti <span class='en' lang='en'>/ response rate</span>: {shown}</p>")
    return (f"<h1>OT-keskus {escape(area)}: tilastot {escape(period.label)} "
            f"<span class='en' lang='en'>/ statistics</span></h1>"
            f"<form class='noprint' method='get'><label>Jakso / period <input name='period' value='{escape(period.label)}'"
            f" size='8'></label> <input type='hidden' name='type' value='{escape(type_value)}'> "
            f"<button>Näytä / Show</button> <a href='/stats.csv?period={escape(period.label)}"
            f"&amp;type={escape(type_value)}'>CSV</a></form>"
            f"<p class='note'>{escape(RULE_TEXT)}</p>" + "".join(sections)
            + render_html("stats_response_times.html", rows=times,
                          labels={t.value: f"{fi} / {en}" for t, (fi, en) in TYPE_LABELS.items()}))


def stats_csv(period, tables: list[Table]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["period", "table", "row", "column", "value"])
    for t in tables:
        for r in t.shown_rows:
            for c in t.shown_columns:
                w.writerow([period.label, t.name, r, c, t.cell(r, c)])
    return out.getvalue()


def create_app(tenant: str, readiness_checks, handlers: FeedbackHandlers, verifier: TokenVerifier) -> Flask:
    from ot_runtime.web import create_base_app
    app = create_base_app("feedback", readiness_checks)
    area = TENANTS[tenant]

    @app.get("/")
    def index():
        return page("OT-keskus – palaute / feedback", f"""
<h1>OT-keskus: palaute ja tilastot – {escape(area)}</h1>
<p>Noin kahden kuukauden kuluttua konsultaatiosta työntekijä saa sähköpostilla henkilökohtaisen linkin
lyhyeen palautekyselyyn. Alueen koordinaattori näkee tilastot: <a href='/stats'>tilastot</a> (kirjautuminen:
<a href='/stats/login'>tunniste</a>). Alle 5:n luvut näytetään muodossa "&lt;5".</p>
<p class='en' lang='en'>About two months after a consultation the worker gets a personal link by e-mail to a short
feedback form. The area's coordinator sees the statistics (small counts suppressed) at /stats, as CSV at
/stats.csv, and over gRPC (<code>ot.feedback.v1.FeedbackService</code>).</p>
<p><a href="/healthz">healthz</a> · <a href="/readyz">readyz</a> · <a href="/metrics">metrics</a></p>""")

    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    def bad_request(status: int) -> Response:
        fi, en, fi_more, en_more = BAD_REQUEST[status]
        return page(f"{fi} / {en}", f"<h1>{fi} <span class='en' lang='en'>/ {en}</span></h1>"
                                    f"<p>{fi_more} <span class='en' lang='en'>{en_more}</span></p>", status)

    @app.errorhandler(BadForm)
    def bad_form(error: BadForm):
        return bad_request(error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Werkzeug's own refusals (a too large body, a malformed request) as our pages, not its English ones.
        if error.code in BAD_REQUEST:
            return bad_request(error.code)
        return error

    def refused(reason: str) -> Response:
        code, fi, en, fi_more, en_more = REFUSED[reason]
        return page(f"{fi} / {en}", f"<h1>{fi} <span class='en' lang='en'>/ {en}</span></h1>"
                                    f"<p>{fi_more} <span class='en' lang='en'>{en_more}</span></p>", code)

    @app.get("/palaute/<token>")
    def show_form(token: str):
        try:
            ctx = handlers.open_link(token)
        except LinkRefused as why:
            return refused(why.reason)
        return page("Palaute / Feedback", form_page(area, ctx, {}, {}))

    @app.post("/palaute/<token>")
    def send_form(token: str):
        posted = posted_form()
        values = {k: posted.get(k, "") for k in ("usefulness", "got_needed", "what_next", "free_text")}
        try:
            handlers.answer(token, values)
        except LinkRefused as why:
            return refused(why.reason)
        except InvalidArgument as bad:
            try:
                ctx = handlers.open_link(token)
            except LinkRefused as why:  # it expired or was used in the meantime
                return refused(why.reason)
            errors: dict[str, str] = {}
            for v in bad.violations:
                errors[v.field] = (errors[v.field] + " " if v.field in errors else "") + v.description
            return page("Palaute / Feedback", form_page(area, ctx, values, errors), 422)
        return page("Kiitos! / Thank you!", "<h1>Kiitos palautteestasi! <span class='en' lang='en'>/ Thank you for "
                                            "your feedback!</span></h1><p>Vastauksesi on tallennettu. "
                                            "<span class='en' lang='en'>Your answer was saved.</span></p>")

    # --- statistics (coordinators, secretaries) ------------------------------------------------
    # The page shows what GetStatistics answers, to the same roles.
    stats_roles = sorted(ACCESS[method_path(SERVICE, "GetStatistics")])

    def principal():
        header = request.headers.get("Authorization") or (
            f"Bearer {request.cookies['ot_token']}" if request.cookies.get("ot_token") else None)
        who = verifier.verify(header)
        require_role(who, *stats_roles)
        return who

    def stats_args():
        """(period, request type) from the query; the period defaults to this year, page and CSV alike."""
        raw_type = request.args.get("type", "").strip()
        type_ = RequestType(raw_type) if raw_type in RequestType._value2member_map_ else None
        return request.args.get("period", "").strip() or str(handlers.clock.now().year), type_

    def auth_failed(error: OtError) -> Response:
        return page("Kirjaudu / Sign in", f"<h1>Tilastot vaativat kirjautumisen <span class='en' lang='en'>/ "
                                          f"Statistics need signing in</span></h1><p>{escape(error.message)}</p>"
                                          f"<p><a href='/stats/login'>Kirjaudu / Sign in</a></p>", 401)

    @app.get("/stats")
    def stats():
        try:
            principal()
        except OtError as error:
            return auth_failed(error)
        period_text, type_ = stats_args()
        try:
            period, tables, rates = handlers.statistics(period_text, type_)
        except InvalidArgument as bad:
            return page("Tilastot / Statistics", f"<p class='err'>{escape(bad.violations[0].description)}</p>", 400)
        return page(f"Tilastot {period.label} / Statistics",
                    stats_page(area, period, tables, rates, type_.value if type_ else "",
                               handlers.response_times(period, type_)))

    @app.get("/stats.csv")
    def stats_csv_view():
        try:
            principal()
        except OtError as error:
            return Response(error.message + "\n", 401, mimetype="text/plain")
        period_text, type_ = stats_args()
        try:
            period, tables, _ = handlers.statistics(period_text, type_)
        except InvalidArgument as bad:
            return Response(bad.violations[0].description + "\n", 400, mimetype="text/plain")
        resp = Response(stats_csv(period, tables), mimetype="text/csv")
        resp.headers["Content-Disposition"] = f"attachment; filename=ot-{tenant}-{period.label}.csv"
        return resp

    @app.route("/stats/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            token = posted_form().get("token", "").strip()
            try:
                who = verifier.verify(f"Bearer {token}")
                require_role(who, *stats_roles)
            except OtError as error:
                return auth_failed(error)
            resp = redirect("/stats")
            resp.set_cookie("ot_token", token, httponly=True, samesite="Strict", secure=request.is_secure)
            return resp
        return page("Kirjaudu / Sign in", "<h1>Tilastot: kirjaudu <span class='en' lang='en'>/ Statistics: sign in"
                                          "</span></h1><form method='post'><label>Tunniste (koordinaattori tai "
                                          "sihteeri) / Token (coordinator or secretary)<br><textarea name='token' "
                                          "rows='4' cols='70'></textarea></label><p><button>Kirjaudu / Sign in"
                                          "</button></p></form>")

    return app


__all__ = ["create_app", "stats_csv", "HIDDEN"]
