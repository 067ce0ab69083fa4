"""Compliance rules and screening over registry lots (issue 16), pure computation.

- ``facts``: the documented schema of the facts a rule can read, and their derivation from a lot's origin report,
  its upstream facilities, the screening results and governance scores (the store read is ``services/comply``);
- ``rules``: rule sets as versioned YAML data, their conditions in CEL (cel-python), verdicts
  (pass / fail / insufficient-data) and the canonical verdict document whose digest is a log leaf;
- ``screening``: the US DOL TVPRA list (goods × countries) and fuzzy entity-list matching (rapidfuzz).

See docs/comply.md and docs/methods/compliance-rules.md.
"""
