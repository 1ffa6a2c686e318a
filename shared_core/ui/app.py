"""`memo ui`: a local web app over one store, for reviewers, auditors, support and DPOs.

Server-rendered (Starlette + Jinja2 with autoescape), htmx served from `static/` (vendored, no
asset is fetched at run time), charts as inline SVG. Every page asks the `Inspector` or the
`Governor` as the logged-in principal: the role table decides what a page may show, and every
read of memory content is audited. Nothing here holds memory logic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..cli.output import safe
from ..errors import InvalidInput, MemoError, NotFound, PermissionDenied, PolicyViolation
from ..governance.access import Operation, Principal, allowed_operations
from ..inspect import Inspector, principal_label
from ..models import Kind, Scope, Status
from . import charts
from .auth import SESSION_COOKIE, Tokens

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data"] = safe  # stored text: escaped controls, then HTML-escaped by autoescape
    env.filters["when"] = lambda d: d.isoformat(timespec="seconds").replace("+00:00", "Z") if d else ""
    env.filters["day"] = lambda d: d.date().isoformat() if d else ""
    env.filters["pct"] = lambda x: f"{x:.3f}"
    env.globals["qs"] = lambda **kw: urlencode({k: v for k, v in kw.items() if v not in (None, "")})
    return env


def caps(p: Principal) -> dict[str, bool]:
    """What the navigation offers this role (the role table still decides each request)."""
    ops = allowed_operations(p.role)
    return {
        "content": Operation.READ_MEMORY in ops,
        "search": Operation.SEARCH in ops,
        "review": Operation.REVIEW in ops,
        "sweep": Operation.SWEEP in ops,
        "erase": Operation.ERASE in ops,
        "audit": Operation.READ_AUDIT in ops,
        "export_audit": Operation.EXPORT_AUDIT in ops,
    }


def _scope(q: Any) -> Scope:
    return Scope(
        tenant=q.get("tenant") or "default",
        user=q.get("user") or None,
        agent=q.get("agent") or None,
        session=q.get("session") or None,
    )


def _date(value: str | None, end: bool = False) -> datetime | None:
    """An ISO date or time from a form; a bare date as an `end` bound means the whole day."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not an ISO date: {value!r}") from None
    if end and len(value) == 10:
        when += timedelta(days=1) - timedelta(microseconds=1)
    return when


def _int(value: str | None, default: int) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"not a whole number: {value!r}") from None


def _status_for(exc: MemoError) -> int:
    if isinstance(exc, PermissionDenied | PolicyViolation):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput):
        return 400
    return 500


