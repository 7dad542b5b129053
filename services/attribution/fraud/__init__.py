"""Affiliate fraud rules: the signals a credited order is checked against (rules.py, pure), the
facts gathered for them and the held commissions operators review (service.py);
docs/decisions/0048-affiliate-fraud-rules.md."""
