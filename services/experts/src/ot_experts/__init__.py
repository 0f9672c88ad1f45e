"""The OT platform's experts service: the expert network, agreements, service map, proposals, assignments."""
