import pycountry
import pytest

from reports.regions import REGION_BY_COUNTRY, REGIONS, region_for


def test_every_iso_country_has_exactly_one_region():
    iso = {country.alpha_2 for country in pycountry.countries}
    assert set(REGION_BY_COUNTRY) == iso
    assert set(REGION_BY_COUNTRY.values()) == set(REGIONS)


@pytest.mark.parametrize(
    "country, region",
    [
        ("FR", "EU"),
        ("DE", "EU"),
        ("GB", "EU"),
        ("NO", "EU"),
        ("CH", "EU"),
        ("IS", "EU"),
        ("US", "NA"),
        ("CA", "NA"),
        ("MX", "LATAM"),
        ("BR", "LATAM"),
        ("PR", "LATAM"),
        ("CN", "APAC"),
        ("KR", "APAC"),
        ("AU", "APAC"),
        ("NZ", "APAC"),
        ("IN", "APAC"),
        ("AE", "MEA"),
        ("ZA", "MEA"),
        ("EG", "MEA"),
        ("IL", "MEA"),
    ],
)
def test_it_derives_the_region_from_the_country(country, region):
    assert region_for(country) == region


def test_it_refuses_a_code_that_is_not_a_country():
    with pytest.raises(KeyError):
        region_for("EU")
