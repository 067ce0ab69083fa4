from lodeline.trace.identifiers import canonical_id, check_digit, to_digital_link


def test_check_digit_known_gtin() -> None:
    # GTIN-13 5901234123457 (GS1 check digit calculator example)
    assert check_digit("590123412345") == "7"


def test_epc_urns_to_digital_link() -> None:
    assert (
        to_digital_link("urn:epc:id:sgtin:4012345.011111.9876")
        == "https://id.gs1.org/01/04012345111118/21/9876"
    )
    assert to_digital_link("urn:epc:id:sscc:4012345.0000000333") == "https://id.gs1.org/00/040123450000003338"
    assert (
        to_digital_link("urn:epc:id:sgln:4012345.00011.987") == "https://id.gs1.org/414/4012345000115/254/987"
    )
    assert to_digital_link("urn:epc:id:sgln:4012345.00005.0") == "https://id.gs1.org/414/4012345000054"
    assert (
        to_digital_link("urn:epc:class:lgtin:4012345.011111.L1")
        == "https://id.gs1.org/01/04012345111118/10/L1"
    )
    assert to_digital_link("urn:epc:id:giai:4000001.111") == "https://id.gs1.org/8004/4000001111"


def test_digital_link_any_domain_is_canonical() -> None:
    assert to_digital_link("https://brand.example/shop/01/04012345111118/10/L1?q=1") == (
        "https://id.gs1.org/01/04012345111118/10/L1"
    )
    assert to_digital_link("https://example.org/not-a-dl") is None
    assert canonical_id("https://example.org/not-a-dl") == "https://example.org/not-a-dl"
