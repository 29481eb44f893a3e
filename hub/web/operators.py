"""The operators' pages: parties, tokens (ids and labels only), keys, grants, collections and
their policies, federation links and the quarantine (read-only), the audit chain's state;
disabling a party and revoking a token or a key, each after a confirmation page, through the
administration services (which audit the change), with one more audit record naming the
operator who did it from the web.

Only a party marked operator sees them; everyone else gets 404, as for anything not theirs
(:func:`hub.web.sessions.require_operator`, before every page of this blueprint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from hub.common.errors import NotFound
from hub.common.timestamps import format_timestamp_us
from hub.services.admin import is_hub_party
from hub.web.context import current_hub, current_principal
from hub.web.sessions import require_operator

bp = Blueprint("operators", __name__)
bp.before_request(require_operator)


def _ts(us: int | None) -> str:
    return format_timestamp_us(us) if us is not None else ""


@bp.get("/operators")
def operators() -> Any:
    hub = current_hub()
    parties = []
    for p in hub.admin.list_parties():
        state = hub.admin.state(p)
        parties.append({"name": p.name, "kind": p.kind, "identity": p.identity_id, "operator": p.operator,
                        "hub": is_hub_party(p),
                        "disabled": _ts(state.disabled_us), "removed": _ts(state.removed_us),
                        "tokens": [{"id": t.id, "label": t.label, "created": _ts(t.created_us),
                                    "revoked": _ts(t.revoked_us)} for t in hub.admin.list_tokens(p.name)]})
    hub_parties = {p["name"] for p in parties if p["hub"]}
    keys = [{"kid": k.key_id, "alg": k.alg, "party": k.party_name, "hub": k.party_name in hub_parties,
             "not_before": _ts(k.not_before_us),
             "not_after": _ts(k.not_after_us), "revoked": _ts(k.revoked_us)} for k in hub.keys.list()]
    links = [{"peer": st.link.peer_name, "direction": st.link.direction, "collection": st.link.collection_id,
              "remote": st.link.remote_collection, "last_success": _ts(st.link.last_success_us),
              "last_error": st.link.last_error or "", "lag_objects": st.lag_objects,
              "quarantined": st.quarantined} for st in hub.federation.status()]
    # Quarantined objects: what and why, not their text (the CLI shows and releases them).
    held = [{"number": q.pk, "peer": q.peer_name, "collection": q.collection_id, "id": q.stix_id,
             "version": q.version, "reason": q.reason, "since": _ts(q.created_us)}
            for q in hub.federation.quarantined()]
    return render_template("operators.html", parties=parties, keys=keys,
                           collections=hub.admin.list_collections(), grants=hub.admin.list_grants(),
                           chain=hub.audit.verify(), links=links, quarantine=held)


#: What each confirmed action does: (question, the call, the audit action name).
def _action(kind: str, target: str, token_id: int | None = None) -> tuple[str, Callable[[], object]]:
    hub = current_hub()
    if kind == "disable-party":
        hub.admin.check_can_disable(target)
        return (f"Disable party {target}? Its tokens and certificates stop working at once; its "
                "data stays.", lambda: hub.admin.disable_party(target))
    if kind == "revoke-token" and token_id is not None:
        return (f"Revoke token {token_id} of {target}? Sessions signed in with it end at their next "
                "request.", lambda: hub.admin.revoke_token(target, token_id))
    if kind == "revoke-key":
        if target not in {k.key_id for k in hub.keys.list()}:
            raise NotFound(f"no key {target}")
        hub.admin.check_key_revocable(target)

        def revoke() -> object:
            hub.admin.check_key_revocable(target)
            return hub.keys.revoke(target)
        return (f"Revoke key {target}? New submissions signed with it are refused; what it signed "
                "before stays valid.", revoke)
    raise NotFound("no such action")


@bp.route("/operators/confirm", methods=["GET", "POST"])
def confirm() -> Any:
    values = request.values
    kind, target = values.get("action", ""), values.get("target", "")
    token_text = values.get("token_id") or ""
    token_id = int(token_text) if token_text.isdigit() else None
    question, act = _action(kind, target, token_id)
    if request.method == "POST":
        act()
        current_hub().audit.record("web.operator", current_principal().party.name, action=kind, target=target,
                                   token_id=token_id)
        return redirect(url_for("web.operators.operators"))
    return render_template("confirm.html", question=question, action=kind, target=target,
                           token_id=token_text)
