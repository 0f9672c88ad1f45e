"""Who may touch which request: the object-level rules on top of the role table (edge.ACCESS).

Pure functions over the caller (Principal: subject, roles, the consultation groups of the
`ot_groups` claim) and the request; no I/O, so every cell is tested without a network. A refusal
is PERMISSION_DENIED with a google.rpc.ErrorInfo reason that says which rule refused:

- NOT_OWNER: a professional, but not the one who submitted the request;
- NOT_ASSIGNED: an expert not assigned to it (an expert logs in as "expert-<expert id>");
- NOT_GROUP_SECRETARY: a secretary, but the request (or meeting) is not of a group they run;
- NOT_GROUP_MEMBER: a group member, but the request is not booked into a meeting of their group;
- ANSWER_RETURNED: a group member after the group's answer went back to the worker;
- KIND_NOT_ALLOWED: the caller's role never writes this kind of entry (EntryKind in intake.proto);
- ROLE_NOT_ALLOWED: a role the access table would already have refused.

"The booked group" is the group of the meeting the request is booked into (ConsultationRequest.
booked_group). Secretaries are area-wide for the list and the calendar, but see a case's content
and conversation, and act on it, only for their own groups. Consent checks every read of content a
second time, independently (its GetDataKey), with the caller's own token.
"""
from __future__ import annotations

from dataclasses import dataclass

from ot_runtime.auth import Principal
from ot_runtime.errors import PermissionDenied

from .domain import TEAM_ONLY_KINDS, ConsultationRequest, EntryKind, Meeting, Status


@dataclass(frozen=True)
class Reader:
    """How a caller reads a request's content and conversation."""
    role: str
    notes: bool  # the OT team's internal NOTE entries too

    def may_read(self, kind: EntryKind) -> bool:
        return self.notes or kind not in TEAM_ONLY_KINDS


def _denied(r_id: str, reason: str, fi: str, en: str) -> PermissionDenied:
    return PermissionDenied(f"{fi} / {en}", reason=reason, info={"request_id": r_id})


def is_owner(who: Principal, r: ConsultationRequest) -> bool:
    return who.has_any("professional") and r.owner_subject == who.subject


def is_assigned_expert(who: Principal, r: ConsultationRequest) -> bool:
    return who.has_any("expert") and who.subject in {f"expert-{e}" for e in r.expert_ids}


def is_group_secretary(who: Principal, group_id: str) -> bool:
    return bool(group_id) and who.has_any("secretary") and group_id in who.groups


def is_group_member(who: Principal, group_id: str) -> bool:
    return bool(group_id) and who.has_any("group-member") and group_id in who.groups


def member_may_read(r: ConsultationRequest) -> bool:
    """Members read a case while it is booked into their meeting and the answer is not yet back."""
    return r.answered_at is None and r.status is not Status.RECOMMENDATIONS_RETURNED and \
        r.status is not Status.CLOSED


def reader(who: Principal, r: ConsultationRequest) -> Reader:
    """May `who` read the request's case content and conversation? Refused with the reason of the
    caller's most specific role."""
    if who.has_any("coordinator"):
        return Reader("coordinator", notes=True)
    if is_group_secretary(who, r.booked_group):
        return Reader("secretary", notes=True)
    if is_owner(who, r):
        return Reader("professional", notes=False)
    if is_assigned_expert(who, r):
        return Reader("expert", notes=False)
    if is_group_member(who, r.booked_group) and member_may_read(r):
        return Reader("group-member", notes=False)
    raise _refusal(who, r)


