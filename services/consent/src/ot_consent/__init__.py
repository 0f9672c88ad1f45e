"""The consent and privacy service: consent records, sharing checks, data keys and crypto-shredding,
retention, and the audit trail."""
