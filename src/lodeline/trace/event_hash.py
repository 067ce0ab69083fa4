"""EPCIS Event Hash ID (GS1 CBV 2.0 §8.9): the current algorithm, :mod:`lodeline.trace.event_hash_v2`.

Every caller imports the event hash from here. The algorithms themselves are frozen modules, never edited (a log
leaf keeps the hash ID it was given, and migration ``trace_0007`` re-keyed stored events with version 2): a change
to the algorithm is a new ``event_hash_v3`` that this module re-exports, with a migration that re-keys the stored
events and records the leaf boundary (docs/ARCHITECTURE.md, "Migrations"). Version 1 is
:mod:`lodeline.trace.event_hash_v1`.
"""

from __future__ import annotations

from lodeline.trace.event_hash_rules_v2 import canonical_time as canonical_time
from lodeline.trace.event_hash_rules_v2 import normalise_time as normalise_time
from lodeline.trace.event_hash_v2 import EventHasher as EventHasher
from lodeline.trace.event_hash_v2 import carries_events as carries_events
from lodeline.trace.event_hash_v2 import context_namespaces as context_namespaces
from lodeline.trace.event_hash_v2 import document_hash_ids as document_hash_ids
from lodeline.trace.event_hash_v2 import document_prehashes as document_prehashes
from lodeline.trace.event_hash_v2 import event_hash_id as event_hash_id
from lodeline.trace.event_hash_v2 import hash_id as hash_id
from lodeline.trace.event_hash_v2 import hashed_events as hashed_events
from lodeline.trace.event_hash_v2 import hasher_for as hasher_for
from lodeline.trace.event_hash_v2 import prehash_string as prehash_string
