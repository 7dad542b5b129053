"""Disclosure compliance of sponsored posts, per jurisdiction (docs/guide/audit-disclosure.md).

Pure, like the rest of the engine: `rulebook` reads the rule files under rules/ (data a
compliance person can read and change), `scan` finds every label, hashtag, link and code in a
caption in one pass, `grade` decides whether a post is sponsored and grades it per jurisdiction.
The audit's `disclosure` signal (engine/signals/disclosure.py) and the check endpoint
(services/audit/disclosure) both use `grade.Grader`.
"""
