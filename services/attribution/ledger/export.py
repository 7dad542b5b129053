"""A payout batch as CSV (RFC 4180), for a finance team to pay from.

One header line and one line per batch: creator_id, currency, amount (a decimal string in major
units, with exactly the currency's ISO 4217 number of decimals: "12.50" EUR, "1250" JPY),
amount_minor (the same in minor units), entry_count, payout_id, created_on (UTC date). Every
cell is ours (ids, codes, numbers, a date), never free text, so there is nothing a spreadsheet
could run as a formula; every field is quoted all the same, as discovery's shortlist export does.
"""

import csv
import io

from shared.money import format_amount

HEADER = ("creator_id", "currency", "amount", "amount_minor", "entry_count", "payout_id", "created_on")


def render(payout) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerow([
        str(payout.creator_id), payout.currency, format_amount(payout.amount, payout.currency), str(payout.amount),
        str(payout.entry_count), str(payout.id), payout.created_at.date().isoformat(),
    ])
    return buffer.getvalue()


def filename(payout) -> str:
    return f'attachment; filename="payout-{payout.currency}-{payout.created_at.date().isoformat()}-{payout.id}.csv"'
