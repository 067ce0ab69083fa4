"""Digital product passports (issue 16): a lot's UNTP Digital Product Passport as a W3C Verifiable Credential 2.0
with an ``eddsa-jcs-2022`` Data Integrity proof, the registry log's inclusion proofs for every claim, offline
verification, UNTP Digital Traceability Events and the structural checks. Pure: no I/O, no database, no web
(the service ``lodeline.services.passports`` gathers the inputs from the store). See docs/passports.md and
docs/methods/passports.md.
"""