def _refusal(who: Principal, r: ConsultationRequest) -> PermissionDenied:
    if who.has_any("secretary"):
        return _denied(r.id, "NOT_GROUP_SECRETARY",
                       "Pyyntö ei ole varattu sinun ryhmäsi kokoukseen.",
                       "The request is not booked into a meeting of a group you run.")
    if who.has_any("group-member"):
        if is_group_member(who, r.booked_group):
            return _denied(r.id, "ANSWER_RETURNED",
                           "Ryhmän vastaus on jo palautettu työntekijälle; ryhmä ei säilytä tapausta.",
                           "The group's answer was already returned to the worker; the group keeps no case.")
        return _denied(r.id, "NOT_GROUP_MEMBER",
                       "Pyyntö ei ole varattu ryhmäsi kokoukseen.",
                       "The request is not booked into a meeting of your group.")
    if who.has_any("expert"):
        return _denied(r.id, "NOT_ASSIGNED", "Et ole tämän pyynnön nimetty asiantuntija.",
                       "You are not an expert assigned to this request.")
    if who.has_any("professional"):
        return _denied(r.id, "NOT_OWNER",
                       "Pyyntö on toisen ammattilaisen: vain pyytäjä tai OT-tiimi voi käsitellä sitä.",
                       "The request is another professional's: only its requester or the OT team may act on it.")
    return _denied(r.id, "ROLE_NOT_ALLOWED", "Roolisi ei riitä tähän.", "Your role does not allow this.")


# Who writes which kind (intake.proto, EntryKind): each writer is a (role, rule) pair.
_WRITERS: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.QUESTION: ("coordinator", "secretary"),
    EntryKind.REPLY: ("professional",),
    EntryKind.ADVICE: ("coordinator",),
    EntryKind.RECOMMENDATIONS: ("secretary", "coordinator"),
    EntryKind.STATEMENT: ("expert", "secretary"),
    EntryKind.NOTE: ("coordinator", "secretary"),
    EntryKind.PRE_INFORMATION: ("professional",),
}


def writer(who: Principal, r: ConsultationRequest, kind: EntryKind) -> str:
    """May `who` write an entry of `kind` on the request? Returns the role they write as."""
    roles = _WRITERS[kind]
    for role in roles:
        if role == "coordinator" and who.has_any("coordinator"):
            return role
        if role == "secretary" and is_group_secretary(who, r.booked_group):
            return role
        if role == "professional" and is_owner(who, r):
            return role
        if role == "expert" and is_assigned_expert(who, r):
            return role
    if not who.has_any(*roles):
        raise PermissionDenied(
            f"Roolisi ei kirjoita tämän lajin merkintää ({kind}); sen kirjoittaa {', '.join(roles)}. / Your role "
            f"does not write a '{kind}' entry; it is written by: {', '.join(roles)}.", reason="KIND_NOT_ALLOWED",
            info={"request_id": r.id, "kind": kind.value})
    raise _refusal(who, r)


def may_act_as_team(who: Principal, r: ConsultationRequest, *, expert: bool = False) -> str:
    """MarkConsulted, ReturnRecommendations: a coordinator; the secretary of the booked group;
    with `expert`, an assigned expert. Returns the role."""
    if who.has_any("coordinator"):
        return "coordinator"
    if is_group_secretary(who, r.booked_group):
        return "secretary"
    if expert and is_assigned_expert(who, r):
        return "expert"
    raise _refusal(who, r)


def may_act_for_owner(who: Principal, r: ConsultationRequest, meeting: Meeting | None = None) -> str:
    """WithdrawRequest, BookMeeting: the owner, a coordinator, or the secretary of the group
    concerned (the booked group; for a booking, the meeting's group)."""
    if is_owner(who, r):
        return "professional"
    if who.has_any("coordinator"):
        return "coordinator"
    group = meeting.group_id if meeting is not None else r.booked_group
    if is_group_secretary(who, group):
        return "secretary"
    raise _refusal(who, r)


def may_read_agenda(who: Principal, meeting: Meeting) -> None:
    """The agenda: a coordinator, the secretary of the meeting's group, or its members (they read
    the cases booked into their meeting before it; the agenda is how they find them)."""
    if who.has_any("coordinator") or is_group_secretary(who, meeting.group_id):
        return
    if who.has_any("group-member"):
        if is_group_member(who, meeting.group_id):
            return
        raise PermissionDenied("Kokous ei ole sinun ryhmäsi. / The meeting is not of your group.",
                               reason="NOT_GROUP_MEMBER", info={"meeting_id": meeting.id})
    raise PermissionDenied("Kokous ei ole sinun ryhmäsi. / The meeting is not of a group you run.",
                           reason="NOT_GROUP_SECRETARY", info={"meeting_id": meeting.id})