class UI:
    def __init__(self, memory: Any, tokens: Tokens, *, path: str | None = None) -> None:
        self.memory = memory
        self.tokens = tokens
        self.path = path
        self.env = _env()
        self._tenants: tuple[float, list[str]] = (0.0, [])

    # ------------------------------------------------------------------------- plumbing
    def inspector(self, p: Principal) -> Inspector:
        return Inspector(self.memory, p, path=self.path)

    def page(
        self, name: str, request: Request, p: Principal | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(
            request=request,
            me=p,
            me_label=principal_label(p) if p else "",
            caps=caps(p) if p else {},
            tenant=request.query_params.get("tenant") or (self.default_tenant(p) if p else "default"),
            **ctx,
        )
        return HTMLResponse(html, status_code=status, headers=_headers())

    def default_tenant(self, p: Principal) -> str:
        """The tenant pages open on when none is chosen: the principal's own, else the first one."""
        if p.scope is not None:
            return p.scope.tenant
        at, names = self._tenants
        if time.monotonic() - at > 30 or not names:
            names = self.inspector(p).tenants()
            self._tenants = (time.monotonic(), names)
        return names[0] if names else "default"

    def who(self, request: Request) -> Principal | None:
        return self.tokens.session(request.cookies.get(SESSION_COOKIE))

    def view(self, fn: Callable[[Request, Principal, Inspector], Any]) -> Callable[[Request], Any]:
        """A GET page: logged in, run in a worker thread, MeMo errors shown as pages."""

        async def endpoint(request: Request) -> Response:
            p = self.who(request)
            if p is None:
                return RedirectResponse(
                    "/login?" + urlencode({"next": str(request.url.path)}), status_code=303
                )
            try:
                out: Response = await run_in_threadpool(fn, request, p, self.inspector(p))
                return out
            except MemoError as exc:
                return self.page(
                    "error.html", request, p, status=_status_for(exc), error=exc, kind=type(exc).__name__
                )

        return endpoint

    def action(
        self, fn: Callable[[Request, Principal, Inspector, dict[str, list[str]]], Any]
    ) -> Callable[[Request], Any]:
        """A POST: logged in, same origin only, form decoded without any extra dependency."""

        async def endpoint(request: Request) -> Response:
            p = self.who(request)
            if p is None:
                return RedirectResponse("/login", status_code=303)
            if not _same_origin(request):
                return HTMLResponse("cross-site request refused", status_code=403)
            form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
            try:
                out: Response = await run_in_threadpool(fn, request, p, self.inspector(p), form)
                return out
            except MemoError as exc:
                return self.page(
                    "error.html", request, p, status=_status_for(exc), error=exc, kind=type(exc).__name__
                )

        return endpoint

    # ---------------------------------------------------------------------------- login
    async def login(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if request.method == "POST":
            if not _same_origin(request):
                return HTMLResponse("cross-site request refused", status_code=403)
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            token = (form.get("token") or [""])[0]
        if token:
            p = self.tokens.check(token.strip())
            if p is None:
                return self.page("login.html", request, None, status=401, error="unknown token")
            resp = RedirectResponse("/", status_code=303)
            resp.set_cookie(SESSION_COOKIE, self.tokens.open_session(p), httponly=True, samesite="strict")
            return resp
        return self.page("login.html", request, None)

    async def logout(self, request: Request) -> Response:
        self.tokens.close_session(request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    # ---------------------------------------------------------------------------- pages
    def home(self, request: Request, p: Principal, ins: Inspector) -> Response:
        tenant = request.query_params.get("tenant")
        tenants = ins.tenants()
        shown = [tenant] if tenant else tenants
        counts = [c for t in shown for c in ins.scopes(t)]
        return self.page("home.html", request, p, tenants=tenants, counts=counts)

    def timeline(self, request: Request, p: Principal, ins: Inspector) -> Response:
        q = request.query_params
        sc = _scope(q)
        kinds = q.getlist("kind")
        statuses = q.getlist("status")
        recs = ins.timeline(
            sc,
            kinds=kinds or None,
            statuses=statuses or None,
            since=_date(q.get("since")),
            until=_date(q.get("until"), end=True),
            text=q.get("text") or None,
            limit=500,
        )
        ctx: dict[str, Any] = dict(
            scope=sc,
            records=recs,
            kinds=[k.value for k in Kind],
            statuses=[s.value for s in Status],
            sel_kinds=kinds,
            sel_statuses=statuses,
            q=q,
        )
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "rows":
            return self.page("_timeline_rows.html", request, p, **ctx)
        return self.page("timeline.html", request, p, **ctx)

    def memory_page(self, request: Request, p: Principal, ins: Inspector) -> Response:
        sc = _scope(request.query_params)
        d = ins.show(request.path_params["record_id"], sc)
        curve = charts.lines("strength if never used again", {"strength": ins.decay_curve(d.record)})
        return self.page("memory.html", request, p, scope=sc, d=d, curve=curve)

    def search(self, request: Request, p: Principal, ins: Inspector) -> Response:
        q = request.query_params
        sc = _scope(q)
        view = None
        query = q.get("q", "")
        k = _int(q.get("k"), 10)
        budget = _int(q.get("budget"), 256)
        if query.strip():
            view = ins.search(query, sc, k=k, token_budget=budget)
        return self.page("search.html", request, p, scope=sc, view=view, query=query, k=k, budget=budget)

    def review(self, request: Request, p: Principal, ins: Inspector) -> Response:
        q = request.query_params
        tenant = q.get("tenant") or self.default_tenant(p)
        queue = ins.review_queue(tenant, q.get("user") or None)
        return self.page("review.html", request, p, queue=queue, done=[], review_tenant=tenant)

    def review_post(
        self, request: Request, p: Principal, ins: Inspector, form: dict[str, list[str]]
    ) -> Response:
        action = (form.get("action") or [""])[0]
        reason = (form.get("reason") or [""])[0]
        tenant = (form.get("tenant") or ["default"])[0]
        done: list[tuple[str, str, str]] = []
        queue = {r.id: r for r in ins.review_queue(tenant)}
        for rid in form.get("id", []):
            rec = queue.get(rid)
            if rec is None:
                done.append((rid, "not pending", ""))
                continue
            text = (form.get(f"text-{rid}") or [""])[0] or None
            act = "edit" if action == "approve" and text and text != rec.text else action
            res = ins.decide(act, rid, rec.scope, reason=reason, text=text)
            done.append((rid, act, res.status.value))
        queue_now = ins.review_queue(tenant)
        return self.page("review.html", request, p, queue=queue_now, done=done, review_tenant=tenant)

    def retention(self, request: Request, p: Principal, ins: Inspector) -> Response:
        tenant = request.query_params.get("tenant") or self.default_tenant(p)
        view = ins.sweep(tenant, apply=False)
        return self.page(
            "retention.html", request, p, policy=ins.policy(), view=view, applied=None, sweep_tenant=tenant
        )

    def retention_post(
        self, request: Request, p: Principal, ins: Inspector, form: dict[str, list[str]]
    ) -> Response:
        tenant = (form.get("tenant") or ["default"])[0]
        applied = ins.sweep(tenant, apply=True)
        view = ins.sweep(tenant, apply=False)
        return self.page(
            "retention.html", request, p, policy=ins.policy(), view=view, applied=applied, sweep_tenant=tenant
        )

    def erase(self, request: Request, p: Principal, ins: Inspector) -> Response:
        sc = _scope(request.query_params)
        counts = [c for c in ins.scopes(sc.tenant) if sc.user and c.scope.user == sc.user]
        return self.page("erase.html", request, p, scope=sc, counts=counts, report=None)

    def erase_post(
        self, request: Request, p: Principal, ins: Inspector, form: dict[str, list[str]]
    ) -> Response:
        tenant = (form.get("tenant") or ["default"])[0]
        user = (form.get("user") or [""])[0]
        confirm = (form.get("confirm") or [""])[0]
        if not user:
            raise InvalidInput("choose the user to erase")
        if confirm != user:
            raise InvalidInput("erasure not confirmed: type the user id exactly to confirm")
        report = ins.erase(Scope(tenant=tenant, user=user))
        return self.page(
            "erase.html", request, p, scope=Scope(tenant=tenant, user=user), counts=[], report=report
        )

    def audit(self, request: Request, p: Principal, ins: Inspector) -> Response:
        q = request.query_params
        view = ins.audit(
            actor=q.get("actor") or None,
            action=q.get("action") or None,
            tenant=q.get("tenant") or None,
            user=q.get("user") or None,
            record_id=q.get("record") or None,
            since=_date(q.get("since")),
            until=_date(q.get("until"), end=True),
            limit=_int(q.get("limit"), 300),
        )
        return self.page("audit.html", request, p, view=view, q=q)

    def audit_export(self, request: Request, p: Principal, ins: Inspector) -> Response:
        events = ins.audit_export()
        body = "".join(json.dumps(e, default=str, ensure_ascii=True) + "\n" for e in events)
        return Response(
            body,
            media_type="application/x-ndjson",
            headers={**_headers(), "Content-Disposition": 'attachment; filename="memo-audit.jsonl"'},
        )

    def chart_page(self, request: Request, p: Principal, ins: Inspector) -> Response:
        tenant = request.query_params.get("tenant") or self.default_tenant(p)
        st = ins.stats(tenant)
        kinds = [k.value for k in Kind]
        figs = [
            charts.stacked_bars("memories created per day, by kind", st.per_day, kinds),
            charts.lines("decay: strength of a new memory (importance 0.5) by kind", ins.kind_curves()),
            charts.bars("review backlog: pending memories per user", st.pending_by_scope),
            charts.bars("records by status", st.by_status),
        ]
        return self.page("charts.html", request, p, st=st, figs=figs, chart_tenant=tenant)


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser form post from another site (browsers send Origin on POST)
    return urlsplit(origin).netloc == request.headers.get("host")


def create_app(memory: Any, tokens: Tokens, *, path: str | None = None) -> Starlette:
    ui = UI(memory, tokens, path=path)
    routes = [
        Route("/login", ui.login, methods=["GET", "POST"]),
        Route("/logout", ui.logout, methods=["GET", "POST"]),
        Route("/", ui.view(ui.home)),
        Route("/timeline", ui.view(ui.timeline)),
        Route("/memory/{record_id}", ui.view(ui.memory_page)),
        Route("/search", ui.view(ui.search)),
        Route("/review", ui.view(ui.review)),
        Route("/review", ui.action(ui.review_post), methods=["POST"]),
        Route("/retention", ui.view(ui.retention)),
        Route("/retention", ui.action(ui.retention_post), methods=["POST"]),
        Route("/erase", ui.view(ui.erase)),
        Route("/erase", ui.action(ui.erase_post), methods=["POST"]),
        Route("/audit", ui.view(ui.audit)),
        Route("/audit/export", ui.view(ui.audit_export)),
        Route("/charts", ui.view(ui.chart_page)),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes)
