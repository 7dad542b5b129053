"""Audit: authenticity audits of creators' audiences, explained and versioned."""
