import pytest

from reports.codes import code_label, is_valid_code


@pytest.mark.parametrize("code", ["503", "500", "none", "ERR_TIMEOUT", "E.1-x", "a" * 32, "0"])
def test_it_accepts_codes_apps_show(code):
    assert is_valid_code(code)


@pytest.mark.parametrize("code", ["", "-503", "_x", "a" * 33, "5 03", "503!", "<script>", "é"])
def test_it_rejects_malformed_codes(code):
    assert not is_valid_code(code)


def test_http_codes_get_their_reason_phrase():
    assert code_label("503") == "503 Service Unavailable"
    assert code_label("500") == "500 Internal Server Error"
    assert code_label("ERR_TIMEOUT") == "ERR_TIMEOUT"
    # 599 is in the HTTP range but has no registered phrase.
    assert code_label("599") == "599"
    assert code_label("600") == "600"
