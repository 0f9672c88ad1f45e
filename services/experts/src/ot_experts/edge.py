"""Experts' edge: who may call each RPC, and the form of every field a caller can set.

Both tables are enforced by the shared interceptors before a handler runs (ot_runtime.access,
ot_runtime.fields); the handlers keep the domain rules and the object-level ones (which expert,
which request). The README's role × RPC table and the guard README's field table are generated
from them (scripts/policy_tables.py).

The `admin` role (the area's data-protection officer) reads the catalogue and nothing else: the
catalogue is the only place here with personal data (the contact persons of the network's
units), and answering such a person's access request is that role's duty. Proposals and
assignments are case handling, not its work. The only platform service that calls experts is
feedback, reading an assigned expert's contact e-mail (GetExpert) to notify them.
"""
from __future__ import annotations

import re

from ot.experts.v1 import experts_pb2 as pb

from ot_runtime import fields as f
from ot_runtime.access import access_table

from .domain import GROUP_KINDS, KINDS

SERVICE = pb.DESCRIPTOR.services_by_name["ExpertsService"]

# Everyone who works with the network may read its shared knowledge (catalogue, agreements,
# service map): the OT team's advice points professionals to it.
READERS = ("professional", "coordinator", "secretary", "expert")

ACCESS = access_table(SERVICE, {
    # The catalogue: shared knowledge of the network; admin reads it for contact persons' data requests.
    "ListExperts": (*READERS, "admin"),
    # ... and feedback (service), which mails an assigned expert at the contact address.
    "GetExpert": (*READERS, "admin", "service"),
    # Maintaining the area's overlay and its own experts is the coordinator's job.
    "CreateExpert": ("coordinator",),
    "UpdateExpert": ("coordinator",),
    "RetireExpert": ("coordinator",),
    # Which area may use which expert: shared knowledge, no personal data.
    "ListAgreements": READERS,
    # The OT service map: professionals use it to find a group to book.
    "ListGroups": READERS,
    # Proposals are the coordinator's decision aid; secretaries prepare the cases with them.
    "ListProposals": ("coordinator", "secretary"),
    # Only the coordinator assigns and removes experts (the sources: strong coordination).
    "AssignExperts": ("coordinator",),
    "UnassignExpert": ("coordinator",),
    # A request's assignments: the area's OT staff (an expert sees their own in ListMyAssignments).
    "ListAssignments": ("coordinator", "secretary"),
    # An expert's own assignments (object level: only experts linked to the caller's subject).
    "ListMyAssignments": ("expert",),
})

# The fields.py kinds have no language code; an ISO 639-1 code is a closed form of two letters.
LANGUAGE = f.Rule("language", 2, pattern=re.compile(r"[a-z]{2}"), max_items=10,
                  form_fi="kielikoodi kahdella pienellä kirjaimella (fi, sv, en)",
                  form_en="a two-letter language code in lower case (fi, sv, en)")

# Column sizes (store.py) bound the closed forms: an expert id is at most 80 characters.
EXPERT_ID = f.slug(80)

FIELD_RULES = f.field_rules({
    pb.ListExpertsRequest: {"text": f.line(200), "page_token": f.token()},
    pb.GetExpertRequest: {"expert_id": EXPERT_ID},
    pb.CreateExpertRequest: {"expert_id": EXPERT_ID, "local_note": f.text(1000)},
    pb.UpdateExpertRequest: {"expert_id": EXPERT_ID, "local_note": f.text(1000)},
    pb.RetireExpertRequest: {"expert_id": EXPERT_ID},
    # A catalogue entry is shown in every area, on proposals and in refusal messages, so all of
    # its free text is guarded. The name fields name a unit or an expertise; a person expert's own
    # name belongs in contact.name.
    pb.ExpertFields: {
        "kind": f.choice(KINDS),
        "name_fi": f.line(200), "name_en": f.line(200), "organisation": f.line(200),
        "description_fi": f.text(2000), "description_en": f.text(2000),
        "competences": f.line(100, max_items=30),
        "price_note": f.text(500),
        "languages": LANGUAGE,
        "user_subject": f.subject(),
    },
    # The contact person of a professional unit: a professional's own work contact data, as the
    # professional's name and e-mail on a request are, so a person's name and an e-mail address
    # are expected here and the guard would refuse them. The name is bounded, the e-mail is a
    # closed form; the role ("psykologi") is ordinary text and guarded.
    pb.Contact: {"name": f.contact_name(200), "role": f.line(200), "email": f.email(200)},
    pb.ListAgreementsRequest: {"area": f.area()},
    pb.ListGroupsRequest: {"area": f.area(), "kind": f.choice(GROUP_KINDS)},
    # Request ids are intake's UUIDs.
    pb.ListProposalsRequest: {"request_id": f.uuid()},
    pb.AssignExpertsRequest: {"request_id": f.uuid(), "expert_ids": f.slug(80, max_items=20)},
    pb.UnassignExpertRequest: {"request_id": f.uuid(), "expert_id": EXPERT_ID, "reason": f.text(500)},
    pb.ListAssignmentsRequest: {"request_id": f.uuid()},
})
