"""The name a shortlist's CSV export is saved under (Content-Disposition, RFC 6266 and 5987)."""

from services.discovery.shortlist.export import filename


def test_the_saved_file_name_holds_no_invisible_character():
    """A shortlist named with a right-to-left override would be saved as a file whose name reads
    backwards from what it is ("‮vsc.exe" looks like "exe.csv")."""
    disposition = filename("\u202egpj.exe\u200b", "2026-11-30")
    assert "%E2%80%AE" not in disposition and "%E2%80%8B" not in disposition
    assert "filename*=UTF-8''shortlist-gpj.exe-2026-11-30.csv" in disposition
    assert filename("\u202e", "2026-11-30").endswith("filename*=UTF-8''shortlist-shortlist-2026-11-30.csv")
