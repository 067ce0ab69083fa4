"""The rules of the current EPCIS event hash (:mod:`lodeline.trace.event_hash`): those of the frozen
:mod:`lodeline.trace.event_hash_rules_v2`, re-exported for the tests that check them against CBV 2.0 and the
reference implementation. A change to the rules is a new version, never an edit (see :mod:`lodeline.trace.event_hash`).
"""

from __future__ import annotations

from lodeline.trace.event_hash_rules_v2 import _LOCATION_FIELDS as _LOCATION_FIELDS
from lodeline.trace.event_hash_rules_v2 import _METADATA_FIELDS as _METADATA_FIELDS
from lodeline.trace.event_hash_rules_v2 import _NOT_EXTENSION as _NOT_EXTENSION
from lodeline.trace.event_hash_rules_v2 import _REPORT_FIELDS as _REPORT_FIELDS
from lodeline.trace.event_hash_rules_v2 import _SENSOR_ELEMENT_FIELDS as _SENSOR_ELEMENT_FIELDS
from lodeline.trace.event_hash_rules_v2 import CBV_TERMS as CBV_TERMS
from lodeline.trace.event_hash_rules_v2 import PROP_ORDER as PROP_ORDER
from lodeline.trace.event_hash_rules_v2 import canonical_time as canonical_time
from lodeline.trace.event_hash_rules_v2 import normalise_time as normalise_time
